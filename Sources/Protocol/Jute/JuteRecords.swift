/// The fixed records of the ZooKeeper client protocol (zookeeper.jute), field order as on the wire.

public struct ZKId: JuteRecord, Hashable {
    public var scheme: String
    public var id: String
    public init(scheme: String, id: String) { self.scheme = scheme; self.id = id }
    public init(jute r: inout ByteReader) throws {
        scheme = try r.readJuteString()
        id = try r.readJuteString()
    }
    public func write(jute w: inout ByteWriter) {
        w.writeJuteString(scheme)
        w.writeJuteString(id)
    }
}

public struct ZKACL: JuteRecord, Hashable {
    public var perms: Int32
    public var id: ZKId
    public init(perms: Int32, id: ZKId) { self.perms = perms; self.id = id }
    public init(jute r: inout ByteReader) throws {
        perms = try r.readInt32()
        id = try ZKId(jute: &r)
    }
    public func write(jute w: inout ByteWriter) {
        w.writeInt32(perms)
        id.write(jute: &w)
    }
    /// world:anyone with all permissions (ZooDefs.Ids.OPEN_ACL_UNSAFE).
    public static let openUnsafe: [ZKACL] = [ZKACL(perms: ZKPerms.all, id: ZKId(scheme: "world", id: "anyone"))]
}

extension ByteReader {
    /// vector<ACL>: each ACL is at least 12 bytes (perms + two string lengths).
    public mutating func readJuteACLs() throws -> [ZKACL]? {
        try readJuteVector(minElementSize: 12) { try ZKACL(jute: &$0) }
    }
}

public struct ZKStat: JuteRecord, Hashable {
    public var czxid: Int64 = 0
    public var mzxid: Int64 = 0
    public var ctime: Int64 = 0
    public var mtime: Int64 = 0
    public var version: Int32 = 0
    public var cversion: Int32 = 0
    public var aversion: Int32 = 0
    public var ephemeralOwner: Int64 = 0
    public var dataLength: Int32 = 0
    public var numChildren: Int32 = 0
    public var pzxid: Int64 = 0
    public init() {}
    public init(jute r: inout ByteReader) throws {
        czxid = try r.readInt64()
        mzxid = try r.readInt64()
        ctime = try r.readInt64()
        mtime = try r.readInt64()
        version = try r.readInt32()
        cversion = try r.readInt32()
        aversion = try r.readInt32()
        ephemeralOwner = try r.readInt64()
        dataLength = try r.readInt32()
        numChildren = try r.readInt32()
        pzxid = try r.readInt64()
    }
    public func write(jute w: inout ByteWriter) {
        w.writeInt64(czxid)
        w.writeInt64(mzxid)
        w.writeInt64(ctime)
        w.writeInt64(mtime)
        w.writeInt32(version)
        w.writeInt32(cversion)
        w.writeInt32(aversion)
        w.writeInt64(ephemeralOwner)
        w.writeInt32(dataLength)
        w.writeInt32(numChildren)
        w.writeInt64(pzxid)
    }
    public static let wireSize = 68
}

public struct ZKConnectRequest: JuteRecord, Equatable {
    public var protocolVersion: Int32
    public var lastZxidSeen: Int64
    public var timeout: Int32
    public var sessionId: Int64
    public var password: [UInt8]
    /// Sent by 3.4+ clients; absent from older ones.
    public var readOnly: Bool
    public init(protocolVersion: Int32 = 0, lastZxidSeen: Int64, timeout: Int32, sessionId: Int64, password: [UInt8], readOnly: Bool = false) {
        self.protocolVersion = protocolVersion
        self.lastZxidSeen = lastZxidSeen
        self.timeout = timeout
        self.sessionId = sessionId
        self.password = password
        self.readOnly = readOnly
    }
    public init(jute r: inout ByteReader) throws {
        protocolVersion = try r.readInt32()
        lastZxidSeen = try r.readInt64()
        timeout = try r.readInt32()
        sessionId = try r.readInt64()
        password = try r.readJuteBuffer()
        readOnly = r.isAtEnd ? false : try r.readBool()
    }
    public func write(jute w: inout ByteWriter) {
        w.writeInt32(protocolVersion)
        w.writeInt64(lastZxidSeen)
        w.writeInt32(timeout)
        w.writeInt64(sessionId)
        w.writeJuteBuffer(password)
        w.writeBool(readOnly)
    }
}

