import Protocol

/// Why a leader will not propose a reconfiguration now (ZooKeeper's answers in brackets).
public enum ReconfigRefusal: Error, Equatable, Sendable {
    /// Not an established leader.
    case notLeader
    /// Another membership change is proposed and not committed yet (ReconfigInProgress).
    case inProgress
    /// Nobody to vote, or a server listed twice (BadArguments).
    case invalid
    /// Too few of the new voters are synced with this leader to form a quorum (NewConfigNoQuorum).
    case newConfigNoQuorum
}

/// Dynamic membership, ZooKeeper 3.5's way: a reconfiguration is one transaction. While it is
/// proposed and not committed, every entry from it on needs a quorum of the old voters and one
/// of the new voters (so either configuration's quorums hold it); at its commit the new
/// configuration takes over. Servers outside the configuration may connect as non-voting
/// followers (they get proposals and ack them, which counts only once they are voters).
extension QuorumPeer {
    /// Not in the current configuration: such a server neither votes nor elects.
    public var removed: Bool { !config.membership.contains(id) }

    /// Proposed-but-uncommitted membership changes in the log, oldest first. A leader proposes
    /// one at a time, but a restarted server's log may hold several it has not seen committed.
    var pendingMemberships: [(zxid: Zxid, membership: QuorumMembership)] {
        guard let tail = log.entries(after: max(commitZxid, configZxid)) else { return [] }
        return tail.compactMap { t in QuorumMembership.decode(txnData: t.data).map { (t.zxid, $0.membership) } }
    }

    /// A voter of the configuration or of a pending one.
    func votes(_ peer: UInt64) -> Bool {
        config.voters.contains(peer) || pendingMemberships.contains { $0.membership.voters.contains(peer) }
    }

    /// Whether `ids` hold a quorum of the voters, and of every pending configuration's voters.
    func isQuorum(_ ids: Set<UInt64>) -> Bool {
        guard ids.intersection(config.voters).count >= quorum else { return false }
        return pendingMemberships.allSatisfy { ids.intersection($0.membership.voters).count >= $0.membership.quorumSize }
    }

    /// Whether the leader would propose `m` now; coordd checks before prepping the txn.
    public func reconfigRefusal(_ m: QuorumMembership) -> ReconfigRefusal? {
        guard let st = leader, st.phase == .active else { return .notLeader }
        guard m.isValid else { return .invalid }
        guard pendingMemberships.isEmpty else { return .inProgress }
        var synced: Set<UInt64> = [id]
        for (peer, l) in st.learners where l.stage == .active && !l.observer { synced.insert(peer) }
        guard synced.intersection(m.voters).count >= m.quorumSize else { return .newConfigNoQuorum }
        return nil
    }

    /// Voters (by id) whose acks count on this leader: synced, not observers, and voting in the
    /// current or pending configuration.
    func ackCandidates() -> [UInt64: Zxid] {
        guard let st = leader else { return [:] }
        var acks: [UInt64: Zxid] = [id: min(st.durable, log.lastZxid)]
        for (peer, l) in st.learners where l.stage == .active && !l.observer { acks[peer] = l.acked }
        return acks
    }

    /// The newest zxid a quorum of `voters` has acked, or nil.
    static func quorumAck(_ acks: [UInt64: Zxid], voters: [UInt64]) -> Zxid? {
        var got = voters.compactMap { acks[$0] }
        let need = voters.count / 2 + 1
        guard got.count >= need else { return nil }
        got.sort(by: >)
        return got[need - 1]
    }

    /// What may commit: the current voters' quorum point, held below a pending change until the
    /// new voters' quorum has it too.
    func commitTarget() -> Zxid? {
        // A lone voter with nobody else to count (standalone coordd): its own durable point.
        if config.voters.count == 1, config.voters[0] == id, pendingMemberships.isEmpty, leader?.learners.isEmpty == true, let st = leader {
            return min(st.durable, log.lastZxid)
        }
        let acks = ackCandidates()
        guard var target = Self.quorumAck(acks, voters: config.voters) else { return nil }
        for p in pendingMemberships where target >= p.zxid {
            let newPoint = Self.quorumAck(acks, voters: p.membership.voters) ?? .zero
            if newPoint >= p.zxid {
                target = min(target, newPoint)
            } else {
                if let i = log.position(of: p.zxid) { target = log.previous(ofIndex: i) }
                break
            }
        }
        return target
    }

    /// Adopts the newest membership among newly committed txns.
    mutating func noteCommitted(_ txns: ArraySlice<QuorumTxn>) {
        for t in txns.reversed() {
            guard let m = QuorumMembership.decode(txnData: t.data)?.membership else { continue }
            adopt(m, zxid: t.zxid)
            return
        }
    }

    /// Takes a committed configuration newer than ours (never an older one: a server that
    /// learned a later change from a notification may commit the earlier one afterwards).
    mutating func adopt(_ m: QuorumMembership, zxid: Zxid) {
        guard zxid > configZxid, m.isValid else { return }
        config.voters = m.voters
        config.observers = m.observers
        configZxid = zxid
        membershipChanged = true
        fx.storage.append(.saveMembership(m, zxid: zxid))
    }

    /// The configuration a notification carries, once a reconfig made it.
    var electionConfig: ElectionConfig? {
        configZxid == .zero ? nil : ElectionConfig(zxid: configZxid, voters: config.voters, observers: config.observers)
    }

    /// A peer's notification names a newer committed configuration: a server that was down or
    /// cut off during a reconfig learns from it whom to talk to (or that it was removed).
    mutating func learnConfig(_ c: ElectionConfig) {
        guard c.zxid > configZxid else { return }
        adopt(QuorumMembership(voters: c.voters, observers: c.observers), zxid: c.zxid)
    }

    /// After a new configuration took over: a removed server stops, a leader without a quorum
    /// (or no longer voting) steps down, a follower whose leader left looks for the new one.
    mutating func reactToMembership() {
        guard membershipChanged else { return }
        membershipChanged = false
        if removed {
            startElection("removed from the configuration")
        } else if leader != nil {
            if !config.voters.contains(id) {
                startElection("this leader no longer votes")
            } else if leader?.phase == .active, !isQuorum(syncedVoters()) {
                startElection("too few synced voters in the new configuration")
            }
        } else if let f = follower, !config.voters.contains(f.leaderId) {
            startElection("leader left the configuration")
        }
    }

    func syncedVoters() -> Set<UInt64> {
        var s: Set<UInt64> = [id]
        for (peer, l) in leader?.learners ?? [:] where l.stage == .active && !l.observer { s.insert(peer) }
        return s
    }

    /// Snapshots between servers carry the configuration they were taken under and its zxid.
    func wrapSnapshot(_ data: [UInt8]) -> [UInt8] {
        var w = ByteWriter(capacity: 8)
        w.writeUInt64(configZxid.raw)
        return w.bytes + config.membership.txnData(payload: data)
    }

    mutating func unwrapSnapshot(_ data: [UInt8]) -> [UInt8]? {
        guard data.count >= 8 else { return nil }
        var r = ByteReader(Array(data.prefix(8)))
        guard let raw = try? r.readUInt64(),
              let (m, payload) = QuorumMembership.decode(txnData: Array(data.dropFirst(8))), m.isValid else { return nil }
        if Zxid(raw: raw) > configZxid { adopt(m, zxid: Zxid(raw: raw)) }
        return payload
    }
}
