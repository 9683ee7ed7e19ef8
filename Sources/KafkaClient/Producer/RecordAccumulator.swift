import Protocol

/// Where a record was written.
public struct RecordMetadata: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    /// -1 when unknown (acks=0, or a duplicate the broker already had).
    public var offset: Int64
    public var timestamp: Int64
    public init(topic: String, partition: Int32, offset: Int64, timestamp: Int64) {
        self.topic = topic; self.partition = partition; self.offset = offset; self.timestamp = timestamp
    }
}

public typealias DeliveryCallback = @Sendable (Result<RecordMetadata, KafkaError>) -> Void

/// A batch for one partition, open while records are appended, then closed and sent (maybe again).
public struct ProducerBatch: Sendable {
    public let tp: TopicPartition
    public let createdAtMs: UInt64
    public var builder: BatchBuilder
    public var callbacks: [DeliveryCallback?] = []
    public var timestamps: [Int64] = []
    /// Buffer memory this batch holds (released when it completes).
    public var reservedBytes = 0
    public var attempts = 0
    /// Earliest time a retry may go out.
    public var retryAtMs: UInt64 = 0
    /// Set once, when first drained under idempotence; retries keep it.
    public var baseSequence: Int32?
    /// The closed bytes, kept for retries so the CRC and sequence stay identical.
    public var encoded: [UInt8]?
    public var isClosed: Bool { encoded != nil }

    public init(tp: TopicPartition, createdAtMs: UInt64, capacity: Int) {
        self.tp = tp
        self.createdAtMs = createdAtMs
        self.builder = BatchBuilder(capacity: capacity)
    }

    public var recordCount: Int { callbacks.count }
}

/// Batches records per partition (I/O-free). `batch.size`, `linger.ms` and `buffer.memory` as in
/// Kafka; the caller passes `now` and decides what to do with drained batches.
public struct RecordAccumulator: Sendable {
    public struct Config: Sendable {
        public var batchSize: Int
        public var lingerMs: Int
        public var bufferMemory: Int
        public init(batchSize: Int = 16384, lingerMs: Int = 5, bufferMemory: Int = 32 << 20) {
            self.batchSize = batchSize; self.lingerMs = lingerMs; self.bufferMemory = bufferMemory
        }
    }

    public struct AppendResult: Sendable, Equatable {
        /// A new batch was opened for the record.
        public var newBatch: Bool
        /// The partition now has a batch ready to send regardless of linger.
        public var batchFull: Bool
        public var bytes: Int
    }

    public let config: Config
    fileprivate var queues: [TopicPartition: [ProducerBatch]] = [:]
    public private(set) var usedMemory = 0
    /// Records appended and not yet handed out by `drain` (retries count again when re-enqueued).
    public private(set) var queuedRecords = 0
    /// While set every batch is ready (Kafka's flush()).
    public var flushing = false

    public init(config: Config = Config()) { self.config = config }

    /// Whether `bytes` more fit in buffer.memory (a record larger than the whole buffer is refused outright).
    public func hasRoom(for bytes: Int) -> Bool { usedMemory + bytes <= config.bufferMemory }

    public var partitions: [TopicPartition] { Array(queues.keys) }
    public func queuedBatches(_ tp: TopicPartition) -> Int { queues[tp]?.count ?? 0 }
    public var isEmpty: Bool { queues.values.allSatisfy(\.isEmpty) }

    /// Appends a record to the partition's open batch, opening one if needed. A record bigger than
    /// batch.size gets a batch of its own (as Kafka does).
    @discardableResult
    public mutating func append(_ tp: TopicPartition, timestamp: Int64, key: [UInt8]?, value: [UInt8]?,
                                headers: [RecordHeader] = [], callback: DeliveryCallback?, nowMs: UInt64) -> AppendResult {
        var q = queues.removeValue(forKey: tp) ?? []
        defer { queues[tp] = q }
        var newBatch = false
        if let last = q.last, !last.isClosed, last.attempts == 0 {
            let delta = timestamp &- (last.builder.recordCount == 0 ? timestamp : last.builder.baseTimestamp)
            let size = BatchBuilder.encodedSize(offsetDelta: Int64(last.builder.recordCount), timestampDelta: delta,
                                                key: key, value: value, headers: headers)
            if last.builder.estimatedBatchSize + size > config.batchSize { newBatch = true }
        } else {
            newBatch = true
        }
        if newBatch {
            let est = BatchBuilder.encodedSize(offsetDelta: 0, timestampDelta: 0, key: key, value: value, headers: headers)
            q.append(ProducerBatch(tp: tp, createdAtMs: nowMs, capacity: Swift.max(est, Swift.min(config.batchSize, 1 << 16))))
        }
        let i = q.count - 1
        let n = q[i].builder.append(timestamp: timestamp, key: key, value: value, headers: headers)
        q[i].callbacks.append(callback)
        q[i].timestamps.append(timestamp)
        q[i].reservedBytes += n
        usedMemory += n
        queuedRecords += 1
        let full = q.count > 1 || q[i].builder.estimatedBatchSize >= config.batchSize
        return AppendResult(newBatch: newBatch, batchFull: full, bytes: n)
    }

