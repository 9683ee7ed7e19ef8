import Protocol

/// One replicated state change. Produced by prep (on the leader), applied by every server in zxid
/// order. The zxid is not part of the bytes: the log and the quorum carry it next to them.
public struct CoordTxn: Sendable, Equatable {
    public var sessionId: Int64
    public var cxid: Int32
    /// Leader's wall clock (ms) when prepped; becomes ctime/mtime so every replica agrees.
    public var time: Int64
    public var op: CoordTxnOp

    public init(sessionId: Int64, cxid: Int32, time: Int64, op: CoordTxnOp) {
        self.sessionId = sessionId
        self.cxid = cxid
        self.time = time
        self.op = op
    }
}

public indirect enum CoordTxnOp: Sendable, Equatable {
    case createSession(timeout: Int32, password: [UInt8])
    case closeSession
    /// `requestOp` is the client op (create, create2, createContainer) so apply can shape the reply.
    case create(requestOp: Int32, path: String, data: [UInt8]?, acl: [ZKACL], ephemeralOwner: Int64, parentCVersion: Int32)
    case delete(path: String)
    /// `version` is the node's new version.
    case setData(path: String, data: [UInt8]?, version: Int32)
    case setACL(path: String, acl: [ZKACL], version: Int32)
    case check(path: String, version: Int32)
    case multi([CoordTxnOp])
    case error(Int32)
}

extension CoordTxn {
    static let formatVersion: UInt8 = 1

    public func serialize() -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.writeUInt8(Self.formatVersion)
        w.writeInt64(sessionId)
        w.writeInt32(cxid)
        w.writeInt64(time)
        op.write(&w)
        return w.bytes
    }

    public init(bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        let v = try r.readUInt8()
        guard v == Self.formatVersion else { throw DecodeError.invalidValue("txn format version \(v)") }
        sessionId = try r.readInt64()
        cxid = try r.readInt32()
        time = try r.readInt64()
        op = try CoordTxnOp.read(&r, depth: 0)
        guard r.isAtEnd else { throw DecodeError.invalidValue("trailing bytes after txn") }
    }
}

extension CoordTxnOp {
    var typeCode: Int32 {
        switch self {
        case .createSession: ZKOp.createSession
        case .closeSession: ZKOp.closeSession
        case .create: ZKOp.create
        case .delete: ZKOp.delete
        case .setData: ZKOp.setData
        case .setACL: ZKOp.setACL
        case .check: ZKOp.check
        case .multi: ZKOp.multi
        case .error: ZKOp.error
        }
    }

    func write(_ w: inout ByteWriter) {
        w.writeInt32(typeCode)
        switch self {
        case .createSession(let t, let pw):
            w.writeInt32(t)
            w.writeJuteBuffer(pw)
        case .closeSession:
            break
        case .create(let rop, let path, let data, let acl, let owner, let pcv):
            w.writeInt32(rop)
            w.writeJuteString(path)
            w.writeJuteBuffer(data)
            w.writeJuteRecords(acl)
            w.writeInt64(owner)
            w.writeInt32(pcv)
        case .delete(let path):
            w.writeJuteString(path)
        case .setData(let path, let data, let v):
            w.writeJuteString(path)
            w.writeJuteBuffer(data)
            w.writeInt32(v)
        case .setACL(let path, let acl, let v):
            w.writeJuteString(path)
            w.writeJuteRecords(acl)
            w.writeInt32(v)
        case .check(let path, let v):
            w.writeJuteString(path)
            w.writeInt32(v)
        case .multi(let ops):
            w.writeInt32(Int32(ops.count))
            for o in ops { o.write(&w) }
        case .error(let e):
            w.writeInt32(e)
        }
    }

    static func read(_ r: inout ByteReader, depth: Int) throws -> CoordTxnOp {
        let t = try r.readInt32()
        switch t {
        case ZKOp.createSession:
            return .createSession(timeout: try r.readInt32(), password: try r.readJuteBuffer())
        case ZKOp.closeSession:
            return .closeSession
        case ZKOp.create:
            return .create(requestOp: try r.readInt32(), path: try r.readJuteString(), data: try r.readJuteBufferOrNil(),
                           acl: try r.readJuteACLs() ?? [], ephemeralOwner: try r.readInt64(), parentCVersion: try r.readInt32())
        case ZKOp.delete:
            return .delete(path: try r.readJuteString())
        case ZKOp.setData:
            return .setData(path: try r.readJuteString(), data: try r.readJuteBufferOrNil(), version: try r.readInt32())
        case ZKOp.setACL:
            return .setACL(path: try r.readJuteString(), acl: try r.readJuteACLs() ?? [], version: try r.readInt32())
        case ZKOp.check:
            return .check(path: try r.readJuteString(), version: try r.readInt32())
        case ZKOp.multi:
            // Multis do not nest in ZooKeeper; refusing depth keeps recursion bounded.
            guard depth == 0 else { throw DecodeError.invalidValue("nested multi txn") }
            let n = Int(try r.readInt32())
            guard n >= 0, n <= r.remaining / 4 else { throw DecodeError.invalidLength(n) }
            var ops: [CoordTxnOp] = []
            ops.reserveCapacity(n)
            for _ in 0..<n { ops.append(try read(&r, depth: depth + 1)) }
            return .multi(ops)
        case ZKOp.error:
            return .error(try r.readInt32())
        default:
            throw DecodeError.invalidValue("txn type \(t)")
        }
    }
}
