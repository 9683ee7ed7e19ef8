import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A daemon's coordination history: a bounded ring in memory, a rolling JSON-lines file in the data
/// dir (reloaded at start, so history survives restarts), and live subscribers (SSE). `record`
/// only appends under a lock; the file is written by a background queue every 200 ms, so callers
/// on a request path pay no I/O. High-rate kinds go through `tally`, which emits one event per
/// kind per second with the count.
public final class Timeline: Sendable {
    public let daemon: String
    let capacity: Int
    let file: TimelineFile?
    private let state: Mutex<State>
    private let queue = DispatchQueue(label: "timeline")
    private let wallClock: @Sendable () -> Int64

    struct State {
        var ring: [TimelineEvent] = []
        var head = 0  // index of the oldest when full
        var nextSeq: UInt64 = 1
        var unwritten: [TimelineEvent] = []
        var subscribers: [UInt64: @Sendable (TimelineEvent) -> Void] = [:]
        var nextSub: UInt64 = 1
        var tallies: [String: (count: Int64, clocks: [(String, Int64)])] = [:]
        var stopped = false
        var flushTicks = 0
    }

    /// `directory` nil keeps memory only (tests, or a daemon without a data dir).
    public init(daemon: String, capacity: Int = 10_000, directory: String?, maxFileBytes: Int = 8 << 20,
                wallClock: @escaping @Sendable () -> Int64 = { Timeline.wallMillis() }, logger: @escaping @Sendable (String) -> Void = { _ in }) {
        precondition(capacity > 0)
        self.daemon = daemon
        self.capacity = capacity
        self.wallClock = wallClock
        file = directory.map { TimelineFile(directory: $0, maxBytes: maxFileBytes, logger: logger) }
        var s = State()
        if let file {
            let old = file.load(last: capacity)
            s.ring = old
            s.nextSeq = (old.map(\.seq).max() ?? 0) + 1
        }
        state = Mutex(s)
        scheduleFlush()
    }

    public static func wallMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    @discardableResult
    public func record(_ kind: String, clocks: [(String, Int64)] = [], fields: [(String, JSONValue)] = []) -> TimelineEvent {
        let now = wallClock()
        let (ev, subs) = state.withLock { s -> (TimelineEvent, [@Sendable (TimelineEvent) -> Void]) in
            let ev = TimelineEvent(seq: s.nextSeq, time: now, daemon: daemon, kind: kind, clocks: clocks, fields: fields)
            s.nextSeq += 1
            Self.push(ev, into: &s, capacity: capacity)
            if file != nil { s.unwritten.append(ev) }
            return (ev, Array(s.subscribers.values))
        }
        for f in subs { f(ev) }
        return ev
    }

    /// Counts a high-rate occurrence; one `kind` event with the count follows within a second.
    public func tally(_ kind: String, _ n: Int64 = 1, clocks: [(String, Int64)] = []) {
        state.withLock { s in
            var t = s.tallies[kind] ?? (0, [])
            t.count += n
            t.clocks = clocks
            s.tallies[kind] = t
        }
    }

    private static func push(_ ev: TimelineEvent, into s: inout State, capacity: Int) {
        if s.ring.count < capacity {
            s.ring.append(ev)
        } else {
            s.ring[s.head] = ev
            s.head = (s.head + 1) % capacity
        }
    }

    /// Events in recording order with since <= time <= until (ms), of the given kinds, the last `limit`.
    public func query(since: Int64? = nil, until: Int64? = nil, kinds: [String] = [], limit: Int = 10_000) -> [TimelineEvent] {
        let ordered = state.withLock { s in Array(s.ring[s.head...] + s.ring[..<s.head]) }
        let hits = ordered.filter { e in
            (since.map { e.time >= $0 } ?? true) && (until.map { e.time <= $0 } ?? true) && e.matches(kinds: kinds)
        }
        return Array(hits.suffix(max(0, limit)))
    }

    public var count: Int { state.withLock { $0.ring.count } }

    /// Calls `f` with every event recorded from now on (on the recording thread; keep it short).
    public func subscribe(_ f: @escaping @Sendable (TimelineEvent) -> Void) -> UInt64 {
        state.withLock { s in
            let id = s.nextSub
            s.nextSub += 1
            s.subscribers[id] = f
            return id
        }
    }

    public func unsubscribe(_ id: UInt64) { _ = state.withLock { $0.subscribers.removeValue(forKey: id) } }

    /// Writes what is pending now (tests, shutdown).
    public func flush() {
        emitTallies()
        let pending = state.withLock { s -> [TimelineEvent] in
            defer { s.unwritten.removeAll() }
            return s.unwritten
        }
        if !pending.isEmpty { file?.append(pending) }
    }

    public func stop() {
        state.withLock { $0.stopped = true }
        queue.sync { flush() }
    }

    private func emitTallies() {
        let t = state.withLock { s -> [String: (count: Int64, clocks: [(String, Int64)])] in
            defer { s.tallies.removeAll() }
            return s.tallies
        }
        for (kind, v) in t.sorted(by: { $0.key < $1.key }) {
            record(kind, clocks: v.clocks, fields: [("count", .int(v.count)), ("interval_ms", .int(1000))])
        }
    }

    private func scheduleFlush() {
        queue.asyncAfter(deadline: .now() + .milliseconds(200)) { [weak self] in
            guard let self, !self.state.withLock({ $0.stopped }) else { return }
            let ticks = self.state.withLock { s -> Int in s.flushTicks += 1; return s.flushTicks }
            if ticks % 5 == 0 { self.emitTallies() }
            let pending = self.state.withLock { s -> [TimelineEvent] in
                defer { s.unwritten.removeAll() }
                return s.unwritten
            }
            if !pending.isEmpty { self.file?.append(pending) }
            self.scheduleFlush()
        }
    }
}