    /// Whether the partition's first batch may be sent at `now`.
    public func isReady(_ tp: TopicPartition, nowMs: UInt64) -> Bool {
        guard let q = queues[tp], let first = q.first else { return false }
        if first.attempts > 0 { return nowMs >= first.retryAtMs }
        if flushing || q.count > 1 || first.builder.estimatedBatchSize >= config.batchSize { return true }
        return nowMs >= first.createdAtMs + UInt64(config.lingerMs)
    }

    /// Partitions ready now, and the earliest time another becomes ready (for the sender's timer).
    public func ready(nowMs: UInt64) -> (ready: [TopicPartition], nextReadyMs: UInt64?) {
        var out: [TopicPartition] = []
        var next: UInt64?
        for (tp, q) in queues {
            guard let first = q.first else { continue }
            if isReady(tp, nowMs: nowMs) {
                out.append(tp)
            } else {
                let at = first.attempts > 0 ? first.retryAtMs : first.createdAtMs + UInt64(config.lingerMs)
                next = Swift.min(next ?? at, at)
            }
        }
        return (out.sorted(), next)
    }

    /// Removes and returns the first batch of a ready partition.
    public mutating func drainFirst(_ tp: TopicPartition, nowMs: UInt64) -> ProducerBatch? {
        guard isReady(tp, nowMs: nowMs), var q = queues[tp], !q.isEmpty else { return nil }
        let b = q.removeFirst()
        queues[tp] = q.isEmpty ? nil : q
        queuedRecords -= b.recordCount
        return b
    }

    /// Puts a batch back for a retry, ahead of newer batches and in sequence order among retries.
    public mutating func reenqueue(_ batch: ProducerBatch, retryAtMs: UInt64) {
        var b = batch
        b.attempts += 1
        b.retryAtMs = retryAtMs
        var q = queues[b.tp] ?? []
        var at = 0
        while at < q.count, q[at].attempts > 0, let s = q[at].baseSequence, let mine = b.baseSequence, s < mine { at += 1 }
        q.insert(b, at: at)
        queues[b.tp] = q
        queuedRecords += b.recordCount
    }

    /// Returns a completed batch's memory to the pool.
    public mutating func release(_ batch: ProducerBatch) {
        usedMemory -= batch.reservedBytes
    }

    /// Removes queued batches older than `deadlineMs` (delivery.timeout.ms) so they can be failed.
    public mutating func expire(createdBeforeMs deadlineMs: UInt64) -> [ProducerBatch] {
        var out: [ProducerBatch] = []
        for (tp, q) in queues {
            let (old, keep) = (q.filter { $0.createdAtMs < deadlineMs }, q.filter { $0.createdAtMs >= deadlineMs })
            guard !old.isEmpty else { continue }
            out += old
            queues[tp] = keep.isEmpty ? nil : keep
        }
        for b in out { queuedRecords -= b.recordCount }
        return out
    }

    /// Removes everything (close without flush / fatal error).
    public mutating func abortAll() -> [ProducerBatch] {
        let all = queues.values.flatMap { $0 }
        queues.removeAll()
        queuedRecords = 0
        return all
    }
}

/// Per-partition sequence numbers for the idempotent producer (I/O-free).
public struct IdempotenceState: Sendable {
    public private(set) var producerId: Int64 = -1
    public private(set) var producerEpoch: Int16 = -1
    private var nextSequence: [TopicPartition: Int32] = [:]
    /// Base sequences sent and not yet answered, per partition, in send order.
    private var inFlight: [TopicPartition: [Int32]] = [:]

    public init() {}

    public var hasProducerId: Bool { producerId >= 0 }

    /// A new id/epoch restarts every partition at sequence 0.
    public mutating func reset(producerId: Int64, epoch: Int16) {
        self.producerId = producerId
        self.producerEpoch = epoch
        nextSequence.removeAll()
        inFlight.removeAll()
    }

    public func peekSequence(_ tp: TopicPartition) -> Int32 { nextSequence[tp] ?? 0 }

    /// Takes `count` sequences for a batch; sequences wrap at Int32.max as Kafka's do.
    public mutating func assign(_ tp: TopicPartition, count: Int) -> Int32 {
        let base = nextSequence[tp] ?? 0
        let next = Int64(base) + Int64(count)
        nextSequence[tp] = next > Int64(Int32.max) ? Int32(next - Int64(Int32.max) - 1) : Int32(next)
        return base
    }

    public mutating func sent(_ tp: TopicPartition, base: Int32) {
        inFlight[tp, default: []].append(base)
    }

    public mutating func answered(_ tp: TopicPartition, base: Int32) {
        inFlight[tp]?.removeAll { $0 == base }
    }

    public func inFlightCount(_ tp: TopicPartition) -> Int { inFlight[tp]?.count ?? 0 }

    /// True when `base` is the oldest unanswered batch of its partition: an out-of-order error for it
    /// is real, while for a later batch it only means an earlier one is being retried.
    public func isOldestInFlight(_ tp: TopicPartition, base: Int32) -> Bool {
        inFlight[tp]?.first == base
    }
}

extension RecordAccumulator {
    public func peekFirst(_ tp: TopicPartition) -> ProducerBatch? { queues[tp]?.first }

    /// After a producer id change every batch must be re-sequenced and re-encoded.
    public mutating func resetSequences() {
        for (tp, q) in queues {
            queues[tp] = q.map { b in
                var c = b
                c.baseSequence = nil
                c.encoded = nil
                return c
            }
        }
    }
}
