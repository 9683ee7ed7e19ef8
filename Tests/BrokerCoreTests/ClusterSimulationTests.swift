#if canImport(Glibc)
import Glibc
#endif
import struct Protocol.SplitMix64
import Testing
@testable import BrokerCore

/// A seeded, single-threaded model of a ZooKeeper-mode cluster: coordd's partition-state znodes,
/// one (sometimes replaced) controller, and brokers whose logs (`SimDisk`: arrays, or brokerd's
/// real `PartitionLog`s on a crash-dropping memory file system) hold records that carry the
/// leader epoch they were written in. Random produces, fetches, time, broker kills/restarts, full
/// disks and controller failovers; invariants are checked after every step.
struct ClusterSim {
    struct Record: Equatable { var id: Int; var epoch: Int32 }

    /// Deliberate bugs in the replication steps, to prove the invariants catch them.
    struct Bugs {
        /// A follower never truncates by leader epoch after a leader change.
        var skipTruncation = false
    }

    struct Replica {
        var hw: Int64 = 0
        var leader: PartitionLeader?
        var following: (leader: BrokerID, epoch: Int32)?
        var knownLeaderEpoch: Int32?
        var needsTruncation = false
    }

    struct Broker {
        let disk: any SimDisk
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
    let bugs: Bugs

    func diskFull(_ id: BrokerID) -> Bool { (diskFullUntil[id] ?? Int64.min) > now }

    static let ids: [BrokerID] = [1, 2, 3, 4]
    let replication = ReplicationConfig(lagTimeMaxMs: 5_000, minInsyncReplicas: 2)

