import Protocol

/// One thing for the runtime to do, in the order `QuorumPipeline.nextAction()` hands them out.
public enum QuorumAction: Equatable, Sendable {
    /// Write these ops durably, in order, after every earlier job; report `durable(through:)`.
    case store(job: UInt64, [StorageOp])
    /// Frame and send (FIFO per peer).
    case send(to: UInt64, QuorumMessage)
    /// The peer's own status changed (not yet applied): for logs only.
    case peerStatus(QuorumStatus)
    case installSnapshot(zxid: Zxid, data: [UInt8])
    /// Apply a committed txn; answer its client when it came from this server.
    case apply(QuorumTxn)
    /// The applied status changed; when not serving, fail outstanding requests.
    case statusChanged(QuorumStatus)
    /// Leader: turn the request into txn bytes and `propose` them (or answer a local client).
    case prepare(ClientRequest)
    /// No serving leader for this request: answer its client with an error.
    case refuse(ClientRequest)
    case syncFinished(RequestOrigin, ok: Bool)
    /// Leader: call `snapshotTaken` with the applied state.
    case snapshotWanted
}

/// The runtime's half of the `QuorumPeer` contract as a pure struct, so that coordd and the
/// seeded simulation run the same gating: storage ops become numbered jobs; each effect's
/// messages (per peer, FIFO) and its local part (applies, replies; FIFO) wait until that job, and
/// every job before it, is durable. Exception: a leader's PROPOSAL of its own entry
/// (`beforeStorage`) leaves at once, so its fsync overlaps the followers'; the peer counts the
/// leader's own ack only after `localPersisted`, fed here from `durable(through:)`.
///
/// Feed inputs, then call `nextAction()` until nil; an action may feed further inputs (e.g.
/// `propose` while handling `.prepare`), whose actions come out of the same loop.
public struct QuorumPipeline: Sendable {
    public private(set) var peer: QuorumPeer
    /// The status as last applied (lags the peer's by the storage pipeline).
    public private(set) var appStatus: QuorumStatus
    /// Leader whose establishment has been applied: requests may be prepped as they arrive.
    public private(set) var leaderReady = false

    private var submittedJobs: UInt64 = 0
    private var durableJobs: UInt64 = 0
    /// Jobs holding log appends, with the last zxid each appends: reported once durable.
    private var appends = Fifo<(job: UInt64, last: Zxid)>(compactAfter: 1024)
    /// Needs no job: storage to submit, prepares on a ready leader, status notes.
    private var immediate = Fifo<QuorumAction>(compactAfter: 256)
    private var peerQueues: [UInt64: GatedQueue<QuorumMessage>] = [:]
    /// Peers with a queue, sorted: the same order every run (the simulation replays seeds).
    private var peerOrder: [UInt64] = []
    private var local = GatedQueue<QuorumEffects>()
    /// The local effect being handed out, one action at a time.
    private var releasing = Fifo<QuorumAction>(compactAfter: 256)

    /// One gating rule broken on purpose, to show that the simulation catches it (tests, debug).
    enum Fault: Sendable { case sendBeforeDurable, persistedAtSubmit }
    #if DEBUG
    var fault: Fault?
    #endif

    public init(peer: QuorumPeer) {
        self.peer = peer
        appStatus = peer.currentStatus
    }

    /// Serving as applied here and still serving in the peer (which may already have stepped
    /// down while the application catches up through the storage pipeline).
    public var servingNow: Bool { appStatus.serving && peer.currentStatus.serving }

    /// A ready leader whose peer is still leading, serving, in the applied epoch: a request it
    /// would be handed back to prepare may be prepared at once instead.
    public var preparesAtOnce: Bool {
        leaderReady && peer.currentStatus == QuorumStatus(role: .leading, serving: true, epoch: appStatus.epoch)
    }

    /// The newest zxid in the peer's log (proposed, maybe not committed).
    public var lastZxid: Zxid { peer.lastZxid }

    /// The zxid the next `propose` will get (prep records it in its overlay).
    public var nextZxid: Zxid {
        let last = peer.lastZxid
        let e = peer.currentStatus.epoch
        return (last.epoch == e ? last.next : nil) ?? Zxid(epoch: e, counter: 1)
    }

    // MARK: Inputs

    public mutating func start() { take(peer.start()) }
    public mutating func tick(elapsed: UInt64) { take(peer.tick(elapsed: elapsed)) }
    public mutating func receive(from sender: UInt64, _ m: QuorumMessage) { take(peer.receive(from: sender, m)) }
    public mutating func connectionLost(to id: UInt64) { take(peer.connectionLost(to: id)) }
    public mutating func submit(_ request: ClientRequest) { take(peer.submit(request)) }
    public mutating func sync(_ origin: RequestOrigin) { take(peer.sync(origin)) }
    public mutating func snapshotTaken(at z: Zxid, data: [UInt8]) { take(peer.snapshotTaken(at: z, data: data)) }
    public mutating func compactLog(through z: Zxid) { peer.compactLog(through: z) }

