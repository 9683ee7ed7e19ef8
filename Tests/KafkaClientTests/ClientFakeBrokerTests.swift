import Foundation
import Protocol
import Synchronization
import Testing
@testable import KafkaClient

@Suite(.timeLimit(.minutes(1)), .serialized)
struct ClientFakeBrokerTests {
    func client(_ b: FakeBroker, timeoutMs: Int = 2000) -> ClientConfig {
        ClientConfig(bootstrapServers: [b.bootstrap], requestTimeoutMs: timeoutMs, connectTimeoutMs: 2000, retryBackoffMs: 20)
    }

    @Test func negotiatesVersionsAndReadsMetadata() throws {
        let b = try FakeBroker()
        defer { b.stop() }
        let cluster = try KafkaCluster(config: client(b))
        defer { cluster.close() }
        let md = try cluster.refreshMetadata(topics: ["t"])
        #expect(md.partitionCount("t") == 2 && md.clusterId == "fake" && md.brokers[1]?.port == b.port)
        let seen = b.seen.withLock { $0 }
        #expect(seen.first?.api == .apiVersions && seen.first?.version == 3)
        #expect(seen.contains { $0.api == .metadata && $0.version == 12 })
    }

    @Test func idempotentProducerNumbersBatchesAndConsumerReadsThemBack() throws {
        let b = try FakeBroker()
        defer { b.stop() }
        var pc = ProducerConfig(client: client(b))
        pc.lingerMs = 2
        pc.batchSize = 512
        let producer = try Producer(config: pc)
        let acked = Mutex<[RecordMetadata]>([])
        for i in 0..<200 {
            try producer.send(ProducerRecord(topic: "t", partition: Int32(i % 2), key: "k\(i)", value: "v\(i)")) { r in
                if case .success(let m) = r { acked.withLock { $0.append(m) } }
            }
        }
        try producer.flush(timeoutMs: 10_000)
        producer.close()
        #expect(acked.withLock { $0.count } == 200)
        // Offsets per partition are dense and in send order.
        let p0 = acked.withLock { $0 }.filter { $0.partition == 0 }.map(\.offset)
        #expect(p0 == Array(0..<100))
        // Sequences start at 0 and each batch continues where the previous ended.
        let seqs = b.sequences.withLock { $0 }
        #expect(seqs[TopicPartition("t", 0)]?.first == 0)
        #expect(seqs[TopicPartition("t", 0)] == seqs[TopicPartition("t", 0)]?.sorted())
        #expect((seqs[TopicPartition("t", 0)]?.count ?? 0) > 1)

        var cc = ConsumerConfig(client: client(b))
        cc.autoOffsetReset = .earliest
        cc.maxPollRecords = 30
        let consumer = try Consumer(config: cc)
        defer { consumer.close() }
        consumer.assign([TopicPartition("t", 0), TopicPartition("t", 1)])
        var got: [TopicPartition: [Int64]] = [:]
        let deadline = Date().addingTimeInterval(10)
        while got.values.map(\.count).reduce(0, +) < 200 && Date() < deadline {
            for r in try consumer.poll(timeoutMs: 200) {
                #expect(r.value == Array("v\(r.offset * 2 + Int64(r.partition))".utf8))
                got[r.topicPartition, default: []].append(r.offset)
            }
        }
        #expect(got[TopicPartition("t", 0)] == Array(0..<100))
        #expect(got[TopicPartition("t", 1)] == Array(0..<100))
        #expect(try consumer.position(TopicPartition("t", 1)) == 100)
        // seek and pause
        try consumer.seek(TopicPartition("t", 0), offset: 95)
        consumer.pause([TopicPartition("t", 1)])
        var again: [Int64] = []
        while again.count < 5 && Date() < deadline { again += try consumer.poll(timeoutMs: 200).map(\.offset) }
        #expect(again == [95, 96, 97, 98, 99])
        #expect(consumer.paused == [TopicPartition("t", 1)])
    }

    @Test func retriableProduceErrorIsRetriedWithTheSameSequence() throws {
        let b = try FakeBroker()
        defer { b.stop() }
        b.inject.withLock { $0 = { api, n in api == .produce && n == 0 ? .produceError(.notLeaderOrFollower) : .normal } }
        var pc = ProducerConfig(client: client(b))
        pc.lingerMs = 0
        let producer = try Producer(config: pc)
        defer { producer.close() }
        let m = try producer.sendAndWait(ProducerRecord(topic: "t", partition: 1, key: nil, value: "x"), timeoutMs: 10_000)
        #expect(m.offset == 0 && m.partition == 1)
        #expect(b.sequences.withLock { $0 }[TopicPartition("t", 1)] == [0])
        #expect(b.seen.withLock { $0 }.filter { $0.api == .produce }.count == 2)
    }

    @Test func nonRetriableErrorFailsTheRecord() throws {
        let b = try FakeBroker()
        defer { b.stop() }
        b.inject.withLock { $0 = { api, _ in api == .produce ? .produceError(.messageTooLarge) : .normal } }
        var pc = ProducerConfig(client: client(b))
        pc.lingerMs = 0
        let producer = try Producer(config: pc)
        defer { producer.close(timeoutMs: 100) }
        #expect(throws: KafkaError.self) { try producer.sendAndWait(ProducerRecord(topic: "t", key: nil, value: "x"), timeoutMs: 10_000) }
    }

