#if canImport(Glibc)
import Glibc
#endif
import struct Protocol.SplitMix64
import Testing
@testable import BrokerCore

/// A seeded, single-threaded model of a ZooKeeper-mode cluster: coordd's partition-state znodes,
/// one (sometimes replaced) controller, and brokers with in-memory logs whose records carry the
/// leader epoch they were written in. Random produces, fetches, time, broker kills/restarts, full
/// disks and controller failovers; invariants are checked after every step.
struct ClusterSim {
    struct Record: Equatable { var id: Int; var epoch: Int32 }

    struct Replica {
        var log: [Record] = []
        var cache = LeaderEpochCache()
        var hw: Int64 = 0
        var leader: PartitionLeader?
        var following: (leader: BrokerID, epoch: Int32)?
        var knownLeaderEpoch: Int32?
        var needsTruncation = false
        var leo: Int64 { Int64(log.count) }
    }

    struct Broker {
        var alive = true
        var incarnation: Int64 = 0
        var fence = ControllerFence()
        var replicas: [TopicPartition: Replica] = [:]
    }

    var rng: SplitMix64
    var now: Int64 = 0
    var zk: [TopicPartition: ZkPartitionState] = [:]
    var zkEpochVersion: Int32 = 0
    var controllerEpoch: Int32 = 1
    var controller: Controller
    var zombie: Controller?
    var brokers: [BrokerID: Broker] = [:]
    var topics: [String: TopicAssignment] = [:]
    var nextRecordId = 0
    /// ISR change notifications reach the controller late, as through coordd's child watch.
    var pendingIsrNotifications: Set<TopicPartition> = []
    var failures: [String] = []
    // Invariant bookkeeping.
    var leaderOfEpoch: [TopicPartition: [Int32: BrokerID]] = [:]
    var committed: [TopicPartition: [Record]] = [:]
    var stats = (produced: 0, committedMax: 0, elections: 0, kills: 0, failovers: 0, conflicts: 0, diskFull: 0)
    /// A broker whose log dir is full until then: as brokerd, it refuses appends (a leader answers
    /// KAFKA_STORAGE_ERROR, a follower fetches but cannot append) and stays up.
    var diskFullUntil: [BrokerID: Int64] = [:]
    var steps = 0

    func diskFull(_ id: BrokerID) -> Bool { (diskFullUntil[id] ?? Int64.min) > now }