public struct ZKConnectResponse: JuteRecord, Equatable {
    public var protocolVersion: Int32
    public var timeout: Int32
    public var sessionId: Int64
    public var password: [UInt8]
    public var readOnly: Bool
    public init(protocolVersion: Int32 = 0, timeout: Int32, sessionId: Int64, password: [UInt8], readOnly: Bool = false) {
        self.protocolVersion = protocolVersion
        self.timeout = timeout
        self.sessionId = sessionId
        self.password = password
        self.readOnly = readOnly
    }
    public init(jute r: inout ByteReader) throws {
        protocolVersion = try r.readInt32()
        timeout = try r.readInt32()
        sessionId = try r.readInt64()
        password = try r.readJuteBuffer()
        readOnly = r.isAtEnd ? false : try r.readBool()
    }
    public func write(jute w: inout ByteWriter) {
        w.writeInt32(protocolVersion)
        w.writeInt32(timeout)
        w.writeInt64(sessionId)
        w.writeJuteBuffer(password)
        w.writeBool(readOnly)
    }
}

public struct ZKRequestHeader: JuteRecord, Equatable {
    public var xid: Int32
    public var type: Int32
    public init(xid: Int32, type: Int32) { self.xid = xid; self.type = type }
    public init(jute r: inout ByteReader) throws {
        xid = try r.readInt32()
        type = try r.readInt32()
    }
    public func write(jute w: inout ByteWriter) {
        w.writeInt32(xid)
        w.writeInt32(type)
    }
}

public struct ZKReplyHeader: JuteRecord, Equatable {
    public var xid: Int32
    public var zxid: Int64
    public var err: Int32
    public init(xid: Int32, zxid: Int64, err: Int32) { self.xid = xid; self.zxid = zxid; self.err = err }
    public init(jute r: inout ByteReader) throws {
        xid = try r.readInt32()
        zxid = try r.readInt64()
        err = try r.readInt32()
    }
    public func write(jute w: inout ByteWriter) {
        w.writeInt32(xid)
        w.writeInt64(zxid)
        w.writeInt32(err)
    }
}

public struct ZKMultiHeader: JuteRecord, Equatable {
    public var type: Int32
    public var done: Bool
    public var err: Int32
    public init(type: Int32, done: Bool, err: Int32) { self.type = type; self.done = done; self.err = err }
    public init(jute r: inout ByteReader) throws {
        type = try r.readInt32()
        done = try r.readBool()
        err = try r.readInt32()
    }
    public func write(jute w: inout ByteWriter) {
        w.writeInt32(type)
        w.writeBool(done)
        w.writeInt32(err)
    }
    public static let end = ZKMultiHeader(type: -1, done: true, err: -1)
}

public struct ZKWatcherEvent: JuteRecord, Hashable {
    public var type: Int32
    public var state: Int32
    public var path: String
    public init(type: Int32, state: Int32 = ZKKeeperState.syncConnected, path: String) {
        self.type = type
        self.state = state
        self.path = path
    }
    public init(jute r: inout ByteReader) throws {
        type = try r.readInt32()
        state = try r.readInt32()
        path = try r.readJuteString()
    }
    public func write(jute w: inout ByteWriter) {
        w.writeInt32(type)
        w.writeInt32(state)
        w.writeJuteString(path)
    }
}

/// SetWatches (op 101) and SetWatches2 (op 105, adds persistent watch lists).
public struct ZKSetWatches: Equatable, Sendable {
    public var relativeZxid: Int64
    public var dataWatches: [String]
    public var existWatches: [String]
    public var childWatches: [String]
    public var persistentWatches: [String]
    public var persistentRecursiveWatches: [String]
    public init(relativeZxid: Int64, dataWatches: [String] = [], existWatches: [String] = [], childWatches: [String] = [],
                persistentWatches: [String] = [], persistentRecursiveWatches: [String] = []) {
        self.relativeZxid = relativeZxid
        self.dataWatches = dataWatches
        self.existWatches = existWatches
        self.childWatches = childWatches
        self.persistentWatches = persistentWatches
        self.persistentRecursiveWatches = persistentRecursiveWatches
    }
}
