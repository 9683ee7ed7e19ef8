import CoordCore
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

/// Drives the I/O-free `QuorumPeer` on coordd's event loop: ticks, peer links, durable storage.
///
/// Effects are carried out with group commit: storage ops go to the storage thread as numbered
/// jobs; the messages of each effect (per peer, FIFO) and its local part (applies, replies; FIFO)
/// wait until that effect's job, and whatever is queued before them, is durable. So nothing leaves this server before what it depends
/// on is on disk, and the loop never blocks on fsync. The one exception is a leader's PROPOSAL of
/// its own new entry (`beforeStorage`): it goes out at once (behind earlier frames to that peer), so
/// the leader's fsync overlaps the followers'; the peer counts the leader's own ack only after
/// `localPersisted`, fed here when the append's job is durable. Loop thread only.
final class QuorumRuntime {

    private(set) var peer: QuorumPeer
    let links: PeerLinks
    let storage: QuorumStorage
    let tickMillis: Int
    private let loop: EventLoop
    private let logger: @Sendable (String) -> Void
    weak var app: QuorumApp?

    private var peerQueues: [UInt64: GatedQueue<[UInt8]>] = [:]
    private var local = GatedQueue<QuorumEffects>()
    private var submittedJobs: UInt64 = 0
    private var durableJobs: UInt64 = 0
    /// Jobs holding log appends, with the last zxid each appends: reported once durable.
    private var appends = Fifo<(job: UInt64, last: Zxid)>(compactAfter: 1024)
    private var releasing = false
    private var stopped = false
    private var lastStatus: QuorumStatus
    private var lookingSince: UInt64 = MonotonicClock.millis()
    /// Monotonic time of the last tick fed to the peer.
    private var lastTickAt: UInt64 = MonotonicClock.millis()

    /// The status as last applied (lags the peer's by the storage pipeline).
    private(set) var appStatus: QuorumStatus
    /// Leader whose establishment has been applied: requests may be prepped as they arrive.
    private(set) var leaderReady = false

    init(peer: QuorumPeer, links: PeerLinks, storage: QuorumStorage, tickMillis: Int, loop: EventLoop,
         logger: @escaping @Sendable (String) -> Void) {
        self.peer = peer
        self.links = links
        self.storage = storage
        self.tickMillis = tickMillis
        self.loop = loop
        self.logger = logger
        lastStatus = peer.currentStatus
        appStatus = peer.currentStatus
        links.onMessage = { [unowned self] from, m in
            self.catchUp()
            self.handle(self.peer.receive(from: from, m))
        }
        links.onLost = { [unowned self] id in
            self.catchUp()
            self.handle(self.peer.connectionLost(to: id))
        }
        storage.onDurable = { [unowned self] n in
            self.durableJobs = max(self.durableJobs, n)
            self.release()
            self.reportPersisted()
        }
        storage.onSnapshot = { [unowned self] z in self.peer.compactLog(through: Zxid(raw: UInt64(bitPattern: z))) }
    }

    /// Maps zoo.cfg's limits (in tickTime units) onto quorum ticks of at most 50 ms, so failure
    /// detection and elections are fast even with ZooKeeper's default tickTime of 2 s.
    static func quorumConfig(_ zoo: ZooConfig, myId: UInt64) -> (QuorumConfig, tickMillis: Int) {
        let tick = Int(zoo.tickTime)
        let q = max(1, min(50, tick))
        func ticks(_ n: Int) -> Int { max(1, n * tick / q) }
        var c = QuorumConfig(serverId: myId, voters: zoo.servers.values.filter { $0.role == "participant" }.map { UInt64($0.id) }.sorted())
        c.initLimit = ticks(zoo.initLimit)
        c.syncLimit = ticks(zoo.syncLimit)
        // ZooKeeper's leader pings every half tick; never less often than a quarter of syncLimit.
        c.pingInterval = max(1, min(tick / 2 / q, c.syncLimit / 4))
        c.settleTicks = 2
        c.electionResend = 2
        return (c, q)
    }

    func start(listenHost: String) throws {
        storage.start()
        try links.start(listenHost: listenHost)
        lastTickAt = MonotonicClock.millis()
        handle(peer.start())
        scheduleTick()
    }

    func stop() {
        stopped = true
        links.stop()
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
        handle(peer.tick(elapsed: elapsed))
    }

    /// Serving as applied here and still serving in the peer (which may already have stepped down
    /// while the application catches up through the storage pipeline).
    var servingNow: Bool { appStatus.serving && peer.currentStatus.serving }

    // MARK: inputs from the application

    func submit(_ request: ClientRequest) {
        catchUp()
        handle(peer.submit(request))
    }

    func sync(_ origin: RequestOrigin) {
        catchUp()
        handle(peer.sync(origin))
    }

    /// The zxid the next `propose` will get (prep records it in its overlay).
    var nextZxid: Zxid {
        let last = peer.lastZxid
        let e = peer.currentStatus.epoch
        return (last.epoch == e ? last.next : nil) ?? Zxid(epoch: e, counter: 1)
    }