    @discardableResult
    public mutating func propose(_ data: [UInt8], origin: RequestOrigin?) -> Zxid? {
        let (z, fx) = peer.propose(data, origin: origin)
        take(fx)
        return z
    }

    /// Storage reports every job up to `job` durable.
    public mutating func durable(through job: UInt64) {
        precondition(job <= submittedJobs, "job \(job) reported durable but only \(submittedJobs) submitted")
        guard job > durableJobs else { return }
        durableJobs = job
        var through: Zxid?
        while let a = appends.first, a.job <= durableJobs {
            through = a.last
            appends.popFirst()
        }
        if let through { take(peer.localPersisted(through: through)) }
    }

    // MARK: Output

    /// The next thing to do, or nil until a new input (or durability report) arrives. Order:
    /// storage and prompt actions, the rest of the local effect being released, ready frames
    /// for every peer, then the next local effect whose job is durable.
    public mutating func nextAction() -> QuorumAction? {
        if let a = immediate.popFirst() { return a }
        while true {
            while let a = releasing.popFirst() {
                if let a = resolve(a) { return a }
            }
            for id in peerOrder {
                if let m = peerQueues[id]?.popReady(durable: durableJobs) { return .send(to: id, m) }
            }
            guard let fx = local.popReady(durable: durableJobs) else { return nil }
            expand(fx)
        }
    }

    // MARK: Gating

    private mutating func take(_ input: QuorumEffects) {
        var fx = input
        if let s = fx.statusChanged { immediate.append(.peerStatus(s)) }
        if fx.isEmpty { return }
        var job: UInt64 = 0
        if !fx.storage.isEmpty {
            submittedJobs += 1
            job = submittedJobs
            immediate.append(.store(job: job, fx.storage))
            var last: Zxid?
            for case .appendLog(let txns) in fx.storage { last = txns.last?.zxid ?? last }
            if let last { appends.append((job, last)) }
        }
        let gate = injected(.sendBeforeDurable) ? 0 : job
        for m in fx.messages {
            if peerQueues[m.to] == nil {
                peerQueues[m.to] = GatedQueue()
                peerOrder = (peerOrder + [m.to]).sorted()
            }
            peerQueues[m.to]!.push(m.beforeStorage ? 0 : gate, m.message)
        }
        fx.messages = []
        // An established leader preps at once: its prep overlay covers everything it proposed
        // but has not applied, so prepping need not wait for the disk.
        if leaderReady {
            for r in fx.toPrepare { immediate.append(.prepare(r)) }
            fx.toPrepare = []
        }
        // Only a snapshot install matters past the disk (it replaces the application state).
        fx.storage = fx.storage.filter { if case .installSnapshot = $0 { true } else { false } }
        if !fx.isEmpty { local.push(job, fx) }
        if injected(.persistedAtSubmit), let last = appends.first?.last {
            appends.removeAll()
            take(peer.localPersisted(through: last))
        }
    }

    /// A durable local effect as actions, in the peer's order: install, apply, then the rest.
    private mutating func expand(_ fx: QuorumEffects) {
        for case .installSnapshot(let z, let data) in fx.storage { releasing.append(.installSnapshot(zxid: z, data: data)) }
        for t in fx.committed { releasing.append(.apply(t)) }
        if let s = fx.statusChanged { releasing.append(.statusChanged(s)) }
        // Decided when handed out, after this effect's status change.
        for r in fx.toPrepare { releasing.append(.prepare(r)) }
        for r in fx.refused { releasing.append(.refuse(r)) }
        for o in fx.syncsDone { releasing.append(.syncFinished(o, ok: true)) }
        for o in fx.syncsRefused { releasing.append(.syncFinished(o, ok: false)) }
        if fx.snapshotWanted { releasing.append(.snapshotWanted) }
    }

    private func injected(_ f: Fault) -> Bool {
        #if DEBUG
        return fault == f
        #else
        return false
        #endif
    }

    /// Applies what an action means to this struct when it is handed out; nil when it has none.
    private mutating func resolve(_ a: QuorumAction) -> QuorumAction? {
        switch a {
        case .statusChanged(let s):
            guard s != appStatus else { return nil }
            appStatus = s
            leaderReady = s.serving && s.role == .leading
            return a
        case .prepare(let r):
            return leaderReady ? a : .refuse(r)
        default:
            return a
        }
    }
}

/// A FIFO whose items leave in order once the storage job each one needs (0: none) is durable.
struct GatedQueue<T: Sendable>: Sendable {
    private var items = Fifo<(needs: UInt64, value: T)>(compactAfter: 1024)

    mutating func push(_ needs: UInt64, _ value: T) {
        items.append((needs, value))
    }

    mutating func popReady(durable: UInt64) -> T? {
        guard let f = items.first, f.needs <= durable else { return nil }
        return items.popFirst()?.value
    }
}
