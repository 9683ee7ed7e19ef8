/// The list values ZooKeeper's and Kafka's TLS keys take (`ssl.enabledProtocols`,
/// `zookeeper.ssl.enabled.protocols`, the cipher-suite keys): comma-separated, Java's names.
extension TLSConfig {
    public enum ProtocolListError: Error, Equatable {
        /// A name other than TLSv1.2, TLSv1.3 or TLS (both).
        case unsupported(String)
        case empty
    }

    public static func protocols(javaList raw: String) throws(ProtocolListError) -> Set<ProtocolVersion> {
        var set: Set<ProtocolVersion> = []
        for name in listItems(raw) {
            if name == "TLS" { set.formUnion([.tls12, .tls13]); continue }
            guard let v = ProtocolVersion(rawValue: name) else { throw .unsupported(name) }
            set.insert(v)
        }
        if set.isEmpty { throw .empty }
        return set
    }

    public static func cipherSuites(javaList raw: String) -> [String] { listItems(raw) }

    /// Items between commas, spaces and tabs around them dropped, empty ones skipped.
    static func listItems(_ raw: String) -> [String] {
        raw.split(separator: ",").compactMap { item -> String? in
            var s = Substring(item)
            while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
            while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
            return s.isEmpty ? nil : String(s)
        }
    }
}
