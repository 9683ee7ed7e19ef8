import Protocol

/// What a server hands the quorum as `ClientRequest.data` (forwarded to the leader, which alone
/// runs prep). A leading version byte keeps room for change; anything unknown is ignored.
enum EnsembleRequest: Equatable {
    /// A client write (or closeSession): the session, the connection's identities (the leader's
    /// prep checks ACLs with them) and the client's request frame (header + body).
    case write(sessionId: Int64, ids: [ZKId], frame: [UInt8])
    /// The same from a local session (localSessionsEnabled): no other server knows the session,
    /// so the leader does not check it (and refuses ephemerals: the origin upgrades first).
    case localWrite(sessionId: Int64, ids: [ZKId], frame: [UInt8])
    case createSession(sessionId: Int64, timeout: Int32, password: [UInt8])
    /// Sessions seen active on a follower since its last report (ZooKeeper's ping piggy-back).
    case touch([Int64])

    static let version: UInt8 = 1
    private static let maxTouch = 1 << 20
    private static let maxIds = 1 << 10

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 32)
        w.writeUInt8(Self.version)
        switch self {
        case .write(let sid, let ids, let frame), .localWrite(let sid, let ids, let frame):
            if case .localWrite = self { w.writeUInt8(5) } else { w.writeUInt8(4) }
            w.writeInt64(sid)
            w.writeUInt32(UInt32(ids.count))
            for id in ids { id.write(jute: &w) }
            w.writeUInt32(UInt32(frame.count))
            w.writeBytes(frame)
        case .createSession(let sid, let timeout, let pw):
            w.writeUInt8(2)
            w.writeInt64(sid)
            w.writeInt32(timeout)
            w.writeJuteBuffer(pw)
        case .touch(let ids):
            w.writeUInt8(3)
            w.writeUInt32(UInt32(ids.count))
            for id in ids { w.writeInt64(id) }
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> EnsembleRequest {
        var r = ByteReader(bytes)
        let v = try r.readUInt8()
        guard v == version else { throw DecodeError.invalidValue("ensemble request version \(v)") }
        let kind = try r.readUInt8()
        let out: EnsembleRequest
        switch kind {
        case 1, 4, 5:
            // Kind 1 (before identities travelled) carries none: only world-open nodes pass.
            let sid = try r.readInt64()
            var ids: [ZKId] = []
            if kind >= 4 {
                let count = Int(try r.readUInt32())
                guard count <= r.remaining / 8, count <= maxIds else { throw DecodeError.invalidLength(count) }
                for _ in 0..<count { ids.append(try ZKId(jute: &r)) }
            }
            let n = Int(try r.readUInt32())
            guard n <= r.remaining else { throw DecodeError.invalidLength(n) }
            let frame = try r.readBytes(n)
            out = kind == 5 ? .localWrite(sessionId: sid, ids: ids, frame: frame) : .write(sessionId: sid, ids: ids, frame: frame)
        case 2:
            out = .createSession(sessionId: try r.readInt64(), timeout: try r.readInt32(), password: try r.readJuteBuffer())
        case 3:
            let n = Int(try r.readUInt32())
            guard n <= r.remaining / 8, n <= maxTouch else { throw DecodeError.invalidLength(n) }
            var ids: [Int64] = []
            ids.reserveCapacity(n)
            for _ in 0..<n { ids.append(try r.readInt64()) }
            out = .touch(ids)
        default:
            throw DecodeError.invalidValue("ensemble request kind \(kind)")
        }
        guard r.isAtEnd else { throw DecodeError.invalidValue("trailing bytes in ensemble request") }
        return out
    }
}
