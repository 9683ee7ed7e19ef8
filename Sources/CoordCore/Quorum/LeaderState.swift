import Protocol

/// A leader's view of one follower session.
struct Learner: Sendable {
    enum Stage: Sendable, Equatable {
        /// FOLLOWERINFO received; LEADERINFO not sent yet (epoch undecided).
        case info
        /// LEADERINFO sent; waiting for ACKEPOCH.
        case leaderInfoSent
        /// ACKEPOCH received; sync not started (waiting for a quorum of them).
        case ackedEpoch(LogSummary)
        /// Needs a snapshot; waiting for the application to supply one.
        case needsSnapshot
        /// Sync and NEWLEADER sent; proposals are forwarded; waiting for its NEWLEADER ack.
        case syncing
        /// Acknowledged NEWLEADER: its acks count.
        case active
    }

    var link: SessionLink
    var stage: Stage
    var acked: Zxid = .zero
    var lastHeard: UInt64
    /// A non-voting learner: its acks never count; it gets INFORMs (committed txns) instead of
    /// proposals.
    var observer = false
    /// Observers: the last zxid its stream already carries (sync, then INFORMs).
    var sentThrough: Zxid = .zero

    /// Whether proposals and commits are forwarded to it.
    var forwarding: Bool { stage == .syncing || stage == .active }
}

struct PendingSync: Sendable {
    var target: Zxid
    var origin: RequestOrigin
    var from: UInt64
}

/// Discovery, synchronization and broadcast on the leader.
struct LeaderState: Sendable {
    enum Phase: Sendable, Equatable {
        case discovery
        case awaitingAckEpochs
        case awaitingNewLeaderAcks
        case active
    }

    var phase: Phase = .discovery
    var epoch: UInt32 = 0
    /// Accepted epochs reported in FOLLOWERINFO (ours included), to pick the new epoch.
    var infos: [UInt64: UInt32]
    var learners: [UInt64: Learner] = [:]
    var deadline: UInt64
    var lastPing: UInt64
    var snapshotRequested = false
    var pendingSyncs: [PendingSync] = []
    /// This leader's own log is durable through here: its ack in the quorum count. Proposals
    /// leave before their local fsync, so the log's tail may not be durable yet.
    var durable: Zxid
}

extension QuorumPeer {
    mutating func becomeLeader() {
        // Entries logged before this leadership were queued for storage ahead of every message
        // this leader will send (those are persist-then-send), so no follower can answer it before
        // they are durable: they count as ours from the start.
        leader = LeaderState(infos: [id: epochs.acceptedEpoch], deadline: now + UInt64(config.initLimit), lastPing: now,
                             durable: log.lastZxid)
        setStatus(.leading, serving: false)
        maybeDecideEpoch()
    }

    mutating func sendToLearner(_ peer: UInt64, _ body: SessionMessage, beforeStorage: Bool = false) {
        guard var l = leader?.learners[peer] else { return }
        let m = l.link.wrap(body)
        leader?.learners[peer] = l
        send(peer, m, beforeStorage: beforeStorage)
    }


    mutating func dropLearner(_ peer: UInt64) {
        leader?.learners[peer] = nil
        leader?.pendingSyncs.removeAll { $0.from == peer }
    }

    // MARK: Discovery

    mutating func maybeDecideEpoch() {
        guard var st = leader, st.phase == .discovery, isQuorum(Set(st.infos.keys)) else { return }
        let highest = max(st.infos.values.max() ?? 0, promisedEpochSeen)
        guard highest < UInt32.max else {
            startElection("epochs exhausted")
            return
        }
        st.epoch = highest + 1
        st.phase = .awaitingAckEpochs
        leader = st
        epochs.acceptedEpoch = st.epoch
        epochs.acceptedLeader = id
        saveEpochs()
        for (peer, l) in st.learners.sorted(by: { $0.key < $1.key }) where l.stage == .info {
            sendLeaderInfo(peer)
        }
        maybeStartSync()
    }

    mutating func sendLeaderInfo(_ peer: UInt64) {
        guard let epoch = leader?.epoch else { return }
        sendToLearner(peer, .leaderInfo(epoch: epoch))
        leader?.learners[peer]?.stage = .leaderInfoSent
    }

