@testable import CoordCore
import Protocol
import Testing

/// A leader must notice it lost its followers from elapsed real time and from their votes, not
/// only from timer fires that stop while the process is paused.
@Suite struct StepDownTests {
    /// An established 3-server ensemble from the simulator; returns it with its leader's id.
    func established(seed: UInt64) -> (Simulator, UInt64)? {
        let sim = Simulator(servers: 3, seed: seed)
        let ok = sim.run(upToMs: 3000) {
            guard let l = sim.leader else { return false }
            return sim.ids.allSatisfy { sim.replicas[$0]?.peer?.currentStatus.serving == true && sim.replicas[$0]?.peer?.leaderId == l }
        }
        guard ok, let l = sim.leader else { return nil }
        return (sim, l)
    }

    @Test func elapsedTicksPastSyncLimitMakeTheLeaderStepDown() throws {
        let (sim, l) = try #require(established(seed: 41))
        var leader = try #require(sim.replicas[l]?.peer)
        var stalled = leader
        // One timer fire after a long pause: counted as one tick it changes nothing...
        _ = leader.tick()
        #expect(leader.currentStatus == QuorumStatus(role: .leading, serving: true, epoch: leader.currentStatus.epoch))
        // ...counted as the ticks that really passed, the followers have been silent too long.
        let fx = stalled.tick(elapsed: UInt64(stalled.config.syncLimit) + 2)
        #expect(stalled.currentStatus.role == .looking)
        #expect(fx.statusChanged?.serving == false)
    }

    @Test func followersReportingAnotherLeaderOrLookingAreDropped() throws {
        let (sim, l) = try #require(established(seed: 42))
        var leader = try #require(sim.replicas[l]?.peer)
        let followers = sim.ids.filter { $0 != l }
        let epoch = leader.currentStatus.epoch
        // One follower went looking: still a quorum with the other.
        _ = leader.receive(from: followers[0], .election(ElectionNotification(round: 9, state: .looking, vote: Vote(leader: followers[0], zxid: .zero, epoch: epoch))))
        #expect(leader.currentStatus.role == .leading && leader.currentStatus.serving)
        #expect(leader.learnerCounts.synced == 1)
        // The other now follows someone else: no quorum left, step down at once.
        let fx = leader.receive(from: followers[1], .election(ElectionNotification(round: 9, state: .following, vote: Vote(leader: followers[0], zxid: .zero, epoch: epoch))))
        #expect(leader.currentStatus.role == .looking)
        #expect(fx.statusChanged?.serving == false)
    }

    @Test func aFollowerVoteForUsKeepsItsSession() throws {
        let (sim, l) = try #require(established(seed: 43))
        var leader = try #require(sim.replicas[l]?.peer)
        let f = try #require(sim.ids.first { $0 != l })
        _ = leader.receive(from: f, .election(ElectionNotification(round: 1, state: .following, vote: Vote(leader: l, zxid: .zero, epoch: 0))))
        #expect(leader.learnerCounts.synced == 2)
        #expect(leader.currentStatus.serving)
    }
}
