/// The peer wire format: every message is one frame (4-byte big-endian length, then a 1-byte type
/// and the fields). A connection starts with a `PeerHandshake` frame naming the sender.
public enum QuorumCodec {
    public static let version: UInt16 = 1
    /// Frames above this are refused; snapshots are the only large messages.
    public static let maxFrameBytes = 512 << 20

    enum Tag: UInt8 {
        case election = 1
        case followerInfo = 16, ackEpoch, ackNewLeader, ack, pong, request, sync
        case leaderInfo = 32, truncate, snapshot, proposal, newLeader, upToDate, commit, ping, syncDone, inform
    }

    /// The frame body (no length prefix).
    public static func encode(_ message: QuorumMessage) -> [UInt8] {
        var w = ByteWriter()
        write(message, to: &w)
        return w.bytes
    }

    /// The message with its 4-byte length prefix, ready for a socket.
    public static func encodeFrame(_ message: QuorumMessage) -> [UInt8] {
        var w = ByteWriter()
        w.withInt32LengthPrefix { write(message, to: &$0) }
        return w.bytes
    }

    /// Decodes one frame body; throws on any malformed, truncated or trailing input.
    public static func decode(_ frame: [UInt8]) throws -> QuorumMessage {
        var r = ByteReader(frame)
        let message = try read(&r)
        if !r.isAtEnd { throw DecodeError.invalidValue("trailing bytes in quorum message") }
        return message
    }

    static func write(_ message: QuorumMessage, to w: inout ByteWriter) {
        switch message {
        case .election(let n):
            w.writeUInt8(Tag.election.rawValue)
            w.writeUInt64(n.round)
            w.writeUInt8(n.state.rawValue)
            w.writeUInt64(n.vote.leader)
            w.writeUInt64(n.vote.zxid.raw)
            w.writeUInt32(n.vote.epoch)
            // Absent unless a reconfig happened: the frame stays as it was for static ensembles.
            if let c = n.config {
                w.writeUInt64(c.zxid.raw)
                for ids in [c.voters, c.observers] {
                    w.writeUInt16(UInt16(truncatingIfNeeded: ids.count))
                    for id in ids { w.writeUInt64(id) }
                }
            }
        case .session(let id, let seq, let body):
            writeSession(id: id, seq: seq, body, to: &w)
        }
    }

    static func writeSession(id: UInt64, seq: UInt64, _ body: SessionMessage, to w: inout ByteWriter) {
        func header(_ tag: Tag) {
            w.writeUInt8(tag.rawValue)
            w.writeUInt64(id)
            w.writeUInt64(seq)
        }
        switch body {
        case .followerInfo(let accepted, let acceptedLeader, let last):
            header(.followerInfo); w.writeUInt32(accepted); w.writeUInt64(acceptedLeader); w.writeUInt64(last.raw)
        case .ackEpoch(let current, let log):
            header(.ackEpoch); w.writeUInt32(current)
            w.writeUInt64(log.base.raw); w.writeUInt64(log.lastZxid.raw)
            w.writeUInt32(UInt32(truncatingIfNeeded: log.epochEnds.count))
            for z in log.epochEnds { w.writeUInt64(z.raw) }
        case .ackNewLeader(let epoch, let last):
            header(.ackNewLeader); w.writeUInt32(epoch); w.writeUInt64(last.raw)
        case .ack(let z):
            header(.ack); w.writeUInt64(z.raw)
        case .pong(let last):
            header(.pong); w.writeUInt64(last.raw)
        case .request(let req):
            header(.request); writeOrigin(req.origin, to: &w); writeBlob(req.data, to: &w)
        case .sync(let origin):
            header(.sync); writeOrigin(origin, to: &w)
        case .leaderInfo(let epoch):
            header(.leaderInfo); w.writeUInt32(epoch)
        case .truncate(let z):
            header(.truncate); w.writeUInt64(z.raw)
        case .snapshot(let z, let data):
            header(.snapshot); w.writeUInt64(z.raw); writeBlob(data, to: &w)
        case .proposal(let prev, let txn), .inform(let prev, let txn):
            if case .inform = body { header(.inform) } else { header(.proposal) }
            w.writeUInt64(prev.raw); w.writeUInt64(txn.zxid.raw)
            if let origin = txn.origin {
                w.writeUInt8(1); writeOrigin(origin, to: &w)
            } else {
                w.writeUInt8(0)
            }
            writeBlob(txn.data, to: &w)
        case .newLeader(let epoch):
            header(.newLeader); w.writeUInt32(epoch)
        case .upToDate(let commit):
            header(.upToDate); w.writeUInt64(commit.raw)
        case .commit(let z):
            header(.commit); w.writeUInt64(z.raw)
        case .ping(let commit):
            header(.ping); w.writeUInt64(commit.raw)
        case .syncDone(let origin, let z):
            header(.syncDone); writeOrigin(origin, to: &w); w.writeUInt64(z.raw)
        }
    }

