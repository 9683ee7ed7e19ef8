import Protocol

/// One ensemble member as a pure state machine: inputs are ticks, peer messages and client calls;
/// every call returns the `QuorumEffects` the runtime must carry out (persist, then send, then
/// apply). It never reads a clock or touches I/O.
///
/// Runtime contract, per returned `QuorumEffects`, before feeding the next input:
/// 1. `storage` in order, durably (fsync): epochs file, log truncate/append, snapshot install.
///    When a log append is durable, call `localPersisted(through:)` with its last zxid.
/// 2. `messages`: those marked `beforeStorage` (a leader's new proposals) may be sent at once,
///    before step 1 completes, so its fsync overlaps the followers'; the rest only after. Frame with `QuorumCodec.encodeFrame`; each direction between two servers must
///    be FIFO (one TCP connection per direction is fine); losses are detected, not assumed away.
/// 3. `committed`: apply to the application state in order; reply to clients whose
///    `origin.server` is this server.
/// 4. `toPrepare` (leader): turn each request into txn bytes, then `propose`; `snapshotWanted`
///    (leader): serialize the state at `commitZxid` and call `snapshotTaken`; answer `refused`,
///    `syncsDone`, `syncsRefused`; when `statusChanged` says not serving, fail outstanding requests.
/// Call `tick()` every tick, `receive` per decoded frame, `connectionLost` when a peer
/// connection drops. On restart pass `QuorumRestore`; the app state must equal the snapshot
/// (plus any log replayed up to `appliedZxid`).
public struct QuorumPeer: Sendable {
    /// Changes when a membership txn commits (see Reconfig.swift).
    public internal(set) var config: QuorumConfig
    /// The reconfig txn that made `config` (zero: the static configuration).
    public internal(set) var configZxid: Zxid = .zero
    var membershipChanged = false
    public internal(set) var epochs: QuorumEpochs
    var log: QuorumLog
    /// Everything up to here is committed and has been handed out for applying.
    public internal(set) var commitZxid: Zxid
    /// Ticks since start; only ever compared with itself.
    var now: UInt64 = 0
    let sessionSeed: UInt64
    var sessionCounter: UInt64 = 0
    var electionRound: UInt64 = 0
    /// The highest epoch any follower reported promising; a new epoch must exceed it, or that
    /// follower could never join.
    var promisedEpochSeen: UInt32 = 0
    /// The vote this server settled on; reported to servers still looking.
    var decidedVote: Vote?
    var election: ElectionState?
    var leader: LeaderState?
    var follower: FollowerState?
    var status: QuorumStatus
    /// Why this server last went back to electing; for logs.
    public internal(set) var lastElectionReason = ""
    var fx = QuorumEffects()

    /// `incarnation` should differ on every process start (e.g. random); it keeps session ids of
    /// this run apart from stale messages of an earlier one.
    public init(config: QuorumConfig, restore: QuorumRestore, incarnation: UInt64) throws {
        var config = config
        if let m = restore.membership {
            // The state's own configuration overrides the static one; a reconfig may have
            // removed this server.
            guard m.isValid else { throw QuorumError.invalidRestore("restored configuration is not valid") }
            config.voters = m.voters
            config.observers = m.observers
            configZxid = restore.membershipZxid
        }
        try config.validate(allowingRemoved: restore.membership != nil)
        guard restore.epochs.currentEpoch <= restore.epochs.acceptedEpoch else {
            throw QuorumError.invalidRestore("currentEpoch above acceptedEpoch")
        }
        self.config = config
        self.epochs = restore.epochs
        self.log = try QuorumLog(base: restore.snapshotZxid, entries: restore.log)
        if let applied = restore.appliedZxid, applied != restore.snapshotZxid {
            guard applied > restore.snapshotZxid, log.position(of: applied) != nil else {
                throw QuorumError.invalidRestore("applied zxid \(applied) is not in the log")
            }
            self.commitZxid = applied
        } else {
            self.commitZxid = restore.snapshotZxid
        }
        self.sessionSeed = incarnation
        self.status = QuorumStatus(role: .looking, serving: false, epoch: restore.epochs.currentEpoch)
        // A membership change the restored state already committed (the runtime's config may
        // predate it, e.g. when it replayed the log past its last snapshot).
        if let committed = log.entries(after: log.base)?.prefix(while: { $0.zxid <= commitZxid }) {
            noteCommitted(committed)
            membershipChanged = false
        }
    }

