import Foundation
import KafkaClient
import Protocol
import Testing
import Transport

/// The Swift transactional producer and read_committed consumer against real brokerd, cross-checked
/// with confluent-kafka's read_committed consumer.
@Suite(.serialized, .ownThreads) struct SwiftTransactionTests {
    static let txnConfig = "transaction.state.log.num.partitions=3\n"

    static func values(_ rs: [ConsumerRecord]) -> [String] { rs.map { SwiftClientTests.text($0.value) } }

    static func read(_ servers: [String], _ tps: [TopicPartition], readCommitted: Bool, count: Int, timeout: Double = 20) throws -> [ConsumerRecord] {
        var cc = ConsumerConfig(bootstrapServers: servers)
        cc.autoOffsetReset = .earliest
        cc.readCommitted = readCommitted
        let c = try Consumer(config: cc)
        defer { c.close() }
        c.assign(tps)
        var got: [ConsumerRecord] = []
        let deadline = Date().addingTimeInterval(timeout)
        while got.count < count && Date() < deadline { got += try c.poll(timeoutMs: 200) }
        got += try c.poll(timeoutMs: 500)
        return got
    }

    static func producer(_ servers: [String], id: String) throws -> Producer {
        var pc = ProducerConfig(bootstrapServers: servers)
        pc.transactionalId = id
        pc.lingerMs = 1
        pc.maxBlockMs = 30_000
        return try Producer(config: pc)
    }

