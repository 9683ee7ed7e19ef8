@testable import CoordCore
import Protocol
import Testing

/// Observers: non-voting members that learn committed transactions and serve clients.
@Suite struct ObserverSimulationTests {
    func settle(_ sim: Simulator, withinMs ms: Int = 3000) -> Bool {
        sim.run(upToMs: ms) {
            guard let l = sim.leader else { return false }
            return sim.ids.allSatisfy { id in
                guard let p = sim.replicas[id]?.peer else { return true }
                return p.currentStatus.serving && p.leaderId == l
            }
        }
    }

    func writeAndWait(_ sim: Simulator, via id: UInt64, _ text: String, withinMs ms: Int = 2000) -> Bool {
        let origin = sim.write(via: id, text)
        return sim.run(upToMs: ms) { sim.isAcked(origin) }
    }

    func converged(_ sim: Simulator, _ ids: [UInt64], withinMs ms: Int = 2000) -> Bool {
        sim.run(upToMs: ms) {
            ids.allSatisfy { sim.applied($0).map(\.zxid) == sim.checker.history.map(\.zxid) }
        }
    }

    @Test func quorumSizeCountsVotersOnly() throws {
        let c = QuorumConfig(serverId: 4, voters: [1, 2, 3], observers: [4, 5])
        #expect(c.quorumSize == 2)
        #expect(c.isObserver && !QuorumConfig(serverId: 1, voters: [1, 2, 3], observers: [4, 5]).isObserver)
        try c.validate()
        #expect(throws: QuorumError.self) { try QuorumConfig(serverId: 1, voters: [1, 2, 3], observers: [3]).validate() }
        #expect(throws: QuorumError.self) { try QuorumConfig(serverId: 6, voters: [1, 2, 3], observers: [4]).validate() }
        #expect(throws: QuorumError.self) { try QuorumConfig(serverId: 4, voters: [], observers: [4]).validate() }
    }

    @Test func electionsIgnoreObserversVotesAndReports() throws {
        var c = QuorumConfig(serverId: 1, voters: [1, 2, 3], observers: [4, 5])
        c.settleTicks = 0
        var p = try QuorumPeer(config: c, restore: QuorumRestore(), incarnation: 7)
        let start = p.start()
        // A voter tells observers too, so they can learn the leader.
        #expect(Set(start.messages.map(\.to)) == [2, 3, 4, 5])
        let forMe = Vote(leader: 1, zxid: .zero, epoch: 0)
        let answer = p.receive(from: 4, .election(ElectionNotification(round: 1, state: .looking, vote: forMe)))
        #expect(answer.messages.map(\.to) == [4], "an observer asking gets our state back")
        _ = p.receive(from: 5, .election(ElectionNotification(round: 1, state: .looking, vote: forMe)))
        // Observers claiming a leader is established must not make us follow it either.
        let v4 = Vote(leader: 4, zxid: .zero, epoch: 0)
        _ = p.receive(from: 4, .election(ElectionNotification(round: 1, state: .leading, vote: v4)))
        _ = p.receive(from: 5, .election(ElectionNotification(round: 1, state: .following, vote: v4)))
        for _ in 0..<5 { _ = p.tick() }
        #expect(p.currentStatus.role == .looking, "two observer votes plus ours made a quorum")
        // One voter agreeing is a quorum (2 of 3).
        _ = p.receive(from: 2, .election(ElectionNotification(round: 1, state: .looking, vote: forMe)))
        #expect(p.currentStatus.role == .leading)
    }

    @Test func anObserverNeverDecidesAnElectionItself() throws {
        let c = QuorumConfig(serverId: 4, voters: [1], observers: [4])
        var p = try QuorumPeer(config: c, restore: QuorumRestore(), incarnation: 9)
        let fx = p.start()
        #expect(fx.messages.map(\.to) == [1])
        for _ in 0..<10 { _ = p.tick() }
        #expect(p.currentStatus.role == .looking)
        // A voter reporting itself leading (a quorum of one) is followed.
        let v1 = Vote(leader: 1, zxid: .zero, epoch: 0)
        _ = p.receive(from: 1, .election(ElectionNotification(round: 3, state: .leading, vote: v1)))
        #expect(p.currentStatus.role == .following(leader: 1))
    }

    @Test func observersLearnTheLeaderAndWritesThroughThemCommitEverywhere() {
        let sim = Simulator(servers: 3, observers: 2, seed: 11)
        #expect(settle(sim))
        #expect(sim.leader.map { $0 <= 3 } == true, "an observer leads")
        #expect(writeAndWait(sim, via: 4, "via-observer"))
        #expect(writeAndWait(sim, via: 5, "via-observer-2"))
        #expect(writeAndWait(sim, via: 1, "via-voter"))
        #expect(converged(sim, sim.ids))
        // Observers learned the three writes as INFORMs (one per observer and write).
        #expect(sim.informsToObservers >= 6)
        #expect(sim.proposalsToObservers == 0, "observers got live proposals (their sync had nothing to diff)")
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func observersAcksNeverMakeAQuorum() {
        let sim = Simulator(servers: 3, observers: 2, seed: 12)
        #expect(settle(sim))
        guard let leader = sim.leader else { return }
        for id: UInt64 in [1, 2, 3] where id != leader { sim.crash(id) }
        let stranded = sim.write(via: leader, "no-quorum")
        #expect(!sim.run(upToMs: 2000) { sim.isAcked(stranded) }, "committed with only observers acking")
        #expect(sim.servingLeaders.isEmpty, "a leader with only observers kept serving")
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func losingObserversOrOneVoterKeepsWriting() {
        let sim = Simulator(servers: 3, observers: 2, seed: 13)
        #expect(settle(sim))
        sim.crash(4)
        sim.crash(5)
        #expect(writeAndWait(sim, via: sim.leader ?? 1, "no-observers", withinMs: 3000))
        sim.restart(4)
        sim.restart(5)
        #expect(settle(sim))
        guard let leader = sim.leader else { return }
        let voter: UInt64 = [1, 2, 3].first { $0 != leader } ?? 1
        sim.crash(voter)
        #expect(writeAndWait(sim, via: 4, "one-voter-down", withinMs: 3000))
        #expect(converged(sim, sim.ids.filter { $0 != voter }))
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func restartedObserverCatchesUpByDiffAndBySnapshot() {
        var options = SimOptions()
        options.configure = { $0.maxDiffEntries = 5 }
        let sim = Simulator(servers: 3, observers: 1, seed: 14, options: options)
        #expect(settle(sim))
        sim.crash(4)
        for i in 0..<3 { #expect(writeAndWait(sim, via: 1, "diff-\(i)")) }
        sim.restart(4)
        #expect(settle(sim))
        #expect(converged(sim, [4]))
        sim.crash(4)
        for i in 0..<20 { #expect(writeAndWait(sim, via: 2, "snap-\(i)")) }
        if let l = sim.leader { sim.snapshot(l) }
        sim.restart(4)
        #expect(settle(sim))
        #expect(converged(sim, [4]))
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func leaderFailoverWithObservers() {
        let sim = Simulator(servers: 3, observers: 2, seed: 15)
        #expect(settle(sim))
        #expect(writeAndWait(sim, via: 4, "before"))
        if let l = sim.leader { sim.crash(l) }
        #expect(settle(sim, withinMs: 5000))
        #expect(writeAndWait(sim, via: 5, "after", withinMs: 3000))
        #expect(converged(sim, [4, 5]))
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }
}