    @discardableResult
    func propose(_ data: [UInt8], origin: RequestOrigin?) -> Zxid? {
        let (z, fx) = peer.propose(data, origin: origin)
        handle(fx)
        return z
    }

    // MARK: the effect pipeline

    private func handle(_ input: QuorumEffects) {
        var fx = input
        if let s = fx.statusChanged, s.role != lastStatus.role || s.serving != lastStatus.serving { noteStatus(s) }
        if fx.isEmpty { return }
        if CrashPoint.armed != nil, peer.currentStatus.role != .leading {
            CrashPoint.check(fx, syncing: !peer.currentStatus.serving, log: logger)
        }
        var job: UInt64 = 0
        if !fx.storage.isEmpty {
            submittedJobs += 1
            job = submittedJobs
            storage.submit(job: job, fx.storage)
            var last: Zxid?
            for case .appendLog(let txns) in fx.storage { last = txns.last?.zxid ?? last }
            if let last { appends.append((job, last)) }
        }
        for m in fx.messages {
            peerQueues[m.to, default: GatedQueue()].push(m.beforeStorage ? 0 : job, QuorumCodec.encodeFrame(m.message))
        }
        fx.messages = []
        // An established leader preps at once: its prep overlay covers everything it proposed
        // but has not applied, so prepping need not wait for the disk.
        let prepareNow = leaderReady ? fx.toPrepare : []
        if leaderReady { fx.toPrepare = [] }
        // Only a snapshot install matters past the disk (it replaces the application state).
        fx.storage = fx.storage.filter { if case .installSnapshot = $0 { true } else { false } }
        if !fx.isEmpty { local.push(job, fx) }
        for r in prepareNow { app?.quorumPrepare(r) }
        release()
    }

    /// Sends and applies whatever has become durable. Each peer link and the local apply order
    /// is its own FIFO, so a commit need not wait behind an unrelated fsync still under way.
    private func release() {
        guard !releasing else { return }
        releasing = true
        defer { releasing = false }
        var progressed = true
        while progressed {
            progressed = false
            for peer in Array(peerQueues.keys) {
                while let frame = peerQueues[peer]?.popReady(durable: durableJobs) {
                    links.send(to: peer, frame)
                }
            }
            while let fx = local.popReady(durable: durableJobs) {
                perform(fx)
                progressed = true
            }
        }
    }

    /// Tells the peer how far its log appends are durable (a leader then counts its own ack).
    private func reportPersisted() {
        var through: Zxid?
        while let a = appends.first, a.job <= durableJobs {
            through = a.last
            _ = appends.popFirst()
        }
        if let through { handle(peer.localPersisted(through: through)) }
    }

    /// Everything after storage, in the peer's order: send, apply, then the rest.
    private func perform(_ fx: QuorumEffects) {
        for op in fx.storage {
            if case .installSnapshot(let z, let data) = op { app?.quorumInstallSnapshot(zxid: z, data: data) }
        }
        for t in fx.committed { app?.quorumApply(t) }
        if let s = fx.statusChanged, s != appStatus {
            appStatus = s
            leaderReady = s.serving && s.role == .leading
            app?.quorumStatusChanged(s)
        }
        for r in fx.toPrepare {
            if leaderReady { app?.quorumPrepare(r) } else { app?.quorumRefused(r) }
        }
        for r in fx.refused { app?.quorumRefused(r) }
        for o in fx.syncsDone { app?.quorumSyncFinished(o, ok: true) }
        for o in fx.syncsRefused { app?.quorumSyncFinished(o, ok: false) }
        if fx.snapshotWanted, let app {
            let (z, data) = app.quorumSnapshotState()
            handle(peer.snapshotTaken(at: z, data: data))
        }
    }

    private func noteStatus(_ s: QuorumStatus) {
        let now = MonotonicClock.millis()
        switch (s.role, s.serving) {
        case (.looking, _):
            logger("LOOKING (epoch \(s.epoch)): \(peer.lastElectionReason)")
            lookingSince = now
        case (.leading, false):
            logger("LEADING: establishing epoch, election took \(now - lookingSince) ms")
        case (.leading, true):
            logger("LEADING epoch \(s.epoch), serving \(now - lookingSince) ms after the election started")
        case (.following(let l), false):
            logger("FOLLOWING server \(l): syncing, election took \(now - lookingSince) ms")
        case (.following(let l), true):
            logger("FOLLOWING server \(l) in epoch \(s.epoch), serving \(now - lookingSince) ms after the election started")
        }
        lastStatus = s
    }
}

/// A FIFO whose items leave in order once the storage job each one needs (0: none) is durable.
struct GatedQueue<T> {
    private var items = Fifo<(needs: UInt64, value: T)>(compactAfter: 1024)

    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ needs: UInt64, _ value: T) {
        items.append((needs, value))
    }

    mutating func popReady(durable: UInt64) -> T? {
        guard let f = items.first, f.needs <= durable else { return nil }
        return items.popFirst()?.value
    }
}
