import Protocol

/// The replicated znode tree plus the session table. A value type with no I/O: `process` applies a
/// committed txn deterministically; reads answer from the current state.
public struct DataTree: Sendable {
    /// Keyed by the paths' bytes (ZKPathKey), as ZooKeeper: NFC and NFD spellings are two nodes.
    public private(set) var nodes: [ZKPathKey: ZNode] = [:]
    /// session id -> its ephemeral paths.
    public private(set) var ephemerals: [Int64: Set<ZKPathKey>] = [:]
    public private(set) var sessions: [Int64: SessionInfo] = [:]
    /// Container and TTL nodes, the ones the leader reaps when empty (DataTree's containers/ttls).
    public private(set) var containers: Set<ZKPathKey> = []
    public private(set) var ttls: Set<ZKPathKey> = []
    public private(set) var lastZxid: Int64 = 0
    /// Old values of nodes touched by a multi in progress, to roll it back.
    private var undo: [ZKPathKey: ZNode?]?

    public init() {
        nodes["/"] = ZNode()
        nodes["/"]!.children = ["zookeeper"]
        var zk = ZNode()
        zk.children = ["quota", "config"]
        nodes["/zookeeper"] = zk
        nodes["/zookeeper/quota"] = ZNode()
        nodes["/zookeeper/config"] = ZNode(acl: Self.configACL)
    }

    /// /zookeeper/config is readable by all, writable by the superuser only (ZOOKEEPER-2014).
    public static let configACL = [ZKACL(perms: ZKPerms.read, id: ZKId(scheme: "world", id: "anyone"))]

    public var nodeCount: Int { nodes.count }

    /// What every server puts in /zookeeper/config at start while no reconfig has written it
    /// (ZooKeeper does the same, outside the txn log): the configuration zoo.cfg gave.
    public mutating func initConfigNode(_ data: [UInt8]) {
        nodes["/zookeeper/config"]?.data = data
    }

    mutating func restore(nodes: [ZKPathKey: ZNode], ephemerals: [Int64: Set<ZKPathKey>], sessions: [Int64: SessionInfo], lastZxid: Int64) {
        self.nodes = nodes
        // Snapshots written before ACLs were enforced left the config node open.
        if self.nodes["/zookeeper/config"]?.acl == ZKACL.openUnsafe { self.nodes["/zookeeper/config"]?.acl = Self.configACL }
        self.ephemerals = ephemerals
        containers = []
        ttls = []
        for (k, n) in self.nodes {
            if n.isContainer { containers.insert(k) } else if n.ttl != nil { ttls.insert(k) }
        }
        self.sessions = sessions
        self.lastZxid = lastZxid
    }

    public func node(_ path: String) -> ZNode? { nodes[ZKPathKey(path)] }

    public func stat(_ path: String) -> ZKStat? { nodes[ZKPathKey(path)]?.stat }

    /// Sum of path and data sizes (ZooKeeper's approximate data size).
    public var approximateDataSize: Int {
        nodes.reduce(0) { $0 + $1.key.string.utf8.count + ($1.value.data?.count ?? 0) }
    }

    // MARK: mutation core

    /// The one place nodes change, so the ephemeral index and multi rollback stay correct.
    private mutating func setNode(_ path: ZKPathKey, _ new: ZNode?) {
        let old = nodes[path]
        if undo != nil, undo![path] == nil {
            undo![path] = .some(old)
        }
        if let o = old, o.isEphemeral, o.ephemeralOwner != new?.ephemeralOwner {
            ephemerals[o.ephemeralOwner]?.remove(path)
            if ephemerals[o.ephemeralOwner]?.isEmpty == true { ephemerals[o.ephemeralOwner] = nil }
        }
        if let n = new, n.isEphemeral, old?.ephemeralOwner != n.ephemeralOwner {
            ephemerals[n.ephemeralOwner, default: []].insert(path)
        }
        if let o = old, o.ephemeralOwner != new?.ephemeralOwner {
            if o.isContainer { containers.remove(path) } else if o.ttl != nil { ttls.remove(path) }
        }
        if let n = new, n.ephemeralOwner != old?.ephemeralOwner {
            if n.isContainer { containers.insert(path) } else if n.ttl != nil { ttls.insert(path) }
        }
        nodes[path] = new
    }

