/// Request bodies of the client protocol, keyed by op code.

public enum JuteError: Error, Equatable, Sendable {
    case unknownOp(Int32)
    case badMultiOp(Int32)
}

public struct ZKCreate: Equatable, Sendable {
    public var path: String
    /// nil: the client sent a null buffer (length -1); ZooKeeper keeps that apart from empty.
    public var data: [UInt8]?
    public var acl: [ZKACL]
    public var flags: Int32
    /// Only for createTTL (op 21).
    public var ttl: Int64
    public init(path: String, data: [UInt8]? = [], acl: [ZKACL] = ZKACL.openUnsafe, flags: Int32 = 0, ttl: Int64 = 0) {
        self.path = path
        self.data = data
        self.acl = acl
        self.flags = flags
        self.ttl = ttl
    }
}

public indirect enum ZKRequest: Equatable, Sendable {
    case create(ZKCreate)
    case create2(ZKCreate)
    case createContainer(ZKCreate)
    case createTTL(ZKCreate)
    case delete(path: String, version: Int32)
    case exists(path: String, watch: Bool)
    case getData(path: String, watch: Bool)
    case setData(path: String, data: [UInt8]?, version: Int32)
    case getACL(path: String)
    case setACL(path: String, acl: [ZKACL], version: Int32)
    case getChildren(path: String, watch: Bool)
    case getChildren2(path: String, watch: Bool)
    case sync(path: String)
    case ping
    case check(path: String, version: Int32)
    case multi([ZKRequest])
    case multiRead([ZKRequest])
    case auth(type: Int32, scheme: String, auth: [UInt8])
    case setWatches(ZKSetWatches)
    case setWatches2(ZKSetWatches)
    case getEphemerals(prefix: String)
    case getAllChildrenNumber(path: String)
    case addWatch(path: String, mode: Int32)
    case checkWatches(path: String, type: Int32)
    case removeWatches(path: String, type: Int32)
    case whoAmI
    /// GetSASLRequest {buffer token} (op 102, a normal xid): one SASL token of the client.
    case sasl(token: [UInt8])
    /// ReconfigRequest (op 16): comma-separated `server.N=` specs joining, ids leaving, or the
    /// whole new list; `curConfigId` -1 or the version the change is based on.
    case reconfig(joining: String?, leaving: String?, newMembers: String?, curConfigId: Int64)
    case closeSession

    public var opCode: Int32 {
        switch self {
        case .create: ZKOp.create
        case .create2: ZKOp.create2
        case .createContainer: ZKOp.createContainer
        case .createTTL: ZKOp.createTTL
        case .delete: ZKOp.delete
        case .exists: ZKOp.exists
        case .getData: ZKOp.getData
        case .setData: ZKOp.setData
        case .getACL: ZKOp.getACL
        case .setACL: ZKOp.setACL
        case .getChildren: ZKOp.getChildren
        case .getChildren2: ZKOp.getChildren2
        case .sync: ZKOp.sync
        case .ping: ZKOp.ping
        case .check: ZKOp.check
        case .multi: ZKOp.multi
        case .multiRead: ZKOp.multiRead
        case .auth: ZKOp.auth
        case .setWatches: ZKOp.setWatches
        case .setWatches2: ZKOp.setWatches2
        case .getEphemerals: ZKOp.getEphemerals
        case .getAllChildrenNumber: ZKOp.getAllChildrenNumber
        case .addWatch: ZKOp.addWatch
        case .checkWatches: ZKOp.checkWatches
        case .removeWatches: ZKOp.removeWatches
        case .whoAmI: ZKOp.whoAmI
        case .sasl: ZKOp.sasl
        case .reconfig: ZKOp.reconfig
        case .closeSession: ZKOp.closeSession
        }
    }

    /// Requests that change the tree (go through prep and the txn log).
    public var isWrite: Bool {
        switch self {
        case .create, .create2, .createContainer, .createTTL, .delete, .setData, .setACL, .check, .multi, .reconfig, .closeSession:
            true
        default:
            false
        }
    }

    /// Decodes the body that follows a RequestHeader of type `op`.
    public static func decode(op: Int32, _ r: inout ByteReader) throws -> ZKRequest {
        switch op {
        case ZKOp.create, ZKOp.create2, ZKOp.createContainer, ZKOp.createTTL:
            let path = try r.readJuteString()
            let data = try r.readJuteBufferOrNil()
            let acl = try r.readJuteACLs() ?? []
            let flags = try r.readInt32()
            let ttl = op == ZKOp.createTTL ? try r.readInt64() : 0
            let c = ZKCreate(path: path, data: data, acl: acl, flags: flags, ttl: ttl)
            switch op {
            case ZKOp.create: return .create(c)
            case ZKOp.create2: return .create2(c)
            case ZKOp.createContainer: return .createContainer(c)
            default: return .createTTL(c)
            }
        case ZKOp.delete:
            return .delete(path: try r.readJuteString(), version: try r.readInt32())
        case ZKOp.exists:
            return .exists(path: try r.readJuteString(), watch: try r.readBool())
        case ZKOp.getData:
            return .getData(path: try r.readJuteString(), watch: try r.readBool())
        case ZKOp.setData:
            return .setData(path: try r.readJuteString(), data: try r.readJuteBufferOrNil(), version: try r.readInt32())
        case ZKOp.getACL:
            return .getACL(path: try r.readJuteString())
        case ZKOp.setACL:
            return .setACL(path: try r.readJuteString(), acl: try r.readJuteACLs() ?? [], version: try r.readInt32())
        case ZKOp.getChildren:
            return .getChildren(path: try r.readJuteString(), watch: try r.readBool())
        case ZKOp.getChildren2:
            return .getChildren2(path: try r.readJuteString(), watch: try r.readBool())
        case ZKOp.sync:
            return .sync(path: try r.readJuteString())
        case ZKOp.ping:
            return .ping
        case ZKOp.check:
            return .check(path: try r.readJuteString(), version: try r.readInt32())
        case ZKOp.multi, ZKOp.multiRead:
            var ops: [ZKRequest] = []
            while true {
                let h = try ZKMultiHeader(jute: &r)
                if h.done { break }
                let allowed: Set<Int32> = op == ZKOp.multi
                    ? [ZKOp.create, ZKOp.create2, ZKOp.createContainer, ZKOp.createTTL, ZKOp.delete, ZKOp.setData, ZKOp.check]
                    : [ZKOp.getChildren, ZKOp.getData]
                guard allowed.contains(h.type) else { throw JuteError.badMultiOp(h.type) }
                ops.append(try decode(op: h.type, &r))
            }
            return op == ZKOp.multi ? .multi(ops) : .multiRead(ops)
        case ZKOp.auth:
            return .auth(type: try r.readInt32(), scheme: try r.readJuteString(), auth: try r.readJuteBuffer())
        case ZKOp.setWatches, ZKOp.setWatches2:
            var sw = ZKSetWatches(relativeZxid: try r.readInt64())
            sw.dataWatches = try r.readJuteStrings()
            sw.existWatches = try r.readJuteStrings()
            sw.childWatches = try r.readJuteStrings()
            if op == ZKOp.setWatches2 {
                sw.persistentWatches = try r.readJuteStrings()
                sw.persistentRecursiveWatches = try r.readJuteStrings()
                return .setWatches2(sw)
            }
            return .setWatches(sw)
        case ZKOp.getEphemerals:
            return .getEphemerals(prefix: try r.readJuteString())
        case ZKOp.getAllChildrenNumber:
            return .getAllChildrenNumber(path: try r.readJuteString())
        case ZKOp.addWatch:
            return .addWatch(path: try r.readJuteString(), mode: try r.readInt32())
        case ZKOp.checkWatches:
            return .checkWatches(path: try r.readJuteString(), type: try r.readInt32())
        case ZKOp.removeWatches:
            return .removeWatches(path: try r.readJuteString(), type: try r.readInt32())
        case ZKOp.whoAmI:
            return .whoAmI
        case ZKOp.sasl:
            return .sasl(token: try r.readJuteBufferOrNil() ?? [])
        case ZKOp.reconfig:
            return .reconfig(joining: try r.readJuteStringOrNil(), leaving: try r.readJuteStringOrNil(),
                             newMembers: try r.readJuteStringOrNil(), curConfigId: try r.readInt64())
        case ZKOp.closeSession:
            return .closeSession
        default:
            throw JuteError.unknownOp(op)
        }
    }

    /// Encodes the body (without the RequestHeader).
    public func write(jute w: inout ByteWriter) {
        switch self {
        case .create(let c), .create2(let c), .createContainer(let c), .createTTL(let c):
            w.writeJuteString(c.path)
            w.writeJuteBuffer(c.data)
            w.writeJuteRecords(c.acl)
            w.writeInt32(c.flags)
            if case .createTTL = self { w.writeInt64(c.ttl) }
        case .delete(let p, let v), .check(let p, let v):
            w.writeJuteString(p)
            w.writeInt32(v)
        case .exists(let p, let watch), .getData(let p, let watch), .getChildren(let p, let watch), .getChildren2(let p, let watch):
            w.writeJuteString(p)
            w.writeBool(watch)
        case .setData(let p, let d, let v):
            w.writeJuteString(p)
            w.writeJuteBuffer(d)
            w.writeInt32(v)
        case .getACL(let p), .sync(let p), .getEphemerals(let p), .getAllChildrenNumber(let p):
            w.writeJuteString(p)
        case .setACL(let p, let acl, let v):
            w.writeJuteString(p)
            w.writeJuteRecords(acl)
            w.writeInt32(v)
        case .ping, .whoAmI, .closeSession:
            break
        case .multi(let ops), .multiRead(let ops):
            for op in ops {
                ZKMultiHeader(type: op.opCode, done: false, err: -1).write(jute: &w)
                op.write(jute: &w)
            }
            ZKMultiHeader.end.write(jute: &w)
        case .auth(let t, let s, let a):
            w.writeInt32(t)
            w.writeJuteString(s)
            w.writeJuteBuffer(a)
        case .sasl(let token):
            w.writeJuteBuffer(token)
        case .reconfig(let joining, let leaving, let members, let version):
            w.writeJuteString(joining)
            w.writeJuteString(leaving)
            w.writeJuteString(members)
            w.writeInt64(version)
        case .setWatches(let sw), .setWatches2(let sw):
            w.writeInt64(sw.relativeZxid)
            w.writeJuteStrings(sw.dataWatches)
            w.writeJuteStrings(sw.existWatches)
            w.writeJuteStrings(sw.childWatches)
            if case .setWatches2 = self {
                w.writeJuteStrings(sw.persistentWatches)
                w.writeJuteStrings(sw.persistentRecursiveWatches)
            }
        case .addWatch(let p, let m), .checkWatches(let p, let m), .removeWatches(let p, let m):
            w.writeJuteString(p)
            w.writeInt32(m)
        }
    }

    /// A whole client frame: length, RequestHeader, body.
    public func frame(xid: Int32) -> [UInt8] {
        ByteWriter.juteFrame { w in
            ZKRequestHeader(xid: xid, type: opCode).write(jute: &w)
            write(jute: &w)
        }
    }
}
