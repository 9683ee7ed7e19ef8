/// A produce with acks=all waiting for the high watermark, as pure data.
public struct DelayedProduce: Equatable, Sendable {
    public var id: UInt64
    public var deadlineMs: Int64
    /// Per partition: the offset the HW must reach, and the result once decided.
    public var waiting: [TopicPartition: Int64]
    public var results: [TopicPartition: KafkaError]
}

public struct CompletedProduce: Equatable, Sendable {
    public var id: UInt64
    public var results: [TopicPartition: KafkaError]
}

/// Delayed acks=all produces keyed by partition; `tick(nowMs:)` expires them with REQUEST_TIMED_OUT.
public struct ProducePurgatory: Sendable {
    public private(set) var operations: [UInt64: DelayedProduce] = [:]
    private var byPartition: [TopicPartition: Set<UInt64>] = [:]

    public init() {}

    public var count: Int { operations.count }

    /// `requiredOffsets`: partition → last appended offset + 1. `ready` are partitions already
    /// decided at append time (errors, or acks satisfied).
    public mutating func add(id: UInt64, requiredOffsets: [TopicPartition: Int64], ready: [TopicPartition: KafkaError] = [:],
                             timeoutMs: Int64, nowMs: Int64) -> CompletedProduce? {
        let op = DelayedProduce(id: id, deadlineMs: saturatingAdd(nowMs, max(0, timeoutMs)), waiting: requiredOffsets, results: ready)
        if op.waiting.isEmpty { return CompletedProduce(id: id, results: ready) }
        operations[id] = op
        for tp in requiredOffsets.keys { byPartition[tp, default: []].insert(id) }
        return nil
    }

    /// Re-checks the operations waiting on `tp` after its HW moved or its ISR changed.
    public mutating func check(_ tp: TopicPartition, status: (Int64) -> AckStatus) -> [CompletedProduce] {
        var done: [CompletedProduce] = []
        for id in (byPartition[tp] ?? []).sorted() {
            guard var op = operations[id], let required = op.waiting[tp] else { continue }
            guard case .done(let error) = status(required) else { continue }
            op.waiting[tp] = nil
            op.results[tp] = error
            byPartition[tp]?.remove(id)
            if op.waiting.isEmpty { done.append(finish(op)) } else { operations[id] = op }
        }
        return done
    }

    /// Leadership moved away: every waiter on the partition fails with `error`.
    public mutating func fail(_ tp: TopicPartition, error: KafkaError = .notLeaderOrFollower) -> [CompletedProduce] {
        check(tp) { _ in .done(error) }
    }

    public mutating func tick(nowMs: Int64) -> [CompletedProduce] {
        var done: [CompletedProduce] = []
        for id in operations.keys.sorted() {
            guard var op = operations[id], nowMs >= op.deadlineMs else { continue }
            for tp in op.waiting.keys {
                op.results[tp] = .requestTimedOut
                byPartition[tp]?.remove(id)
            }
            op.waiting = [:]
            done.append(finish(op))
        }
        return done
    }

    private mutating func finish(_ op: DelayedProduce) -> CompletedProduce {
        operations[op.id] = nil
        for tp in op.waiting.keys { byPartition[tp]?.remove(op.id) }
        return CompletedProduce(id: op.id, results: op.results)
    }
}

/// A fetch waiting for min.bytes or max.wait.ms.
public struct DelayedFetch: Equatable, Sendable {
    public var id: UInt64
    public var deadlineMs: Int64
    public var minBytes: Int
    public var accumulatedBytes: Int
    public var partitions: [TopicPartition]
}

/// Delayed fetches keyed by partition. The runtime reports bytes that became readable for a
/// fetcher (HW advance for consumers, log end advance for followers); completed ids are returned
/// and the runtime then reads the data.
public struct FetchPurgatory: Sendable {
    public private(set) var operations: [UInt64: DelayedFetch] = [:]
    private var byPartition: [TopicPartition: Set<UInt64>] = [:]

    public init() {}

    public var count: Int { operations.count }

    /// Returns true when the fetch can be answered at once (enough bytes already, or no wait).
    public mutating func add(id: UInt64, partitions: [TopicPartition], minBytes: Int, availableBytes: Int,
                             maxWaitMs: Int64, nowMs: Int64) -> Bool {
        if availableBytes >= minBytes || maxWaitMs <= 0 || partitions.isEmpty { return true }
        operations[id] = DelayedFetch(id: id, deadlineMs: saturatingAdd(nowMs, maxWaitMs), minBytes: minBytes,
                                      accumulatedBytes: availableBytes, partitions: partitions)
        for tp in partitions { byPartition[tp, default: []].insert(id) }
        return false
    }

    public mutating func bytesAvailable(_ tp: TopicPartition, bytes: Int) -> [UInt64] {
        var done: [UInt64] = []
        for id in (byPartition[tp] ?? []).sorted() {
            guard var op = operations[id] else { continue }
            op.accumulatedBytes += max(0, bytes)
            if op.accumulatedBytes >= op.minBytes { done.append(id); remove(id) } else { operations[id] = op }
        }
        return done
    }

    /// Leadership changed or the partition errored: answer now so the client sees the error.
    public mutating func partitionChanged(_ tp: TopicPartition) -> [UInt64] {
        let ids = (byPartition[tp] ?? []).sorted()
        for id in ids { remove(id) }
        return ids
    }

    public mutating func tick(nowMs: Int64) -> [UInt64] {
        let ids = operations.values.filter { nowMs >= $0.deadlineMs }.map { $0.id }.sorted()
        for id in ids { remove(id) }
        return ids
    }

    private mutating func remove(_ id: UInt64) {
        guard let op = operations.removeValue(forKey: id) else { return }
        for tp in op.partitions { byPartition[tp]?.remove(id) }
    }
}
