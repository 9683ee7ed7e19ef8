import Foundation
import Synchronization

/// A Knossos-style linearizability checker for one compare-and-set register (a znode written
/// with versioned setData): a history of operations, each invoked at one instant and completed
/// at a later one (or never, for `info`), is linearizable when some total order of them respects
/// real time (an op completed before another was invoked comes first) and replays on a
/// sequential register. Searched depth-first with memoization of (linearized set, state), as in
/// Wing & Gong / Lowe; a CAS register keeps the search narrow because versions only grow.
enum CASRegister {
    struct State: Hashable, Sendable, CustomStringConvertible {
        var version: Int32
        var value: String
        var description: String { "v\(version)=\(value)" }
    }

    enum Kind: Equatable, Sendable {
        /// setData(value, expectedVersion).
        case cas(expected: Int32, value: String)
        /// A read (here: sync + getData after the workload).
        case read
    }

    enum Outcome: Equatable, Sendable {
        /// Succeeded; a CAS reports the version it produced, a read what it saw.
        case ok(State?)
        /// Definitely did not take effect (BadVersion).
        case fail
        /// Unknown (connection loss, timeout): may take effect at any time after its invocation.
        case info
    }

    struct Op: Sendable, CustomStringConvertible {
        var process: Int
        var kind: Kind
        var outcome: Outcome
        var invoke: Int
        /// Event index of the completion; nil for `info` (it may linearize arbitrarily late).
        var complete: Int?
        var description: String { "p\(process) \(kind) -> \(outcome) [\(invoke), \(complete.map(String.init) ?? "∞")]" }
    }

    /// The register's next state when `op` takes effect in `s`, or nil when it cannot at this point.
    static func step(_ s: State, _ op: Op) -> State? {
        switch (op.kind, op.outcome) {
        case (.cas(let expected, let value), .ok(let reported)):
            guard s.version == expected else { return nil }
            let next = State(version: expected &+ 1, value: value)
            if let reported, reported.version != next.version { return nil }
            return next
        case (.cas(let expected, _), .fail):
            return s.version == expected ? nil : s
        case (.cas(let expected, let value), .info):
            // Taking no effect is modelled by never linearizing it.
            return s.version == expected ? State(version: expected &+ 1, value: value) : nil
        case (.read, .ok(let seen)):
            return seen == nil || seen == s ? s : nil
        case (.read, _):
            return s
        }
    }

    struct Verdict {
        var linearizable: Bool
        /// States explored; the longest prefix found when not linearizable.
        var explored: Int
        var longestPrefix: [Op]
    }

    /// Checks `history` from `initial`. `maxStates` bounds the search (a verdict past it is a failure).
    static func check(_ history: [Op], initial: State, maxStates: Int = 300_000) -> Verdict {
        let ops = history.sorted { $0.invoke < $1.invoke }
        let n = ops.count
        let words = (n + 63) / 64
        // Ops that must be linearized: everything with a completion (ok or fail).
        let required = ops.indices.filter { ops[$0].complete != nil }
        struct Key: Hashable { var done: [UInt64]; var state: State }
        var seen = Set<Key>()
        var explored = 0
        var best: [Int] = []

        func isDone(_ d: [UInt64], _ i: Int) -> Bool { d[i >> 6] & (1 << UInt64(i & 63)) != 0 }

        var stack: [(done: [UInt64], state: State, order: [Int])] = [(Array(repeating: 0, count: words), initial, [])]
        while let (done, state, order) = stack.popLast() {
            explored += 1
            if explored > maxStates { break }
            if order.count > best.count { best = order }
            if required.allSatisfy({ isDone(done, $0) }) {
                return Verdict(linearizable: true, explored: explored, longestPrefix: order.map { ops[$0] })
            }
            // The earliest completion among pending ops bounds which ops may go next.
            var horizon = Int.max
            for i in 0..<n where !isDone(done, i) { if let c = ops[i].complete { horizon = min(horizon, c) } }
            // Pushed latest first so the earliest invoked is tried first (usually the real order).
            for i in (0..<n).reversed() where !isDone(done, i) && ops[i].invoke < horizon {
                guard let next = step(state, ops[i]) else { continue }
                var d = done
                d[i >> 6] |= 1 << UInt64(i & 63)
                let key = Key(done: d, state: next)
                if seen.insert(key).inserted { stack.append((d, next, order + [i])) }
            }
        }
        return Verdict(linearizable: false, explored: explored, longestPrefix: best.map { ops[$0] })
    }
}

/// Thread-safe recording of a CAS history with a global event counter for real-time order.
final class CASHistory: Sendable {
    private let box = Mutex<(clock: Int, ops: [CASRegister.Op])>((0, []))

    /// Marks an invocation; returns its event index.
    func invoke() -> Int { box.withLock { $0.clock += 1; return $0.clock } }

    func complete(_ process: Int, _ kind: CASRegister.Kind, _ outcome: CASRegister.Outcome, invokedAt: Int) {
        box.withLock { b in
            b.clock += 1
            let done: Int? = outcome == .info ? nil : b.clock
            b.ops.append(.init(process: process, kind: kind, outcome: outcome, invoke: invokedAt, complete: done))
        }
    }

    var ops: [CASRegister.Op] { box.withLock { $0.ops } }
}
