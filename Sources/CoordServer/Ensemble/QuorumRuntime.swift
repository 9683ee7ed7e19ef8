import CoordCore
import Observability
import Protocol
import Storage
import Transport

/// What the runtime asks of the application (the coordd server) once effects are durable.
protocol QuorumApp: AnyObject {
    /// Replace the application state (a follower syncing by SNAP).
    func quorumInstallSnapshot(zxid: Zxid, data: [UInt8])
    /// Apply one committed txn (zxid order) and answer its client when it came from this server.
    func quorumApply(_ txn: QuorumTxn)
    /// Leader: validate a client request and `propose` the result (or answer a local client).
    func quorumPrepare(_ request: ClientRequest)
    func quorumRefused(_ request: ClientRequest)
    func quorumSyncFinished(_ origin: RequestOrigin, ok: Bool)
    /// The applied state serialized, and the zxid it stands at.
    func quorumSnapshotState() -> (zxid: Zxid, data: [UInt8])
    func quorumStatusChanged(_ status: QuorumStatus)
}

/// Drives the I/O-free `QuorumPeer` on coordd's event loop through `QuorumPipeline` (the gating
/// the simulation runs too): ticks, peer links, durable storage on the storage thread as numbered
/// jobs (group commit), so the loop never blocks on fsync. Standalone coordd runs it too, as a
/// one-voter quorum without peer links. Loop thread only.
final class QuorumRuntime {

    private(set) var pipeline: QuorumPipeline
    /// nil standalone: a one-voter quorum has nobody to talk to.
    let links: PeerLinks?
    let storage: QuorumStorage
    let tickMillis: Int
    private let loop: EventLoop
    private let logger: @Sendable (String) -> Void
    weak var app: QuorumApp?
    /// Where elections, syncs and quorum changes are recorded (see CoordServer+Admin).
    var timeline: Timeline?
    var metrics: CoordMetrics? {
        didSet { proposalCount = metrics?.proposals.labels() }
    }
    /// The unlabelled proposals counter, looked up once (not per proposal).
    private var proposalCount: Counter?
    /// The named crash points (`POST /faults/crash?at=`, CrashPoint).
    let crash = CrashPoint.armFromEnvironment()
    private var lostQuorumAt: UInt64?

    private var pumping = false
    private var stopped = false
    private var lastStatus: QuorumStatus
    private var lookingSince: UInt64 = MonotonicClock.millis()
    /// Monotonic time of the last tick fed to the peer.
    private var lastTickAt: UInt64 = MonotonicClock.millis()

    var peer: QuorumPeer { pipeline.peer }
    /// The status as last applied (lags the peer's by the storage pipeline).
    var appStatus: QuorumStatus { pipeline.appStatus }
    /// Leader whose establishment has been applied: requests may be prepped as they arrive.
    var leaderReady: Bool { pipeline.leaderReady }
    /// See `QuorumPipeline.preparesAtOnce` (read without copying the peer, per client write).
    var preparesAtOnce: Bool { pipeline.preparesAtOnce }
    var lastZxid: Zxid { pipeline.lastZxid }

    init(peer: QuorumPeer, links: PeerLinks?, storage: QuorumStorage, tickMillis: Int, loop: EventLoop,
         logger: @escaping @Sendable (String) -> Void) {
        pipeline = QuorumPipeline(peer: peer)
        self.links = links
        self.storage = storage
        self.tickMillis = tickMillis
        self.loop = loop
        self.logger = logger
        lastStatus = peer.currentStatus
        links?.onMessage = { [unowned self] from, m in
            self.catchUp()
            self.pipeline.receive(from: from, m)
            self.pump()
        }
        links?.onLost = { [unowned self] id in
            self.catchUp()
            self.pipeline.connectionLost(to: id)
            self.pump()
        }
        storage.onDurable = { [unowned self] n in
            self.pipeline.durable(through: n)
            self.pump()
        }
        storage.onSnapshot = { [unowned self] z in self.pipeline.compactLog(through: Zxid(raw: UInt64(bitPattern: z))) }
    }