    /// Once a quorum acknowledged the epoch (so this leader is known to be the most up to date
    /// among them), adopt it and sync everyone waiting.
    mutating func maybeStartSync() {
        guard var st = leader, st.phase == .awaitingAckEpochs else { return }
        let acked = st.learners.filter {
            if case .ackedEpoch = $0.value.stage { return !$0.value.observer } else { return false }
        }.keys
        guard isQuorum(Set(acked).union([id])) else { return }
        st.phase = .awaitingNewLeaderAcks
        leader = st
        epochs.currentEpoch = st.epoch
        saveEpochs()
        setStatus(.leading, serving: false)
        for peer in st.learners.keys.sorted() { startSync(peer) }
        maybeEstablish()
    }

    /// Sends TRUNC/DIFF (or asks for a snapshot) and NEWLEADER to a follower that acked the epoch.
    mutating func startSync(_ peer: UInt64) {
        guard let st = leader, let l = st.learners[peer], case .ackedEpoch(let summary) = l.stage else { return }
        if let common = log.divergence(with: summary),
           let missing = log.entries(after: common), missing.count <= config.maxDiffEntries {
            if summary.lastZxid != common { sendToLearner(peer, .truncate(common)) }
            sendEntries(peer, after: common)
            sendToLearner(peer, .newLeader(epoch: st.epoch))
            leader?.learners[peer]?.stage = .syncing
            leader?.learners[peer]?.sentThrough = log.lastZxid
        } else {
            leader?.learners[peer]?.stage = .needsSnapshot
            if !st.snapshotRequested {
                leader?.snapshotRequested = true
                fx.snapshotWanted = true
            }
        }
    }

    mutating func sendEntries(_ peer: UInt64, after point: Zxid) {
        guard let start = log.entries(after: point)?.startIndex else { return }
        for i in start..<log.entries.count {
            sendToLearner(peer, .proposal(prev: log.previous(ofIndex: i), txn: log.entries[i]))
        }
    }

    mutating func leaderSnapshotTaken(at zxid: Zxid, data: [UInt8]) {
        guard let st = leader, st.phase == .awaitingNewLeaderAcks || st.phase == .active else { return }
        leader?.snapshotRequested = false
        let waiting = st.learners.filter { $0.value.stage == .needsSnapshot }.keys.sorted()
        guard !waiting.isEmpty else { return }
        // A snapshot we cannot continue from with the log we hold is useless: ask again.
        guard zxid <= commitZxid, log.contains(zxid) else {
            leader?.snapshotRequested = true
            fx.snapshotWanted = true
            return
        }
        for peer in waiting {
            sendToLearner(peer, .snapshot(zxid: zxid, data: wrapSnapshot(data)))
            sendEntries(peer, after: zxid)
            sendToLearner(peer, .newLeader(epoch: st.epoch))
            leader?.learners[peer]?.stage = .syncing
            leader?.learners[peer]?.sentThrough = log.lastZxid
        }
    }

    mutating func maybeEstablish() {
        guard var st = leader, st.phase == .awaitingNewLeaderAcks else { return }
        guard isQuorum(syncedVoters()) else { return }
        st.phase = .active
        leader = st
        // The new leader's whole history is now on a quorum under this epoch: it is committed.
        advanceCommit(to: log.lastZxid)
        for (peer, l) in st.learners.sorted(by: { $0.key < $1.key }) where l.stage == .active {
            sendToLearner(peer, .upToDate(commit: commitZxid))
        }
        setStatus(.leading, serving: true)
    }

    // MARK: Messages from followers

