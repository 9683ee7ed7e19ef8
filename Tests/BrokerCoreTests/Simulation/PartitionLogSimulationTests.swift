#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import BrokerCore
@testable import Storage

/// The cluster simulation over brokerd's real storage: every broker has its own
/// `MemoryFileSystem` holding a `LogDirectory` of `PartitionLog`s; a kill is `crash()` of that
/// file system (unsynced bytes lost) and a reopen through `LogDirectory.open`, the recovery path
/// brokerd runs at start. The invariants are ClusterSim's (no acknowledged record lost, one leader
/// per epoch, replicas converge) plus the logs reading back what they served.
@Suite(.serialized) struct PartitionLogSimulationTests {
    /// 16 seeds × 5,000 steps in every `swift test`: 80,000 events with ~2,000 crash-and-recover
    /// cycles, about 4 s on a loaded 2-core machine; longer runs with `partitionLogSoak`.
    static let seeds = Array(1...16) as [UInt64]
    static let steps = 5_000

    static func run(_ seed: UInt64, steps: Int = steps, bugs: ClusterSim.Bugs = .init(),
                    diskBugs: PartitionLogDisk.Bugs = .init()) -> (problems: [String], sim: ClusterSim, disks: [PartitionLogDisk]) {
        var disks: [PartitionLogDisk] = []
        let (problems, sim) = ClusterSimulationTests.runSeed(seed, steps: steps, bugs: bugs) { _ in
            let d = PartitionLogDisk(bugs: diskBugs)
            disks.append(d)
            return d
        }
        return (problems, sim, disks)
    }

    @Test(.timeLimit(.minutes(3)), arguments: seeds)
    func realLogsOnACrashingFileSystemKeepTheInvariants(seed: UInt64) {
        let (problems, sim, disks) = Self.run(seed)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        let crashes = disks.reduce(0) { $0 + $1.stats.crashes }
        #expect(sim.stats.produced > 50 && sim.stats.committedMax > 10 && crashes > 5 && sim.stats.diskFull > 0,
                "seed \(seed): \(sim.stats), \(crashes) crashes")
        // The logs really hold several segments each (rolls and recovery across files happened).
        let segments = disks.flatMap { d in
            (0..<4).map { p in ((try? d.memory.list(PartitionLogDisk.root + "/t-\(p)")) ?? []).filter { $0.hasSuffix(".log") }.count }
        }
        #expect(segments.max() ?? 0 > 2, "seed \(seed): segments per log \(segments)")
        if seed == Self.seeds.last { print("broker simulation over PartitionLogs: seed \(seed) \(sim.steps) steps, \(sim.stats), \(crashes) crashes") }
    }

    /// The simulation can fail: acknowledging acks=all records that were never fsynced (brokerd's
    /// `log.flush.interval.messages=1` skipped) loses acknowledged records when a crash drops the
    /// page cache of the replicas that had them.
    @Test(.timeLimit(.minutes(3))) func acknowledgingBeforeFsyncIsCaught() {
        let found = Self.firstFailure(diskBugs: .init(skipFsync: true))
        #expect(found != nil, "no seed of 1...40 caught acks before fsync")
        if let found { print("broker simulation over PartitionLogs caught acks before fsync: \(found)") }
    }

    /// The simulation can fail: a follower that skips truncation by leader epoch keeps a diverged
    /// tail, which the convergence and committed-data checks see.
    @Test(.timeLimit(.minutes(3))) func skippingTruncationByEpochIsCaught() {
        let found = Self.firstFailure(bugs: .init(skipTruncation: true))
        #expect(found != nil, "no seed of 1...40 caught the skipped truncation")
        if let found { print("broker simulation over PartitionLogs caught skipped truncation: \(found)") }
    }

    /// The first seed whose run reports a problem, with that problem.
    static func firstFailure(bugs: ClusterSim.Bugs = .init(), diskBugs: PartitionLogDisk.Bugs = .init()) -> String? {
        for seed in 1...40 as ClosedRange<UInt64> {
            let (problems, _, _) = run(seed, bugs: bugs, diskBugs: diskBugs)
            if let first = problems.first { return first }
        }
        return nil
    }

    /// Offline soak: `BROKER_LOG_SIM_SEEDS=first:count [BROKER_SIM_STEPS=n] swift test --filter partitionLogSoak`.
    @Test(.enabled(if: getenv("BROKER_LOG_SIM_SEEDS") != nil), .timeLimit(.minutes(60)))
    func partitionLogSoak() {
        let steps = Soak.steps("BROKER_SIM_STEPS", default: 10_000)
        Soak.run("broker simulation over PartitionLogs", seeds: Soak.seeds("BROKER_LOG_SIM_SEEDS", defaultCount: 50)) { seed in
            let (problems, _, _) = Self.run(seed, steps: steps)
            return (problems, steps)
        }
    }
}
