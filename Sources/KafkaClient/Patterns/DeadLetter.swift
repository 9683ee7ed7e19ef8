import Protocol

/// What the retry wrapper reads from (a `Consumer`, or a fake in tests).
public protocol RecordSource: AnyObject {
    func poll(timeoutMs: Int) throws -> [ConsumerRecord]
    func commitSync(_ offsets: [TopicPartition: Int64]?) throws
    func seek(_ tp: TopicPartition, offset: Int64) throws
}

/// Where dead letters go; `publish` returns only once the broker acknowledged the record.
public protocol RecordPublisher: AnyObject {
    func publish(_ record: ProducerRecord) throws
}

extension Consumer: RecordSource {}

extension Producer: RecordPublisher {
    public func publish(_ record: ProducerRecord) throws { try sendAndWait(record) }
}

/// Exponential backoff with jitter (I/O-free: the caller supplies the random number).
public struct RetryPolicy: Sendable, Equatable {
    /// Total tries per record, the first one included.
    public var maxAttempts: Int
    public var initialBackoffMs: Int
    public var maxBackoffMs: Int
    public var multiplier: Double
    /// ±fraction of the delay drawn at random, so failing consumers do not retry in lockstep.
    public var jitter: Double

    public init(maxAttempts: Int = 5, initialBackoffMs: Int = 100, maxBackoffMs: Int = 10_000, multiplier: Double = 2, jitter: Double = 0.2) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoffMs = max(0, initialBackoffMs)
        self.maxBackoffMs = max(self.initialBackoffMs, maxBackoffMs)
        self.multiplier = max(1, multiplier)
        self.jitter = min(max(0, jitter), 1)
    }

    /// Delay before try `attempt + 1`, after `attempt` failures (attempt ≥ 1); `random` in [0, 1).
    public func backoffMs(afterAttempt attempt: Int, random: Double) -> Int {
        var base = Double(initialBackoffMs)
        for _ in 1..<max(1, attempt) {
            base *= multiplier
            if base >= Double(maxBackoffMs) { break }
        }
        base = min(base, Double(maxBackoffMs))
        let factor = 1 - jitter + 2 * jitter * min(max(random, 0), 1)
        return Int((base * factor).rounded())
    }
}

public enum RecordOutcome: Sendable, Equatable {
    case processed(TopicPartition, offset: Int64, attempts: Int)
    case deadLettered(TopicPartition, offset: Int64, attempts: Int, error: String)
}

/// Seed note 003: run a handler per record; retry failures with backoff and jitter up to a limit,
/// then publish the record with its error (in headers) to `<topic>.DLQ`. Offsets are committed only
/// for records that succeeded or whose dead letter was acknowledged; if the DLQ itself fails the
/// source is rewound to the first unfinished record and the error is thrown, so nothing is skipped.
public final class DeadLetterProcessor {
    public let policy: RetryPolicy
    public let dlqSuffix: String
    private let source: RecordSource
    private let publisher: RecordPublisher
    private let sleep: (Int) -> Void
    private var rng: SplitMix64

    public init(source: RecordSource, publisher: RecordPublisher, policy: RetryPolicy = RetryPolicy(), dlqSuffix: String = ".DLQ",
                seed: UInt64 = UInt64.random(in: 0...UInt64.max), sleep: ((Int) -> Void)? = nil) {
        self.source = source
        self.publisher = publisher
        self.policy = policy
        self.dlqSuffix = dlqSuffix
        self.sleep = sleep ?? { ms in usleepMs(ms) }
        self.rng = SplitMix64(seed: seed)
    }

    /// Header names on dead letters.
    public enum Header {
        public static let error = "dlq.error"
        public static let topic = "dlq.original.topic"
        public static let partition = "dlq.original.partition"
        public static let offset = "dlq.original.offset"
        public static let timestamp = "dlq.original.timestamp"
        public static let attempts = "dlq.attempts"
    }

    /// Polls once and handles every record returned; commits what finished.
    @discardableResult
    public func runOnce(timeoutMs: Int, handler: (ConsumerRecord) throws -> Void) throws -> [RecordOutcome] {
        let records = try source.poll(timeoutMs: timeoutMs)
        var outcomes: [RecordOutcome] = []
        var done: [TopicPartition: Int64] = [:]
        for (i, r) in records.enumerated() {
            let tp = r.topicPartition
            var attempt = 0
            while true {
                attempt += 1
                do {
                    try handler(r)
                    outcomes.append(.processed(tp, offset: r.offset, attempts: attempt))
                    break
                } catch {
                    if attempt < policy.maxAttempts {
                        sleep(policy.backoffMs(afterAttempt: attempt, random: rng.nextUnit()))
                        continue
                    }
                    do {
                        try publisher.publish(deadLetter(r, error: error, attempts: attempt))
                    } catch {
                        try rewind(records[i...], committing: done)
                        throw error
                    }
                    outcomes.append(.deadLettered(tp, offset: r.offset, attempts: attempt, error: "\(error)"))
                    break
                }
            }
            done[tp] = r.offset + 1
        }
        if !done.isEmpty { try source.commitSync(done) }
        return outcomes
    }

    /// Commits what finished and moves each partition back to its first unfinished record.
    private func rewind(_ unfinished: ArraySlice<ConsumerRecord>, committing done: [TopicPartition: Int64]) throws {
        var first: [TopicPartition: Int64] = [:]
        for r in unfinished where first[r.topicPartition] == nil { first[r.topicPartition] = r.offset }
        for (tp, o) in first { try source.seek(tp, offset: o) }
        if !done.isEmpty { try source.commitSync(done) }
    }

    public func deadLetter(_ r: ConsumerRecord, error: Error, attempts: Int) -> ProducerRecord {
        var headers = r.headers
        headers.append(RecordHeader(key: Header.error, value: Array("\(error)".utf8)))
        headers.append(RecordHeader(key: Header.topic, value: Array(r.topic.utf8)))
        headers.append(RecordHeader(key: Header.partition, value: Array(String(r.partition).utf8)))
        headers.append(RecordHeader(key: Header.offset, value: Array(String(r.offset).utf8)))
        headers.append(RecordHeader(key: Header.timestamp, value: Array(String(r.timestamp).utf8)))
        headers.append(RecordHeader(key: Header.attempts, value: Array(String(attempts).utf8)))
        return ProducerRecord(topic: r.topic + dlqSuffix, key: r.key, value: r.value, headers: headers, timestamp: r.timestamp)
    }
}

#if canImport(Glibc)
import Glibc
#endif

func usleepMs(_ ms: Int) {
    var left = ms
    while left > 0 {
        let step = min(left, 1000)
        usleep(UInt32(step) * 1000)
        left -= step
    }
}
