@testable import CoordCore
import Protocol

/// Knobs of the simulated network and fault injection.
struct SimOptions {
    var tickMs = 50
    var minDelayMs = 1
    var maxDelayMs = 4
    var dropRate = 0.0
    /// Chance a message ignores its link's FIFO order (delivered late).
    var reorderRate = 0.0
    /// A leader's storage job becomes durable after up to this long (0: at once); its new
    /// proposals leave before that, as the runtime sends them.
    var leaderDiskMaxMs = 0
    /// Every server's storage is that slow, not only the leader's (the runtime's group commit
    /// makes all of them asynchronous; messages other than new proposals wait for it).
    var allDisksSlow = false
    var configure: (inout QuorumConfig) -> Void = { _ in }
    #if DEBUG
    /// A gating rule every pipeline breaks (tests that show the invariants catch it).
    var fault: QuorumPipeline.Fault?
    #endif
}

/// A seeded discrete-event simulation of an ensemble: ticks, links with delay/drop/partition,
/// crash/restart, clients. Each server runs the runtime's own `QuorumPipeline`; the simulator
/// only carries out its actions (persist, send, apply) and checks the safety invariants after
/// every event.
final class Simulator {
    enum Event {
        case tick(UInt64, incarnation: Int)
        case deliver(from: UInt64, fromInc: Int, to: UInt64, toInc: Int, QuorumMessage)
        case diskDone(UInt64, incarnation: Int, job: UInt64)
    }

    var rng: SimRandom
    var options: SimOptions
    let ids: [UInt64]
    var replicas: [UInt64: SimReplica] = [:]
    var now = 0
    var events = EventHeap<Event>()
    var linkClock: [UInt64: Int] = [:]
    /// Servers in different groups cannot talk; nil means no partition.
    var groups: [UInt64: Int]?
    var checker = InvariantChecker()
    var steps = 0
    var nextXid: Int32 = 0
    var submitted: [RequestOrigin: [UInt8]] = [:]
    var refused = 0
    var syncsDone: [RequestOrigin] = []
    var trace: [String] = []
    /// SIGSTOP: a paused server handles nothing before this time; its events wait for it.
    var pausedUntil: [UInt64: Int] = [:]
    /// When each server last fed a tick, to feed the elapsed ticks as the runtime does.
    var lastTick: [UInt64: Int] = [:]
    /// A failing disk (full, or fsync errors) until this time: see Simulator+DiskFaults.
    var diskFaultUntil: [UInt64: Int] = [:]
    /// Storage failures that stopped a server, and disks replaced with empty ones.
    var diskFailures = 0
    var disksReplaced = 0

    /// Voters are 1...servers; `observers` more ids follow them, then `joiners`.
    let observerIds: [UInt64]
    /// Servers outside the first configuration, not started: booted, each lists the voters and
    /// itself, and follows without a vote until a reconfig adds it.
    let joinerIds: [UInt64]
    let staticVoters: [UInt64]
    /// The voters of the newest committed configuration (the durability check counts them).
    var committedVoters: [UInt64]
    /// INFORM messages sent to observers (committed txns; they never get live proposals).
    var informsToObservers = 0
    /// PROPOSALs sent to observers: only a sync's DIFF carries them.
    var proposalsToObservers = 0

    init(servers: Int, observers: Int = 0, joiners: Int = 0, seed: UInt64, options: SimOptions = SimOptions()) {
        rng = SimRandom(seed: seed)
        self.options = options
        ids = (1...UInt64(servers + observers + joiners)).map { $0 }
        staticVoters = Array(ids.prefix(servers))
        committedVoters = staticVoters
        observerIds = Array(ids.dropFirst(servers).prefix(observers))
        joinerIds = Array(ids.suffix(joiners))
        for id in ids {
            replicas[id] = SimReplica(id: id)
            if !joinerIds.contains(id) { boot(id) }
        }
    }

    func config(for id: UInt64) -> QuorumConfig {
        let voters = joinerIds.contains(id) ? staticVoters + [id] : staticVoters
        var c = QuorumConfig(serverId: id, voters: voters, observers: observerIds)
        options.configure(&c)
        return c
    }