    /// Changes a parent in place in the dictionary, so adding or removing one child never copies the
    /// other names (copying the node out and back made a create under n children cost O(n)). A parent
    /// keeps its ephemeral owner, so setNode's index upkeep is not needed; inside a multi the undo copy
    /// makes the first change copy once.
    private mutating func updateParent(_ parentPath: ZKPathKey, _ change: (inout ZNode) -> Void) {
        if undo != nil, undo![parentPath] == nil { undo![parentPath] = .some(nodes[parentPath]) }
        change(&nodes[parentPath]!)
    }

    /// The identity of a node's child-set storage, for tests pinning that mutations do not copy it.
    func childStorageIdentity(_ path: String) -> UInt? {
        nodes[ZKPathKey(path)].map { n in withUnsafeBytes(of: n.children) { $0.load(as: UInt.self) } }
    }

    private mutating func createNode(path: String, data: [UInt8]?, acl: [ZKACL], owner: Int64, parentCVersion: Int32,
                                     zxid: Int64, time: Int64) -> Int32 {
        guard let parent = ZKPath.parent(path) else { return ZKErr.noNode }
        let (key, parentKey) = (ZKPathKey(path), ZKPathKey(parent))
        guard nodes[parentKey] != nil else { return ZKErr.noNode }
        guard nodes[key] == nil else { return ZKErr.nodeExists }
        updateParent(parentKey) { parent in
            parent.children.insert(ZKPathKey(ZKPath.name(path)))
            parent.cversion = parentCVersion
            parent.pzxid = zxid
        }
        setNode(key, ZNode(data: data, acl: acl, zxid: zxid, time: time, ephemeralOwner: owner))
        return ZKErr.ok
    }

    private mutating func deleteNode(path: String, zxid: Int64) -> Int32 {
        let key = ZKPathKey(path)
        guard nodes[key] != nil, let parent = ZKPath.parent(path) else { return ZKErr.noNode }
        let parentKey = ZKPathKey(parent)
        guard nodes[parentKey] != nil else { return ZKErr.noNode }
        updateParent(parentKey) { parent in
            parent.children.remove(ZKPathKey(ZKPath.name(path)))
            if zxid > parent.pzxid { parent.pzxid = zxid }
        }
        setNode(key, nil)
        return ZKErr.ok
    }

    // MARK: apply

    /// Applies one committed txn. Never traps: an inconsistent txn yields an error result.
    public mutating func process(_ txn: CoordTxn, zxid: Int64) -> TxnResult {
        if zxid > lastZxid { lastZxid = zxid }
        var result = TxnResult(zxid: zxid, err: ZKErr.ok, response: .empty, triggers: [])
        switch txn.op {
        case .createSession(let timeout, let pw):
            sessions[txn.sessionId] = SessionInfo(timeout: timeout, password: pw)
            result.createdSession = txn.sessionId
        case .closeSession:
            // Sorted so every replica deletes (and fires watches) in the same order.
            for key in (ephemerals[txn.sessionId] ?? []).sorted(by: >) {
                if deleteNode(path: key.string, zxid: zxid) == ZKErr.ok {
                    appendDeleteTriggers(key.string, &result.triggers)
                }
            }
            ephemerals[txn.sessionId] = nil
            sessions[txn.sessionId] = nil
            result.closedSession = txn.sessionId
        case .multi(let ops):
            result.response = .multi(processMulti(ops, txn: txn, zxid: zxid, triggers: &result.triggers))
        default:
            let (err, resp) = processSingle(txn.op, txn: txn, zxid: zxid, triggers: &result.triggers)
            result.err = err
            result.response = resp
        }
        return result
    }

