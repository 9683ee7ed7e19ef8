import Protocol

/// What prep decided for a write request.
public enum PrepOutcome: Sendable, Equatable {
    /// Replicate this txn; apply it when committed and reply with its result.
    case txn(CoordTxn)
    /// Refused before replication; reply with this error (a failed multi replies 0 with per-op errors).
    case failed(err: Int32, response: ZKResponse)
}

/// The leader's request validator ("prep"). It checks each write against the committed tree plus
/// the writes already prepped but not yet applied, and turns it into a txn or an error. Pure: the
/// caller passes the zxid to assign and the time, and reports applies with `applied(zxid:)`.
public struct TxnPrep: Sendable {
    struct Record: Sendable, Equatable {
        var exists: Bool
        var version: Int32 = 0
        var cversion: Int32 = 0
        var aversion: Int32 = 0
        var ephemeralOwner: Int64 = 0
        var childCount: Int = 0
        var zxid: Int64 = 0
        var acl: [ZKACL] = []
    }

    struct Overlay: Sendable {
        var records: [ZKPathKey: Record] = [:]
        /// Paths touched per zxid, oldest first, so applied records can be dropped cheaply.
        var touched: [(zxid: Int64, paths: [ZKPathKey])] = []
        var createdSessions: [Int64: Int64] = [:]
        var closingSessions: [Int64: Int64] = [:]
    }

    var overlay = Overlay()
    /// zoo.cfg `extendedTypesEnabled` (ZooKeeper's zookeeper.extendedTypesEnabled): TTL nodes.
    public var extendedTypesEnabled: Bool

    public init(extendedTypesEnabled: Bool = false) {
        self.extendedTypesEnabled = extendedTypesEnabled
    }

    /// Number of paths with changes prepped but not yet applied.
    public var pendingCount: Int { overlay.records.count }

    /// Forget everything pending (e.g. this server stopped leading).
    public mutating func reset() { overlay = Overlay() }

    /// Drops pending state made obsolete by applying `zxid` (call after `DataTree.process`).
    public mutating func applied(zxid: Int64) {
        while let first = overlay.touched.first, first.zxid <= zxid {
            overlay.touched.removeFirst()
            for p in first.paths where (overlay.records[p]?.zxid ?? Int64.max) <= zxid {
                overlay.records[p] = nil
            }
        }
        overlay.createdSessions = overlay.createdSessions.filter { $0.value > zxid }
        overlay.closingSessions = overlay.closingSessions.filter { $0.value > zxid }
    }

    public func isSessionValid(_ id: Int64, tree: DataTree) -> Bool {
        if overlay.closingSessions[id] != nil { return false }
        return tree.sessions[id] != nil || overlay.createdSessions[id] != nil
    }

    public mutating func prepCreateSession(sessionId: Int64, timeout: Int32, password: [UInt8], zxid: Int64, time: Int64) -> CoordTxn {
        overlay.createdSessions[sessionId] = zxid
        return CoordTxn(sessionId: sessionId, cxid: 0, time: time, op: .createSession(timeout: timeout, password: password))
    }

    /// Closing a session deletes its ephemerals, including ones still in flight.
    public mutating func prepCloseSession(sessionId: Int64, cxid: Int32 = 0, zxid: Int64, time: Int64, tree: DataTree) -> CoordTxn {
        var paths = Set(tree.ephemerals[sessionId] ?? [])
        for (p, r) in overlay.records {
            if r.exists && r.ephemeralOwner == sessionId { paths.insert(p) } else if !r.exists { paths.remove(p) }
        }
        var touched: [ZKPathKey] = []
        for p in paths {
            setRecord(p.string, Record(exists: false, zxid: zxid), &touched)
            if let parent = ZKPath.parent(p.string), var pr = record(parent, tree) {
                pr.childCount -= 1
                pr.zxid = zxid
                setRecord(parent, pr, &touched)
            }
        }
        overlay.touched.append((zxid, touched))
        overlay.closingSessions[sessionId] = zxid
        return CoordTxn(sessionId: sessionId, cxid: cxid, time: time, op: .closeSession)
    }

    /// The leader's own deleteContainer (ZooKeeper's op 20, from its ContainerManager): a delete
    /// txn when `path` is still an empty container or TTL node counting writes in flight, else nil.
    /// No session and no ACL: the server itself asks.
    public mutating func prepDeleteContainer(path: String, zxid: Int64, time: Int64, tree: DataTree) -> CoordTxn? {
        guard let parentPath = ZKPath.parent(path), var parent = record(parentPath, tree), let node = record(path, tree),
              node.childCount == 0, node.ephemeralOwner == ZNode.containerOwner || ZNode.isTTLOwner(node.ephemeralOwner) else { return nil }
        var touched: [ZKPathKey] = []
        parent.childCount -= 1
        parent.zxid = zxid
        setRecord(parentPath, parent, &touched)
        setRecord(path, Record(exists: false, zxid: zxid), &touched)
        overlay.touched.append((zxid, touched))
        return CoordTxn(sessionId: 0, cxid: 0, time: time, op: .delete(path: path))
    }