    mutating func leaderReceive(from peer: UInt64, session: UInt64, seq: UInt64, _ body: SessionMessage) {
        guard let st = leader else { return }
        if case .followerInfo = body, seq == 0, config.isObserver(peer) {
            // An observer's promise is no vote: it neither picks the epoch nor blocks one.
            var link = SessionLink(session: session)
            _ = link.accept(session: session, seq: 0)
            leader?.learners[peer] = Learner(link: link, stage: .info, lastHeard: now, observer: true)
            leader?.pendingSyncs.removeAll { $0.from == peer }
            if st.phase != .discovery { sendLeaderInfo(peer) }
            return
        }
        if case .followerInfo(let accepted, let acceptedLeader, _) = body, seq == 0 {
            promisedEpochSeen = max(promisedEpochSeen, accepted)
            if st.phase != .discovery && (accepted > st.epoch || (accepted == st.epoch && acceptedLeader != id)) {
                // A non-voter's promise elsewhere must not unseat us: it simply cannot join.
                guard votes(peer) else { return dropLearner(peer) }
                // It promised this epoch (or a later one) to someone else and can never join it;
                // a fresh election picks an epoch above its promise.
                startElection("a follower promised our epoch elsewhere")
                return
            }
            var link = SessionLink(session: session)
            _ = link.accept(session: session, seq: 0)
            leader?.learners[peer] = Learner(link: link, stage: .info, lastHeard: now)
            leader?.pendingSyncs.removeAll { $0.from == peer }
            if st.phase == .discovery {
                leader?.infos[peer] = accepted
                maybeDecideEpoch()
            } else {
                sendLeaderInfo(peer)
            }
            return
        }
        guard var l = st.learners[peer], l.link.session == session else { return }
        guard l.link.accept(session: session, seq: seq) else {
            // A lost or reordered message: this session can no longer be trusted.
            dropLearner(peer)
            return
        }
        l.lastHeard = now
        leader?.learners[peer] = l
        switch body {
        case .ackEpoch(let current, let summary):
            guard l.stage == .leaderInfoSent else { return dropLearner(peer) }
            let theirs = Vote(leader: 0, zxid: summary.lastZxid, epoch: current)
            let mine = Vote(leader: 0, zxid: log.lastZxid, epoch: epochs.currentEpoch)
            // An observer's log (synced from a leader that never got established) proves nothing.
            if theirs.isBetter(than: mine) && !l.observer && votes(peer) {
                // A follower knows more than we do: we must not lead.
                startElection("a follower is more up to date")
                return
            }
            leader?.learners[peer]?.stage = .ackedEpoch(summary)
            if st.phase == .awaitingAckEpochs {
                maybeStartSync()
            } else if st.phase != .discovery {
                startSync(peer)
            }
        case .ackNewLeader(let epoch, let last):
            guard l.stage == .syncing, epoch == st.epoch, last <= log.lastZxid else { return dropLearner(peer) }
            leader?.learners[peer]?.stage = .active
            leader?.learners[peer]?.acked = last
            if st.phase == .active {
                sendToLearner(peer, .upToDate(commit: commitZxid))
                tryCommit()
            } else {
                maybeEstablish()
            }
        case .ack(let z), .pong(let z):
            guard l.stage == .active, !l.observer else { return }
            if z > l.acked && z <= log.lastZxid { leader?.learners[peer]?.acked = z }
            tryCommit()
        case .request(let request):
            if st.phase == .active && l.stage == .active { fx.toPrepare.append(request) }
        case .sync(let origin):
            if st.phase == .active && l.stage == .active { leaderSync(origin, from: peer) }
        case .followerInfo, .leaderInfo, .truncate, .snapshot, .proposal, .newLeader, .upToDate, .commit, .ping, .syncDone, .inform:
            dropLearner(peer)
        }
    }

    // MARK: Broadcast

    mutating func leaderSubmit(_ request: ClientRequest) {
        if leader?.phase == .active {
            fx.toPrepare.append(request)
        } else {
            fx.refused.append(request)
        }
    }

    mutating func leaderPropose(_ data: [UInt8], origin: RequestOrigin?) -> Zxid? {
        guard let st = leader, st.phase == .active else { return nil }
        if let m = QuorumMembership.decode(txnData: data)?.membership, reconfigRefusal(m) != nil { return nil }
        let last = log.lastZxid
        guard let zxid = last.epoch == st.epoch ? last.next : Zxid(epoch: st.epoch, counter: 1) else {
            // Counter exhausted: a new epoch (hence an election) is the only way on.
            startElection("zxid counter exhausted")
            return nil
        }
        let txn = QuorumTxn(zxid: zxid, data: data, origin: origin)
        persistAppend(txn)
        // Sent while our own append is still on its way to disk; we ack it in `leaderPersisted`.
        // (Standalone has no learners: skip sorting nobody per proposal.)
        if !st.learners.isEmpty {
            for (peer, l) in st.learners.sorted(by: { $0.key < $1.key }) where l.forwarding && !l.observer {
                sendToLearner(peer, .proposal(prev: last, txn: txn), beforeStorage: true)
            }
        }
        tryCommit()
        return zxid
    }

