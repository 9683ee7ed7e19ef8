import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A daemon's list of crash points (an enum whose raw values are the names `crash?at=` takes).
public protocol NamedCrashPoint: CaseIterable, RawRepresentable where RawValue == String {
    /// Where the point is, for `GET /faults`.
    var help: String { get }
}

extension NamedCrashPoint {
    /// Every point with its help, as `FaultPlane.processActions(crash:points:)` lists them.
    public static var catalogue: [(name: String, help: String)] { allCases.map { ($0.rawValue, $0.help) } }
}

/// A crash at a named point of the code (issue 10: "after proposing, before the commit"; "after
/// appending, before the high watermark moves"). `POST /faults/crash?at=NAME` arms one point; the
/// daemon's code calls `reached(NAME)` where that step happens and the process kill -9s itself
/// there. The unarmed check is one relaxed atomic load, so the hooks cost nothing on hot paths.
public final class CrashArm: Sendable {
    private let isArmed = Atomic<Bool>(false)
    private let state = Mutex<(point: String?, before: (@Sendable (String) -> Void)?)>((nil, nil))

    /// `armed`: a point armed from the start (coordd's COORDD_TEST_CRASH_AT for the fault matrix).
    public init(armed: String? = nil) {
        if let armed { arm(armed) }
    }

    public var armed: String? { isArmed.load(ordering: .relaxed) ? state.withLock { $0.point } : nil }

    /// Arms `point` (nil disarms); `before` runs just before the kill (timeline event, flush).
    public func arm(_ point: String?, before: (@Sendable (String) -> Void)? = nil) {
        state.withLock { $0 = (point, before) }
        isArmed.store(point != nil, ordering: .relaxed)
    }

    /// Kills the process if `point` is the armed one: at once (`delayMs` 0, from the caller's
    /// thread, so nothing after this line runs) or after `delayMs` from a thread of its own, so the
    /// caller's loop can still write what it already sent.
    public func reached(_ point: String, delayMs: UInt32 = 0, log: @Sendable (String) -> Void) {
        guard isArmed.load(ordering: .relaxed) else { return }
        let before: (@Sendable (String) -> Void)?? = state.withLock { s in s.point == point ? .some(s.before) : .none }
        guard let before else { return }
        log("crash point \(point) reached; kill -9" + (delayMs > 0 ? " in \(delayMs) ms" : ""))
        before?(point)
        guard delayMs > 0 else {
            kill(getpid(), SIGKILL)
            return
        }
        let t = Thread { usleep(delayMs * 1000); kill(getpid(), SIGKILL) }
        t.start()
    }
}
