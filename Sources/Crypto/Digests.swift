import COpenSSL

/// Hashes, HMAC and PBKDF2 through OpenSSL's EVP interface: SCRAM (Kafka SASL), quorum peer
/// authentication and anything else that must not rely on hand-rolled cryptography.
/// MD5 is here only for SASL DIGEST-MD5 (RFC 2831), which ZooKeeper clients speak.
public enum DigestAlgorithm: Sendable, Hashable {
    case md5, sha1, sha256, sha512

    var md: OpaquePointer {
        switch self {
        case .md5: return EVP_md5()
        case .sha1: return EVP_sha1()
        case .sha256: return EVP_sha256()
        case .sha512: return EVP_sha512()
        }
    }

    public var outputSize: Int {
        switch self {
        case .md5: return 16
        case .sha1: return 20
        case .sha256: return 32
        case .sha512: return 64
        }
    }
}

public enum Digests {
    /// OpenSSL set up without its atexit cleanup before its first use (COpenSSL's shim says why).
    static let openSSLReady: Void = coordkafka_openssl_init()

    public static func hash(_ algorithm: DigestAlgorithm, _ data: [UInt8]) -> [UInt8] {
        _ = openSSLReady
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len: UInt32 = 0
        let ok = data.withUnsafeBytes { d in
            out.withUnsafeMutableBytes { o in
                EVP_Digest(d.baseAddress, d.count, o.baseAddress?.assumingMemoryBound(to: UInt8.self), &len, algorithm.md, nil)
            }
        }
        precondition(ok == 1, "EVP_Digest failed")
        return Array(out.prefix(Int(len)))
    }

    public static func hmac(_ algorithm: DigestAlgorithm, key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        _ = openSSLReady
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var len: UInt32 = 0
        let r = key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                out.withUnsafeMutableBytes { o in
                    HMAC(algorithm.md, k.baseAddress, Int32(k.count), d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count,
                         o.baseAddress?.assumingMemoryBound(to: UInt8.self), &len)
                }
            }
        }
        precondition(r != nil, "HMAC failed")
        return Array(out.prefix(Int(len)))
    }

    /// PBKDF2 with HMAC (RFC 8018) — SCRAM's `Hi()` (RFC 5802).
    public static func pbkdf2(_ algorithm: DigestAlgorithm, password: [UInt8], salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        _ = openSSLReady
        precondition(iterations > 0 && length > 0)
        var out = [UInt8](repeating: 0, count: length)
        let ok = password.withUnsafeBytes { p in
            salt.withUnsafeBytes { s in
                out.withUnsafeMutableBytes { o in
                    PKCS5_PBKDF2_HMAC(p.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(p.count),
                                      s.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(s.count),
                                      Int32(iterations), algorithm.md, Int32(length),
                                      o.baseAddress?.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        precondition(ok == 1, "PKCS5_PBKDF2_HMAC failed")
        return out
    }

    /// Cryptographically strong random bytes (nonces, salts, challenges).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        _ = openSSLReady
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBytes { RAND_bytes($0.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return out
    }

    /// Compares in time independent of where the inputs differ, without an early exit on a length
    /// mismatch either (MACs, proofs, tokens).
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}

extension Array where Element == UInt8 {
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for b in self { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