    private mutating func processSingle(_ op: CoordTxnOp, txn: CoordTxn, zxid: Int64, triggers: inout [WatchTrigger]) -> (Int32, ZKResponse) {
        switch op {
        case .create(let rop, let path, let data, let acl, let owner, let pcv):
            let err = createNode(path: path, data: data, acl: acl, owner: owner, parentCVersion: pcv, zxid: zxid, time: txn.time)
            guard err == ZKErr.ok else { return (err, .empty) }
            triggers.append(WatchTrigger(path: path, type: ZKEventType.nodeCreated, kind: .data))
            if let parent = ZKPath.parent(path) {
                triggers.append(WatchTrigger(path: parent, type: ZKEventType.nodeChildrenChanged, kind: .child))
            }
            if rop == ZKOp.create { return (ZKErr.ok, .path(path)) }
            return (ZKErr.ok, .pathStat(path, nodes[ZKPathKey(path)]?.stat ?? ZKStat()))
        case .delete(let path):
            let err = deleteNode(path: path, zxid: zxid)
            guard err == ZKErr.ok else { return (err, .empty) }
            appendDeleteTriggers(path, &triggers)
            return (ZKErr.ok, .empty)
        case .setData(let path, let data, let version):
            let key = ZKPathKey(path)
            guard var n = nodes[key] else { return (ZKErr.noNode, .empty) }
            n.data = data
            n.version = version
            n.mzxid = zxid
            n.mtime = txn.time
            setNode(key, n)
            triggers.append(WatchTrigger(path: path, type: ZKEventType.nodeDataChanged, kind: .data))
            return (ZKErr.ok, .stat(n.stat))
        case .setACL(let path, let acl, let version):
            let key = ZKPathKey(path)
            guard var n = nodes[key] else { return (ZKErr.noNode, .empty) }
            n.acl = acl
            n.aversion = version
            setNode(key, n)
            return (ZKErr.ok, .stat(n.stat))
        case .check(let path, let version):
            guard let n = nodes[ZKPathKey(path)] else { return (ZKErr.noNode, .empty) }
            return (version == -1 || version == n.version ? ZKErr.ok : ZKErr.badVersion, .empty)
        case .error(let e):
            return (e, .empty)
        case .createSession, .closeSession, .multi:
            return (ZKErr.badArguments, .empty)
        }
    }

    private func appendDeleteTriggers(_ path: String, _ triggers: inout [WatchTrigger]) {
        triggers.append(WatchTrigger(path: path, type: ZKEventType.nodeDeleted, kind: .dataAndChild))
        if let parent = ZKPath.parent(path) {
            triggers.append(WatchTrigger(path: parent, type: ZKEventType.nodeChildrenChanged, kind: .child))
        }
    }

    /// All or nothing: on the first failing op everything done so far is rolled back and the results
    /// follow ZooKeeper (earlier ops 0, the failing op its code, later ops RuntimeInconsistency).
    private mutating func processMulti(_ ops: [CoordTxnOp], txn: CoordTxn, zxid: Int64, triggers: inout [WatchTrigger]) -> [ZKMultiResult] {
        var results: [ZKMultiResult] = []
        var pending: [WatchTrigger] = []
        undo = [:]
        var failedAt: Int?
        var failCode = ZKErr.ok
        for (i, op) in ops.enumerated() {
            let (err, resp) = processSingle(op, txn: txn, zxid: zxid, triggers: &pending)
            if err != ZKErr.ok {
                failedAt = i
                failCode = err
                break
            }
            switch (op, resp) {
            case (.create, .path(let p)):
                results.append(.create(path: p))
            case (.create(let rop, _, _, _, _, _), .pathStat(let p, let s)):
                results.append(.create2(op: rop, path: p, stat: s))
            case (.delete, _): results.append(.delete)
            case (.setData, .stat(let s)), (.setACL, .stat(let s)): results.append(.setData(s))
            case (.check, _): results.append(.check)
            default: results.append(.error(ZKErr.ok))
            }
        }
        let saved = undo ?? [:]
        undo = nil
        guard let failedAt else {
            triggers.append(contentsOf: pending)
            return results
        }
        for (key, old) in saved { setNode(key, old) }
        return ops.indices.map { i in
            i < failedAt ? .error(ZKErr.ok) : (i == failedAt ? .error(failCode) : .error(ZKErr.runtimeInconsistency))
        }
    }

