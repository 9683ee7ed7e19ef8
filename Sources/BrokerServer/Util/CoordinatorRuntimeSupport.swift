import Foundation

/// What the group and transaction runtimes share around their pure coordinators.

/// The coordinator partitions being loaded from their log, each with the token of its load:
/// leadership can move while a load reads the log, and a load whose token is no longer current
/// is dropped. Confined to the runtime's lock.
struct CoordinatorLoads {
    private var tokens: [Int32: UInt64] = [:]
    private var last: UInt64 = 0

    var isEmpty: Bool { tokens.isEmpty }
    func isLoading(_ p: Int32) -> Bool { tokens[p] != nil }

    /// A new load of `p`, unless one runs; its token.
    mutating func begin(_ p: Int32) -> UInt64? {
        guard tokens[p] == nil else { return nil }
        last += 1
        tokens[p] = last
        return last
    }

    /// Ends the load of `p` when `token` is still the current one (false: leadership moved meanwhile).
    mutating func finish(_ p: Int32, token: UInt64) -> Bool {
        guard tokens[p] == token else { return false }
        tokens[p] = nil
        return true
    }

    mutating func cancel(_ p: Int32) { tokens[p] = nil }
}

extension NSLock {
    /// Runs `body` under the lock, then, unlocked, the effects it deferred: replies, log appends and
    /// timers may call back into the runtime and take the lock again.
    func withLockThenRun<T>(_ body: () -> (T, [() -> Void])) -> T {
        let (result, deferred) = withLock(body)
        for d in deferred { d() }
        return result
    }

    func withLockThenRun(_ body: () -> [() -> Void]) {
        let deferred = withLock(body)
        for d in deferred { d() }
    }
}
