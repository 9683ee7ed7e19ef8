import Protocol

/// A follower's session with its leader: FOLLOWERINFO -> LEADERINFO/ACKEPOCH -> sync ->
/// NEWLEADER/ACK -> UPTODATE -> broadcast.
struct FollowerState: Sendable {
    enum Stage: Sendable, Equatable {
        case connecting
        case syncing
        case synced
        case serving
    }

    let leaderId: UInt64
    var link: SessionLink
    var stage: Stage = .connecting
    var epoch: UInt32 = 0
    var lastHeard: UInt64
    /// When the current session was opened (to retry an unanswered one).
    var opened: UInt64
    var deadline: UInt64
    /// The highest commit point the leader announced in this session.
    var leaderCommit: Zxid = .zero
    var pendingSyncs: [(target: Zxid, origin: RequestOrigin)] = []
}

extension QuorumPeer {
    mutating func becomeFollower(of leaderId: UInt64) {
        let link = SessionLink(session: newSessionId())
        follower = FollowerState(leaderId: leaderId, link: link, lastHeard: now, opened: now,
                                 deadline: now + UInt64(config.initLimit))
        setStatus(.following(leader: leaderId), serving: false)
        sendToLeader(.followerInfo(acceptedEpoch: epochs.acceptedEpoch, acceptedLeader: epochs.acceptedLeader, lastZxid: log.lastZxid))
    }

    /// Opens a fresh session when the leader has not answered yet: it may have still been looking
    /// when our FOLLOWERINFO arrived (a real runtime retries its connection the same way).
    mutating func reconnectIfUnanswered() {
        guard let f = follower, f.stage == .connecting, f.link.recvSeq == 0 else { return }
        let session = newSessionId()
        follower?.link = SessionLink(session: session)
        follower?.opened = now
        sendToLeader(.followerInfo(acceptedEpoch: epochs.acceptedEpoch, acceptedLeader: epochs.acceptedLeader, lastZxid: log.lastZxid))
    }

    mutating func sendToLeader(_ body: SessionMessage) {
        guard var f = follower else { return }
        let m = f.link.wrap(body)
        follower = f
        send(f.leaderId, m)
    }

    mutating func followerTick() {
        guard let f = follower else { return }
        // Silence counts in every stage: a follower waiting on a dead leader must free itself
        // quickly, or the servers still looking cannot form a quorum without it.
        let silentTooLong = now > f.lastHeard + UInt64(config.syncLimit)
        if (f.stage != .serving && now >= f.deadline) || silentTooLong {
            startElection("leader silent or sync too slow")
        } else if now >= f.opened + UInt64(config.electionResend) {
            reconnectIfUnanswered()
        }
    }

