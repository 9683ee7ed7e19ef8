import Transport
import Synchronization

/// At most `perSecond` lines a second through `log`; the rest are counted and reported with the next
/// line let through. Peers can cause some log lines (failed TLS handshakes) at will: this bounds them.
final class RateLimitedLog: Sendable {
    private struct State {
        var windowStart: UInt64 = 0
        var inWindow = 0
        var suppressed = 0
    }
    private let state = Mutex(State())
    private let perSecond: Int
    private let log: @Sendable (String) -> Void

    init(perSecond: Int, _ log: @escaping @Sendable (String) -> Void) {
        self.perSecond = perSecond
        self.log = log
    }

    func callAsFunction(_ line: String, nowMillis: UInt64 = MonotonicClock.millis()) {
        let (emit, dropped): (Bool, Int) = state.withLock { s in
            if nowMillis >= s.windowStart + 1000 {
                s.windowStart = nowMillis
                s.inWindow = 0
            }
            guard s.inWindow < perSecond else {
                s.suppressed += 1
                return (false, 0)
            }
            s.inWindow += 1
            defer { s.suppressed = 0 }
            return (true, s.suppressed)
        }
        guard emit else { return }
        log(dropped > 0 ? "\(line) (\(dropped) similar lines suppressed)" : line)
    }
}
