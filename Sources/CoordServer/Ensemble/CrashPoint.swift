import Foundation
import CoordCore
import Observability
import Protocol

/// Named crash points of coordd's quorum runtime (fault matrix row 12, ZOOKEEPER-3023 and kin; issue
/// 10). `POST /faults/crash?at=NAME` arms one at run time; the fault-matrix tests arm one from the
/// start with the environment variable `COORDD_TEST_CRASH_AT`. Unarmed, a check is one atomic load.
enum CrashPoint: String, Sendable, NamedCrashPoint {
    /// Just after the follower sent its NEWLEADER acknowledgement (given 100 ms to leave).
    case afterAckNewLeader = "after-ack-newleader"
    /// While a SNAP from the leader is being written.
    case duringSnap = "during-snap"
    /// While the first DIFF proposal of a sync is being logged.
    case duringDiff = "during-diff"
    /// The leader sent a proposal to its followers and dies before anyone can commit it.
    case afterPropose = "after-propose"

    var help: String {
        switch self {
        case .afterAckNewLeader: return "a syncing follower, just after acknowledging NEWLEADER"
        case .duringSnap: return "a syncing follower, while writing the leader's snapshot"
        case .duringDiff: return "a syncing follower, while logging the first DIFF proposal"
        case .afterPropose: return "the leader, just after sending a proposal, before it commits"
        }
    }

    /// The arm of a new runtime: COORDD_TEST_CRASH_AT when it names a point (never set outside tests).
    static func armFromEnvironment() -> CrashArm {
        CrashArm(armed: ProcessInfo.processInfo.environment["COORDD_TEST_CRASH_AT"].flatMap(CrashPoint.init(rawValue:))?.rawValue)
    }

    /// Checks one action, before it is carried out, against the follower's crash points.
    static func check(_ action: QuorumAction, status: QuorumStatus, arm: CrashArm, log: @Sendable (String) -> Void) {
        guard status.role != .leading else { return }
        let syncing = !status.serving
        switch action {
        case .send(_, let m):
            if case .session(_, _, .ackNewLeader) = m { arm.reached(afterAckNewLeader.rawValue, delayMs: 100, log: log) }
        case .store(_, let ops):
            for op in ops {
                switch op {
                case .installSnapshot: arm.reached(duringSnap.rawValue, delayMs: 2, log: log)
                case .appendLog where syncing: arm.reached(duringDiff.rawValue, delayMs: 2, log: log)
                default: break
                }
            }
        default: break
        }
    }

    /// Checks a message just sent: the leader's proposal point.
    static func sent(_ m: QuorumMessage, status: QuorumStatus, arm: CrashArm, log: @Sendable (String) -> Void) {
        guard status.role == .leading, case .session(_, _, .proposal) = m else { return }
        arm.reached(afterPropose.rawValue, log: log)
    }
}