    /// What ZooKeeper's ContainerManager would delete now: empty containers that once had a child
    /// (or, with `maxNeverUsedIntervalMs` > 0, were never used for longer than that), and empty
    /// TTL nodes not modified for longer than their TTL. In byte order, so runs are repeatable.
    public func reapCandidates(now: Int64, maxNeverUsedIntervalMs: Int64 = 0) -> [String] {
        var out: [ZKPathKey] = []
        for k in containers {
            guard let n = nodes[k], n.children.isEmpty else { continue }
            if n.cversion > 0 || (maxNeverUsedIntervalMs != 0 && now - n.mtime > maxNeverUsedIntervalMs) { out.append(k) }
        }
        for k in ttls {
            guard let n = nodes[k], n.children.isEmpty, let ttl = n.ttl, ttl != 0, now - n.mtime > ttl else { continue }
            out.append(k)
        }
        out.sort()
        return out.map(\.string)
    }

    // MARK: reads

    /// Answers a read request made with `access`, with the checks of ZooKeeper 3.8.0 (Debian's,
    /// coordd's peer; FinalRequestProcessor): READ for getData, getChildren, getAllChildrenNumber;
    /// READ or ADMIN for getACL, which hides digests without ADMIN; exists is not checked (3.8.4
    /// added READ there, ZOOKEEPER-2590). No watches: the caller registers them.
    public func read(_ req: ZKRequest, sessionId: Int64, access: Access = .anonymous) -> (err: Int32, response: ZKResponse) {
        let denied = (ZKErr.noAuth, ZKResponse.empty)
        switch req {
        case .exists(let path, _):
            guard let n = nodes[ZKPathKey(path)] else { return (ZKErr.noNode, .empty) }
            return (ZKErr.ok, .stat(n.stat))
        case .getData(let path, _):
            guard let n = nodes[ZKPathKey(path)] else { return (ZKErr.noNode, .empty) }
            guard access.allows(n.acl, ZKPerms.read) else { return denied }
            return (ZKErr.ok, .data(n.data, n.stat))
        case .getChildren(let path, _):
            guard let n = nodes[ZKPathKey(path)] else { return (ZKErr.noNode, .empty) }
            guard access.allows(n.acl, ZKPerms.read) else { return denied }
            return (ZKErr.ok, .children(Self.sortedNames(n.children)))
        case .getChildren2(let path, _):
            guard let n = nodes[ZKPathKey(path)] else { return (ZKErr.noNode, .empty) }
            guard access.allows(n.acl, ZKPerms.read) else { return denied }
            return (ZKErr.ok, .children2(Self.sortedNames(n.children), n.stat))
        case .getACL(let path):
            guard let n = nodes[ZKPathKey(path)] else { return (ZKErr.noNode, .empty) }
            guard access.allows(n.acl, ZKPerms.read | ZKPerms.admin) else { return denied }
            return (ZKErr.ok, .acl(access.allows(n.acl, ZKPerms.admin) ? n.acl : Access.masked(n.acl), n.stat))
        case .getAllChildrenNumber(let path):
            guard let n = nodes[ZKPathKey(path)] else { return (ZKErr.noNode, .empty) }
            guard access.allows(n.acl, ZKPerms.read) else { return denied }
            return (ZKErr.ok, .count(Int32(clamping: descendantCount(path))))
        case .getEphemerals(let prefix):
            var mine = (ephemerals[sessionId] ?? []).filter { $0.hasBytePrefix(prefix) }.map { $0 }
            mine.sort()
            return (ZKErr.ok, .paths(mine.map(\.string)))
        case .sync(let path):
            return (ZKErr.ok, .path(path))
        case .multiRead(let ops):
            let results: [ZKMultiResult] = ops.map { op in
                let (err, resp) = read(op, sessionId: sessionId, access: access)
                switch resp {
                case .data(let d, let s) where err == ZKErr.ok: return .getData(d, s)
                case .children(let c) where err == ZKErr.ok: return .getChildren(c)
                default: return .error(err == ZKErr.ok ? ZKErr.badArguments : err)
                }
            }
            return (ZKErr.ok, .multi(results))
        default:
            return (ZKErr.badArguments, .empty)
        }
    }

    /// Child names in byte order; one array, sorted in place.
    static func sortedNames(_ children: Set<ZKPathKey>) -> [String] {
        var names = children.map(\.string)
        names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return names
    }

    private func descendantCount(_ path: String) -> Int {
        var count = 0
        var stack = [path]
        while let p = stack.popLast() {
            guard let n = nodes[ZKPathKey(p)] else { continue }
            for c in n.children {
                count += 1
                stack.append(ZKPath.join(p, c.string))
            }
        }
        return count
    }
}