    func note(_ s: String) {
        trace.append("[\(now)ms] " + s)
        if trace.count > 400 { trace.removeFirst(100) }
    }

    // MARK: Processes

    func boot(_ id: UInt64) {
        guard let r = replicas[id] else { return }
        r.incarnation += 1
        lastTick[id] = nil
        r.app.applied = (try? SimApp.decode(r.disk.snapshotData)) ?? []
        var restore = QuorumRestore(epochs: r.disk.epochs, snapshotZxid: r.disk.snapshotZxid, log: r.disk.log)
        if rng.chance(0.5), r.disk.appliedMark > r.disk.snapshotZxid {
            // Replay the log up to the saved mark, as a runtime may to serve reads sooner.
            let replay = r.disk.log.filter { $0.zxid <= r.disk.appliedMark }
            r.app.applied += replay
            restore.appliedZxid = r.app.lastZxid
            checker.installed(id, r.app.applied)
        }
        // Like coordd's /zookeeper/config: the state holds the configuration it was committed with.
        // The newer of the saved configuration and the state's, as coordd's recovery picks.
        for (m, z) in [r.disk.membership, SimApp.membership(of: r.app.applied)].compactMap({ $0 }) where z > restore.membershipZxid {
            restore.membership = m
            restore.membershipZxid = z
        }
        do {
            r.pipeline = QuorumPipeline(peer: try QuorumPeer(config: config(for: id), restore: restore, incarnation: rng.next()))
            #if DEBUG
            r.pipeline?.fault = options.fault
            #endif
        } catch {
            checker.fail("server \(id) failed to restart: \(error)")
            return
        }
        note("boot \(id) last=\(r.disk.lastZxid) epochs=\(r.disk.epochs)")
        events.push(now + rng.int(0...options.tickMs - 1), .tick(id, incarnation: r.incarnation))
        run(id) { $0.start() }
    }

    func crash(_ id: UInt64) {
        guard let r = replicas[id], r.isUp else { return }
        note("crash \(id)")
        // Writes still in flight: the disk may have taken any prefix, the last one possibly torn.
        let pending = r.jobs.flatMap(\.ops)
        if !pending.isEmpty {
            let keep = rng.int(0...pending.count)
            for op in pending.prefix(keep) { persist(op, on: r) }
            if keep < pending.count, case .appendLog(let txns) = pending[keep] {
                persist(.appendLog(Array(txns.prefix(rng.int(0...txns.count)))), on: r)
            }
            note("crash \(id) lost \(pending.count - keep) of \(pending.count) pending storage ops")
        }
        r.resetPipeline()
        if rng.chance(0.7) { r.disk.appliedMark = r.app.lastZxid }
        r.pipeline = nil
        r.app = SimApp()
        r.crashMidStep = false
    }

    /// Pauses a server for `ms` (like SIGSTOP then SIGCONT): messages to it queue up, its clock
    /// runs on, and on resume it catches up on the ticks that passed before acting on anything.
    func pause(_ id: UInt64, forMs ms: Int) {
        note("pause \(id) for \(ms) ms")
        pausedUntil[id] = now + ms
    }

    /// The runtime's catch-up: feed the ticks that passed since the last one, if any are due.
    func catchUp(_ id: UInt64) {
        guard let last = lastTick[id], now - last > options.tickMs else { return }
        lastTick[id] = now
        let elapsed = UInt64((now - last) / options.tickMs)
        run(id) { $0.tick(elapsed: elapsed) }
    }

    func restart(_ id: UInt64) {
        guard let r = replicas[id], !r.isUp else { return }
        boot(id)
    }

    func partition(_ parts: [[UInt64]]) {
        var g: [UInt64: Int] = [:]
        for (i, part) in parts.enumerated() { for id in part { g[id] = i } }
        groups = g
        note("partition \(parts)")
    }

    func heal() {
        groups = nil
        note("heal")
    }

    func connected(_ a: UInt64, _ b: UInt64) -> Bool {
        guard let g = groups else { return true }
        return g[a] == g[b]
    }

    // MARK: Running the runtime contract

