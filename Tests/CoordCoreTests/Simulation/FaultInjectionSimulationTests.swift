@testable import CoordCore
import Testing

#if DEBUG
/// The simulation drives coordd's own `QuorumPipeline`, so breaking one of its gating rules must
/// show up as a safety violation within a few seeds; a simulation that tested a copy would not
/// notice. Each fault is a debug-only knob of the shipped struct.
@Suite struct FaultInjectionSimulationTests {
    /// Runs seeds with every pipeline broken; returns the first failure, or nil if none caught it.
    static func firstCaught(_ fault: QuorumPipeline.Fault, seeds: Range<UInt64>) -> (seed: UInt64, report: String)? {
        for seed in seeds {
            var stats = [Int](repeating: 0, count: 8)
            if let failure = RandomizedSimulationTests.runSeed(seed, steps: 3000, stats: &stats, adjust: { $0.fault = fault }) {
                return (seed, failure)
            }
        }
        return nil
    }

    /// A follower acks a proposal (and a leader's commit goes out) before the log append is on
    /// disk: entries commit on copies a crash can still take back.
    @Test func ackingBeforePersistenceIsCaught() {
        expectCaught(.sendBeforeDurable)
    }

    /// The leader counts its own ack as soon as the append is submitted, not once it is durable.
    @Test func leaderCountingItsAckBeforeItsDiskIsCaught() {
        expectCaught(.persistedAtSubmit)
    }

    func expectCaught(_ fault: QuorumPipeline.Fault) {
        let caught = Self.firstCaught(fault, seeds: 0..<40)
        #expect(caught != nil, "\(fault) went unnoticed in 40 seeds")
        if let caught { print("\(fault) caught at seed \(caught.seed): \(caught.report.prefix(400))") }
    }
}
#endif
