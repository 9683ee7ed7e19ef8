import CoordCore
import Protocol
import Testing

/// SIGSTOP/SIGCONT of a leader in the simulator: the rest elect while it is paused; on resume it
/// must step down before it acts on anything (no second serving leader, no stale service).
@Suite struct PauseSimulationTests {
    func settle(_ sim: Simulator, withinMs ms: Int = 3000) -> Bool {
        sim.run(upToMs: ms) {
            guard let l = sim.leader else { return false }
            return sim.ids.allSatisfy { sim.replicas[$0]?.peer?.currentStatus.serving == true && sim.replicas[$0]?.peer?.leaderId == l }
        }
    }

    @Test(arguments: [21, 22, 23, 24] as [UInt64])
    func pausedLeaderStepsDownOnResume(seed: UInt64) {
        let sim = Simulator(servers: 3, seed: seed)
        #expect(settle(sim))
        guard let old = sim.leader else { Issue.record("no leader"); return }
        for i in 0..<5 {
            let o = sim.write(via: old, "before\(i)")
            #expect(sim.run(upToMs: 1000) { sim.isAcked(o) })
        }
        // 3 s is 60 ticks, far past syncLimit (5 ticks): the others elect meanwhile.
        let resumeAt = sim.now + 3000
        sim.pause(old, forMs: 3000)
        let rest = sim.ids.filter { $0 != old }
        func newLeader() -> UInt64? { rest.first { sim.isServing($0) && sim.replicas[$0]?.peer?.currentStatus.role == .leading } }
        #expect(sim.run(upToMs: 2000) { newLeader() != nil })
        let acked = sim.write(via: newLeader() ?? rest[0], "during")
        #expect(sim.run(upToMs: 500) { sim.isAcked(acked) })
        #expect(sim.now < resumeAt)
        sim.run(forMs: resumeAt - sim.now)
        // The first thing it handled after resuming made it step down.
        #expect(!(sim.replicas[old]?.peer?.currentStatus.role == .leading && sim.isServing(old)),
                "old leader still leads after resume\n\(sim.failureReport)")
        #expect(sim.servingLeaders.count == 1)
        #expect(settle(sim))
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func resumedLeaderStepsDownWithinOneTick() {
        let sim = Simulator(servers: 3, seed: 31)
        #expect(settle(sim))
        guard let old = sim.leader else { Issue.record("no leader"); return }
        let resumeAt = sim.now + 2000
        sim.pause(old, forMs: 2000)
        sim.run(forMs: resumeAt - sim.now)
        // Everything queued for it was handled at the resume instant, ticks first in effect.
        #expect(!sim.isServing(old) || sim.replicas[old]?.peer?.currentStatus.role != .leading)
        #expect(sim.servingLeaders.count <= 1)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }
}