    /// Feeds one input to a live replica's pipeline (the runtime's, unchanged) and carries out
    /// what it hands out.
    func run(_ id: UInt64, _ input: (inout QuorumPipeline) -> Void) {
        guard let r = replicas[id], r.pipeline != nil else { return }
        input(&r.pipeline!)
        pump(r)
    }

    /// Plays QuorumRuntime's part: every action, until the pipeline has nothing ready. Actions
    /// that feed the pipeline again (prepare, snapshot) are picked up by this same loop.
    func pump(_ r: SimReplica) {
        guard !r.pumping else { return }
        r.pumping = true
        defer { r.pumping = false }
        if r.crashMidStep {
            // This input's writes join those in flight; the crash keeps a random part of them and
            // nothing of this input is sent or acknowledged.
            while let a = r.pipeline?.nextAction() {
                if case .store(let job, let ops) = a { r.jobs.append((job, ops, false)) }
            }
            crash(r.id)
            return
        }
        while r.isUp, let a = r.pipeline?.nextAction() { perform(a, on: r) }
    }

    func perform(_ action: QuorumAction, on r: SimReplica) {
        switch action {
        case .store(let job, let ops):
            if diskFailing(r.id) {
                failStorage(r, job: job, ops)
                return
            }
            let leading = r.peer?.currentStatus.role == .leading
            let slow = (leading || options.allDisksSlow) && options.leaderDiskMaxMs > 0
            let delay = slow ? rng.int(0...options.leaderDiskMaxMs) : 0
            r.jobs.append((job, ops, delay == 0 && !r.diskHeld))
            if delay > 0 && !r.diskHeld { events.push(now + delay, .diskDone(r.id, incarnation: r.incarnation, job: job)) }
            drainDisk(r)
        case .send(let to, let m):
            if observerIds.contains(r.id), case .session(_, _, .ack) = m { checker.fail("observer \(r.id) acked a proposal") }
            if observerIds.contains(to), case .session(_, _, .inform) = m { informsToObservers += 1 }
            if observerIds.contains(to), case .session(_, _, .proposal) = m { proposalsToObservers += 1 }
            send(from: r, to: to, m)
        case .peerStatus:
            break
        case .installSnapshot(let z, let data):
            do {
                r.app.applied = try SimApp.decode(data)
                checker.installed(r.id, r.app.applied)
                if r.app.lastZxid != z { checker.fail("snapshot at \(z) holds state up to \(r.app.lastZxid)") }
            } catch {
                checker.fail("server \(r.id) got an undecodable snapshot")
            }
        case .apply(let txn):
            // A leader may apply an entry the followers made durable before its own write did, crash
            // with it lost, and apply it again from the next leader: only the first answers.
            var answered = txn
            if let o = txn.origin, o.server == r.id, r.waiting.remove(o) == nil { answered.origin = nil }
            if r.app.applied.count == checker.history.count { checkDurableQuorum(txn, firstAppliedBy: r.id) }
            checker.applied(r.id, answered, position: r.app.applied.count)
            r.app.applied.append(txn)
        case .statusChanged(let s):
            let why = s.role == .looking ? " (\(r.peer?.lastElectionReason ?? ""))" : ""
            note("server \(r.id) -> \(s.role) serving=\(s.serving) epoch=\(s.epoch)" + why)
            if s.serving, s.role == .leading, let c = r.peer?.config, !c.voters.contains(r.id) {
                checker.fail("server \(r.id) leads but is not a voter of its configuration \(c.voters)")
            }
            if s.serving, s.role == .leading {
                checker.leaderServing(r.id, epoch: s.epoch, appliedCount: r.app.applied.count)
            }
        case .prepare(let req):
            // "Prep" here is the identity: the transaction is the request bytes.
            let z = r.pipeline?.propose(req.data, origin: req.origin)
            note("server \(r.id) proposes \(z?.description ?? "nothing") for \(req.origin.xid)")
        case .refuse:
            refused += 1
        case .syncFinished(let o, let ok):
            if ok { syncsDone.append(o) }
        case .snapshotWanted:
            r.pipeline?.snapshotTaken(at: r.app.lastZxid, data: SimApp.encode(r.app.applied))
        }
    }