    mutating func leaderPersisted(through zxid: Zxid) {
        guard let st = leader else { return }
        let z = min(zxid, log.lastZxid)
        guard z > st.durable else { return }
        leader?.durable = z
        tryCommit()
    }

    /// Commits the newest zxid a quorum has durably logged (this leader counts only through
    /// `durable`).
    mutating func tryCommit() {
        guard let st = leader, st.phase == .active else { return }
        guard let target = commitTarget(), target > commitZxid, target.epoch == st.epoch else { return }
        advanceCommit(to: target)
        for (peer, l) in st.learners.sorted(by: { $0.key < $1.key }) where l.forwarding {
            if l.observer && l.sentThrough < commitZxid {
                informObserver(peer, after: l.sentThrough)
            } else {
                sendToLearner(peer, .commit(commitZxid))
            }
        }
        flushLeaderSyncs()
    }

    /// Sends an observer every committed entry after `point` as INFORM (it never sees proposals).
    mutating func informObserver(_ peer: UInt64, after point: Zxid) {
        guard let start = log.entries(after: point)?.startIndex else { return }
        for i in start..<log.entries.count where log.entries[i].zxid <= commitZxid {
            sendToLearner(peer, .inform(prev: log.previous(ofIndex: i), txn: log.entries[i]))
        }
        leader?.learners[peer]?.sentThrough = commitZxid
    }

    mutating func leaderSync(_ origin: RequestOrigin, from peer: UInt64) {
        guard leader?.phase == .active else {
            fx.syncsRefused.append(origin)
            return
        }
        leader?.pendingSyncs.append(PendingSync(target: log.lastZxid, origin: origin, from: peer))
        flushLeaderSyncs()
    }

    mutating func flushLeaderSyncs() {
        guard let st = leader else { return }
        var waiting: [PendingSync] = []
        for p in st.pendingSyncs {
            if p.target > commitZxid {
                waiting.append(p)
            } else if p.from == id {
                fx.syncsDone.append(p.origin)
            } else {
                sendToLearner(p.from, .syncDone(p.origin, zxid: p.target))
            }
        }
        leader?.pendingSyncs = waiting
    }

    // MARK: Time

    mutating func leaderTick() {
        guard let st = leader else { return }
        if st.phase != .active && now >= st.deadline {
            startElection("no quorum within initLimit")
            return
        }
        for (peer, l) in st.learners {
            let limit = l.forwarding ? config.syncLimit : config.initLimit
            if now > l.lastHeard + UInt64(limit) { dropLearner(peer) }
        }
        if st.phase == .active {
            if !isQuorum(syncedVoters()) {
                startElection("lost quorum")
                return
            }
        }
        if now >= st.lastPing + UInt64(config.pingInterval) {
            leader?.lastPing = now
            for (peer, l) in (leader?.learners ?? [:]).sorted(by: { $0.key < $1.key }) where l.forwarding {
                sendToLearner(peer, .ping(commit: commitZxid))
            }
        }
    }
}

extension QuorumPeer {
    /// Leader only (zeros otherwise): followers with an open session, and those synced (whose
    /// acks count). For monitoring.
    public var learnerCounts: (connected: Int, synced: Int) {
        guard let st = leader else { return (0, 0) }
        return (st.learners.count, st.learners.values.filter { $0.stage == .active }.count)
    }

    /// Leader only: synced voting followers and synced observers (ZooKeeper's mntr splits them).
    public var syncedLearnerKinds: (followers: Int, observers: Int) {
        guard let st = leader else { return (0, 0) }
        let synced = st.learners.values.filter { $0.stage == .active }
        return (synced.filter { !$0.observer }.count, synced.filter(\.observer).count)
    }
}