    /// Committed records reach read_committed readers (Swift and confluent-kafka), aborted ones never do,
    /// while read_uncommitted sees both; and the records are marked transactional on the wire.
    @Test(.timeLimit(.minutes(3))) func commitIsVisibleAbortIsNot() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.txnConfig)
        defer { cluster.cleanup() }
        let servers = SwiftClientTests.servers(cluster)
        let topic = "stx"
        let admin = try Admin(config: ClientConfig(bootstrapServers: servers))
        defer { admin.close() }
        try admin.createTopics([NewTopic(name: topic, partitions: 2, replicationFactor: 1)])

        let p = try Self.producer(servers, id: "stx-1")
        defer { p.close() }
        #expect(throws: KafkaError.self) { try p.send(ProducerRecord(topic: topic, key: "k", value: "early")) }
        try p.initTransactions()
        #expect(p.transactionState == .ready)
        #expect(throws: KafkaError.self) { try p.send(ProducerRecord(topic: topic, key: "k", value: "outside")) }

        try p.beginTransaction()
        for i in 0..<10 { try p.send(ProducerRecord(topic: topic, partition: Int32(i % 2), key: "k\(i)", value: "c1-\(i)")) }
        try p.commitTransaction()
        try p.beginTransaction()
        for i in 0..<10 { try p.send(ProducerRecord(topic: topic, partition: Int32(i % 2), key: "k\(i)", value: "ab-\(i)")) }
        try p.flush()   // on the log, then aborted: only the markers keep readers away
        try p.abortTransaction()
        try p.beginTransaction()
        for i in 0..<4 { try p.send(ProducerRecord(topic: topic, partition: Int32(i % 2), key: "k\(i)", value: "c2-\(i)")) }
        try p.commitTransaction()

        let tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        let committed = Set(Self.values(try Self.read(servers, tps, readCommitted: true, count: 14)))
        let want = Set((0..<10).map { "c1-\($0)" } + (0..<4).map { "c2-\($0)" })
        #expect(committed == want, "read_committed got \(committed.sorted())")
        let all = Self.values(try Self.read(servers, tps, readCommitted: false, count: 24))
        #expect(all.count == 24 && all.filter { $0.hasPrefix("ab-") }.count == 10,
                "read_uncommitted should see the aborted records too: \(all)")

        let py = try ProcessHarness.run("/usr/bin/env", ["python3", GroupSupport.compatDir + "/read_committed.py", cluster.bootstrap, topic, "14", "60"], timeout: 90)
        let pyValues = Set(py.stdout.split(separator: "\n").map(String.init))
        #expect(py.status == 0 && pyValues == want, "confluent-kafka read_committed: \(pyValues.sorted()) \(py.stderr.suffix(800))")
    }

    /// A second producer with the same transactional.id fences the first: its commit and sends fail
    /// with PRODUCER_FENCED (or INVALID_PRODUCER_EPOCH), and its open transaction is aborted.
    @Test(.timeLimit(.minutes(3))) func newerInstanceFencesTheOld() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.txnConfig)
        defer { cluster.cleanup() }
        let servers = SwiftClientTests.servers(cluster)
        let topic = "stx-fence"
        let admin = try Admin(config: ClientConfig(bootstrapServers: servers))
        defer { admin.close() }
        try admin.createTopics([NewTopic(name: topic, partitions: 1, replicationFactor: 1)])

        let old = try Self.producer(servers, id: "fenced")
        defer { old.close(timeoutMs: 1000) }
        try old.initTransactions()
        try old.beginTransaction()
        try old.sendAndWait(ProducerRecord(topic: topic, partition: 0, key: "k", value: "zombie"), timeoutMs: 20_000)

        let new = try Self.producer(servers, id: "fenced")
        defer { new.close() }
        try new.initTransactions()   // aborts the zombie's open transaction
        try new.beginTransaction()
        try new.send(ProducerRecord(topic: topic, partition: 0, key: "k", value: "winner"))
        try new.commitTransaction()

        var oldError: KafkaError?
        do {
            try old.send(ProducerRecord(topic: topic, partition: 0, key: "k", value: "zombie-2"))
            try old.commitTransaction()
        } catch let e as KafkaError { oldError = e }
        let fenced: Set<Int16> = [ErrorCode.producerFenced.rawValue, ErrorCode.invalidProducerEpoch.rawValue]
        if case .broker(let c, _)? = oldError { #expect(fenced.contains(c.rawValue), "\(c)") } else {
            Issue.record("the zombie was not fenced: \(String(describing: oldError))")
        }
        if case .fatalError? = old.transactionState {} else { Issue.record("zombie state \(String(describing: old.transactionState))") }
        #expect(throws: KafkaError.self) { try old.beginTransaction() }

        let got = Self.values(try Self.read(servers, [TopicPartition(topic, 0)], readCommitted: true, count: 1))
        #expect(got == ["winner"], "read_committed after fencing: \(got)")
    }

    /// consume → transform → produce: offsets sent in the transaction are committed with it, and
    /// only then (an aborted one leaves the group's offset where it was).
    @Test(.timeLimit(.minutes(3))) func offsetsCommitWithTheTransaction() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.txnConfig)
        defer { cluster.cleanup() }
        let servers = SwiftClientTests.servers(cluster)
        let admin = try Admin(config: ClientConfig(bootstrapServers: servers))
        defer { admin.close() }
        try admin.createTopics([NewTopic(name: "stx-in", partitions: 1, replicationFactor: 1),
                                NewTopic(name: "stx-out", partitions: 1, replicationFactor: 1)])
        let plain = try Producer(config: ProducerConfig(bootstrapServers: servers))
        for i in 0..<6 { try plain.sendAndWait(ProducerRecord(topic: "stx-in", partition: 0, key: nil, value: "in-\(i)")) }
        plain.close()

        var cc = ConsumerConfig(bootstrapServers: servers, groupId: "stx-g")
        cc.autoOffsetReset = .earliest
        cc.enableAutoCommit = false
        cc.readCommitted = true
        let consumer = try Consumer(config: cc)
        defer { consumer.close() }
        try consumer.subscribe(["stx-in"])
        var records: [ConsumerRecord] = []
        let deadline = Date().addingTimeInterval(40)
        while records.count < 6 && Date() < deadline { records += try consumer.poll(timeoutMs: 300) }
        #expect(records.count == 6)
        guard let meta = consumer.groupMetadata() else { Issue.record("no group metadata"); return }
        #expect(meta.generationId >= 1 && !meta.memberId.isEmpty)

        let p = try Self.producer(servers, id: "stx-etl")
        defer { p.close() }
        try p.initTransactions()
        let inTP = TopicPartition("stx-in", 0)
        // Aborted: the first three inputs' offset is not committed.
        try p.beginTransaction()
        for r in records.prefix(3) { try p.send(ProducerRecord(topic: "stx-out", partition: 0, key: nil, value: "out-" + SwiftClientTests.text(r.value))) }
        try p.sendOffsetsToTransaction([inTP: records[2].offset + 1], groupMetadata: meta)
        try p.abortTransaction()
        let afterAbort = try consumer.committed([inTP])[inTP] ?? -1
        #expect(afterAbort < 0, "an aborted transaction committed offset \(afterAbort)")
        // Committed: all six.
        try p.beginTransaction()
        for r in records { try p.send(ProducerRecord(topic: "stx-out", partition: 0, key: nil, value: "out-" + SwiftClientTests.text(r.value))) }
        try p.sendOffsetsToTransaction([inTP: records[5].offset + 1], groupMetadata: meta)
        try p.commitTransaction()
        var committed: Int64?
        ProcessHarness.waitUntil(timeout: 20, interval: 0.2) {
            committed = (try? consumer.committed([inTP]))?[inTP] ?? nil
            return committed == records[5].offset + 1
        }
        #expect(committed == records[5].offset + 1, "committed offset \(String(describing: committed))")
        let out = Self.values(try Self.read(servers, [TopicPartition("stx-out", 0)], readCommitted: true, count: 6))
        #expect(out == (0..<6).map { "out-in-\($0)" }, "\(out)")
    }
}
