import Protocol

/// What the leader's prep needs to judge a reconfig: whether it is enabled, the configuration
/// in force (nil: a standalone server, which cannot reconfigure) and the quorum's verdict on the
/// membership it would bring.
public struct ReconfigContext {
    public var enabled: Bool
    public var current: EnsembleConfig?
    public var refusal: (QuorumMembership) -> ReconfigRefusal?

    public init(enabled: Bool, current: EnsembleConfig?, refusal: @escaping (QuorumMembership) -> ReconfigRefusal?) {
        self.enabled = enabled
        self.current = current
        self.refusal = refusal
    }
}

extension TxnPrep {
    /// ZooKeeper's reconfig checks, in its order: enabled, a leader (not standalone), no change
    /// in flight, the expected version, well-formed arguments, a synced quorum of the new voters,
    /// then WRITE on /zookeeper/config (the superuser's by default). The txn sets that node to
    /// the new configuration, whose version is this txn's zxid; the caller wraps it with the
    /// membership for the quorum (`QuorumMembership.txnData`).
    public mutating func prepReconfig(joining: String?, leaving: String?, newMembers: String?, curConfigId: Int64,
                                      sessionId: Int64, cxid: Int32, zxid: Int64, time: Int64, tree: DataTree,
                                      access: Access, context: ReconfigContext) -> (outcome: PrepOutcome, config: EnsembleConfig?) {
        func fail(_ code: Int32) -> (PrepOutcome, EnsembleConfig?) { (.failed(err: code, response: .empty), nil) }
        guard context.enabled else { return fail(ZKErr.reconfigDisabled) }
        guard isSessionValid(sessionId, tree: tree) else { return fail(ZKErr.sessionExpired) }
        guard let current = context.current else { return fail(ZKErr.unimplemented) }
        if context.refusal(current.membership) == .inProgress { return fail(ZKErr.reconfigInProgress) }
        if curConfigId != -1 && UInt64(bitPattern: curConfigId) != current.version.raw { return fail(ZKErr.badVersion) }
        var next: EnsembleConfig
        do {
            next = try current.applying(joining: joining, leaving: leaving, newMembers: newMembers)
        } catch {
            return fail(ZKErr.badArguments)
        }
        next.version = Zxid(raw: UInt64(bitPattern: zxid))
        switch context.refusal(next.membership) {
        case .inProgress?: return fail(ZKErr.reconfigInProgress)
        case .newConfigNoQuorum?: return fail(ZKErr.newConfigNoQuorum)
        case .invalid?: return fail(ZKErr.badArguments)
        case .notLeader?: return fail(ZKErr.connectionLoss)
        case nil: break
        }
        var touched: [ZKPathKey] = []
        let set = ZKRequest.setData(path: "/zookeeper/config", data: Array(next.text.utf8), version: -1)
        switch prepOne(set, sessionId: sessionId, zxid: zxid, tree: tree, access: access, touched: &touched) {
        case .success(let op):
            overlay.touched.append((zxid, touched))
            return (.txn(CoordTxn(sessionId: sessionId, cxid: cxid, time: time, op: op)), next)
        case .failure(let e):
            return fail(e.code)
        }
    }
}