    // MARK: Read-only state

    public var id: UInt64 { config.serverId }
    public var currentStatus: QuorumStatus { status }
    public var lastZxid: Zxid { log.lastZxid }
    public var logBase: Zxid { log.base }
    public var logEntries: [QuorumTxn] { log.entries }
    /// The leader this server serves under, when serving.
    public var leaderId: UInt64? {
        guard status.serving else { return nil }
        switch status.role {
        case .leading: return id
        case .following(let l): return l
        case .looking: return nil
        }
    }

    // MARK: Inputs

    /// Begins the first election.
    public mutating func start() -> QuorumEffects {
        startElection("start")
        return takeEffects()
    }

    /// `elapsed` ticks of real time passed since the last call (more than 1 after the process was
    /// paused or its loop stalled): every limit is judged on real time, not on timer fires.
    public mutating func tick(elapsed: UInt64 = 1) -> QuorumEffects {
        now += max(1, elapsed)
        if election != nil {
            electionTick()
        } else if leader != nil {
            leaderTick()
        } else if follower != nil {
            followerTick()
        }
        return takeEffects()
    }

    public mutating func receive(from sender: UInt64, _ message: QuorumMessage) -> QuorumEffects {
        // Voters hear everyone; an observer only the voters (observers never talk to each other).
        guard sender != id else { return takeEffects() }
        if case .election(let n) = message, let c = n.config { learnConfig(c) }
        let known = config.voters.contains(sender) || (!config.isObserver && config.isObserver(sender))
            || pendingMemberships.contains { $0.membership.voters.contains(sender) }
        guard known else {
            // Outside our configuration: a server joining (it follows as a non-voter until a
            // reconfig makes it a voter) or one removed. Its votes never count.
            guard !config.isObserver, !removed else { return takeEffects() }
            switch message {
            case .election(let n):
                if n.state == .looking { send(sender, .election(notification())) }
            case .session(let session, let seq, let body):
                if leader != nil { leaderReceive(from: sender, session: session, seq: seq, body) }
            }
            return takeEffects()
        }
        switch message {
        case .election(let n):
            handleNotification(from: sender, n)
        case .session(let session, let seq, let body):
            if leader != nil {
                leaderReceive(from: sender, session: session, seq: seq, body)
            } else if follower != nil {
                followerReceive(from: sender, session: session, seq: seq, body)
            }
        }
        return takeEffects()
    }

    /// The runtime lost its connection to `peer`; treat it like silence past the limits.
    public mutating func connectionLost(to peer: UInt64) -> QuorumEffects {
        if let f = follower, f.leaderId == peer {
            startElection("connection to leader lost")
        } else if leader != nil {
            dropLearner(peer)
        }
        return takeEffects()
    }

    /// A client write arriving at this server. A follower forwards it; a leader asks for it to be
    /// prepared (see `QuorumEffects.toPrepare`).
    public mutating func submit(_ request: ClientRequest) -> QuorumEffects {
        if leader != nil {
            leaderSubmit(request)
        } else if follower != nil {
            followerSubmit(request)
        } else {
            fx.refused.append(request)
        }
        return takeEffects()
    }

    /// Leader only: turns prepared transaction bytes into a proposal. Returns its zxid, or nil
    /// when this server is not an established leader (then answer the client with an error).
    public mutating func propose(_ data: [UInt8], origin: RequestOrigin?) -> (zxid: Zxid?, effects: QuorumEffects) {
        let z = leaderPropose(data, origin: origin)
        return (z, takeEffects())
    }

    /// The local log is durable through `zxid` (a completed `.appendLog`). A leader counts its
    /// own acknowledgement for its entries only from here on.
    public mutating func localPersisted(through zxid: Zxid) -> QuorumEffects {
        leaderPersisted(through: zxid)
        return takeEffects()
    }