    @Test func unknownTopicFailsFastWithinMaxBlock() throws {
        let b = try FakeBroker()
        defer { b.stop() }
        var pc = ProducerConfig(client: client(b))
        pc.maxBlockMs = 300
        let producer = try Producer(config: pc)
        defer { producer.close(timeoutMs: 100) }
        #expect(throws: KafkaError.unknownTopic("nope")) { try producer.send(ProducerRecord(topic: "nope", key: nil, value: "x")) }
    }

    @Test func silentBrokerTimesOut() throws {
        let b = try FakeBroker()
        defer { b.stop() }
        b.inject.withLock { $0 = { api, _ in api == .metadata ? .silent : .normal } }
        let cluster = try KafkaCluster(config: client(b, timeoutMs: 300))
        defer { cluster.close() }
        let start = Date()
        #expect(throws: KafkaError.self) { try cluster.refreshMetadata(topics: ["t"]) }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test(arguments: [
        [0x7f, 0xff, 0xff, 0xff] as [UInt8],           // 2 GiB frame
        [0xff, 0xff, 0xff, 0xfe],                       // negative length
        [0, 0, 0, 4, 0, 0, 0x12, 0x34],                  // unknown correlation id
        [0, 0, 0, 6, 0, 0, 0, 2, 0xff, 0xff],            // right correlation id, truncated body
    ])
    func garbageResponsesBecomeErrors(bytes: [UInt8]) throws {
        let b = try FakeBroker()
        defer { b.stop() }
        b.inject.withLock { $0 = { api, _ in api == .metadata ? .raw(bytes) : .normal } }
        let cluster = try KafkaCluster(config: client(b))
        defer { cluster.close() }
        #expect(throws: KafkaError.self) { try cluster.refreshMetadata(topics: ["t"]) }
    }

    /// A dead server first in the bootstrap list (a killed broker, say) is skipped, as every Kafka client does.
    @Test func aDeadBootstrapServerIsSkipped() throws {
        let b = try FakeBroker()
        defer { b.stop() }
        // The client starts at a random bootstrap server; enough fresh clients make sure the dead one comes first.
        for order in Array(repeating: [["127.0.0.1:1", b.bootstrap], [b.bootstrap, "127.0.0.1:1"]], count: 6).joined() {
            let cluster = try KafkaCluster(config: ClientConfig(bootstrapServers: order, requestTimeoutMs: 2000, connectTimeoutMs: 2000, retryBackoffMs: 20))
            defer { cluster.close() }
            for _ in 0..<3 { #expect(try cluster.refreshMetadata(topics: ["t"]).partitionCount("t") == 2) }
        }
    }

    @Test func connectionRefusedIsAnError() throws {
        let cluster = try KafkaCluster(config: ClientConfig(bootstrapServers: ["127.0.0.1:1"], requestTimeoutMs: 500, connectTimeoutMs: 500))
        defer { cluster.close() }
        #expect(throws: KafkaError.self) { try cluster.refreshMetadata(topics: []) }
    }

    @Test func groupMemberJoinsGetsEverythingCommitsAndResumes() throws {
        let b = try FakeBroker(partitions: 3)
        defer { b.stop() }
        var pc = ProducerConfig(client: client(b))
        pc.lingerMs = 0
        let producer = try Producer(config: pc)
        for i in 0..<30 { try producer.send(ProducerRecord(topic: "t", partition: Int32(i % 3), key: nil, value: "v\(i)")) }
        try producer.flush(timeoutMs: 5000)
        producer.close()

        var cc = ConsumerConfig(client: client(b), groupId: "g")
        cc.autoOffsetReset = .earliest
        cc.enableAutoCommit = false
        let assigned = Mutex<[TopicPartition]>([])
        var consumer = try Consumer(config: cc)
        try consumer.subscribe(["t"], listener: RebalanceListener(onAssigned: { tps in assigned.withLock { $0 = tps } }))
        var n = 0
        let deadline = Date().addingTimeInterval(10)
        while n < 20 && Date() < deadline { n += try consumer.poll(timeoutMs: 100).count }
        #expect(assigned.withLock { $0 } == (0..<3).map { TopicPartition("t", $0) })
        #expect(consumer.memberId == "member-1")
        try consumer.commitSync([TopicPartition("t", 0): 4])
        #expect(b.committed.withLock { $0 }[TopicPartition("t", 0)] == 4)
        #expect(try consumer.committed([TopicPartition("t", 0), TopicPartition("t", 1)]) == [TopicPartition("t", 0): 4, TopicPartition("t", 1): -1])
        consumer.close()
        #expect(b.seen.withLock { $0 }.contains { $0.api == .leaveGroup })

        // A new member resumes from the committed offset on t-0 and from the start elsewhere.
        consumer = try Consumer(config: cc)
        defer { consumer.close() }
        try consumer.subscribe(["t"])
        var offsets: [TopicPartition: [Int64]] = [:]
        while offsets.values.map(\.count).reduce(0, +) < 26 && Date() < deadline {
            for r in try consumer.poll(timeoutMs: 100) { offsets[r.topicPartition, default: []].append(r.offset) }
        }
        #expect(offsets[TopicPartition("t", 0)] == Array(4..<10))
        #expect(offsets[TopicPartition("t", 2)] == Array(0..<10))
    }
}
