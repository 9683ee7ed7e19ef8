/// Response bodies of the client protocol (what follows a ReplyHeader with err == 0).

public enum ZKMultiResult: Equatable, Sendable {
    case create(path: String)
    /// create2 / createContainer / createTTL carry the stat; `op` is the op code echoed in the header.
    case create2(op: Int32, path: String, stat: ZKStat)
    case delete
    case setData(ZKStat)
    case check
    case error(Int32)
    case getData([UInt8]?, ZKStat)
    case getChildren([String])

    var headerType: Int32 {
        switch self {
        case .create: ZKOp.create
        case .create2(let op, _, _): op
        case .delete: ZKOp.delete
        case .setData: ZKOp.setData
        case .check: ZKOp.check
        case .error: ZKOp.error
        case .getData: ZKOp.getData
        case .getChildren: ZKOp.getChildren
        }
    }
}

public enum ZKResponse: Equatable, Sendable {
    case empty
    /// create (op 1) and sync.
    case path(String)
    /// create2, createContainer, createTTL.
    case pathStat(String, ZKStat)
    /// exists, setData, setACL.
    case stat(ZKStat)
    /// getData; nil data (a node created or set with null) goes out as length -1.
    case data([UInt8]?, ZKStat)
    case children([String])
    case children2([String], ZKStat)
    case acl([ZKACL], ZKStat)
    case count(Int32)
    /// getEphemerals.
    case paths([String])
    case multi([ZKMultiResult])
    /// whoAmI: ClientInfo records (authScheme, user), the same wire form as Id.
    case clientInfo([ZKId])
    /// ErrorResponse (one int): addWatch answers it, with 0.
    case errorResponse(Int32)
    /// SetSASLResponse {buffer token}: the server's next SASL token (nil: none).
    case saslToken([UInt8]?)

    public func write(jute w: inout ByteWriter) {
        switch self {
        case .empty:
            break
        case .path(let p):
            w.writeJuteString(p)
        case .pathStat(let p, let s):
            w.writeJuteString(p)
            s.write(jute: &w)
        case .stat(let s):
            s.write(jute: &w)
        case .data(let d, let s):
            w.writeJuteBuffer(d)
            s.write(jute: &w)
        case .children(let c), .paths(let c):
            w.writeJuteStrings(c)
        case .children2(let c, let s):
            w.writeJuteStrings(c)
            s.write(jute: &w)
        case .acl(let a, let s):
            w.writeJuteRecords(a)
            s.write(jute: &w)
        case .count(let n), .errorResponse(let n):
            w.writeInt32(n)
        case .clientInfo(let ids):
            w.writeJuteRecords(ids)
        case .saslToken(let t):
            w.writeJuteBuffer(t)
        case .multi(let results):
            for res in results {
                if case .error(let e) = res {
                    ZKMultiHeader(type: ZKOp.error, done: false, err: e).write(jute: &w)
                    w.writeInt32(e)
                    continue
                }
                ZKMultiHeader(type: res.headerType, done: false, err: 0).write(jute: &w)
                switch res {
                case .create(let p): w.writeJuteString(p)
                case .create2(_, let p, let s): w.writeJuteString(p); s.write(jute: &w)
                case .setData(let s): s.write(jute: &w)
                case .getData(let d, let s): w.writeJuteBuffer(d); s.write(jute: &w)
                case .getChildren(let c): w.writeJuteStrings(c)
                case .delete, .check, .error: break
                }
            }
            ZKMultiHeader.end.write(jute: &w)
        }
    }

    /// Decodes the body of a successful reply to a request of type `op` (clients and tests).
    public static func decode(op: Int32, _ r: inout ByteReader) throws -> ZKResponse {
        switch op {
        case ZKOp.create, ZKOp.sync:
            return .path(try r.readJuteString())
        case ZKOp.create2, ZKOp.createContainer, ZKOp.createTTL:
            return .pathStat(try r.readJuteString(), try ZKStat(jute: &r))
        case ZKOp.exists, ZKOp.setData, ZKOp.setACL:
            return .stat(try ZKStat(jute: &r))
        case ZKOp.getData:
            return .data(try r.readJuteBufferOrNil(), try ZKStat(jute: &r))
        case ZKOp.getChildren:
            return .children(try r.readJuteStrings())
        case ZKOp.getEphemerals:
            return .paths(try r.readJuteStrings())
        case ZKOp.getChildren2:
            return .children2(try r.readJuteStrings(), try ZKStat(jute: &r))
        case ZKOp.getACL:
            return .acl(try r.readJuteACLs() ?? [], try ZKStat(jute: &r))
        case ZKOp.getAllChildrenNumber:
            return .count(try r.readInt32())
        case ZKOp.addWatch:
            return .errorResponse(try r.readInt32())
        case ZKOp.sasl:
            return .saslToken(try r.readJuteBufferOrNil())
        case ZKOp.whoAmI:
            return .clientInfo(try r.readJuteVector(minElementSize: 8) { try ZKId(jute: &$0) } ?? [])
        case ZKOp.multi, ZKOp.multiRead:
            var out: [ZKMultiResult] = []
            while true {
                let h = try ZKMultiHeader(jute: &r)
                if h.done { break }
                switch h.type {
                case ZKOp.create: out.append(.create(path: try r.readJuteString()))
                case ZKOp.create2, ZKOp.createContainer, ZKOp.createTTL:
                    out.append(.create2(op: h.type, path: try r.readJuteString(), stat: try ZKStat(jute: &r)))
                case ZKOp.delete: out.append(.delete)
                case ZKOp.setData: out.append(.setData(try ZKStat(jute: &r)))
                case ZKOp.check: out.append(.check)
                case ZKOp.error: out.append(.error(try r.readInt32()))
                case ZKOp.getData: out.append(.getData(try r.readJuteBufferOrNil(), try ZKStat(jute: &r)))
                case ZKOp.getChildren: out.append(.getChildren(try r.readJuteStrings()))
                default: throw JuteError.badMultiOp(h.type)
                }
            }
            return .multi(out)
        default:
            return .empty
        }
    }
}
