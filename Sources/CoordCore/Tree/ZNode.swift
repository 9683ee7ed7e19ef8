import Protocol

/// One znode. Children are kept by name so listing and emptiness checks need no scan.
public struct ZNode: Sendable, Equatable {
    /// nil is ZooKeeper's null data (kept apart from empty); Optional<Array> is no larger than Array.
    public var data: [UInt8]?
    public var acl: [ZKACL]
    public var czxid: Int64
    public var mzxid: Int64
    public var ctime: Int64
    public var mtime: Int64
    public var version: Int32
    public var cversion: Int32
    public var aversion: Int32
    public var ephemeralOwner: Int64
    public var pzxid: Int64
    public var children: Set<ZKPathKey>

    public init(data: [UInt8]? = [], acl: [ZKACL] = ZKACL.openUnsafe, zxid: Int64 = 0, time: Int64 = 0, ephemeralOwner: Int64 = 0) {
        self.data = data
        self.acl = acl
        czxid = zxid
        mzxid = zxid
        ctime = time
        mtime = time
        version = 0
        cversion = 0
        aversion = 0
        self.ephemeralOwner = ephemeralOwner
        pzxid = zxid
        children = []
    }

    public var stat: ZKStat {
        var s = ZKStat()
        s.czxid = czxid
        s.mzxid = mzxid
        s.ctime = ctime
        s.mtime = mtime
        s.version = version
        s.cversion = cversion
        s.aversion = aversion
        s.ephemeralOwner = ephemeralOwner
        s.dataLength = Int32(clamping: data?.count ?? 0)
        s.numChildren = Int32(clamping: children.count)
        s.pzxid = pzxid
        return s
    }

    /// ZooKeeper marks container nodes with this owner value (they are not ephemeral).
    public static let containerOwner = Int64.min

    /// TTL nodes (ZooKeeper's extended ephemeral type): owner 0xFF in the top byte, the TTL in ms
    /// in the low 40 bits. Session ids never have that top byte (coordd refuses myid 255).
    public static let extendedOwnerMask = Int64(bitPattern: 0xFF00_0000_0000_0000)
    public static let maxTTL: Int64 = 0xFF_FFFF_FFFF
    public static func ttlOwner(_ ttl: Int64) -> Int64 { extendedOwnerMask | (ttl & maxTTL) }
    public static func isTTLOwner(_ owner: Int64) -> Bool { owner & extendedOwnerMask == extendedOwnerMask }
    /// An owner that is a session (not 0, not the container mark, not a TTL).
    public static func isSessionOwner(_ owner: Int64) -> Bool { owner != 0 && owner != containerOwner && !isTTLOwner(owner) }

    public var isEphemeral: Bool { Self.isSessionOwner(ephemeralOwner) }
    public var isContainer: Bool { ephemeralOwner == Self.containerOwner }
    /// The TTL (ms) of a TTL node, nil for others.
    public var ttl: Int64? { Self.isTTLOwner(ephemeralOwner) ? ephemeralOwner & Self.maxTTL : nil }
}

/// A session as replicated in the tree (and its snapshot).
public struct SessionInfo: Sendable, Equatable {
    public var timeout: Int32
    public var password: [UInt8]
    public init(timeout: Int32, password: [UInt8]) {
        self.timeout = timeout
        self.password = password
    }
}

/// A watch event that applying a txn may fire; the watch manager maps it to watchers.
public struct WatchTrigger: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case data
        case child
        /// Deletion fires both the node's data watches and its child watches.
        case dataAndChild
    }
    public var path: String
    public var type: Int32
    public var kind: Kind
    public init(path: String, type: Int32, kind: Kind) {
        self.path = path
        self.type = type
        self.kind = kind
    }
}

/// What applying one txn produced.
public struct TxnResult: Sendable, Equatable {
    public var zxid: Int64
    /// The ReplyHeader error (a failed multi still answers 0 with per-op errors inside).
    public var err: Int32
    public var response: ZKResponse
    public var triggers: [WatchTrigger]
    public var createdSession: Int64?
    public var closedSession: Int64?
}
