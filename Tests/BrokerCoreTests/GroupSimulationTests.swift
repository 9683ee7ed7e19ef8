#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import BrokerCore

/// Serialized: its CPU-bound seeds would otherwise hold every cooperative thread and starve the
/// other suites past their time limits on a 2-core machine.
@Suite(.serialized) struct GroupSimulationTests {
    /// 32 seeds × 20,000 events in every `swift test`; longer runs with `groupSoak`.
    static let steps = 20_000
    static let totalEvents = Mutex<(events: Int, seeds: Int)>((0, 0))

    static func run(seed: UInt64, steps: Int, bugs: GroupSim.Bugs = GroupSim.Bugs()) -> GroupSim {
        var sim = GroupSim(seed: seed, bugs: bugs)
        while sim.steps < steps, sim.failures.isEmpty, sim.step() {}
        if sim.failures.isEmpty { sim.healAndSettle() }
        return sim
    }

    @Test(.timeLimit(.minutes(2)), arguments: Array(1...32) as [UInt64])
    func randomFaultsKeepGroupInvariants(seed: UInt64) {
        let sim = Self.run(seed: seed, steps: Self.steps)
        #expect(sim.failures.isEmpty, "\(sim.failures.prefix(5).joined(separator: "\n"))")
        // The run must have exercised what it checks.
        #expect(sim.stats.commitsAcked > 50 && sim.stats.failovers > 3 && sim.stats.crashes > 3 && sim.stats.pauses > 3
                    && sim.assignmentsByGeneration.count > 5, "seed \(seed): \(sim.stats), \(sim.assignmentsByGeneration.count) generations")
        let (events, seeds) = Self.totalEvents.withLock { t in
            t = (t.events + sim.steps, t.seeds + 1)
            return t
        }
        if seeds == 32 { print("group simulation: 32 seeds, \(events) events in all; seed \(seed): \(sim.stats), \(sim.assignmentsByGeneration.count) generations") }
    }

    /// The checker is not blind: each planted runtime mistake fails some of the first seeds.
    @Test(.timeLimit(.minutes(2)), arguments: ["ackBeforeDurable", "replayDropsTail", "zombieCoordinator"])
    func plantedBugsAreCaught(_ bug: String) {
        var bugs = GroupSim.Bugs()
        switch bug {
        case "ackBeforeDurable": bugs.ackBeforeDurable = true
        case "replayDropsTail": bugs.replayDropsTail = true
        default: bugs.zombieCoordinator = true
        }
        let caught = (1...16 as ClosedRange<UInt64>).first { !Self.run(seed: $0, steps: Self.steps, bugs: bugs).failures.isEmpty }
        #expect(caught != nil, "\(bug) went unnoticed in 16 seeds")
    }

    /// Offline soak: `GROUP_SIM_SEEDS=first:count [GROUP_SIM_STEPS=n] swift test --filter groupSoak`.
    @Test(.enabled(if: getenv("GROUP_SIM_SEEDS") != nil), .timeLimit(.minutes(60)))
    func groupSoak() {
        let steps = Soak.steps("GROUP_SIM_STEPS", default: Self.steps)
        Soak.run("group simulation", seeds: Soak.seeds("GROUP_SIM_SEEDS", defaultCount: 100)) { seed in
            let sim = Self.run(seed: seed, steps: steps)
            return (sim.failures, sim.steps)
        }
    }
}
