import Protocol

/// Whole-tree snapshots: used for crash recovery and for syncing a lagging replica.
extension DataTree {
    static let snapshotVersion: UInt8 = 1

    /// Nodes are written parents-first (depth-first walk) so loading can check every parent exists.
    public func serializeSnapshot() -> [UInt8] {
        var w = ByteWriter(capacity: 1024 + approximateDataSize + nodes.count * 96)
        w.writeUInt8(Self.snapshotVersion)
        w.writeInt64(lastZxid)
        w.writeInt32(Int32(sessions.count))
        for (id, s) in sessions.sorted(by: { $0.key < $1.key }) {
            w.writeInt64(id)
            w.writeInt32(s.timeout)
            w.writeJuteBuffer(s.password)
        }
        w.writeInt32(Int32(nodes.count))
        var stack = ["/"]
        while let path = stack.popLast() {
            guard let n = nodes[ZKPathKey(path)] else { continue }
            w.writeJuteString(path)
            w.writeJuteBuffer(n.data)
            w.writeJuteRecords(n.acl)
            w.writeInt64(n.czxid)
            w.writeInt64(n.mzxid)
            w.writeInt64(n.ctime)
            w.writeInt64(n.mtime)
            w.writeInt32(n.version)
            w.writeInt32(n.cversion)
            w.writeInt32(n.aversion)
            w.writeInt64(n.ephemeralOwner)
            w.writeInt64(n.pzxid)
            for c in n.children { stack.append(ZKPath.join(path, c.string)) }
        }
        return w.bytes
    }

    public init(snapshot bytes: [UInt8]) throws {
        self.init()
        var r = ByteReader(bytes)
        let v = try r.readUInt8()
        guard v == Self.snapshotVersion else { throw DecodeError.invalidValue("snapshot version \(v)") }
        let zxid = try r.readInt64()
        let sessionCount = Int(try r.readInt32())
        guard sessionCount >= 0, sessionCount <= r.remaining / 16 else { throw DecodeError.invalidLength(sessionCount) }
        var sessions: [Int64: SessionInfo] = [:]
        for _ in 0..<sessionCount {
            let id = try r.readInt64()
            sessions[id] = SessionInfo(timeout: try r.readInt32(), password: try r.readJuteBuffer())
        }
        let nodeCount = Int(try r.readInt32())
        guard nodeCount >= 1, nodeCount <= r.remaining / 60 else { throw DecodeError.invalidLength(nodeCount) }
        var nodes: [ZKPathKey: ZNode] = [:]
        nodes.reserveCapacity(nodeCount)
        var ephemerals: [Int64: Set<ZKPathKey>] = [:]
        for i in 0..<nodeCount {
            let path = try r.readJuteString()
            var n = ZNode(data: try r.readJuteBufferOrNil(), acl: try r.readJuteACLs() ?? [])
            n.czxid = try r.readInt64()
            n.mzxid = try r.readInt64()
            n.ctime = try r.readInt64()
            n.mtime = try r.readInt64()
            n.version = try r.readInt32()
            n.cversion = try r.readInt32()
            n.aversion = try r.readInt32()
            n.ephemeralOwner = try r.readInt64()
            n.pzxid = try r.readInt64()
            let key = ZKPathKey(path)
            guard ZKPath.isValid(path), nodes[key] == nil else { throw DecodeError.invalidValue("snapshot path \(path)") }
            if i == 0 {
                guard path == "/" else { throw DecodeError.invalidValue("snapshot must start at the root") }
            } else {
                guard let parent = ZKPath.parent(path).map({ ZKPathKey($0) }), nodes[parent] != nil else {
                    throw DecodeError.invalidValue("snapshot node \(path) before its parent")
                }
                nodes[parent]?.children.insert(ZKPathKey(ZKPath.name(path)))
            }
            if n.isEphemeral { ephemerals[n.ephemeralOwner, default: []].insert(key) }
            nodes[key] = n
        }
        guard r.isAtEnd else { throw DecodeError.invalidValue("trailing bytes after snapshot") }
        self.restore(nodes: nodes, ephemerals: ephemerals, sessions: sessions, lastZxid: zxid)
    }
}