    /// A linearizable-read barrier: reported in `syncsDone` once everything the leader had
    /// proposed at that point is applied here.
    public mutating func sync(_ origin: RequestOrigin) -> QuorumEffects {
        if leader != nil {
            leaderSync(origin, from: id)
        } else if follower != nil {
            followerSync(origin)
        } else {
            fx.syncsRefused.append(origin)
        }
        return takeEffects()
    }

    /// Leader only: the application state serialized at `zxid` (at most `commitZxid`), in reply to
    /// `snapshotWanted`.
    public mutating func snapshotTaken(at zxid: Zxid, data: [UInt8]) -> QuorumEffects {
        leaderSnapshotTaken(at: zxid, data: data)
        return takeEffects()
    }

    /// The application has a durable snapshot at `zxid`; entries up to there may leave memory.
    /// Lagging followers then get snapshots instead of diffs.
    public mutating func compactLog(through zxid: Zxid) {
        log.compact(through: min(zxid, commitZxid))
    }

    // MARK: Shared helpers

    mutating func takeEffects() -> QuorumEffects {
        reactToMembership()
        defer { fx = QuorumEffects() }
        return fx
    }

    mutating func send(_ to: UInt64, _ message: QuorumMessage, beforeStorage: Bool = false) {
        fx.messages.append(OutboundMessage(to: to, message: message, beforeStorage: beforeStorage))
    }

    mutating func setStatus(_ role: QuorumRole, serving: Bool) {
        let next = QuorumStatus(role: role, serving: serving, epoch: epochs.currentEpoch)
        if next != status {
            status = next
            fx.statusChanged = next
        }
    }

    mutating func saveEpochs() {
        fx.storage.append(.saveEpochs(epochs))
    }

    mutating func persistAppend(_ txn: QuorumTxn) {
        log.append(txn)
        if case .appendLog(var batch)? = fx.storage.last {
            batch.append(txn)
            fx.storage[fx.storage.count - 1] = .appendLog(batch)
        } else {
            fx.storage.append(.appendLog([txn]))
        }
    }

    /// Hands out newly committed entries, in order.
    mutating func advanceCommit(to target: Zxid) {
        let upTo = min(target, log.lastZxid)
        guard upTo > commitZxid else { return }
        let newly = log.entries(from: commitZxid, through: upTo)
        fx.committed.append(contentsOf: newly)
        commitZxid = upTo
        noteCommitted(newly)
        // A lone voter with no observers, learners or pending reconfig (standalone coordd) has
        // nobody to sync: committed entries need not stay in memory until the next snapshot.
        if config.voters.count == 1 && config.observers.isEmpty && pendingMemberships.isEmpty && leader?.learners.isEmpty != false {
            log.compact(through: commitZxid)
        }
    }

    mutating func newSessionId() -> UInt64 {
        sessionCounter += 1
        return sessionSeed &+ sessionCounter &* 0x9E37_79B9_7F4A_7C15
    }

    var quorum: Int { config.quorumSize }
    /// Who hears this server's election notifications: a voter tells observers too (so they learn
    /// the leader); an observer asks the voters only.
    /// While a reconfig is pending (or, after a restart, not known to be committed), the
    /// servers it names hear them too: its voters' quorum is needed as well.
    var others: [UInt64] {
        var all = config.isObserver ? config.voters : config.voters + config.observers
        for p in pendingMemberships { all += p.membership.voters + (config.isObserver ? [] : p.membership.observers) }
        var seen: Set<UInt64> = [id]
        return all.filter { seen.insert($0).inserted }
    }
}

/// One direction-pair of a follower-leader session, with per-direction sequence numbers.
struct SessionLink: Sendable, Equatable {
    let session: UInt64
    var sendSeq: UInt64 = 0
    var recvSeq: UInt64 = 0

    init(session: UInt64) { self.session = session }

    mutating func wrap(_ body: SessionMessage) -> QuorumMessage {
        defer { sendSeq += 1 }
        return .session(id: session, seq: sendSeq, body)
    }

    /// Accepts the next in-order message of this session.
    mutating func accept(session id: UInt64, seq: UInt64) -> Bool {
        guard id == session, seq == recvSeq else { return false }
        recvSeq += 1
        return true
    }
}