    static let ids: [BrokerID] = [1, 2, 3, 4]
    let replication = ReplicationConfig(lagTimeMaxMs: 5_000, minInsyncReplicas: 2)

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
        for id in Self.ids { brokers[id] = Broker() }
        controller = Controller(brokerId: 1)
        let fx = controller.handle(.becameController(context()))
        run(fx, controllerIsZombie: false)
        let assignment = try? ReplicaAssignment.assign(brokers: Self.ids.map { BrokerPlacement(id: $0) }, partitions: 4,
                                                      replicationFactor: 3, startIndex: 0, replicaShift: 1)
        topics["t"] = TopicAssignment(partitions: assignment ?? [:])
        run(controller.handle(.topicsChanged(topics)), controllerIsZombie: false)
    }

    func registrations() -> [BrokerRegistration] {
        Self.ids.filter { brokers[$0]?.alive == true }.map {
            BrokerRegistration(id: $0, endpoints: [BrokerEndpoint(host: "b\($0)", port: 9092)], timestampMs: brokers[$0]?.incarnation ?? 0)
        }
    }

    func context() -> ControllerContext {
        ControllerContext(epoch: controllerEpoch, epochZkVersion: zkEpochVersion, liveBrokers: registrations(), topics: topics, partitionStates: zk)
    }

    mutating func random(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    mutating func fail(_ msg: String) {
        if failures.count < 20 { failures.append("t=\(now): \(msg)") }
    }

    // MARK: coordd

    /// A conditional write of a partition state from any writer, checking the znode invariants.
    mutating func writeState(_ tp: TopicPartition, _ s: LeaderAndIsr, expected: Int32?) -> Int32? {
        let old = zk[tp]
        if let expected { guard old?.zkVersion == expected else { return nil } } else { guard old == nil else { return nil } }
        if s.leader >= 0 && !s.isr.contains(s.leader) { fail("\(tp): leader \(s.leader) not in ISR \(s.isr)") }
        if let o = old?.leaderAndIsr {
            if s.leaderEpoch < o.leaderEpoch { fail("\(tp): leader epoch went back \(o.leaderEpoch) -> \(s.leaderEpoch)") }
            if s.leader != o.leader && s.leaderEpoch <= o.leaderEpoch { fail("\(tp): leader changed without epoch bump") }
        }
        if s.leader >= 0 {
            if let prior = leaderOfEpoch[tp]?[s.leaderEpoch], prior != s.leader {
                fail("\(tp): two leaders (\(prior), \(s.leader)) in epoch \(s.leaderEpoch)")
            }
            leaderOfEpoch[tp, default: [:]][s.leaderEpoch] = s.leader
        }
        let v = (old?.zkVersion ?? -1) + 1
        zk[tp] = ZkPartitionState(s, zkVersion: v)
        return v
    }

    // MARK: controller effects

    mutating func run(_ effects: [ControllerEffect], controllerIsZombie: Bool, depth: Int = 0) {
        guard depth < 8 else { return }
        var failed: [(ZkOp, ZkWriteFailure)] = []
        var failedPartitions: Set<TopicPartition> = []
        for e in effects {
            guard case .zkWrite(let op, let v) = e else { continue }
            if v != zkEpochVersion {
                failed.append((op, .controllerEpochChanged))
                continue
            }
            guard let tp = ZkPaths.parsePartitionStatePath(op.path) else { continue }
            switch op {
            case .create(_, let data, _, _):
                if let s = try? LeaderAndIsr.decode(data), writeState(tp, s, expected: nil) != nil { continue }
                failed.append((op, .nodeExists)); failedPartitions.insert(tp)
            case .setData(_, let data, let expected):
                if let s = try? LeaderAndIsr.decode(data), writeState(tp, s, expected: expected) != nil { continue }
                failed.append((op, .badVersion)); failedPartitions.insert(tp)
                stats.conflicts += 1
            case .delete: break
            }
        }
        // A fenced batch still reaches brokers here, to prove their epoch fence holds.
        let deliver = Controller.removingPartitions(failedPartitions, from: effects)
        for e in deliver {
            switch e {
            case .leaderAndIsr(let to, let req): brokerHandles(to, req)
            case .updateMetadata(let to, let req):
                if brokers[to]?.alive == true { _ = brokers[to]?.fence.admit(controllerId: req.controllerId, controllerEpoch: req.controllerEpoch) }
            case .readPartitionStates(let tps):
                var read: [TopicPartition: ZkPartitionState?] = [:]
                for tp in tps { read[tp] = zk[tp] }
                let more = controllerIsZombie ? [] : controller.handle(.partitionStatesRead(read))
                run(more, controllerIsZombie: false, depth: depth + 1)
            default: break
            }
        }
        for (op, why) in failed {
            if controllerIsZombie {
                _ = zombie?.handle(.zkWriteFailed(op, why))
            } else {
                let more = controller.handle(.zkWriteFailed(op, why))
                run(more, controllerIsZombie: false, depth: depth + 1)
            }
        }
    }

    // MARK: brokers

    mutating func brokerHandles(_ id: BrokerID, _ req: LeaderAndIsrRequest) {
        guard var b = brokers[id], b.alive else { return }
        guard b.fence.admit(controllerId: req.controllerId, controllerEpoch: req.controllerEpoch) == .noError else { return }
        for p in req.partitions {
            var r = b.replicas[p.topicPartition] ?? Replica()
            guard ControllerFence.acceptPartition(currentLeaderEpoch: r.knownLeaderEpoch, requested: p.leaderEpoch) == .noError else { continue }
            r.knownLeaderEpoch = p.leaderEpoch
            if p.leader == id {
                let tp = p.topicPartition
                stats.elections += 1
                // Acknowledged data must be on every leader chosen from the ISR.
                let c = committed[tp] ?? []
                if r.log.count < c.count || Array(r.log.prefix(c.count)) != c {
                    fail("\(tp): new leader \(id) (epoch \(p.leaderEpoch)) lacks committed data: has \(r.log.count), committed \(c.count)")
                }
                r.cache.assign(epoch: p.leaderEpoch, startOffset: r.leo)
                r.leader = PartitionLeader(topicPartition: tp, localBroker: id, state: p, logEndOffset: r.leo,
                                           highWatermark: r.hw, nowMs: now, config: replication)
                r.following = nil
                r.needsTruncation = false
            } else {
                r.leader = nil
                r.following = (p.leader, p.leaderEpoch)
                r.needsTruncation = true
            }
            b.replicas[p.topicPartition] = r
        }
        brokers[id] = b
    }

    mutating func applyLeaderEffects(_ id: BrokerID, _ tp: TopicPartition, _ effects: [ReplicationEffect]) {
        for e in effects {
            switch e {
            case .updateIsr(_, let state, let expected):
                let v = writeState(tp, state, expected: expected)
                guard var r = brokers[id]?.replicas[tp], var l = r.leader else { continue }
                if let v {
                    let more = l.isrUpdateSucceeded(newZkVersion: v)
                    r.leader = l
                    brokers[id]?.replicas[tp] = r
                    applyLeaderEffects(id, tp, more)
                } else {
                    l.isrUpdateFailed()
                    r.leader = l
                    brokers[id]?.replicas[tp] = r
                }
            case .notifyIsrChange:
                pendingIsrNotifications.insert(tp)
            case .highWatermarkAdvanced(_, let hw):
                guard var r = brokers[id]?.replicas[tp] else { continue }
                r.hw = hw
                brokers[id]?.replicas[tp] = r
                let h = Int(hw)
                let c = committed[tp] ?? []
                let prefix = Array(r.log.prefix(h))
                if h >= c.count {
                    if Array(prefix.prefix(c.count)) != c { fail("\(tp): leader \(id) HW \(h) covers a log that rewrote committed data") }
                    committed[tp] = prefix
                    stats.committedMax = max(stats.committedMax, h)
                } else if Array(c.prefix(h)) != prefix {
                    fail("\(tp): leader \(id) committed prefix differs")
                }
            }
        }
    }

    mutating func produce(_ tp: TopicPartition) {
        guard let id = Self.ids.first(where: { brokers[$0]?.alive == true && brokers[$0]?.replicas[tp]?.leader != nil }),
              var r = brokers[id]?.replicas[tp], var l = r.leader, l.checkAppend(acks: -1) == .noError else { return }
        guard !diskFull(id) else { return }
        let n = 1 + random(3)
        for _ in 0..<n {
            r.log.append(Record(id: nextRecordId, epoch: l.leaderEpoch))
            nextRecordId += 1
        }
        stats.produced += n
        let fx = l.appended(logEndOffset: r.leo)
        r.leader = l
        brokers[id]?.replicas[tp] = r
        applyLeaderEffects(id, tp, fx)
    }

    mutating func fetch(_ id: BrokerID, _ tp: TopicPartition) {
        guard brokers[id]?.alive == true, var r = brokers[id]?.replicas[tp], let (lid, epoch) = r.following, lid >= 0,
              brokers[lid]?.alive == true, let lr = brokers[lid]?.replicas[tp], var l = lr.leader else { return }
        // Fencing: only fetch from the leader of the epoch we were told about.
        guard l.validateLeaderEpoch(epoch) == .noError else { return }
        if r.needsTruncation {
            var ask = FollowerLogic.epochToAsk(r.cache)
            var target = min(r.hw, r.leo)
            var rounds = 0
            while let e = ask, rounds < 10 {
                let answer = lr.cache.endOffset(for: e, logEndOffset: lr.leo)
                let d = FollowerLogic.truncation(leaderEpoch: answer.epoch, leaderEndOffset: answer.endOffset, localCache: r.cache,
                                                 localLogEndOffset: r.leo, highWatermark: r.hw)
                target = d.truncateTo
                ask = d.completed ? nil : d.nextEpochToAsk
                rounds += 1
            }
            if target < r.leo {
                r.log.removeLast(Int(r.leo - target))
                r.cache.truncate(toEndOffset: target)
                r.hw = min(r.hw, target)
            }
            r.needsTruncation = false
        }
        let (err, fx) = l.followerFetched(id, fetchOffset: r.leo, nowMs: now)
        guard err == .noError else { return }
        // The fetch is answered (the leader sees where this follower is) but a full disk appends nothing.
        let take = diskFull(id) ? 0 : min(Int(lr.leo - r.leo), 1 + random(4))
        for _ in 0..<max(0, take) {
            let rec = lr.log[Int(r.leo)]
            if rec.epoch > r.cache.latestEpoch { r.cache.assign(epoch: rec.epoch, startOffset: r.leo) }
            r.log.append(rec)
        }
        r.hw = max(r.hw, min(l.highWatermark, r.leo))
        brokers[id]?.replicas[tp] = r
        var leaderReplica = lr
        leaderReplica.leader = l
        brokers[lid]?.replicas[tp] = leaderReplica
        applyLeaderEffects(lid, tp, fx)
    }

    mutating func kill(_ id: BrokerID) {
        guard var b = brokers[id], b.alive, brokers.values.filter({ $0.alive }).count > 1 else { return }
        b.alive = false
        b.fence = ControllerFence()
        for (tp, var r) in b.replicas {
            r.leader = nil
            r.following = nil
            r.knownLeaderEpoch = nil
            b.replicas[tp] = r
        }
        brokers[id] = b
        stats.kills += 1
        run(controller.handle(.brokersChanged(registrations())), controllerIsZombie: false)
    }

    mutating func restart(_ id: BrokerID) {
        guard var b = brokers[id], !b.alive else { return }
        b.alive = true
        b.incarnation += 1
        brokers[id] = b
        run(controller.handle(.brokersChanged(registrations())), controllerIsZombie: false)
    }

    mutating func failover() {
        guard let next = Self.ids.filter({ brokers[$0]?.alive == true }).randomElement(using: &rng) else { return }
        zombie = controller
        controllerEpoch += 1
        zkEpochVersion += 1
        controller = Controller(brokerId: next)
        stats.failovers += 1
        run(controller.handle(.becameController(context())), controllerIsZombie: false)
    }

    mutating func deliverIsrNotifications() {
        var states: [TopicPartition: ZkPartitionState] = [:]
        for tp in pendingIsrNotifications { states[tp] = zk[tp] }
        pendingIsrNotifications = []
        guard !states.isEmpty else { return }
        run(controller.handle(.isrChangeNotification(notifications: [], states: states)), controllerIsZombie: false)
    }

    mutating func step() {
        steps += 1
        let tps = (0..<4).map { TopicPartition("t", Int32($0)) }
        if random(150) == 0 {
            let id = Self.ids[random(4)]
            diskFullUntil[id] = now + Int64(1_000 + random(20_000))
            stats.diskFull += 1
        }
        let roll = random(100)
        switch roll {
        case 0..<35: produce(tps[random(4)])
        case 35..<75:
            let tp = tps[random(4)]
            for id in Self.ids { fetch(id, tp) }
        case 75..<85:
            now += Int64(200 + random(3_000))
            for id in Self.ids {
                for tp in tps {
                    guard brokers[id]?.alive == true, var r = brokers[id]?.replicas[tp], var l = r.leader else { continue }
                    let fx = l.maybeShrinkIsr(nowMs: now)
                    r.leader = l
                    brokers[id]?.replicas[tp] = r
                    applyLeaderEffects(id, tp, fx)
                }
            }
        case 85..<90: kill(Self.ids[random(4)])
        case 90..<95: restart(Self.ids[random(4)])
        case 95: run(controller.handle(.preferredLeaderCheck), controllerIsZombie: false)
        case 96: deliverIsrNotifications()
        case 97: failover()
        default:
            // The deposed controller keeps acting on stale beliefs; coordd and the brokers must ignore it.
            if var z = zombie {
                let fx = z.handle(.preferredLeaderCheck) + z.handle(.brokersChanged(registrations()))
                zombie = z
                run(fx, controllerIsZombie: true)
            }
        }
    }
}


