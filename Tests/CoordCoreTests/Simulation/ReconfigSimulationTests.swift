@testable import CoordCore
import Protocol
import Testing

/// Membership changes (ZooKeeper's reconfig) through the shipped pipeline: growing and
/// shrinking the ensemble, removing the leader, refusals, restarts into the new configuration,
/// and random faults around a 3 → 5 → 3 round trip.
@Suite struct ReconfigSimulationTests {
    func settle(_ sim: Simulator, among ids: [UInt64], withinMs ms: Int = 5000) -> UInt64? {
        var found: UInt64?
        _ = sim.run(upToMs: ms) {
            guard let l = sim.leader, ids.contains(l) else { return false }
            guard ids.allSatisfy({ sim.replicas[$0]?.peer?.leaderId == l && sim.isServing($0) }) else { return false }
            found = l
            return true
        }
        return found
    }

    func voters(_ sim: Simulator, _ id: UInt64) -> [UInt64] { sim.replicas[id]?.peer?.config.voters ?? [] }

    /// Writes through the leader until one is acknowledged (a write can die with a deposed leader).
    func ackedWrite(_ sim: Simulator, among ids: [UInt64], _ text: String) -> Bool {
        for attempt in 0..<4 {
            guard let l = settle(sim, among: ids) else { continue }
            let o = sim.write(via: l, "\(text)-\(attempt)")
            if sim.run(upToMs: 2000, until: { sim.isAcked(o) }) { return true }
        }
        return false
    }

    func grown(seed: UInt64) -> Simulator? {
        let sim = Simulator(servers: 3, joiners: 2, seed: seed)
        guard let leader = settle(sim, among: [1, 2, 3]) else { return nil }
        _ = sim.write(via: leader, "before")
        sim.restart(4)
        sim.restart(5)
        // Joiners follow without a vote first: the leader refuses to switch until they are synced.
        _ = sim.run(upToMs: 3000) { [4, 5].allSatisfy { sim.replicas[$0]?.peer?.leaderId == leader && sim.isServing($0) } }
        let o = sim.reconfig(via: leader, voters: [1, 2, 3, 4, 5])
        guard sim.run(upToMs: 3000, until: { sim.isAcked(o) }) else { return nil }
        _ = sim.run(upToMs: 1000) { (1...5).allSatisfy { voters(sim, $0) == [1, 2, 3, 4, 5] } }
        return sim
    }