    /// Maps zoo.cfg's limits (in tickTime units) onto quorum ticks of at most 50 ms, so failure
    /// detection and elections are fast even with ZooKeeper's default tickTime of 2 s. Without
    /// server.N lines the quorum is this server alone.
    static func quorumConfig(_ zoo: ZooConfig, myId: UInt64) -> (QuorumConfig, tickMillis: Int) {
        let tick = Int(zoo.tickTime)
        let q = max(1, min(50, tick))
        func ticks(_ n: Int) -> Int { max(1, n * tick / q) }
        func ids(_ role: String) -> [UInt64] { zoo.servers.values.filter { $0.role == role }.map { UInt64($0.id) }.sorted() }
        var c = zoo.servers.isEmpty ? QuorumConfig(serverId: myId, voters: [myId])
            : QuorumConfig(serverId: myId, voters: ids("participant"), observers: ids("observer"))
        c.initLimit = ticks(zoo.initLimit)
        c.syncLimit = ticks(zoo.syncLimit)
        // ZooKeeper's leader pings every half tick; never less often than a quarter of syncLimit.
        c.pingInterval = max(1, min(tick / 2 / q, c.syncLimit / 4))
        c.settleTicks = 2
        c.electionResend = 2
        return (c, q)
    }

    /// `listenHost` is where the peer port binds (nil standalone: no peer links).
    func start(listenHost: String?) throws {
        storage.start()
        if let links, let listenHost { try links.start(listenHost: listenHost) }
        lastTickAt = MonotonicClock.millis()
        pipeline.start()
        pump()
        scheduleTick()
    }

    func stop() {
        stopped = true
        links?.stop()
    }

    private func scheduleTick() {
        let due = Int(lastTickAt + UInt64(tickMillis)) - Int(MonotonicClock.millis())
        loop.schedule(afterMillis: max(1, due)) { [weak self] in
            guard let self, !self.stopped else { return }
            self.catchUp()
            self.scheduleTick()
        }
    }

    /// Feeds the peer every tick of real time since the last one. Called by the timer and before
    /// any peer message or client input, so that a process resumed after SIGSTOP (or a stalled
    /// loop) judges its limits on the time that really passed before it acts on anything: a
    /// paused leader finds its followers silent and steps down instead of serving stale reads.
    func catchUp() {
        let now = MonotonicClock.millis()
        guard now >= lastTickAt + UInt64(tickMillis) else { return }
        let elapsed = (now - lastTickAt) / UInt64(tickMillis)
        lastTickAt += elapsed * UInt64(tickMillis)
        if elapsed > 2 { logger("\(elapsed) ticks (\(elapsed * UInt64(tickMillis)) ms) passed since the last one: catching up") }
        pipeline.tick(elapsed: elapsed)
        pump()
    }

    /// Serving as applied here and still serving in the peer (which may already have stepped down
    /// while the application catches up through the storage pipeline).
    var servingNow: Bool { pipeline.servingNow }

    // MARK: inputs from the application

    func submit(_ request: ClientRequest) {
        catchUp()
        pipeline.submit(request)
        pump()
    }

    func sync(_ origin: RequestOrigin) {
        catchUp()
        pipeline.sync(origin)
        pump()
    }

    /// The zxid the next `propose` will get (prep records it in its overlay).
    var nextZxid: Zxid { pipeline.nextZxid }

    @discardableResult
    func propose(_ data: [UInt8], origin: RequestOrigin?) -> Zxid? {
        let z = pipeline.propose(data, origin: origin)
        proposalCount?.inc()
        pump()
        return z
    }

    // MARK: carrying out the pipeline's actions

    /// Does everything the pipeline allows now. Actions may feed it more (a prepare proposes);
    /// those come out of this same loop, so nested calls return at once.
    private func pump() {
        guard !pumping else { return }
        pumping = true
        defer { pumping = false }
        var sent: [(to: UInt64, message: QuorumMessage)] = []
        while let action = pipeline.nextAction() {
            if timeline != nil, case .send(let to, let m) = action { sent.append((to, m)) }
            perform(action)
        }
        if !sent.isEmpty { noteSyncs(sent) }
    }

    private func perform(_ action: QuorumAction) {
        let crashArmed = crash.armed != nil
        if crashArmed { CrashPoint.check(action, status: peer.currentStatus, arm: crash, log: logger) }
        switch action {
        case .store(let job, let ops): storage.submit(job: job, ops)
        case .send(let to, let m):
            links?.send(to: to, QuorumCodec.encodeFrame(m))
            if crashArmed { CrashPoint.sent(m, status: peer.currentStatus, arm: crash, log: logger) }
        case .peerStatus(let s): if s.role != lastStatus.role || s.serving != lastStatus.serving { noteStatus(s) }
        case .installSnapshot(let z, let data): app?.quorumInstallSnapshot(zxid: z, data: data)
        case .apply(let t): app?.quorumApply(t)
        case .statusChanged(let s): app?.quorumStatusChanged(s)
        case .prepare(let r): app?.quorumPrepare(r)
        case .refuse(let r): app?.quorumRefused(r)
        case .syncFinished(let o, let ok): app?.quorumSyncFinished(o, ok: ok)
        case .snapshotWanted:
            guard let app else { return }
            let (z, data) = app.quorumSnapshotState()
            pipeline.snapshotTaken(at: z, data: data)
        }
    }

