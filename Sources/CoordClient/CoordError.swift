import Protocol

/// A ZooKeeper error code from the server, or a client-side failure mapped to the same codes
/// (connection loss -4, session expired -112, operation timeout -7).
public struct CoordError: Error, Equatable, CustomStringConvertible, Sendable {
    public let code: Int32
    public let path: String?

    public init(_ code: Int32, path: String? = nil) {
        self.code = code
        self.path = path
    }

    public static let connectionLoss = CoordError(ZKErr.connectionLoss)
    public static let sessionExpired = CoordError(ZKErr.sessionExpired)
    public static let operationTimeout = CoordError(ZKErr.operationTimeout)

    public var isNoNode: Bool { code == ZKErr.noNode }
    public var isNodeExists: Bool { code == ZKErr.nodeExists }
    public var isBadVersion: Bool { code == ZKErr.badVersion }

    public var description: String {
        let name: String
        switch code {
        case ZKErr.connectionLoss: name = "ConnectionLoss"
        case ZKErr.operationTimeout: name = "OperationTimeout"
        case ZKErr.badArguments: name = "BadArguments"
        case ZKErr.noNode: name = "NoNode"
        case ZKErr.badVersion: name = "BadVersion"
        case ZKErr.nodeExists: name = "NodeExists"
        case ZKErr.notEmpty: name = "NotEmpty"
        case ZKErr.sessionExpired: name = "SessionExpired"
        case ZKErr.noChildrenForEphemerals: name = "NoChildrenForEphemerals"
        case ZKErr.unimplemented: name = "Unimplemented"
        default: name = "error \(code)"
        }
        return path.map { "\(name) for \($0)" } ?? name
    }
}

/// What happened to the session, delivered to `CoordClient.onSessionEvent`.
public enum SessionEvent: Sendable, Equatable {
    case connected(server: String)
    case disconnected
    /// The session is gone with its ephemerals; a new session must be created (call `reopen`).
    case expired
    /// The server refused our SASL login (wrong password, unknown user): the client stopped.
    case authFailed
}

/// A SASL DIGEST-MD5 login (a JAAS `Client` section's username and password), done on every
/// connection before any request, as ZooKeeper's client does.
public struct CoordSaslLogin: Sendable, Equatable {
    public var user: String
    public var password: String
    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }
}

/// A one-shot watch notification (path already stripped of the chroot).
public struct WatchEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case created, deleted, dataChanged, childrenChanged
    }
    public let kind: Kind
    public let path: String
    public init(kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }
}

public enum CreateMode: Sendable {
    case persistent, ephemeral, persistentSequential, ephemeralSequential

    var flags: Int32 {
        switch self {
        case .persistent: ZKCreateFlags.persistent
        case .ephemeral: ZKCreateFlags.ephemeral
        case .persistentSequential: ZKCreateFlags.sequential
        case .ephemeralSequential: ZKCreateFlags.ephemeralSequential
        }
    }
}

/// One operation inside `multi`.
public enum CoordOp: Sendable {
    case create(path: String, data: [UInt8], mode: CreateMode)
    case delete(path: String, version: Int32)
    case setData(path: String, data: [UInt8], version: Int32)
    case check(path: String, version: Int32)
}

/// The ACL of each node a client creates, by its path without the chroot (Kafka's
/// ZkData.defaultAcls); `.open` is world:anyone with every permission.
public struct CoordACLPolicy: Sendable {
    public let forPath: @Sendable (String) -> [ZKACL]
    public init(_ forPath: @escaping @Sendable (String) -> [ZKACL]) { self.forPath = forPath }
    public static let open = CoordACLPolicy { _ in ZKACL.openUnsafe }
}