    mutating func followerReceive(from sender: UInt64, session: UInt64, seq: UInt64, _ body: SessionMessage) {
        guard var f = follower, sender == f.leaderId, session == f.link.session else { return }
        guard f.link.accept(session: session, seq: seq) else {
            // Lost or reordered: the session is broken, so find the leader afresh.
            startElection("session message lost or reordered")
            return
        }
        f.lastHeard = now
        follower = f
        switch body {
        case .leaderInfo(let epoch):
            guard f.stage == .connecting else { return startElection("unexpected LEADERINFO") }
            if config.isObserver {
                // An observer's promise is no vote, so any leader may have it; it only refuses a
                // leader older than the one it last synced with.
                guard epoch >= epochs.currentEpoch else { return startElection("LEADERINFO from an older epoch") }
                epochs.acceptedEpoch = epoch
                epochs.acceptedLeader = sender
                saveEpochs()
            } else if epoch > epochs.acceptedEpoch {
                epochs.acceptedEpoch = epoch
                epochs.acceptedLeader = sender
                saveEpochs()
            } else if epoch < epochs.acceptedEpoch || epochs.acceptedLeader != sender {
                // Promised this epoch (or a newer one) elsewhere.
                return startElection("epoch promised to another leader")
            }
            follower?.epoch = epoch
            follower?.stage = .syncing
            sendToLeader(.ackEpoch(currentEpoch: epochs.currentEpoch, log: log.summary))
        case .truncate(let z):
            // Truncating committed entries would mean the leader lacks them: refuse.
            guard f.stage == .syncing, z >= commitZxid, log.contains(z) else { return startElection("bad TRUNC") }
            log.truncate(after: z)
            fx.storage.append(.truncateLog(after: z))
        case .snapshot(let z, let data):
            guard f.stage == .syncing else { return startElection("unexpected SNAP") }
            guard let state = unwrapSnapshot(data) else { return startElection("SNAP without a configuration") }
            log.reset(base: z)
            commitZxid = z
            fx.storage.append(.installSnapshot(zxid: z, data: state))
        case .proposal(let prev, let txn):
            guard f.stage != .connecting, prev == log.lastZxid, txn.zxid > prev else { return startElection("proposal does not follow the log") }
            persistAppend(txn)
            if f.stage != .syncing && !config.isObserver { sendToLeader(.ack(txn.zxid)) }
            followerApplyCommits()
        case .inform(let prev, let txn):
            // Already committed on a quorum: log it and apply it at once, no ack.
            guard f.stage != .connecting, prev == log.lastZxid, txn.zxid > prev else { return startElection("INFORM does not follow the log") }
            persistAppend(txn)
            follower?.leaderCommit = max(f.leaderCommit, txn.zxid)
            followerApplyCommits()
        case .newLeader(let epoch):
            guard f.stage == .syncing, epoch == f.epoch else { return startElection("unexpected NEWLEADER") }
            epochs.currentEpoch = epoch
            saveEpochs()
            follower?.stage = .synced
            setStatus(.following(leader: sender), serving: false)
            sendToLeader(.ackNewLeader(epoch: epoch, lastZxid: log.lastZxid))
        case .upToDate(let commit):
            guard f.stage == .synced else { return startElection("unexpected UPTODATE") }
            follower?.stage = .serving
            follower?.leaderCommit = max(f.leaderCommit, commit)
            followerApplyCommits()
            setStatus(.following(leader: sender), serving: true)
        case .commit(let z):
            guard f.stage == .synced || f.stage == .serving else { return startElection("unexpected COMMIT") }
            follower?.leaderCommit = max(f.leaderCommit, z)
            followerApplyCommits()
        case .ping(let commit):
            guard f.stage == .synced || f.stage == .serving else { return }
            // Under FIFO delivery every committed proposal arrives before the ping naming it.
            if commit > log.lastZxid { return startElection("missed proposals") }
            follower?.leaderCommit = max(f.leaderCommit, commit)
            followerApplyCommits()
            sendToLeader(.pong(lastZxid: log.lastZxid))
        case .syncDone(let origin, let z):
            follower?.pendingSyncs.append((z, origin))
            followerApplyCommits()
        case .followerInfo, .ackEpoch, .ackNewLeader, .ack, .pong, .request, .sync:
            startElection("follower-bound message from leader")
        }
    }

    /// Commits what the leader announced, limited to what is logged here. Only after NEWLEADER
    /// is this log known to be a prefix of the leader's history.
    mutating func followerApplyCommits() {
        guard let f = follower, f.stage == .synced || f.stage == .serving else { return }
        advanceCommit(to: min(f.leaderCommit, log.lastZxid))
        guard !f.pendingSyncs.isEmpty else { return }
        var waiting: [(target: Zxid, origin: RequestOrigin)] = []
        for p in f.pendingSyncs {
            if p.target <= commitZxid { fx.syncsDone.append(p.origin) } else { waiting.append(p) }
        }
        follower?.pendingSyncs = waiting
    }

    mutating func followerSubmit(_ request: ClientRequest) {
        if follower?.stage == .serving {
            sendToLeader(.request(request))
        } else {
            fx.refused.append(request)
        }
    }

    mutating func followerSync(_ origin: RequestOrigin) {
        if follower?.stage == .serving {
            sendToLeader(.sync(origin))
        } else {
            fx.syncsRefused.append(origin)
        }
    }
}
