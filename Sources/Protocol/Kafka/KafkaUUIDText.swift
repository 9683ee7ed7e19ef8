/// Kafka's text form of a UUID (topic ids in `/brokers/topics/<t>` and in tools): the 16 bytes,
/// most significant first, in URL-safe base64 without padding — 22 characters.
extension KafkaUUID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Kafka's reserved "metadata topic" id (0…01); `random()` never returns it or `.zero`.
    public static let metadataTopicId = KafkaUUID(high: 0, low: 1)

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    public var kafkaString: String {
        let b = bytes
        var out: [UInt8] = []
        out.reserveCapacity(22)
        var i = 0
        while i < 16 {
            let n = b.count - i
            let v = UInt32(b[i]) << 16 | (n > 1 ? UInt32(b[i + 1]) << 8 : 0) | (n > 2 ? UInt32(b[i + 2]) : 0)
            out.append(Self.alphabet[Int(v >> 18 & 63)])
            out.append(Self.alphabet[Int(v >> 12 & 63)])
            if n > 1 { out.append(Self.alphabet[Int(v >> 6 & 63)]) }
            if n > 2 { out.append(Self.alphabet[Int(v & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses the 22-character form (nil for anything else, including a non-canonical last character).
    public init?(kafkaString s: String) {
        let chars = Array(s.utf8)
        guard chars.count == 22 else { return nil }
        var bits: UInt64 = 0, nbits = 0
        var bytes: [UInt8] = []
        for c in chars {
            guard let v = Self.alphabet.firstIndex(of: c) else { return nil }
            bits = bits << 6 | UInt64(v)
            nbits += 6
            if nbits >= 8 {
                nbits -= 8
                bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(nbits)))
                bits &= (1 << UInt64(nbits)) - 1
            }
        }
        guard bytes.count == 16, bits == 0 else { return nil }
        self.init(high: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// A fresh topic id, as Kafka draws them: random, never zero or the reserved id, and never one
    /// whose text starts with '-' (it would read as an option on a command line).
    public static func random() -> KafkaUUID {
        var rng = SystemRandomNumberGenerator()
        while true {
            let id = KafkaUUID(high: rng.next(), low: rng.next())
            if id != .zero, id != metadataTopicId, !id.kafkaString.hasPrefix("-") { return id }
        }
    }
}