    /// The moment an entry is first applied it is committed: a quorum must hold it on disk by then,
    /// or crashes could take it back. Catches any message or local ack that overtook its fsync.
    /// Only voters' copies count (observers and joiners never make a quorum): those of the newest
    /// committed configuration, and for a reconfig those of the configuration it brings too.
    func checkDurableQuorum(_ txn: QuorumTxn, firstAppliedBy id: UInt64) {
        let z = txn.zxid
        let next = QuorumMembership.decode(txnData: txn.data)?.membership
        for voters in [committedVoters] + (next.map { [$0.voters] } ?? []) {
            let copies = voters.filter { other in
                guard let d = replicas[other]?.disk else { return false }
                return d.snapshotZxid >= z || d.log.last(where: { $0.zxid <= z })?.zxid == z
            }
            if copies.count < voters.count / 2 + 1 {
                checker.fail("server \(id) applied \(z) while only \(copies) of voters \(voters) hold it durably")
            }
        }
        if let next { committedVoters = next.voters }
    }

    /// Completes storage jobs in order up to the first unfinished one and reports them durable.
    func drainDisk(_ r: SimReplica) {
        var durable: UInt64?
        while let j = r.jobs.first, j.done {
            r.jobs.removeFirst()
            for op in j.ops { persist(op, on: r) }
            durable = j.id
        }
        if let durable, r.isUp {
            r.pipeline?.durable(through: durable)
            pump(r)
        }
    }

    func diskDone(_ r: SimReplica, job: UInt64) {
        guard let i = r.jobs.firstIndex(where: { $0.id == job }) else { return }
        r.jobs[i].done = true
        drainDisk(r)
    }

    /// Lets a held disk finish everything queued on it.
    func releaseDisk(_ id: UInt64) {
        guard let r = replicas[id] else { return }
        r.diskHeld = false
        for i in r.jobs.indices { r.jobs[i].done = true }
        drainDisk(r)
    }

    func persist(_ op: StorageOp, on r: SimReplica) {
        switch op {
        case .saveEpochs(let e):
            let old = r.disk.epochs
            if e.acceptedEpoch < old.acceptedEpoch || e.currentEpoch < old.currentEpoch {
                checker.fail("server \(r.id) epochs went backwards: \(old) -> \(e)")
            }
            r.disk.epochs = e
        case .truncateLog(let z):
            let removed = r.disk.log.filter { $0.zxid > z }
            checker.logTruncated(r.id, removed)
            r.disk.log.removeAll { $0.zxid > z }
            if !removed.isEmpty {
                r.truncations += 1
                note("server \(r.id) truncated \(removed.count) after \(z)")
            }
        case .appendLog(let txns):
            for t in txns {
                checker.logAppend(r.id, t, after: r.disk.lastZxid)
                r.disk.log.append(QuorumTxn(zxid: t.zxid, data: t.data))
            }
        case .installSnapshot(let z, let data):
            note("server \(r.id) installs snapshot at \(z)")
            r.snapshotsInstalled += 1
            r.disk.snapshotZxid = z
            r.disk.snapshotData = data
            r.disk.log = []
        case .saveMembership(let m, let z):
            r.disk.membership = (m, z)
        }
    }

    func send(from r: SimReplica, to id: UInt64, _ m: QuorumMessage) {
        guard let to = replicas[id] else { return }
        if rng.chance(options.dropRate) { return }
        // Round-trip through the wire codec so every simulated message exercises it.
        guard let decoded = try? QuorumCodec.decode(QuorumCodec.encode(m)), decoded == m else {
            checker.fail("codec round trip failed for \(m)")
            return
        }
        var at = now + rng.int(options.minDelayMs...options.maxDelayMs)
        let link = r.id << 32 | id
        if rng.chance(options.reorderRate) {
            at += rng.int(1...options.tickMs)
        } else {
            at = max(at, linkClock[link] ?? 0)
            linkClock[link] = at
        }
        events.push(at, .deliver(from: r.id, fromInc: r.incarnation, to: id, toInc: to.incarnation, decoded))
    }

    // MARK: Stepping