    init(seed: UInt64, bugs: Bugs = Bugs(), disk: (BrokerID) -> any SimDisk = { _ in ArrayDisk() }) {
        rng = SplitMix64(seed: seed)
        self.bugs = bugs
        for id in Self.ids { brokers[id] = Broker(disk: disk(id)) }
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
                let log = b.disk.log(tp)
                stats.elections += 1
                // Acknowledged data must be on every leader chosen from the ISR.
                let c = committed[tp] ?? []
                if log.leo < c.count || log.records(prefix: c.count) != c {
                    fail("\(tp): new leader \(id) (epoch \(p.leaderEpoch)) lacks committed data: has \(log.leo), committed \(c.count)")
                }
                log.becomeLeader(epoch: p.leaderEpoch)
                r.leader = PartitionLeader(topicPartition: tp, localBroker: id, state: p, logEndOffset: log.leo,
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
                guard var r = brokers[id]?.replicas[tp], let log = brokers[id]?.disk.log(tp) else { continue }
                r.hw = hw
                brokers[id]?.replicas[tp] = r
                let h = Int(hw)
                let c = committed[tp] ?? []
                let prefix = log.records(prefix: h)
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
              var r = brokers[id]?.replicas[tp], var l = r.leader, l.checkAppend(acks: -1) == .noError,
              let log = brokers[id]?.disk.log(tp) else { return }
        let n = 1 + random(3)
        let records = (0..<n).map { Record(id: nextRecordId + $0, epoch: l.leaderEpoch) }
        // A full disk refuses the append (KAFKA_STORAGE_ERROR); the producer retries later.
        guard log.appendAsLeader(records, epoch: l.leaderEpoch, now: now) else { return }
        nextRecordId += n
        stats.produced += n
        let fx = l.appended(logEndOffset: log.leo)
        r.leader = l
        brokers[id]?.replicas[tp] = r
        applyLeaderEffects(id, tp, fx)
    }

    mutating func fetch(_ id: BrokerID, _ tp: TopicPartition) {
        guard brokers[id]?.alive == true, var r = brokers[id]?.replicas[tp], let (lid, epoch) = r.following, lid >= 0,
              brokers[lid]?.alive == true, let lr = brokers[lid]?.replicas[tp], var l = lr.leader,
              let log = brokers[id]?.disk.log(tp), let leaderLog = brokers[lid]?.disk.log(tp) else { return }
        // Fencing: only fetch from the leader of the epoch we were told about.
        guard l.validateLeaderEpoch(epoch) == .noError else { return }
        if r.needsTruncation && !bugs.skipTruncation {
            var ask = FollowerLogic.epochToAsk(log.cache)
            var target = min(r.hw, log.leo)
            var rounds = 0
            while let e = ask, rounds < 10 {
                let answer = leaderLog.endOffset(forEpoch: e)
                let d = FollowerLogic.truncation(leaderEpoch: answer.epoch, leaderEndOffset: answer.endOffset, localCache: log.cache,
                                                 localLogEndOffset: log.leo, highWatermark: r.hw)
                target = d.truncateTo
                ask = d.completed ? nil : d.nextEpochToAsk
                rounds += 1
            }
            if target < log.leo {
                log.truncate(to: target)
                r.hw = min(r.hw, log.leo)
            }
        }
        r.needsTruncation = false
        let (err, fx) = l.followerFetched(id, fetchOffset: log.leo, nowMs: now)
        guard err == .noError else { return }
        // The fetch is answered (the leader sees where this follower is) but a full disk appends nothing.
        let take = diskFull(id) ? 0 : min(Int(leaderLog.leo - log.leo), 1 + random(4))
        if take > 0 { _ = log.replicate(from: leaderLog, count: take, now: now) }
        r.hw = max(r.hw, min(l.highWatermark, log.leo))
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
        // The process dies: a real log loses what was never fsynced and is recovered on restart.
        let recovered = b.disk.crashAndReopen(now: now)
        for (tp, var r) in b.replicas {
            r.leader = nil
            r.following = nil
            r.knownLeaderEpoch = nil
            if let hw = recovered?[tp] { r.hw = hw }
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

    /// Problems the disks found (I/O errors, logs that read back differently).
    var storageProblems: [String] {
        Self.ids.flatMap { id in (brokers[id]?.disk.problems ?? []).map { "broker \(id): \($0)" } }
    }

    mutating func checkpoint() {
        for id in Self.ids where brokers[id]?.alive == true {
            guard let b = brokers[id] else { continue }
            b.disk.checkpoint(highWatermarks: b.replicas.mapValues(\.hw))
        }
    }

    mutating func step() {
        steps += 1
        let tps = (0..<4).map { TopicPartition("t", Int32($0)) }
        if random(150) == 0 {
            let id = Self.ids[random(4)]
            diskFullUntil[id] = now + Int64(1_000 + random(20_000))
            stats.diskFull += 1
        }
        for id in Self.ids { brokers[id]?.disk.setFull(diskFull(id)) }
        let roll = random(100)
        switch roll {
        case 0..<35: produce(tps[random(4)])
        case 35..<75:
            let tp = tps[random(4)]
            for id in Self.ids { fetch(id, tp) }
        case 75..<85:
            now += Int64(200 + random(3_000))
            checkpoint()
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
    static func runSeed(_ seed: UInt64, steps: Int, bugs: ClusterSim.Bugs = .init(),
                        disk: (BrokerID) -> any SimDisk = { _ in ArrayDisk() }) -> (problems: [String], sim: ClusterSim) {
        var sim = ClusterSim(seed: seed, bugs: bugs, disk: disk)
        for _ in 0..<steps {
            sim.step()
            if !sim.failures.isEmpty || !sim.storageProblems.isEmpty { break }
        }
        // Heal: everyone back, disks emptied, plenty of fetch rounds; the cluster must make progress again.
        sim.diskFullUntil = [:]
        for id in ClusterSim.ids { sim.brokers[id]?.disk.setFull(false) }
        for id in ClusterSim.ids { sim.restart(id) }
        sim.deliverIsrNotifications()
        for _ in 0..<40 {
            for p in 0..<4 { for id in ClusterSim.ids { sim.fetch(id, TopicPartition("t", Int32(p))) } }
        }
        for id in ClusterSim.ids { sim.brokers[id]?.disk.verify() }
        // Healed replicas of one partition hold the same records.
        for p in 0..<4 {
            let tp = TopicPartition("t", Int32(p))
            let holders = ClusterSim.ids.filter { sim.brokers[$0]?.replicas[tp] != nil }
            let hw = sim.committed[tp]?.count ?? 0
            let committed = sim.committed[tp] ?? []
            for id in holders {
                guard let log = sim.brokers[id]?.disk.log(tp), log.records(prefix: hw) != committed else { continue }
                let mine = log.records(prefix: hw)
                let at = zip(mine, committed).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(mine.count, committed.count)
                sim.fail("\(tp): broker \(id) differs from the committed records at \(at) (log end \(log.leo), committed \(hw), "
                         + "following \(String(describing: sim.brokers[id]?.replicas[tp]?.following)), leader \(sim.zk[tp]?.leaderAndIsr.leader ?? -9) isr \(sim.zk[tp]?.leaderAndIsr.isr ?? []))")
            }
        }
        var problems = (sim.failures + sim.storageProblems).map { "seed \(seed): \($0)" }
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
        let steps = Soak.steps("BROKER_SIM_STEPS", default: Self.steps)
        Soak.run("broker simulation", seeds: Soak.seeds("BROKER_SIM_SEEDS", defaultCount: 100)) { seed in
            let (problems, sim) = Self.runSeed(seed, steps: steps)
            return (problems, sim.steps)
        }
    }
}
