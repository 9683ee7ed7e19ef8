import BrokerCore
import Foundation
import Protocol
import Transport

/// Requests parked until a condition holds or a deadline passes (Kafka's purgatories): acks=all
/// produces wait for the high watermark, fetches wait for min.bytes. Completion closures run
/// outside this lock; callers must not hold the replica manager's lock when calling in.
final class DelayedOperations: @unchecked Sendable {
    struct Produce {
        var deadline: UInt64
        var waiting: [TopicPartition: Int64]
        var results: [TopicPartition: ErrorCode]
        var complete: @Sendable ([TopicPartition: ErrorCode]) -> Void
    }

    struct Fetch {
        var deadline: UInt64
        var partitions: [TopicPartition]
        /// Tries to answer; `final` forces an answer. Returns true once it has answered.
        var attempt: @Sendable (_ final: Bool) -> Bool
    }

    private let lock = NSLock()
    private var nextID: UInt64 = 1
    private var produces: [UInt64: Produce] = [:]
    private var fetches: [UInt64: Fetch] = [:]
    private var fetchesByPartition: [TopicPartition: Set<UInt64>] = [:]

    var pendingCount: Int { lock.withLock { produces.count + fetches.count } }

    func addProduce(_ p: Produce) {
        lock.withLock {
            produces[nextID] = p
            nextID += 1
        }
    }

    func addFetch(_ f: Fetch) {
        lock.withLock {
            let id = nextID
            nextID += 1
            fetches[id] = f
            for tp in f.partitions { fetchesByPartition[tp, default: []].insert(id) }
        }
    }

    /// Re-checks produces waiting on `tp` with `status(tp, requiredOffset)`.
    func checkProduces(_ tp: TopicPartition, status: (TopicPartition, Int64) -> AckStatus) {
        var done: [Produce] = []
        lock.withLock {
            for (id, var p) in produces where p.waiting[tp] != nil {
                guard let req = p.waiting[tp] else { continue }
                if case .done(let err) = status(tp, req) {
                    p.waiting[tp] = nil
                    p.results[tp] = ErrorCode(err.rawValue)
                    if p.waiting.isEmpty {
                        produces[id] = nil
                        done.append(p)
                    } else {
                        produces[id] = p
                    }
                }
            }
        }
        for p in done { p.complete(p.results) }
    }

    /// Fails produces waiting on a partition this broker no longer leads.
    func failProduces(_ tp: TopicPartition, error: ErrorCode) {
        checkProduces(tp) { _, _ in .done(KafkaError(rawValue: error.rawValue) ?? .notLeaderOrFollower) }
    }

    func wakeFetches(_ tp: TopicPartition) {
        let ready: [(UInt64, Fetch)] = lock.withLock {
            guard let ids = fetchesByPartition[tp] else { return [] }
            return ids.compactMap { id in take(id).map { (id, $0) } }
        }
        for (_, f) in ready where !f.attempt(false) { addFetch(f) }
    }

    private func take(_ id: UInt64) -> Fetch? {
        guard let f = fetches.removeValue(forKey: id) else { return nil }
        for tp in f.partitions {
            fetchesByPartition[tp]?.remove(id)
            if fetchesByPartition[tp]?.isEmpty == true { fetchesByPartition[tp] = nil }
        }
        return f
    }

    /// Answers everything whose deadline passed (`now` in monotonic ms); everything when `all`.
    func expire(now: UInt64, all: Bool = false) {
        var timedOut: [Produce] = []
        let expiredFetches: [Fetch] = lock.withLock {
            for (id, p) in produces where all || p.deadline <= now {
                produces[id] = nil
                var p = p
                for tp in p.waiting.keys { p.results[tp] = .requestTimedOut }
                timedOut.append(p)
            }
            let ids = fetches.filter { all || $0.value.deadline <= now }.map(\.key)
            return ids.compactMap { take($0) }
        }
        for p in timedOut { p.complete(p.results) }
        for f in expiredFetches { _ = f.attempt(true) }
    }
}
