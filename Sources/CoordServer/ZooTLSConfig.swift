import Transport

/// zoo.cfg's TLS keys for the secure client port, with ZooKeeper's names (also accepted with
/// their `zookeeper.` system-property prefix). Only PEM key and trust stores: JKS and PKCS12 are
/// refused, as is every key coordd cannot honour — a security setting is never dropped silently.
struct ZooTLSKeys: Sendable, Equatable {
    var values: [String: String] = [:]

    /// The keys' names without the `zookeeper.` prefix.
    static let accepted: Set<String> = [
        "ssl.keyStore.location", "ssl.keyStore.type", "ssl.keyStore.password",
        "ssl.trustStore.location", "ssl.trustStore.type", "ssl.trustStore.password",
        "ssl.clientAuth", "ssl.protocol", "ssl.enabledProtocols", "ssl.ciphersuites",
        "ssl.handshakeDetectionTimeoutMillis", "ssl.hostnameVerification",
    ]

    /// Takes `key` if it is a TLS key; throws for TLS keys coordd does not support.
    mutating func take(_ key: String, _ value: String) throws(ZooConfigError) -> Bool {
        let name = key.hasPrefix("zookeeper.ssl.") ? String(key.dropFirst("zookeeper.".count)) : key
        guard name.hasPrefix("ssl.") else { return false }
        if name.hasPrefix("ssl.quorum.") {
            throw ZooConfigError("\(key): quorum TLS is not supported by coordd; remove it (quorum ports accept any peer)")
        }
        guard Self.accepted.contains(name) else {
            throw ZooConfigError("\(key): coordd does not support this TLS setting; remove it (supported: \(Self.accepted.sorted().joined(separator: ", ")))")
        }
        values[name] = value
        return true
    }

    /// The secure port's TLS settings (files are read when the port is opened).
    func serverConfig() throws(ZooConfigError) -> TLSConfig {
        var c = TLSConfig()
        guard let keyStore = values["ssl.keyStore.location"], !keyStore.isEmpty else {
            throw ZooConfigError("secureClientPort needs ssl.keyStore.location (a PEM file with the private key and certificate chain)")
        }
        for store in ["ssl.keyStore.type", "ssl.trustStore.type"] {
            if let t = values[store], t.uppercased() != "PEM" {
                throw ZooConfigError("\(store)=\(t): coordd reads PEM stores only; convert it (e.g. openssl pkcs12 -in store.p12 -nodes) and set \(store)=PEM")
            }
        }
        // ZooKeeper's PEM key store holds the key and the chain in one file.
        c.certificateChainPath = keyStore
        c.privateKeyPath = keyStore
        if let pw = values["ssl.keyStore.password"], !pw.isEmpty { c.privateKeyPassword = pw }
        if let trust = values["ssl.trustStore.location"], !trust.isEmpty { c.trustPath = trust }
        // ZooKeeper's default is `need`.
        let auth = (values["ssl.clientAuth"] ?? "need").lowercased()
        guard let clientAuth = TLSConfig.ClientAuth(rawValue: auth) else {
            throw ZooConfigError("ssl.clientAuth=\(auth): expected none, want or need")
        }
        c.clientAuth = clientAuth
        if clientAuth != .none && c.trustPath == nil {
            throw ZooConfigError("ssl.clientAuth=\(auth) needs ssl.trustStore.location (the CA certificates that sign client certificates), or set ssl.clientAuth=none")
        }
        c.protocols = try protocols()
        if let suites = values["ssl.ciphersuites"] {
            c.cipherSuites = TLSConfig.cipherSuites(javaList: suites)
        }
        if let ms = values["ssl.handshakeDetectionTimeoutMillis"] {
            guard let v = Int(ms), v > 0, v <= 600_000 else {
                throw ZooConfigError("ssl.handshakeDetectionTimeoutMillis=\(ms): expected milliseconds in 1...600000")
            }
            c.handshakeTimeoutMillis = v
        }
        return c
    }

    /// ssl.enabledProtocols, or else ssl.protocol alone; neither: TLS 1.2 and 1.3.
    private func protocols() throws(ZooConfigError) -> Set<TLSConfig.ProtocolVersion> {
        let raw = values["ssl.enabledProtocols"] ?? values["ssl.protocol"]
        guard let raw else { return [.tls12, .tls13] }
        do throws(TLSConfig.ProtocolListError) {
            return try TLSConfig.protocols(javaList: raw)
        } catch .unsupported(let name) {
            throw ZooConfigError("TLS protocol \(name): coordd supports TLSv1.2 and TLSv1.3 only")
        } catch {
            throw ZooConfigError("no TLS protocol enabled in '\(raw)'")
        }
    }
}
