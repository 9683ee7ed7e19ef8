import Protocol
import Testing
@testable import KafkaClient

final class FakeSource: RecordSource {
    var batches: [[ConsumerRecord]]
    var commits: [[TopicPartition: Int64]] = []
    var seeks: [TopicPartition: Int64] = [:]
    init(_ batches: [[ConsumerRecord]]) { self.batches = batches }
    func poll(timeoutMs: Int) throws -> [ConsumerRecord] { batches.isEmpty ? [] : batches.removeFirst() }
    func commitSync(_ offsets: [TopicPartition: Int64]?) throws { commits.append(offsets ?? [:]) }
    func seek(_ tp: TopicPartition, offset: Int64) throws { seeks[tp] = offset }
}

final class FakePublisher: RecordPublisher {
    var published: [ProducerRecord] = []
    var failing = false
    func publish(_ record: ProducerRecord) throws {
        if failing { throw KafkaError.timeout("dlq") }
        published.append(record)
    }
}

struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }

struct DeadLetterTests {
    func rec(_ p: Int32, _ o: Int64, _ v: String) -> ConsumerRecord {
        ConsumerRecord(topic: "orders", partition: p, offset: o, timestamp: 1234, key: Array("k".utf8), value: Array(v.utf8),
                       headers: [RecordHeader(key: "trace", value: [1])])
    }

    @Test func successCommitsWithoutRetries() throws {
        let src = FakeSource([[rec(0, 10, "a"), rec(1, 4, "b")]])
        let pub = FakePublisher()
        var sleeps: [Int] = []
        let p = DeadLetterProcessor(source: src, publisher: pub, seed: 1, sleep: { sleeps.append($0) })
        let out = try p.runOnce(timeoutMs: 0) { _ in }
        #expect(out == [.processed(TopicPartition("orders", 0), offset: 10, attempts: 1), .processed(TopicPartition("orders", 1), offset: 4, attempts: 1)])
        #expect(src.commits == [[TopicPartition("orders", 0): 11, TopicPartition("orders", 1): 5]])
        #expect(sleeps.isEmpty && pub.published.isEmpty)
    }

    @Test func transientFailureIsRetriedWithGrowingBackoff() throws {
        let src = FakeSource([[rec(0, 1, "x")]])
        var sleeps: [Int] = []
        var calls = 0
        let policy = RetryPolicy(maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 10_000, multiplier: 2, jitter: 0)
        let p = DeadLetterProcessor(source: src, publisher: FakePublisher(), policy: policy, seed: 1, sleep: { sleeps.append($0) })
        let out = try p.runOnce(timeoutMs: 0) { _ in
            calls += 1
            if calls < 3 { throw Boom() }
        }
        #expect(out == [.processed(TopicPartition("orders", 0), offset: 1, attempts: 3)])
        #expect(sleeps == [100, 200])
        #expect(src.commits == [[TopicPartition("orders", 0): 2]])
    }

    @Test func exhaustedRecordGoesToDLQWithErrorHeaders() throws {
        let src = FakeSource([[rec(2, 7, "bad"), rec(2, 8, "good")]])
        let pub = FakePublisher()
        let p = DeadLetterProcessor(source: src, publisher: pub, policy: RetryPolicy(maxAttempts: 3, initialBackoffMs: 1), seed: 1, sleep: { _ in })
        let out = try p.runOnce(timeoutMs: 0) { r in if r.value == Array("bad".utf8) { throw Boom() } }
        #expect(out.count == 2)
        #expect(out[0] == .deadLettered(TopicPartition("orders", 2), offset: 7, attempts: 3, error: "boom"))
        #expect(pub.published.count == 1)
        let dl = pub.published[0]
        #expect(dl.topic == "orders.DLQ" && dl.value == Array("bad".utf8) && dl.key == Array("k".utf8))
        let h = Dictionary(dl.headers.map { ($0.key, String(decoding: $0.value ?? [], as: UTF8.self)) }, uniquingKeysWith: { a, _ in a })
        #expect(h["dlq.error"] == "boom" && h["dlq.original.topic"] == "orders" && h["dlq.original.partition"] == "2")
        #expect(h["dlq.original.offset"] == "7" && h["dlq.attempts"] == "3" && h["trace"] != nil)
        #expect(src.commits == [[TopicPartition("orders", 2): 9]])
    }

    @Test func failingDLQRewindsAndCommitsOnlyFinishedRecords() throws {
        let src = FakeSource([[rec(0, 1, "ok"), rec(0, 2, "bad"), rec(0, 3, "later"), rec(1, 9, "other")]])
        let pub = FakePublisher()
        pub.failing = true
        let p = DeadLetterProcessor(source: src, publisher: pub, policy: RetryPolicy(maxAttempts: 2, initialBackoffMs: 1), seed: 1, sleep: { _ in })
        #expect(throws: KafkaError.self) {
            try p.runOnce(timeoutMs: 0) { r in if r.value == Array("bad".utf8) { throw Boom() } }
        }
        #expect(src.commits == [[TopicPartition("orders", 0): 2]])
        #expect(src.seeks == [TopicPartition("orders", 0): 2, TopicPartition("orders", 1): 9])
    }

    @Test func backoffIsCappedAndJittered() {
        let p = RetryPolicy(maxAttempts: 10, initialBackoffMs: 100, maxBackoffMs: 1000, multiplier: 2, jitter: 0.2)
        #expect(p.backoffMs(afterAttempt: 1, random: 0.5) == 100)
        #expect(p.backoffMs(afterAttempt: 3, random: 0.5) == 400)
        #expect(p.backoffMs(afterAttempt: 9, random: 0.5) == 1000)
        #expect(p.backoffMs(afterAttempt: 1, random: 0) == 80)
        #expect(p.backoffMs(afterAttempt: 1, random: 0.999_999) == 120)
        #expect(p.backoffMs(afterAttempt: 100, random: 0.5) == 1000)
    }
}
