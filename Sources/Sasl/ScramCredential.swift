import Crypto
import Foundation

/// What a server stores for a SCRAM user (RFC 5802 §3): never the password, only the salt, the
/// iteration count, StoredKey = H(ClientKey) and ServerKey.
public struct ScramCredential: Equatable, Sendable {
    public var salt: [UInt8]
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]
    public var iterations: Int

    public init(salt: [UInt8], storedKey: [UInt8], serverKey: [UInt8], iterations: Int) {
        self.salt = salt
        self.storedKey = storedKey
        self.serverKey = serverKey
        self.iterations = iterations
    }

    /// Derives the credential from SaltedPassword = Hi(password, salt, i) (AlterUserScramCredentials sends that).
    public init(digest: DigestAlgorithm, saltedPassword: [UInt8], salt: [UInt8], iterations: Int) {
        let clientKey = Digests.hmac(digest, key: saltedPassword, Array("Client Key".utf8))
        self.init(salt: salt, storedKey: Digests.hash(digest, clientKey),
                  serverKey: Digests.hmac(digest, key: saltedPassword, Array("Server Key".utf8)), iterations: iterations)
    }

    public init(digest: DigestAlgorithm, password: String, salt: [UInt8], iterations: Int) {
        self.init(digest: digest, saltedPassword: Scram.saltedPassword(digest, password: password, salt: salt, iterations: iterations),
                  salt: salt, iterations: iterations)
    }

    /// Kafka's ZK-mode form: `salt=<b64>,stored_key=<b64>,server_key=<b64>,iterations=<n>`.
    public var kafkaConfigValue: String {
        "salt=\(Scram.base64(salt)),stored_key=\(Scram.base64(storedKey)),server_key=\(Scram.base64(serverKey)),iterations=\(iterations)"
    }

    public static func parseKafkaConfigValue(_ s: String) -> ScramCredential? {
        var fields: [String: String] = [:]
        for part in s.split(separator: ",") {
            guard let eq = part.firstIndex(of: "=") else { return nil }
            fields[String(part[..<eq])] = String(part[part.index(after: eq)...])
        }
        guard let salt = fields["salt"].flatMap(Scram.unbase64), let sk = fields["stored_key"].flatMap(Scram.unbase64),
              let vk = fields["server_key"].flatMap(Scram.unbase64), let it = fields["iterations"].flatMap({ Int($0) }),
              it > 0, !salt.isEmpty, !sk.isEmpty, !vk.isEmpty else { return nil }
        return ScramCredential(salt: salt, storedKey: sk, serverKey: vk, iterations: it)
    }
}

/// SCRAM's building blocks (RFC 5802 §2.2, §3).
public enum Scram {
    public static func saltedPassword(_ d: DigestAlgorithm, password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        Digests.pbkdf2(d, password: Array(password.utf8), salt: salt, iterations: iterations, length: d.outputSize)
    }

    static func xor(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] { zip(a, b).map { $0 ^ $1 } }

    public static func base64(_ b: [UInt8]) -> String { Data(b).base64EncodedString() }
    public static func unbase64(_ s: String) -> [UInt8]? { Data(base64Encoded: s).map { [UInt8]($0) } }

    /// A printable nonce without ',' (base64 of random bytes).
    public static func nonce() -> String { base64(Digests.randomBytes(24)) }

    /// saslname (RFC 5802 §5.1): ',' and '=' are written "=2C" and "=3D".
    static func encodeName(_ s: String) -> String {
        s.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
    }

    static func decodeName(_ s: String) -> String? {
        var out = ""
        var it = s.makeIterator()
        while let c = it.next() {
            if c == "=" {
                let code = String([it.next(), it.next()].compactMap { $0 })
                switch code {
                case "2C": out.append(",")
                case "3D": out.append("=")
                default: return nil
                }
            } else if c == "," {
                return nil
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Splits "a=x,b=y" into ordered (attribute, value) pairs; nil when malformed.
    static func attributes(_ s: String) -> [(Character, String)]? {
        var out: [(Character, String)] = []
        for part in s.split(separator: ",", omittingEmptySubsequences: false) {
            guard part.count >= 2, let k = part.first, k.isLetter, part[part.index(after: part.startIndex)] == "=" else { return nil }
            out.append((k, String(part.dropFirst(2))))
        }
        return out
    }
}