    /// Processes the next event; false when nothing is scheduled.
    @discardableResult
    func step() -> Bool {
        guard let (time, event) = events.pop() else { return false }
        now = max(now, time)
        steps += 1
        let target: UInt64
        switch event {
        case .tick(let id, _), .diskDone(let id, _, _): target = id
        case .deliver(_, _, let to, _, _): target = to
        }
        if let until = pausedUntil[target] {
            if now < until {
                events.push(until, event)
                return true
            }
            pausedUntil[target] = nil
        }
        switch event {
        case .tick(let id, let inc):
            guard let r = replicas[id], r.isUp, r.incarnation == inc else { return true }
            events.push(now + options.tickMs, .tick(id, incarnation: inc))
            let elapsed = UInt64(max(1, (now - (lastTick[id] ?? now)) / options.tickMs))
            lastTick[id] = now
            run(id) { $0.tick(elapsed: elapsed) }
        case .deliver(let from, let fromInc, let to, let toInc, let message):
            guard let s = replicas[from], let r = replicas[to], r.isUp,
                  s.incarnation == fromInc, r.incarnation == toInc, connected(from, to) else { return true }
            catchUp(to)
            run(to) { $0.receive(from: from, message) }
        case .diskDone(let id, let inc, let job):
            guard let r = replicas[id], r.isUp, r.incarnation == inc else { return true }
            diskDone(r, job: job)
        }
        return true
    }

    func run(forMs ms: Int) {
        let end = now + ms
        while let t = events.nextTime, t <= end { step() }
        now = max(now, end)
    }

    /// Runs until `condition` holds, at most `ms` simulated milliseconds; returns whether it held.
    func run(upToMs ms: Int, until condition: () -> Bool) -> Bool {
        let end = now + ms
        while !condition() {
            guard let t = events.nextTime, t <= end else { return condition() }
            step()
        }
        return true
    }

    // MARK: Clients and observation

    /// A client write through server `id`; returns its origin to look up later.
    @discardableResult
    func write(via id: UInt64, _ text: String) -> RequestOrigin { write(via: id, data: Array(text.utf8)) }

    /// A membership change through server `id` (its bytes are what coordd's reconfig preps).
    @discardableResult
    func reconfig(via id: UInt64, voters: [UInt64], observers: [UInt64] = []) -> RequestOrigin {
        write(via: id, data: QuorumMembership(voters: voters, observers: observers).txnData(payload: Array("cfg".utf8)))
    }

    @discardableResult
    func write(via id: UInt64, data: [UInt8]) -> RequestOrigin {
        nextXid += 1
        let origin = RequestOrigin(server: id, session: Int64(id), xid: nextXid)
        submitted[origin] = data
        replicas[id]?.waiting.insert(origin)
        run(id) { $0.submit(ClientRequest(origin: origin, data: data)) }
        return origin
    }

    func sync(via id: UInt64, xid: Int32) {
        run(id) { $0.sync(RequestOrigin(server: id, session: -1, xid: xid)) }
    }

    /// Takes a snapshot at a live server and compacts its log, as a runtime would periodically.
    func snapshot(_ id: UInt64) {
        // The runtime snapshots on its storage thread, after the writes queued before it.
        guard let r = replicas[id], let peer = r.peer, r.jobs.isEmpty, !diskFailing(id) else { return }
        let z = r.app.lastZxid
        guard z == peer.commitZxid else { return }
        r.disk.snapshotZxid = z
        r.disk.snapshotData = SimApp.encode(r.app.applied)
        r.disk.log.removeAll { $0.zxid <= z }
        r.pipeline!.compactLog(through: z)
    }

    var servingLeaders: [UInt64] {
        ids.filter { id in
            guard let s = replicas[id]?.peer?.currentStatus else { return false }
            return s.role == .leading && s.serving
        }
    }

    var leader: UInt64? { servingLeaders.count == 1 ? servingLeaders[0] : nil }

    func isServing(_ id: UInt64) -> Bool { replicas[id]?.peer?.currentStatus.serving ?? false }

    func isAcked(_ origin: RequestOrigin) -> Bool { checker.acked[origin] != nil }

    func applied(_ id: UInt64) -> [QuorumTxn] { replicas[id]?.app.applied ?? [] }

    var failureReport: String {
        (checker.violations + ["--- last events ---"] + trace.suffix(60)).joined(separator: "\n")
    }
}
