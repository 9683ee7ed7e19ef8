import Crypto

/// The SASL mechanisms brokerd and the Swift client implement.
public enum SaslMechanism: String, Sendable, CaseIterable, Hashable {
    case plain = "PLAIN"
    case scramSha256 = "SCRAM-SHA-256"
    case scramSha512 = "SCRAM-SHA-512"

    public init?(name: String) { self.init(rawValue: name.uppercased()) }

    public var isScram: Bool { self != .plain }

    /// The digest of a SCRAM mechanism.
    public var scramDigest: DigestAlgorithm? {
        switch self {
        case .plain: return nil
        case .scramSha256: return .sha256
        case .scramSha512: return .sha512
        }
    }

    /// The wire id of AlterUserScramCredentials / DescribeUserScramCredentials (1, 2).
    public var scramTypeId: Int8? {
        switch self {
        case .plain: return nil
        case .scramSha256: return 1
        case .scramSha512: return 2
        }
    }

    public init?(scramTypeId: Int8) {
        switch scramTypeId {
        case 1: self = .scramSha256
        case 2: self = .scramSha512
        default: return nil
        }
    }

    /// Kafka's minimum and maximum iteration counts for SCRAM credentials.
    public static let scramMinIterations = 4096
    public static let scramMaxIterations = 16384
}

/// What a server-side exchange does next.
public enum SaslStep: Equatable, Sendable {
    /// Send this challenge and wait for the client's next token.
    case challenge([UInt8])
    /// Authenticated as this user; send the final bytes (may be empty).
    case success(user: String, final: [UInt8])
    /// Authentication failed; the message is safe to show the client.
    case failure(String)
}

/// Largest SASL token a server reads before authentication (Kafka's sasl.server.max.receive.size default).
public let saslDefaultMaxReceiveSize = 524_288
