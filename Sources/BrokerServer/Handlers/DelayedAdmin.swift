import Dispatch
import Transport

extension RequestHandler {
    /// Calls `reply(true)` once `done` holds, or `reply(false)` when `timeoutMs` (at most 60 s)
    /// passes. The polls run on `adminWaits`, never on an I/O thread: Kafka parks these requests
    /// in a purgatory, so a topic that never comes online cannot stall other clients' requests.
    func whenReady(timeoutMs: Int32, _ done: @escaping @Sendable () -> Bool, then reply: @escaping @Sendable (Bool) -> Void) {
        if done() { reply(true); return }
        guard timeoutMs > 0 else { reply(false); return }
        let deadline = MonotonicClock.millis() + UInt64(min(Int(timeoutMs), 60_000))
        poll(deadline: deadline, done, reply)
    }

    private func poll(deadline: UInt64, _ done: @escaping @Sendable () -> Bool, _ reply: @escaping @Sendable (Bool) -> Void) {
        adminWaits.asyncAfter(deadline: .now() + .milliseconds(20)) { [self] in
            if done() { reply(true); return }
            if MonotonicClock.millis() >= deadline { reply(false); return }
            poll(deadline: deadline, done, reply)
        }
    }
}