    private func noteStatus(_ s: QuorumStatus) {
        let now = MonotonicClock.millis()
        recordStatus(s, previous: lastStatus, electionMillis: now - lookingSince)
        switch (s.role, s.serving) {
        case (.looking, _):
            logger("LOOKING (epoch \(s.epoch)): \(peer.lastElectionReason)")
            lookingSince = now
        case (.leading, false):
            logger("LEADING: establishing epoch, election took \(now - lookingSince) ms")
        case (.leading, true):
            logger("LEADING epoch \(s.epoch), serving \(now - lookingSince) ms after the election started")
        case (.following(let l), false):
            logger("\(followName) server \(l): syncing, election took \(now - lookingSince) ms")
        case (.following(let l), true):
            logger("\(followName) server \(l) in epoch \(s.epoch), serving \(now - lookingSince) ms after the election started")
        }
        lastStatus = s
    }

    private var followName: String { peer.config.isObserver ? "OBSERVING" : "FOLLOWING" }
    /// The role's name in timeline records.
    fileprivate var learnerRole: String { peer.config.isObserver ? "observer" : "follower" }
}

// Timeline records of quorum changes: decisions are the peer's; this only writes them down.
extension QuorumRuntime {
    private var clocks: [(String, Int64)] {
        [("epoch", Int64(peer.currentStatus.epoch)), ("zxid", Int64(bitPattern: peer.lastZxid.raw))]
    }

    fileprivate func recordStatus(_ s: QuorumStatus, previous: QuorumStatus, electionMillis: UInt64) {
        guard let timeline else { return }
        let now = MonotonicClock.millis()
        switch (s.role, s.serving) {
        case (.looking, _):
            if previous.serving { lostQuorumAt = now; timeline.record("quorum.lost", clocks: clocks, fields: [("reason", .string(peer.lastElectionReason))]) }
            timeline.record("election.started", clocks: clocks, fields: [("reason", .string(peer.lastElectionReason))])
        case (.leading, false), (.following, false):
            var fields: [(String, JSONValue)] = [("election_ms", .int(Int64(electionMillis)))]
            if case .following(let l) = s.role { fields.insert(("leader", .int(Int64(l))), at: 0); fields.append(("role", .string(learnerRole))) }
            else { fields.insert(("leader", .int(Int64(peer.id))), at: 0); fields.append(("role", .string("leader"))) }
            fields.append(("voters", .int(Int64(peer.config.voters.count))))
            timeline.record("election.leader_elected", clocks: clocks, fields: fields)
            metrics?.electionTime.observe(Double(electionMillis))
        case (.leading, true), (.following, true):
            timeline.record("quorum.serving", clocks: clocks, fields: [("role", .string(s.role == .leading ? "leader" : learnerRole)),
                                                                       ("since_election_ms", .int(Int64(electionMillis)))])
            if let lost = lostQuorumAt {
                lostQuorumAt = nil
                timeline.record("quorum.regained", clocks: clocks, fields: [("outage_ms", .int(Int64(now - lost)))])
            }
        }
    }

    /// A leader syncing a follower sends TRUNC, SNAP or a DIFF of proposals, then NEWLEADER.
    fileprivate func noteSyncs(_ messages: [(to: UInt64, message: QuorumMessage)]) {
        var perPeer: [UInt64: (mode: String, proposals: Int, bytes: Int, newLeader: Bool)] = [:]
        for m in messages {
            var e = perPeer[m.to] ?? ("DIFF", 0, 0, false)
            switch m.message {
            case .session(_, _, .truncate): e.mode = "TRUNC"
            case .session(_, _, .snapshot(_, let data)): e.mode = "SNAP"; e.bytes += data.count
            case .session(_, _, .proposal(_, let t)): e.proposals += 1; e.bytes += t.data.count
            case .session(_, _, .newLeader): e.newLeader = true
            default: continue
            }
            perPeer[m.to] = e
        }
        for (follower, e) in perPeer.sorted(by: { $0.key < $1.key }) where e.newLeader {
            timeline?.record("sync.follower", clocks: clocks, fields: [("follower", .int(Int64(follower))), ("mode", .string(e.mode)),
                                                                      ("proposals", .int(Int64(e.proposals))), ("bytes", .int(Int64(e.bytes)))])
        }
    }
}