    static func writeOrigin(_ o: RequestOrigin, to w: inout ByteWriter) {
        w.writeUInt64(o.server); w.writeInt64(o.session); w.writeInt32(o.xid)
    }

    static func writeBlob(_ data: [UInt8], to w: inout ByteWriter) {
        w.writeUInt32(UInt32(truncatingIfNeeded: data.count))
        w.writeBytes(data)
    }

    static func read(_ r: inout ByteReader) throws -> QuorumMessage {
        let rawTag = try r.readUInt8()
        guard let tag = Tag(rawValue: rawTag) else {
            throw DecodeError.invalidValue("unknown quorum message type \(rawTag)")
        }
        if tag == .election {
            let round = try r.readUInt64()
            let rawState = try r.readUInt8()
            guard let state = PeerState(rawValue: rawState) else {
                throw DecodeError.invalidValue("unknown peer state \(rawState)")
            }
            let vote = Vote(leader: try r.readUInt64(), zxid: Zxid(raw: try r.readUInt64()), epoch: try r.readUInt32())
            var config: ElectionConfig?
            if !r.isAtEnd {
                let zxid = Zxid(raw: try r.readUInt64())
                func ids() throws -> [UInt64] {
                    let n = Int(try r.readUInt16())
                    guard n <= ElectionConfig.maxMembers else { throw DecodeError.invalidValue("too many members") }
                    return try (0..<n).map { _ in try r.readUInt64() }
                }
                config = ElectionConfig(zxid: zxid, voters: try ids(), observers: try ids())
            }
            return .election(ElectionNotification(round: round, state: state, vote: vote, config: config))
        }
        let id = try r.readUInt64()
        let seq = try r.readUInt64()
        return .session(id: id, seq: seq, try readSessionBody(tag, &r))
    }

    static func readSessionBody(_ tag: Tag, _ r: inout ByteReader) throws -> SessionMessage {
        func zxid() throws -> Zxid { Zxid(raw: try r.readUInt64()) }
        switch tag {
        case .election:
            throw DecodeError.invalidValue("election is not a session message")
        case .followerInfo:
            return .followerInfo(acceptedEpoch: try r.readUInt32(), acceptedLeader: try r.readUInt64(), lastZxid: try zxid())
        case .ackEpoch:
            let current = try r.readUInt32()
            let base = try zxid()
            let last = try zxid()
            let count = Int(try r.readUInt32())
            // Check the count against what is left before allocating anything for it.
            guard count <= r.remaining / 8 else { throw DecodeError.invalidLength(count) }
            var ends: [Zxid] = []
            ends.reserveCapacity(count)
            for _ in 0..<count { ends.append(try zxid()) }
            return .ackEpoch(currentEpoch: current, log: LogSummary(base: base, lastZxid: last, epochEnds: ends))
        case .ackNewLeader:
            return .ackNewLeader(epoch: try r.readUInt32(), lastZxid: try zxid())
        case .ack:
            return .ack(try zxid())
        case .pong:
            return .pong(lastZxid: try zxid())
        case .request:
            let origin = try readOrigin(&r)
            return .request(ClientRequest(origin: origin, data: try readBlob(&r)))
        case .sync:
            return .sync(try readOrigin(&r))
        case .leaderInfo:
            return .leaderInfo(epoch: try r.readUInt32())
        case .truncate:
            return .truncate(try zxid())
        case .snapshot:
            let z = try zxid()
            return .snapshot(zxid: z, data: try readBlob(&r))
        case .proposal, .inform:
            let prev = try zxid()
            let z = try zxid()
            let hasOrigin = try r.readUInt8()
            var origin: RequestOrigin?
            switch hasOrigin {
            case 0: origin = nil
            case 1: origin = try readOrigin(&r)
            default: throw DecodeError.invalidValue("bad origin flag \(hasOrigin)")
            }
            let txn = QuorumTxn(zxid: z, data: try readBlob(&r), origin: origin)
            return tag == .inform ? .inform(prev: prev, txn: txn) : .proposal(prev: prev, txn: txn)
        case .newLeader:
            return .newLeader(epoch: try r.readUInt32())
        case .upToDate:
            return .upToDate(commit: try zxid())
        case .commit:
            return .commit(try zxid())
        case .ping:
            return .ping(commit: try zxid())
        case .syncDone:
            let origin = try readOrigin(&r)
            return .syncDone(origin, zxid: try zxid())
        }
    }

