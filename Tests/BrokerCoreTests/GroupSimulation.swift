import struct Protocol.SplitMix64
@testable import BrokerCore

/// A seeded simulation of one consumer group: the real `GroupCoordinator` behind a simulated network
/// and offsets partition, four consumers that behave like Kafka's eager consumer (join, the leader
/// assigns, sync, heartbeat, process and commit), and faults: consumers crash, pause past their
/// session timeout (zombies), leave; messages are delayed; offsets-partition appends fail or are lost
/// when the coordinator fails over to a broker that replays the partition.
///
/// Checked after every event:
/// - an acknowledged OffsetCommit is durable (in the offsets partition below its high watermark);
/// - a coordinator that replays the partition holds exactly its last durable offsets;
/// - per partition, durable commits never go back to an older generation (zombie fencing);
/// - within one generation no partition is assigned to two consumers;
/// - after the faults stop, the group settles: one generation, every partition owned once.
struct GroupSim {
    /// Runtime mistakes the checker must catch (each makes a test fail; see GroupSimulationTests).
    struct Bugs {
        /// Answer commits before their append is durable.
        var ackBeforeDurable = false
        /// Replay all but the last durable record after a failover.
        var replayDropsTail = false
        /// The old coordinator keeps serving (and appending) after a failover.
        var zombieCoordinator = false
    }

    enum Kind: Equatable { case join, sync, heartbeat, commit(id: Int), leave }
    enum Phase: Equatable { case idle, joining, syncing, stable }

    struct Member {
        var alive = true
        var incarnation = 0
        var memberId = ""
        var phase = Phase.idle
        var joinedGeneration: Int32 = -1
        var generation: Int32 = -1
        var owned: [Int32] = []
        var positions: [Int32: Int64] = [:]
        var outstanding: GroupRequestID?
        var outstandingSince: Int64 = 0
        var knownEpoch = 0
        var pausedUntil: Int64 = 0
        var lastHeartbeat: Int64 = 0
        var lastCommit: Int64 = 0
        var pendingSync: SyncGroupRequest?
    }

    enum Event {
        case request(member: Int, epoch: Int, GroupRequestID, Request)
        case response(member: Int, incarnation: Int, GroupRequestID, GroupResponse)
        case appendDone
        case tick
        case wake(member: Int, incarnation: Int)
        case fault
    }

    enum Request {
        case join(JoinGroupRequest), sync(SyncGroupRequest), heartbeat(Int32, String), commit(OffsetCommitRequest), leave(String)
    }

    struct PendingAppend {
        var records: [GroupRecord]
        var then: [PendingResponse]
        var doneAt: Int64
        var epoch: Int
        /// A group assignment whose outcome goes back to the coordinator (`groupStored`).
        var store: (groupId: String, generation: Int32)?
    }

    static let group = "g"
    static let topic = "t"
    static let partitions: [Int32] = Array(0..<8)
    static let sessionMs: Int32 = 6_000

    var rng: SplitMix64
    let bugs: Bugs
    let seed: UInt64
    var now: Int64 = 0
    var events: [(at: Int64, seq: Int, event: Event)] = []
    var seq = 0
    var faultsOn = true
    var members = Array(repeating: Member(), count: 4)
    var requestKinds: [GroupRequestID: (member: Int, incarnation: Int, kind: Kind)] = [:]
    var nextRequestId: GroupRequestID = 1
    var nextCommitId = 1

    var coordinator: GroupCoordinator
    var epoch = 0
    var zombie: (gc: GroupCoordinator, epoch: Int)?
    /// The offsets partition: `durable` is below the high watermark; `pending` awaits replication.
    var durable: [GroupRecord] = []
    var pending: [PendingAppend] = []
    var durableCommitIds: Set<Int> = []
    var lastDurableGeneration: [Int32: Int32] = [:]
    var assignmentsByGeneration: [Int32: [String: [Int32]]] = [:]

    var failures: [String] = []
    var steps = 0
    var stats = (commitsAcked: 0, failovers: 0, crashes: 0, pauses: 0, appendFailures: 0, leaves: 0)

