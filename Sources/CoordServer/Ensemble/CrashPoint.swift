import Foundation
import CoordCore
import Protocol
#if canImport(Glibc)
import Glibc
#endif

/// Test-only crash points for the fault matrix (row 12, ZOOKEEPER-3023 and kin): when the
/// environment variable `COORDD_TEST_CRASH_AT` names one, the server kill -9s itself there, so a
/// test can crash a follower at an exact step of its sync. Unset (always, outside tests) it does
/// nothing. A read-only constant of the process, not configuration: operators never set it.
enum CrashPoint: String, Sendable {
    /// Just after the follower sent its NEWLEADER acknowledgement (given 100 ms to leave).
    case afterAckNewLeader = "after-ack-newleader"
    /// While a SNAP from the leader is being written.
    case duringSnap = "during-snap"
    /// While the first DIFF proposal of a sync is being logged.
    case duringDiff = "during-diff"

    static let armed: CrashPoint? = ProcessInfo.processInfo.environment["COORDD_TEST_CRASH_AT"].flatMap(CrashPoint.init(rawValue:))

    /// Fires `point` if it is the armed one: SIGKILL after `delayMs`, from its own thread so the
    /// event loop keeps writing what was sent.
    static func reached(_ point: CrashPoint, delayMs: UInt32, log: @Sendable (String) -> Void) {
        guard armed == point else { return }
        log("test crash point \(point.rawValue) reached (COORDD_TEST_CRASH_AT); kill -9 in \(delayMs) ms")
        Thread {
            usleep(delayMs * 1000)
            kill(getpid(), SIGKILL)
        }.start()
    }

    /// Checks one action of a following, not yet serving, server against the crash points.
    static func check(_ action: QuorumAction, syncing: Bool, log: @Sendable (String) -> Void) {
        guard armed != nil else { return }
        switch action {
        case .send(_, let m):
            if case .session(_, _, .ackNewLeader) = m { reached(.afterAckNewLeader, delayMs: 100, log: log) }
        case .store(_, let ops):
            for op in ops {
                switch op {
                case .installSnapshot: reached(.duringSnap, delayMs: 2, log: log)
                case .appendLog where syncing: reached(.duringDiff, delayMs: 2, log: log)
                default: break
                }
            }
        default: break
        }
    }
}