    static func readOrigin(_ r: inout ByteReader) throws -> RequestOrigin {
        RequestOrigin(server: try r.readUInt64(), session: try r.readInt64(), xid: try r.readInt32())
    }

    static func readBlob(_ r: inout ByteReader) throws -> [UInt8] {
        let n = Int(try r.readUInt32())
        guard n <= r.remaining else { throw DecodeError.invalidLength(n) }
        return try r.readBytes(n)
    }
}

/// The first frame on a peer connection: who is speaking and which wire version it uses. With quorum
/// authentication on, it also carries a fresh nonce the other side must answer with a `PeerProof`.
public struct PeerHandshake: Hashable, Sendable {
    static let magic: [UInt8] = Array("ZQPR".utf8)
    public static let nonceBytes = 32

    public var version: UInt16
    public var serverId: UInt64
    /// Empty without authentication, else `nonceBytes` random bytes.
    public var nonce: [UInt8]

    public init(serverId: UInt64, nonce: [UInt8] = [], version: UInt16 = QuorumCodec.version) {
        precondition(nonce.isEmpty || nonce.count == Self.nonceBytes)
        self.serverId = serverId
        self.nonce = nonce
        self.version = version
    }

    public func encodeFrame() -> [UInt8] {
        var w = ByteWriter()
        w.withInt32LengthPrefix { w in
            w.writeBytes(Self.magic)
            w.writeUInt16(version)
            w.writeUInt64(serverId)
            w.writeBytes(nonce)
        }
        return w.bytes
    }

    /// Decodes a handshake frame body; refuses other protocols and versions it does not speak.
    public static func decode(_ frame: [UInt8]) throws -> PeerHandshake {
        var r = ByteReader(frame)
        guard try r.readBytes(4) == magic else { throw DecodeError.invalidValue("not a quorum peer handshake") }
        let version = try r.readUInt16()
        guard version == QuorumCodec.version else {
            throw DecodeError.invalidValue("unsupported quorum peer version \(version)")
        }
        let id = try r.readUInt64()
        guard r.remaining == 0 || r.remaining == nonceBytes else { throw DecodeError.invalidValue("trailing bytes in handshake") }
        return PeerHandshake(serverId: id, nonce: try r.readBytes(r.remaining), version: version)
    }
}

/// The second frame with quorum authentication on: a MAC over both ids and both nonces, proving
/// the sender holds the shared secret (see CoordServer's `PeerAuth`).
public struct PeerProof: Hashable, Sendable {
    static let magic: [UInt8] = Array("ZQPA".utf8)
    public static let macBytes = 32
    public var mac: [UInt8]

    public init(mac: [UInt8]) {
        precondition(mac.count == Self.macBytes)
        self.mac = mac
    }

    public func encodeFrame() -> [UInt8] {
        var w = ByteWriter()
        w.withInt32LengthPrefix { w in
            w.writeBytes(Self.magic)
            w.writeBytes(mac)
        }
        return w.bytes
    }

    public static func decode(_ frame: [UInt8]) throws -> PeerProof {
        var r = ByteReader(frame)
        guard try r.readBytes(4) == magic else { throw DecodeError.invalidValue("not a quorum peer proof") }
        guard r.remaining == macBytes else { throw DecodeError.invalidValue("bad quorum peer proof length \(r.remaining)") }
        return PeerProof(mac: try r.readBytes(macBytes))
    }
}