    @Test func growingToFiveSurvivesTwoFailuresButNotThree() throws {
        let sim = try #require(grown(seed: 11), "3 → 5 did not commit")
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
        for id in UInt64(1)...5 { #expect(voters(sim, id) == [1, 2, 3, 4, 5], "server \(id)") }
        // Five voters: any two may fail (the old three alone could not survive losing two of them).
        let l = try #require(sim.leader)
        let others = [UInt64(1), 2, 3].filter { $0 != l }
        sim.crash(l)
        sim.crash(others[0])
        let rest = [UInt64(1), 2, 3, 4, 5].filter { $0 != l && $0 != others[0] }
        #expect(ackedWrite(sim, among: rest, "after-two-down"))
        sim.crash(rest[0])
        let o = sim.write(via: rest[1], "minority")
        #expect(!sim.run(upToMs: 3000, until: { sim.isAcked(o) }), "two of five committed a write")
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func shrinkingAwayTheLeaderElectsOneOfTheRest() throws {
        let sim = try #require(grown(seed: 12), "3 → 5 did not commit")
        let l = try #require(sim.leader)
        let keep = [UInt64(1), 2, 3, 4, 5].filter { $0 != l }.prefix(3).map { $0 }
        let o = sim.reconfig(via: l, voters: keep)
        #expect(sim.run(upToMs: 3000, until: { sim.isAcked(o) }), "the shrink was not acknowledged")
        let next = try #require(settle(sim, among: keep), "no leader among \(keep)")
        #expect(next != l)
        for id in keep { #expect(voters(sim, id) == keep.sorted(), "server \(id)") }
        // The removed servers stand down and never serve again.
        let removed = [UInt64(1), 2, 3, 4, 5].filter { !keep.contains($0) }
        sim.run(forMs: 2000)
        for id in removed { #expect(!sim.isServing(id), "removed server \(id) still serves") }
        // Three voters now: losing one of them leaves a quorum, which five would not have had.
        sim.crash(keep[0])
        #expect(ackedWrite(sim, among: Array(keep.dropFirst()), "after-shrink"))
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func restartedServersComeBackInTheNewConfiguration() throws {
        let sim = try #require(grown(seed: 13), "3 → 5 did not commit")
        let l = try #require(sim.leader)
        let keep: [UInt64] = [3, 4, 5]
        let o = sim.reconfig(via: l, voters: keep)
        #expect(sim.run(upToMs: 3000, until: { sim.isAcked(o) }))
        #expect(settle(sim, among: keep) != nil)
        // Everyone restarts from disk with its static config (1, 2, 3 listed): the state decides.
        for id in UInt64(1)...5 { sim.crash(id) }
        for id in UInt64(1)...5 { sim.restart(id) }
        #expect(settle(sim, among: keep) != nil, "no leader among \(keep) after restarts")
        for id in keep { #expect(voters(sim, id) == keep) }
        // A server that replayed less learns it was removed from the leader's sync.
        let learned = sim.run(upToMs: 5000) { [UInt64(1), 2].allSatisfy { sim.replicas[$0]?.peer?.removed == true } }
        #expect(learned, "servers 1 and 2 still think they vote")
        #expect(ackedWrite(sim, among: keep, "after-restart"))
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    /// After 1 and 2 are removed and gone for good, 3, 4, 5 restart with no snapshot and no
    /// replayed log: the saved configuration alone lets them elect (their zoo.cfg still lists 1, 2).
    @Test func fullRestartAfterRemovalNeedsNoRemovedServer() throws {
        let sim = try #require(grown(seed: 15), "3 → 5 did not commit")
        let l = try #require(sim.leader)
        let o = sim.reconfig(via: l, voters: [3, 4, 5])
        #expect(sim.run(upToMs: 3000, until: { sim.isAcked(o) }))
        #expect(settle(sim, among: [3, 4, 5]) != nil)
        sim.run(forMs: 500)
        for id in UInt64(1)...5 { sim.crash(id) }
        for id in UInt64(3)...5 { sim.replicas[id]!.disk.appliedMark = .zero }
        for id in UInt64(3)...5 { sim.restart(id) }
        #expect(settle(sim, among: [3, 4, 5]) != nil, "3, 4, 5 cannot elect without the removed servers\n\(sim.failureReport)")
        #expect(ackedWrite(sim, among: [3, 4, 5], "after-full-restart"))
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func refusesConcurrentChangesAndConfigurationsWithoutASyncedQuorum() throws {
        let sim = Simulator(servers: 3, joiners: 2, seed: 14)
        let l = try #require(settle(sim, among: [1, 2, 3]))
        let peer = try #require(sim.replicas[l]?.peer)
        // 4 and 5 are not running: a configuration needing them cannot get a quorum.
        #expect(peer.reconfigRefusal(QuorumMembership(voters: [l, 4, 5])) == .newConfigNoQuorum)
        #expect(peer.reconfigRefusal(QuorumMembership(voters: [1, 2, 3, 4, 5])) == nil, "3 of 5 are synced")
        #expect(peer.reconfigRefusal(QuorumMembership(voters: [])) == .invalid)
        #expect(peer.reconfigRefusal(QuorumMembership(voters: [1, 2], observers: [2])) == .invalid)
        let follower = try #require([UInt64(1), 2, 3].first { $0 != l })
        #expect(sim.replicas[follower]?.peer?.reconfigRefusal(QuorumMembership(voters: [1, 2])) == .notLeader)
        // Partition the leader's followers off: its change is proposed but cannot commit, so the
        // next one is refused as in progress.
        sim.partition([[l], [1, 2, 3].filter { $0 != l }])
        let o = sim.reconfig(via: l, voters: [1, 2, 3].filter { $0 != follower })
        sim.run(forMs: 20)
        if sim.replicas[l]?.peer?.currentStatus.serving == true {
            #expect(sim.replicas[l]?.peer?.reconfigRefusal(QuorumMembership(voters: [1, 2, 3])) == .inProgress)
        }
        #expect(!sim.isAcked(o))
        sim.heal()
        #expect(settle(sim, among: [1, 2, 3].filter { $0 != follower }) != nil)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    /// Random crashes, restarts, partitions and drops while the ensemble grows 3 → 5 and shrinks
    /// back to three other servers; safety is checked after every event.
    @Test(arguments: 0..<4)
    func randomFaultsAroundARoundTrip(chunk: Int) {
        var duringFaults = 0
        for i in 0..<25 {
            let seed = UInt64(70_000 + chunk * 25 + i)
            if let failure = Self.roundTrip(seed: seed, reconfigsUnderFaults: &duringFaults) {
                Issue.record("\(failure)")
                return
            }
        }
        // Most changes must happen while the faults run, or this proves little.
        #expect(duringFaults >= 25, "only \(duringFaults) reconfigs committed under faults")
    }

    static func roundTrip(seed: UInt64, reconfigsUnderFaults: inout Int) -> String? {
        var options = SimOptions()
        var pick = SimRandom(seed: seed)
        options.maxDelayMs = pick.int(2...20)
        options.dropRate = pick.chance(0.5) ? Double(pick.int(1...10)) / 1000 : 0
        options.leaderDiskMaxMs = pick.int(0...30)
        let sim = Simulator(servers: 3, joiners: 2, seed: seed, options: options)
        var rng = SimRandom(seed: seed &* 17 &+ 3)
        var targets: [[UInt64]] = [[1, 2, 3, 4, 5], [2, 4, 5]]
        sim.restart(4)
        sim.restart(5)
        for step in 0..<8000 {
            let live = sim.ids.filter { sim.replicas[$0]!.isUp }
            let down = sim.ids.filter { !sim.replicas[$0]!.isUp }
            if rng.chance(0.05), let id = live.randomElement(using: &rng) { sim.write(via: id, "r\(seed)-\(step)") }
            if step % 200 == 100, let target = targets.first, let l = sim.leader {
                if sim.replicas[l]?.peer?.reconfigRefusal(QuorumMembership(voters: target)) == nil {
                    sim.reconfig(via: l, voters: target)
                }
            }
            if let target = targets.first, sim.committedVoters == target {
                targets.removeFirst()
                reconfigsUnderFaults += 1
            }
            if rng.chance(0.002), let id = live.randomElement(using: &rng) { sim.crash(id) }
            if rng.chance(0.01), let id = down.randomElement(using: &rng) { sim.restart(id) }
            if rng.chance(0.0015) {
                let shuffled = sim.ids.shuffled(using: &rng)
                let cut = rng.int(1...shuffled.count - 1)
                sim.partition([Array(shuffled[..<cut]), Array(shuffled[cut...])])
            }
            if rng.chance(0.004), sim.groups != nil { sim.heal() }
            if rng.chance(0.003), let id = live.randomElement(using: &rng) { sim.snapshot(id) }
            if !sim.step() { break }
            if !sim.checker.violations.isEmpty { return "seed \(seed): safety violated\n" + sim.failureReport }
        }
        // Faults stop: finish the round trip, then the final voters must converge.
        sim.heal()
        sim.options.dropRate = 0
        for id in sim.ids { sim.restart(id) }
        for target in targets {
            var done = false
            for _ in 0..<5 where !done {
                _ = sim.run(upToMs: 5000) { sim.leader != nil }
                guard let l = sim.leader else { continue }
                if sim.replicas[l]?.peer?.reconfigRefusal(QuorumMembership(voters: target)) == nil {
                    sim.reconfig(via: l, voters: target)
                }
                done = sim.run(upToMs: 3000) { sim.committedVoters == target }
            }
            if !done { return "seed \(seed): reconfig to \(target) never committed\n" + sim.failureReport }
        }
        let final: [UInt64] = [2, 4, 5]
        var acked = false
        for attempt in 0..<5 where !acked {
            _ = sim.run(upToMs: 5000) { sim.leader.map { final.contains($0) } ?? false }
            guard let l = sim.leader else { continue }
            let o = sim.write(via: l, "final\(attempt)")
            acked = sim.run(upToMs: 2000) { sim.isAcked(o) }
        }
        let converged = acked && sim.run(upToMs: 5000) {
            final.allSatisfy { sim.applied($0).count == sim.checker.history.count }
        }
        if !converged { return "seed \(seed): final voters did not converge\n" + sim.failureReport }
        if let stray = [UInt64(1), 3].first(where: { sim.isServing($0) }) {
            return "seed \(seed): removed server \(stray) serves\n" + sim.failureReport
        }
        return sim.checker.violations.isEmpty ? nil : "seed \(seed): safety violated\n" + sim.failureReport
    }
}
