/// Session liveness on the server that owns the sessions (the leader, or a standalone server).
/// Time is passed in (ms); expiry is bucketed per tick like ZooKeeper's ExpiryQueue, so a tick costs
/// only the sessions that actually expire.
public struct SessionTracker: Sendable {
    public let tickTime: Int64
    public let minTimeout: Int32
    public let maxTimeout: Int32
    private var nextId: Int64
    private var expiresAt: [Int64: Int64] = [:]
    private var timeouts: [Int64: Int32] = [:]
    private var buckets: [Int64: Set<Int64>] = [:]
    private var nextExpiry: Int64

    /// Ids start at (serverId << 56) | (now << 24 >>> 8), as in ZooKeeper, so servers never collide
    /// and a restarted server does not reuse recent ids.
    public init(serverId: Int64, now: Int64, tickTime: Int32, minTimeout: Int32? = nil, maxTimeout: Int32? = nil) {
        self.tickTime = Int64(max(1, tickTime))
        self.minTimeout = minTimeout ?? tickTime * 2
        self.maxTimeout = max(maxTimeout ?? tickTime * 20, self.minTimeout)
        let base = Int64(bitPattern: UInt64(bitPattern: now << 24) >> 8)
        var id = base | (serverId << 56)
        if id == Int64.min || id == 0 { id += 1 }
        nextId = id
        nextExpiry = (now / self.tickTime + 1) * self.tickTime
    }

    public var count: Int { expiresAt.count }
    public var sessionIds: [Int64] { Array(expiresAt.keys) }
    /// Deadline (ms) -> sessions expiring then, for ZooKeeper's `dump` admin command.
    public var expiryBuckets: [Int64: Set<Int64>] { buckets }

    public func negotiate(_ requested: Int32) -> Int32 {
        min(max(requested, minTimeout), maxTimeout)
    }

    public mutating func newSessionId() -> Int64 {
        let id = nextId
        nextId &+= 1
        if nextId == 0 || nextId == Int64.min { nextId &+= 1 }
        return id
    }

    public func timeout(of id: Int64) -> Int32? { timeouts[id] }
    public func contains(_ id: Int64) -> Bool { expiresAt[id] != nil }

    private func roundUp(_ t: Int64) -> Int64 { (t / tickTime + 1) * tickTime }

    /// Starts tracking (or re-tracks with a new timeout).
    public mutating func add(_ id: Int64, timeout: Int32, now: Int64) {
        timeouts[id] = timeout
        touch(id, now: now)
    }

    /// Pushes a session's deadline out; false when it is unknown (expired or never created).
    @discardableResult
    public mutating func touch(_ id: Int64, now: Int64) -> Bool {
        guard let t = timeouts[id] else { return false }
        let deadline = roundUp(now + Int64(t))
        if let old = expiresAt[id] {
            if old == deadline { return true }
            buckets[old]?.remove(id)
            if buckets[old]?.isEmpty == true { buckets[old] = nil }
        }
        expiresAt[id] = deadline
        buckets[deadline, default: []].insert(id)
        if deadline < nextExpiry { nextExpiry = deadline }
        return true
    }

    public mutating func remove(_ id: Int64) {
        timeouts[id] = nil
        if let d = expiresAt.removeValue(forKey: id) {
            buckets[d]?.remove(id)
            if buckets[d]?.isEmpty == true { buckets[d] = nil }
        }
    }

    /// Sessions whose deadline passed by `now`, oldest first; they stop being tracked (the caller
    /// turns each into a closeSession txn).
    public mutating func expire(now: Int64) -> [Int64] {
        var out: [Int64] = []
        if buckets.isEmpty {
            nextExpiry = roundUp(now)
            return out
        }
        while nextExpiry <= now {
            if let ids = buckets.removeValue(forKey: nextExpiry) {
                for id in ids.sorted() {
                    expiresAt[id] = nil
                    timeouts[id] = nil
                    out.append(id)
                }
            }
            nextExpiry += tickTime
            // Jump over long idle gaps instead of walking every tick.
            if let soonest = buckets.keys.min(), soonest > nextExpiry { nextExpiry = soonest }
            if buckets.isEmpty { nextExpiry = roundUp(now); break }
        }
        return out
    }
}
