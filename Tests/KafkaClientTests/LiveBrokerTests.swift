import Foundation
import Testing
@testable import KafkaClient
import Protocol

/// Runs only when KAFKA_TEST_BOOTSTRAP=host:port names a live broker (Tansu, brokerd, Kafka).
let liveBootstrap = ProcessInfo.processInfo.environment["KAFKA_TEST_BOOTSTRAP"]

@Suite(.enabled(if: liveBootstrap != nil), .timeLimit(.minutes(1)))
struct LiveBrokerTests {
    let servers = [liveBootstrap ?? "127.0.0.1:9092"]

    @Test func produceThenConsume() throws {
        let topic = "swift-live-\(UInt32.random(in: 0...UInt32.max))"
        let admin = try Admin(config: ClientConfig(bootstrapServers: servers))
        defer { admin.close() }
        try admin.createTopics([NewTopic(name: topic, partitions: 3, replicationFactor: 1)])
        var pc = ProducerConfig(bootstrapServers: servers)
        pc.lingerMs = 1
        // Tansu 0.6 fails InitProducerId below v3; KAFKA_TEST_IDEMPOTENCE=0 turns it off there.
        pc.enableIdempotence = ProcessInfo.processInfo.environment["KAFKA_TEST_IDEMPOTENCE"] != "0"
        let producer = try Producer(config: pc)
        for i in 0..<100 {
            try producer.send(ProducerRecord(topic: topic, key: "k\(i)", value: "v\(i)"))
        }
        let last = try producer.sendAndWait(ProducerRecord(topic: topic, partition: 0, key: nil, value: "last"))
        #expect(last.offset >= 0)
        try producer.flush(timeoutMs: 10_000)
        producer.close()

        var cc = ConsumerConfig(bootstrapServers: servers)
        cc.autoOffsetReset = .earliest
        let consumer = try Consumer(config: cc)
        defer { consumer.close() }
        consumer.assign((0..<3).map { TopicPartition(topic, Int32($0)) })
        var got: [String] = []
        let deadline = Date().addingTimeInterval(20)
        while got.count < 101 && Date() < deadline {
            for r in try consumer.poll(timeoutMs: 500) { got.append(String(decoding: r.value ?? [], as: UTF8.self)) }
        }
        #expect(got.count == 101)
        #expect(Set(got).contains("v42"))
    }

    @Test func groupConsumerWithDeadLetters() throws {
        let topic = "swift-live-dlq-\(UInt32.random(in: 0...UInt32.max))"
        let admin = try Admin(config: ClientConfig(bootstrapServers: servers))
        defer { admin.close() }
        try admin.createTopics([NewTopic(name: topic, partitions: 2, replicationFactor: 1),
                                NewTopic(name: topic + ".DLQ", partitions: 1, replicationFactor: 1)])
        var pc = ProducerConfig(bootstrapServers: servers)
        pc.enableIdempotence = ProcessInfo.processInfo.environment["KAFKA_TEST_IDEMPOTENCE"] != "0"
        let producer = try Producer(config: pc)
        defer { producer.close() }
        for i in 0..<10 { try producer.send(ProducerRecord(topic: topic, key: "k\(i)", value: i == 3 ? "poison" : "ok\(i)")) }
        try producer.flush(timeoutMs: 10_000)

        var cc = ConsumerConfig(bootstrapServers: servers, groupId: "swift-live-\(UInt32.random(in: 0...UInt32.max))")
        cc.autoOffsetReset = .earliest
        cc.enableAutoCommit = false
        let consumer = try Consumer(config: cc)
        defer { consumer.close() }
        try consumer.subscribe([topic])
        let dlq = DeadLetterProcessor(source: consumer, publisher: producer, policy: RetryPolicy(maxAttempts: 2, initialBackoffMs: 10))
        var outcomes: [RecordOutcome] = []
        let deadline = Date().addingTimeInterval(45)
        while outcomes.count < 10 && Date() < deadline {
            outcomes += try dlq.runOnce(timeoutMs: 500) { r in
                if r.value == Array("poison".utf8) { throw KafkaError.invalidArgument("poison pill") }
            }
        }
        #expect(outcomes.count == 10)
        #expect(outcomes.filter { if case .deadLettered = $0 { true } else { false } }.count == 1)
        let committed = try consumer.committed(consumer.assigned)
        #expect(committed.values.reduce(0, +) == 10)
    }
}