@Suite(.timeLimit(.minutes(2))) struct ClusterSimulationTests {
    /// 16 seeds × 10,000 steps in every `swift test` (~2 s); longer runs with `brokerSoak`.
    static let steps = 10_000

    /// Runs one seed, then heals; returns the problems (each naming the seed) and the simulation.
    static func runSeed(_ seed: UInt64, steps: Int) -> (problems: [String], sim: ClusterSim) {
        var sim = ClusterSim(seed: seed)
        for _ in 0..<steps {
            sim.step()
            if !sim.failures.isEmpty { break }
        }
        // Heal: everyone back, disks emptied, plenty of fetch rounds; the cluster must make progress again.
        sim.diskFullUntil = [:]
        for id in ClusterSim.ids { sim.restart(id) }
        sim.deliverIsrNotifications()
        for _ in 0..<40 {
            for p in 0..<4 { for id in ClusterSim.ids { sim.fetch(id, TopicPartition("t", Int32(p))) } }
        }
        var problems = sim.failures.map { "seed \(seed): \($0)" }
        for p in 0..<4 {
            let tp = TopicPartition("t", Int32(p))
            let s = sim.zk[tp]?.leaderAndIsr
            if s == nil || s!.leader < 0 { problems.append("seed \(seed): \(tp) has no leader after healing") }
        }
        return (problems, sim)
    }

    @Test(arguments: Array(1...16) as [UInt64])
    func randomKillsAndRestartsKeepInvariants(seed: UInt64) {
        let (problems, sim) = Self.runSeed(seed, steps: Self.steps)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(sim.stats.produced > 100 && sim.stats.committedMax > 20 && sim.stats.kills > 10 && sim.stats.conflicts > 0
                    && sim.stats.diskFull > 10, "seed \(seed): \(sim.stats)")
        if seed == 16 { print("broker simulation: seed \(seed) \(sim.steps) steps, \(sim.stats)") }
    }

    /// Offline soak: `BROKER_SIM_SEEDS=first:count [BROKER_SIM_STEPS=n] swift test --filter brokerSoak`
    /// (default 100:100 seeds of 10,000 steps), printing the seed of every failure.
    @Test(.enabled(if: getenv("BROKER_SIM_SEEDS") != nil), .timeLimit(.minutes(60)))
    func brokerSoak() {
        let spec = getenv("BROKER_SIM_SEEDS").map { String(cString: $0) } ?? ""
        let parts = spec.split(separator: ":").compactMap { UInt64($0) }
        let first = parts.first ?? 100, count = parts.count > 1 ? parts[1] : 100
        let steps = getenv("BROKER_SIM_STEPS").flatMap { Int(String(cString: $0)) } ?? Self.steps
        var failed = 0, events = 0
        for seed in first..<first + count {
            let (problems, sim) = Self.runSeed(seed, steps: steps)
            events += sim.steps
            if !problems.isEmpty {
                failed += 1
                print("broker simulation soak: FAILED \(problems[0])")
                if failed <= 3 { Issue.record("\(problems.joined(separator: "\n"))") }
            }
        }
        print("broker simulation soak: seeds \(first)..<\(first + count), \(events) steps, \(failed) failed")
        #expect(failed == 0)
    }
}