    /// Nodes no client may delete (DataTree.isSpecialPath): BadArguments.
    public static let specialPaths: Set<ZKPathKey> = ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]

    /// Validates a write request made with `access` (the ACL checks of ZooKeeper's
    /// PrepRequestProcessor). Reads are not for prep (answer them from the tree).
    /// `localSession`: the session lives on the server the client is connected to only (ZooKeeper's
    /// local sessions): it is not checked here, and it may not own ephemerals.
    public mutating func prep(_ req: ZKRequest, sessionId: Int64, cxid: Int32, zxid: Int64, time: Int64, tree: DataTree,
                              access: Access = .anonymous, localSession: Bool = false) -> PrepOutcome {
        if case .closeSession = req {
            return .txn(prepCloseSession(sessionId: sessionId, cxid: cxid, zxid: zxid, time: time, tree: tree))
        }
        if localSession {
            if req.createsEphemeral { return .failed(err: ZKErr.ephemeralOnLocalSession, response: .empty) }
        } else {
            guard isSessionValid(sessionId, tree: tree) else { return .failed(err: ZKErr.sessionExpired, response: .empty) }
        }
        var touched: [ZKPathKey] = []
        if case .multi(let ops) = req {
            let saved = overlay
            var txOps: [CoordTxnOp] = []
            for (i, op) in ops.enumerated() {
                switch prepOne(op, sessionId: sessionId, zxid: zxid, tree: tree, access: access, touched: &touched) {
                case .success(let t):
                    txOps.append(t)
                case .failure(let e):
                    overlay = saved
                    let results: [ZKMultiResult] = ops.indices.map { j in
                        j < i ? .error(ZKErr.ok) : (j == i ? .error(e.code) : .error(ZKErr.runtimeInconsistency))
                    }
                    return .failed(err: ZKErr.ok, response: .multi(results))
                }
            }
            overlay.touched.append((zxid, touched))
            return .txn(CoordTxn(sessionId: sessionId, cxid: cxid, time: time, op: .multi(txOps)))
        }
        switch prepOne(req, sessionId: sessionId, zxid: zxid, tree: tree, access: access, touched: &touched) {
        case .success(let t):
            overlay.touched.append((zxid, touched))
            return .txn(CoordTxn(sessionId: sessionId, cxid: cxid, time: time, op: t))
        case .failure(let e):
            return .failed(err: e.code, response: .empty)
        }
    }

    struct PrepError: Error { let code: Int32 }

    func record(_ path: String, _ tree: DataTree) -> Record? {
        if let r = overlay.records[ZKPathKey(path)] { return r.exists ? r : nil }
        guard let n = tree.node(path) else { return nil }
        return Record(exists: true, version: n.version, cversion: n.cversion, aversion: n.aversion,
                      ephemeralOwner: n.ephemeralOwner, childCount: n.children.count, zxid: 0, acl: n.acl)
    }

    mutating func setRecord(_ path: String, _ r: Record, _ touched: inout [ZKPathKey]) {
        let key = ZKPathKey(path)
        overlay.records[key] = r
        touched.append(key)
    }

    private static func checkVersion(_ expected: Int32, _ current: Int32) throws(PrepError) -> Int32 {
        if expected != -1 && expected != current { throw PrepError(code: ZKErr.badVersion) }
        return current == Int32.max ? 1 : current + 1
    }

    static func check(_ access: Access, _ acl: [ZKACL], _ perm: Int32) throws(PrepError) {
        if !access.allows(acl, perm) { throw PrepError(code: ZKErr.noAuth) }
    }

    private static func fixup(_ access: Access, _ acl: [ZKACL]) throws(PrepError) -> [ZKACL] {
        guard let fixed = access.fixup(acl) else { throw PrepError(code: ZKErr.invalidACL) }
        return fixed
    }

    mutating func prepOne(_ req: ZKRequest, sessionId: Int64, zxid: Int64, tree: DataTree, access: Access,
                                  touched: inout [ZKPathKey]) -> Result<CoordTxnOp, PrepError> {
        do throws(PrepError) {
            switch req {
            case .create(let c), .create2(let c), .createContainer(let c):
                return .success(try prepCreate(c, op: req.opCode, sessionId: sessionId, zxid: zxid, tree: tree, access: access, touched: &touched))
            case .createTTL(let c):
                return .success(try prepCreate(c, op: ZKOp.createTTL, sessionId: sessionId, zxid: zxid, tree: tree, access: access, touched: &touched))
            case .delete(let path, let version):
                guard ZKPath.isValid(path), !Self.specialPaths.contains(ZKPathKey(path)) else { throw PrepError(code: ZKErr.badArguments) }
                guard let parentPath = ZKPath.parent(path), var parent = record(parentPath, tree) else { throw PrepError(code: ZKErr.noNode) }
                try Self.check(access, parent.acl, ZKPerms.delete)
                guard let node = record(path, tree) else { throw PrepError(code: ZKErr.noNode) }
                _ = try Self.checkVersion(version, node.version)
                if node.childCount > 0 { throw PrepError(code: ZKErr.notEmpty) }
                parent.childCount -= 1
                parent.zxid = zxid
                setRecord(parentPath, parent, &touched)
                setRecord(path, Record(exists: false, zxid: zxid), &touched)
                return .success(.delete(path: path))
            case .setData(let path, let data, let version):
                guard ZKPath.isValid(path) else { throw PrepError(code: ZKErr.badArguments) }
                guard var node = record(path, tree) else { throw PrepError(code: ZKErr.noNode) }
                try Self.check(access, node.acl, ZKPerms.write)
                node.version = try Self.checkVersion(version, node.version)
                node.zxid = zxid
                setRecord(path, node, &touched)
                return .success(.setData(path: path, data: data, version: node.version))
            case .setACL(let path, let acl, let version):
                guard ZKPath.isValid(path) else { throw PrepError(code: ZKErr.badArguments) }
                let fixed = try Self.fixup(access, acl)
                guard var node = record(path, tree) else { throw PrepError(code: ZKErr.noNode) }
                try Self.check(access, node.acl, ZKPerms.admin)
                node.aversion = try Self.checkVersion(version, node.aversion)
                node.zxid = zxid
                node.acl = fixed
                setRecord(path, node, &touched)
                return .success(.setACL(path: path, acl: fixed, version: node.aversion))
            case .check(let path, let version):
                guard ZKPath.isValid(path) else { throw PrepError(code: ZKErr.badArguments) }
                guard let node = record(path, tree) else { throw PrepError(code: ZKErr.noNode) }
                try Self.check(access, node.acl, ZKPerms.read)
                _ = try Self.checkVersion(version, node.version)
                return .success(.check(path: path, version: version))
            case .reconfig:
                // Only an ensemble's leader reconfigures (prepReconfig); a standalone server cannot.
                throw PrepError(code: ZKErr.reconfigDisabled)
            default:
                throw PrepError(code: ZKErr.badArguments)
            }
        } catch {
            return .failure(error)
        }
    }

    private mutating func prepCreate(_ c: ZKCreate, op: Int32, sessionId: Int64, zxid: Int64, tree: DataTree, access: Access,
                                     touched: inout [ZKPathKey]) throws(PrepError) -> CoordTxnOp {
        guard (0...6).contains(c.flags) else { throw PrepError(code: ZKErr.badArguments) }
        // validateCreateRequest: a TTL mode needs extended types, then a TTL in 1...maxTTL; any
        // other mode must come without one (createTTL with a TTL >= 0 is BadArguments).
        let ttlMode = c.flags == ZKCreateFlags.persistentWithTTL || c.flags == ZKCreateFlags.persistentSequentialWithTTL
        if ttlMode && !extendedTypesEnabled { throw PrepError(code: ZKErr.unimplemented) }
        let ttl = op == ZKOp.createTTL ? c.ttl : -1
        if ttlMode ? !(1...ZNode.maxTTL).contains(ttl) : ttl >= 0 { throw PrepError(code: ZKErr.badArguments) }
        let container = op == ZKOp.createContainer || c.flags == ZKCreateFlags.container
        if op == ZKOp.createContainer && c.flags != ZKCreateFlags.container { throw PrepError(code: ZKErr.badArguments) }
        let sequential = c.flags & ZKCreateFlags.sequential != 0 && !container
        let ephemeral = c.flags & ZKCreateFlags.ephemeral != 0 && !container && !ttlMode
        guard ZKPath.isValid(c.path, sequential: sequential) else { throw PrepError(code: ZKErr.badArguments) }
        guard let parentPath = ZKPath.parent(c.path) else { throw PrepError(code: ZKErr.nodeExists) }
        let acl = try Self.fixup(access, c.acl)
        guard var parent = record(parentPath, tree) else { throw PrepError(code: ZKErr.noNode) }
        try Self.check(access, parent.acl, ZKPerms.create)
        let path = sequential ? c.path + ZKPath.sequenceSuffix(parent.cversion) : c.path
        if record(path, tree) != nil { throw PrepError(code: ZKErr.nodeExists) }
        if ZNode.isSessionOwner(parent.ephemeralOwner) {
            throw PrepError(code: ZKErr.noChildrenForEphemerals)
        }
        parent.cversion = parent.cversion == Int32.max ? Int32.min : parent.cversion + 1
        parent.childCount += 1
        parent.zxid = zxid
        setRecord(parentPath, parent, &touched)
        let owner = container ? ZNode.containerOwner : (ttlMode ? ZNode.ttlOwner(ttl) : (ephemeral ? sessionId : 0))
        setRecord(path, Record(exists: true, ephemeralOwner: owner, zxid: zxid, acl: acl), &touched)
        return .create(requestOp: op, path: path, data: c.data, acl: acl, ephemeralOwner: owner, parentCVersion: parent.cversion)
    }
}

extension ZKRequest {
    /// A create of an ephemeral node, alone or in a multi (what a local session must upgrade for).
    public var createsEphemeral: Bool {
        switch self {
        case .create(let c), .create2(let c): c.flags == 1 || c.flags == 3  // EPHEMERAL, EPHEMERAL_SEQUENTIAL
        case .multi(let ops): ops.contains { $0.createsEphemeral }
        default: false
        }
    }
}
