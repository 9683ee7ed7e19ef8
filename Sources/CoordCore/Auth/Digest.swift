import Crypto

/// SHA-1 and base64 as ZooKeeper's digest scheme uses them: an id "user:password" becomes
/// "user:" + base64(SHA-1("user:password")) (DigestAuthenticationProvider.generateDigest).
public enum ZKDigest {
    /// The stored form of the credential `idPassword` ("user:password").
    public static func generate(_ idPassword: String) -> String {
        let user = idPassword.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return user + ":" + base64(sha1(Array(idPassword.utf8)))
    }

    /// Standard base64 with `=` padding.
    public static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            var v = UInt32(bytes[i]) << 16
            if n > 1 { v |= UInt32(bytes[i + 1]) << 8 }
            if n > 2 { v |= UInt32(bytes[i + 2]) }
            out.append(table[Int(v >> 18 & 63)])
            out.append(table[Int(v >> 12 & 63)])
            out.append(n > 1 ? table[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(n > 2 ? table[Int(v & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// SHA-1 (only for ZooKeeper's digest ids; not for new security designs), through OpenSSL.
    public static func sha1(_ message: [UInt8]) -> [UInt8] { Digests.hash(.sha1, message) }
}
