/// The idempotence fields of a record batch header.
public struct ProducerBatchHeader: Equatable, Sendable {
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    /// Records in the batch minus one (the header's lastOffsetDelta).
    public var lastOffsetDelta: Int32

    public init(producerId: Int64, producerEpoch: Int16, baseSequence: Int32, lastOffsetDelta: Int32) {
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.lastOffsetDelta = lastOffsetDelta
    }

    /// Sequences wrap from Int32.max to 0, as in Kafka's DefaultRecordBatch.incrementSequence.
    public var lastSequence: Int32 {
        let delta = max(0, lastOffsetDelta)
        if baseSequence > Int32.max - delta { return delta - (Int32.max - baseSequence) - 1 }
        return baseSequence + delta
    }

    public var isIdempotent: Bool { producerId >= 0 }
}

public struct ProducerBatchMetadata: Equatable, Sendable {
    public var firstSequence: Int32
    public var lastSequence: Int32
    public var firstOffset: Int64
    public var lastOffset: Int64
    public var timestampMs: Int64
}

public struct ProducerStateEntry: Equatable, Sendable {
    public var producerId: Int64
    public var epoch: Int16
    /// The last few batches, oldest first, for duplicate detection.
    public var batches: [ProducerBatchMetadata]
    public var lastTimestampMs: Int64
}

public enum ProducerAppendCheck: Equatable, Sendable {
    case append
    /// A retry of a batch already in the log: answer success with its original offsets.
    case duplicate(firstOffset: Int64, lastOffset: Int64)
    case reject(KafkaError)
}

/// Per-partition producer state: which epoch and sequences each producer id is at.
public struct ProducerStateTable: Sendable {
    /// Kafka keeps the last five batches per producer (max.in.flight for idempotence).
    public static let retainedBatches = 5

    public private(set) var entries: [Int64: ProducerStateEntry] = [:]

    public init() {}

    /// Validates an incoming batch on the leader before it is appended.
    public func check(_ b: ProducerBatchHeader) -> ProducerAppendCheck {
        guard b.isIdempotent else { return .append }
        guard b.baseSequence >= 0, b.producerEpoch >= 0 else { return .reject(.outOfOrderSequenceNumber) }
        guard let e = entries[b.producerId] else {
            // Nothing known about this id: only a fresh producer (sequence 0) may start here.
            return b.baseSequence == 0 ? .append : .reject(.unknownProducerId)
        }
        if b.producerEpoch < e.epoch { return .reject(.invalidProducerEpoch) }
        if b.producerEpoch > e.epoch {
            return b.baseSequence == 0 ? .append : .reject(.outOfOrderSequenceNumber)
        }
        let last = b.lastSequence
        if let dup = e.batches.first(where: { $0.firstSequence == b.baseSequence && $0.lastSequence == last }) {
            return .duplicate(firstOffset: dup.firstOffset, lastOffset: dup.lastOffset)
        }
        let current = e.batches.last?.lastSequence ?? -1
        return Self.inSequence(current, b.baseSequence) ? .append : .reject(.outOfOrderSequenceNumber)
    }

    static func inSequence(_ last: Int32, _ next: Int32) -> Bool {
        (last == Int32.max && next == 0) || (last < Int32.max && next == last + 1)
    }

    /// Records a batch that is now in the log (after a validated append, or when loading the log).
    public mutating func appended(_ b: ProducerBatchHeader, firstOffset: Int64, lastOffset: Int64, timestampMs: Int64) {
        guard b.isIdempotent else { return }
        var e = entries[b.producerId] ?? ProducerStateEntry(producerId: b.producerId, epoch: b.producerEpoch, batches: [], lastTimestampMs: timestampMs)
        if b.producerEpoch != e.epoch {
            e.epoch = b.producerEpoch
            e.batches = []
        }
        e.batches.append(ProducerBatchMetadata(firstSequence: b.baseSequence, lastSequence: b.lastSequence,
                                               firstOffset: firstOffset, lastOffset: lastOffset, timestampMs: timestampMs))
        if e.batches.count > Self.retainedBatches { e.batches.removeFirst(e.batches.count - Self.retainedBatches) }
        e.lastTimestampMs = max(e.lastTimestampMs, timestampMs)
        entries[b.producerId] = e
    }

    /// A transaction marker written at `epoch`: a newer epoch (the coordinator fenced the producer)
    /// replaces the entry's, so batches of older epochs are refused from now on.
    public mutating func markerAppended(producerId: Int64, epoch: Int16) {
        guard var e = entries[producerId], epoch > e.epoch else { return }
        e.epoch = epoch
        e.batches = []
        entries[producerId] = e
    }

    /// Rebuilds the table from the batch headers in the log, oldest first (recovery, or on
    /// becoming leader). The log is the truth, so nothing is validated.
    public static func rebuild(from batches: [(header: ProducerBatchHeader, firstOffset: Int64, lastOffset: Int64, timestampMs: Int64)]) -> ProducerStateTable {
        var t = ProducerStateTable()
        for b in batches { t.appended(b.header, firstOffset: b.firstOffset, lastOffset: b.lastOffset, timestampMs: b.timestampMs) }
        return t
    }

    /// Drops producers idle for longer than `maxIdleMs` (producer.id.expiration.ms).
    public mutating func expire(nowMs: Int64, maxIdleMs: Int64) {
        entries = entries.filter { nowMs - $0.value.lastTimestampMs <= maxIdleMs }
    }
}