    init(seed: UInt64, bugs: Bugs = Bugs()) {
        self.seed = seed
        self.bugs = bugs
        rng = SplitMix64(seed: seed)
        coordinator = Self.newCoordinator(seed: seed, epoch: 0)
        for i in members.indices { schedule(Int64(i) * 50, .wake(member: i, incarnation: 0)) }
        schedule(100, .tick)
        schedule(500, .fault)
    }

    static func newCoordinator(seed: UInt64, epoch: Int) -> GroupCoordinator {
        var cfg = GroupConfig()
        cfg.initialRebalanceDelayMs = 0
        return GroupCoordinator(config: cfg, idSeed: seed &* 31 &+ UInt64(epoch))
    }

    // MARK: - Random draws and the event queue

    mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &rng) }
    mutating func chance(_ p: Double) -> Bool { rng.nextUnit() < p }

    mutating func schedule(_ delay: Int64, _ e: Event) {
        seq += 1
        events.append((now + max(0, delay), seq, e))
    }

    /// Network delay: mostly a few ms, sometimes a slow link.
    mutating func netDelay() -> Int64 { Int64(faultsOn && chance(0.02) ? int(200...1_500) : int(1...15)) }

    /// Runs the earliest event; false when none is left.
    mutating func step() -> Bool {
        guard var best = events.indices.first else { return false }
        for i in events.indices.dropFirst() where (events[i].at, events[i].seq) < (events[best].at, events[best].seq) { best = i }
        let (at, _, e) = events.remove(at: best)
        now = max(now, at)
        steps += 1
        handle(e)
        return true
    }

    mutating func handle(_ e: Event) {
        switch e {
        case let .request(m, ep, rid, req): deliverRequest(member: m, epoch: ep, rid, req)
        case let .response(m, inc, rid, resp):
            guard members[m].incarnation == inc else { return }
            if members[m].pausedUntil > now { return schedule(members[m].pausedUntil - now, e) }
            receive(member: m, rid, resp)
        case .appendDone: completeAppends()
        case .tick:
            apply(coordinator.tick(nowMs: now), epoch: epoch)
            if var z = zombie { let fx = z.gc.tick(nowMs: now); zombie = z; apply(fx, epoch: z.epoch) }
            schedule(100, .tick)
        case let .wake(m, inc):
            guard members[m].incarnation == inc, members[m].alive else { return }
            if members[m].pausedUntil > now { return schedule(members[m].pausedUntil - now, e) }
            act(m)
            schedule(Int64(int(50...250)), .wake(member: m, incarnation: inc))
        case .fault:
            if faultsOn { injectFault() }
            schedule(Int64(int(200...800)), .fault)
        }
    }

    // MARK: - Faults

    mutating func injectFault() {
        let m = int(0...members.count - 1)
        switch int(0...99) {
        case 0..<6:
            if members[m].alive {
                members[m].alive = false
                members[m].incarnation += 1
                stats.crashes += 1
            } else {
                restart(m)
            }
        case 6..<12:
            members[m].pausedUntil = now + Int64(int(1_000...9_000))
            stats.pauses += 1
        case 12..<15:
            if members[m].alive, members[m].outstanding == nil, !members[m].memberId.isEmpty {
                send(m, .leave(members[m].memberId), kind: .leave)
                stats.leaves += 1
            }
        case 15..<19: failover()
        default: break
        }
    }

    mutating func restart(_ m: Int) {
        let inc = members[m].incarnation + 1
        members[m] = Member()
        members[m].incarnation = inc
        members[m].knownEpoch = epoch
        schedule(Int64(int(10...200)), .wake(member: m, incarnation: inc))
    }

    /// The offsets partition's leadership moves: the old coordinator unloads the group, appends that
    /// did not reach the high watermark are truncated, and a fresh coordinator replays the partition.
    mutating func failover() {
        stats.failovers += 1
        let old = coordinator
        let oldEpoch = epoch
        apply(coordinator.unload(partition: coordinator.partitionFor(Self.group)), epoch: epoch)
        let lost = pending.filter { $0.epoch == epoch }
        pending.removeAll { $0.epoch == epoch }
        for p in lost { for r in p.then { respond(r.requestId, Self.error(r.response, .notCoordinator)) } }
        epoch += 1
        coordinator = Self.newCoordinator(seed: seed, epoch: epoch)
        let replayed = bugs.replayDropsTail ? durable.dropLast() : durable[...]
        for r in replayed { coordinator.replay(r, nowMs: now) }
        if bugs.zombieCoordinator { zombie = (old, oldEpoch) }
        checkReplay()
    }

    // MARK: - The coordinator side

    mutating func deliverRequest(member m: Int, epoch ep: Int, _ rid: GroupRequestID, _ req: Request) {
        if ep != epoch {
            if var z = zombie, z.epoch == ep {
                let fx = call(&z.gc, rid, req)
                zombie = z
                apply(fx, epoch: ep)
            } else if let k = requestKinds[rid] {
                respond(rid, Self.error(Self.emptyResponse(k.kind), .notCoordinator))
            }
            return
        }
        let fx = call(&coordinator, rid, req)
        apply(fx, epoch: ep)
    }

    func call(_ gc: inout GroupCoordinator, _ rid: GroupRequestID, _ req: Request) -> [GroupEffect] {
        switch req {
        case .join(let r): return gc.joinGroup(r, requestId: rid, nowMs: now)
        case .sync(let r): return gc.syncGroup(r, requestId: rid, nowMs: now)
        case let .heartbeat(gen, id): return gc.heartbeat(groupId: Self.group, generationId: gen, memberId: id, requestId: rid, nowMs: now)
        case .commit(let r): return gc.commitOffsets(r, requestId: rid, nowMs: now)
        case .leave(let id): return gc.leaveGroup(groupId: Self.group, members: [LeaveGroupMember(memberId: id)], requestId: rid, nowMs: now)
        }
    }

    mutating func apply(_ effects: [GroupEffect], epoch ep: Int) {
        for e in effects {
            switch e {
            case .respond(let p):
                if case .offsetCommit(let errs) = p.response, errs.values.contains(.noError) {
                    failures.append("seed \(seed) t=\(now): commit \(p.requestId) answered noError without an append")
                }
                respond(p.requestId, p.response)
            case .append(let appends, let then):
                issueAppend(appends.flatMap { $0.records }, then: then, store: nil, epoch: ep)
            case let .storeGroup(a, groupId, generation):
                issueAppend(a.records, then: [], store: (groupId, generation), epoch: ep)
            }
        }
    }

    mutating func issueAppend(_ records: [GroupRecord], then: [PendingResponse], store: (groupId: String, generation: Int32)?, epoch ep: Int) {
        if faultsOn && chance(0.03) {
            // NOT_ENOUGH_REPLICAS on the offsets partition: nothing written, the waiters hear an error.
            stats.appendFailures += 1
            for r in then { respond(r.requestId, Self.error(r.response, .coordinatorNotAvailable)) }
            if let store { stored(store, error: .coordinatorNotAvailable, epoch: ep) }
            return
        }
        let doneAt = max(now + Int64(int(1...25)), pending.last?.doneAt ?? 0)
        pending.append(PendingAppend(records: records, then: bugs.ackBeforeDurable ? [] : then, doneAt: doneAt, epoch: ep, store: store))
        if bugs.ackBeforeDurable { for r in then { respond(r.requestId, r.response) } }
        schedule(doneAt - now, .appendDone)
    }

    /// Tells the coordinator that wrote it how a group store ended.
    mutating func stored(_ store: (groupId: String, generation: Int32), error: KafkaError?, epoch ep: Int) {
        if ep == epoch {
            apply(coordinator.groupStored(groupId: store.groupId, generation: store.generation, error: error, nowMs: now), epoch: ep)
        } else if var z = zombie, z.epoch == ep {
            let fx = z.gc.groupStored(groupId: store.groupId, generation: store.generation, error: error, nowMs: now)
            zombie = z
            apply(fx, epoch: ep)
        }
    }

    /// Appends reach the high watermark in log order.
    mutating func completeAppends() {
        while let head = pending.first, head.doneAt <= now {
            pending.removeFirst()
            for r in head.records { makeDurable(r) }
            for r in head.then { respond(r.requestId, r.response) }
            if let store = head.store { stored(store, error: nil, epoch: head.epoch) }
        }
    }

    mutating func makeDurable(_ r: GroupRecord) {
        durable.append(r)
        guard case let .offsetCommit(key, value?) = r, let (gen, id) = Self.parse(value.metadata) else { return }
        durableCommitIds.insert(id)
        let p = key.topicPartition.partition
        if let last = lastDurableGeneration[p], gen < last {
            failures.append("seed \(seed) t=\(now): \(key.topicPartition) commit of generation \(gen) became durable after one of generation \(last)")
        }
        lastDurableGeneration[p] = gen
    }

    mutating func respond(_ rid: GroupRequestID, _ r: GroupResponse) {
        guard let k = requestKinds[rid] else { return }
        schedule(netDelay(), .response(member: k.member, incarnation: k.incarnation, rid, r))
    }

    // MARK: - Checks

    /// The replayed coordinator holds exactly the last durable offset of every partition.
    mutating func checkReplay() {
        var expected: [TopicPartition: Int64] = [:]
        for r in durable {
            if case let .offsetCommit(key, value) = r { expected[key.topicPartition] = value?.offset }
        }
        let got = coordinator.fetchOffsets(groupId: Self.group, partitions: nil).filter { $0.value.offset >= 0 }.mapValues { $0.offset }
        if got != expected {
            failures.append("seed \(seed) t=\(now): replayed offsets \(got.sorted { $0.key < $1.key }) != durable \(expected.sorted { $0.key < $1.key })")
        }
    }

    mutating func recordAssignment(generation: Int32, memberId: String, owned: [Int32]) {
        var byMember = assignmentsByGeneration[generation] ?? [:]
        for (other, parts) in byMember where other != memberId {
            let both = Set(parts).intersection(owned)
            if !both.isEmpty {
                failures.append("seed \(seed) t=\(now): generation \(generation) assigns \(both.sorted()) to both \(other) and \(memberId)")
            }
        }
        byMember[memberId] = owned
        assignmentsByGeneration[generation] = byMember
    }

    // MARK: - Wire helpers

    static func metadata(generation: Int32, commitId: Int) -> String { "g\(generation) c\(commitId)" }

    static func parse(_ metadata: String) -> (Int32, Int)? {
        let parts = metadata.split(separator: " ")
        guard parts.count == 2, let g = Int32(parts[0].dropFirst()), let c = Int(parts[1].dropFirst()) else { return nil }
        return (g, c)
    }

    static func error(_ r: GroupResponse, _ e: KafkaError) -> GroupResponse {
        switch r {
        case .join(let j): return .join(.failure(e, memberId: j.memberId))
        case .sync: return .sync(SyncGroupResponse(error: e, protocolType: nil, protocolName: nil, assignment: []))
        case .heartbeat: return .heartbeat(e)
        case .leave: return .leave(LeaveGroupResponse(error: e, members: []))
        case .offsetCommit(let m): return .offsetCommit(m.mapValues { _ in e })
        case .offsetDelete(_, let m): return .offsetDelete(e, m.mapValues { _ in e })
        case .deleteGroups(let m): return .deleteGroups(m.mapValues { _ in e })
        }
    }

    static func emptyResponse(_ k: Kind) -> GroupResponse {
        switch k {
        case .join: return .join(.failure(.noError, memberId: ""))
        case .sync: return .sync(SyncGroupResponse(error: .noError, protocolType: nil, protocolName: nil, assignment: []))
        case .heartbeat: return .heartbeat(.noError)
        case .leave: return .leave(LeaveGroupResponse(error: .noError, members: []))
        case .commit: return .offsetCommit(Dictionary(uniqueKeysWithValues: partitions.map { (TopicPartition(topic, $0), KafkaError.noError) }))
        }
    }
}
