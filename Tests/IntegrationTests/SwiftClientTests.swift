import Foundation
import KafkaClient
import Protocol
import Testing
import Transport

/// The Swift client (Producer, Consumer, Admin, DeadLetterProcessor) end to end against real brokerd
/// processes, cross-checked with kcat, kafka-python and confluent-kafka.
@Suite(.serialized, .ownThreads) struct SwiftClientTests {
    static let fastGroups = "group.initial.rebalance.delay.ms=0"

    static func servers(_ c: BrokerCluster) -> [String] { c.bootstrap.split(separator: ",").map(String.init) }

    static func text(_ b: [UInt8]?) -> String { b.map { String(decoding: $0, as: UTF8.self) } ?? "null" }

    static func header(_ r: ConsumerRecord, _ key: String) -> String? {
        r.headers.last { $0.key == key }.map { text($0.value) }
    }

    /// Reads every record of `tps` from the beginning until `count` arrived or the timeout passed.
    static func readAll(_ bootstrap: [String], _ tps: [TopicPartition], count: Int, timeout: Double = 20) throws -> [ConsumerRecord] {
        var cc = ConsumerConfig(bootstrapServers: bootstrap)
        cc.autoOffsetReset = .earliest
        let c = try Consumer(config: cc)
        defer { c.close() }
        c.assign(tps)
        var got: [ConsumerRecord] = []
        let deadline = Date().addingTimeInterval(timeout)
        while got.count < count && Date() < deadline { got += try c.poll(timeoutMs: 200) }
        // One more short poll so extra (unexpected) records show up too.
        got += try c.poll(timeoutMs: 300)
        return got
    }

    /// A comma-separated list handed in as one server is refused when the client is made, not at resolve.
    @Test func bootstrapListAsOneServerIsRefused() throws {
        #expect(HostPort("127.0.0.1:1,127.0.0.1:2") == nil)
        #expect(HostPort("my host:9092") == nil)
        #expect(throws: KafkaError.invalidArgument("bad bootstrap servers [\"127.0.0.1:1,127.0.0.1:2\"]")) {
            _ = try Admin(config: ClientConfig(bootstrapServers: ["127.0.0.1:1,127.0.0.1:2"]))
        }
    }

    // MARK: producer -> consumer

    /// Three brokers, RF 3: acks=all waits for the followers, and the three leaders are spread out.
    @Test(.timeLimit(.minutes(2))) func idempotentKeyedProduceThenAssignedConsume() throws {
        let cluster = try BrokerCluster(brokers: 3)
        defer { cluster.cleanup() }
        let topic = "sc-keys"
        let admin = try Admin(config: ClientConfig(bootstrapServers: Self.servers(cluster)))
        defer { admin.close() }
        try admin.createTopics([NewTopic(name: topic, partitions: 3, replicationFactor: 3)])
        let leaders = Set(try admin.describeTopics([topic]).first?.partitions.map(\.leader) ?? [])
        #expect(leaders.count == 3, "leaders \(leaders): each broker should lead one partition")

        var pc = ProducerConfig(bootstrapServers: Self.servers(cluster))
        pc.acks = -1
        pc.enableIdempotence = true
        pc.lingerMs = 2
        let producer = try Producer(config: pc)
        let n = 300
        let acked = SyncBox<[String: RecordMetadata]>([:])
        let failed = SyncBox<[String]>([])
        for i in 0..<n {
            let key = "key-\(i % 40)", value = "v\(i)"
            try producer.send(ProducerRecord(topic: topic, key: key, value: value)) { r in
                switch r {
                case .success(let md): acked.update { $0[value] = md }
                case .failure(let e): failed.update { $0.append("\(value): \(e)") }
                }
            }
        }
        try producer.flush(timeoutMs: 20_000)
        producer.close()
        #expect(failed.get().isEmpty, "delivery failures: \(failed.get().prefix(5))\n\(cluster.logs)")
        #expect(acked.get().count == n)

        let tps = (0..<3).map { TopicPartition(topic, Int32($0)) }
        let got = try Self.readAll(Self.servers(cluster), tps, count: n)
        #expect(got.count == n, "consumed \(got.count) of \(n) (idempotent producer must neither lose nor duplicate)")
        #expect(Set(got.map { Self.text($0.value) }).count == n)
        for r in got {
            let key = r.key ?? []
            #expect(r.partition == Murmur2.partition(key: key, numPartitions: 3), "key \(Self.text(r.key)) on partition \(r.partition)")
            #expect(acked.get()[Self.text(r.value)].map { ($0.partition, $0.offset) } ?? (-1, -1) == (r.partition, r.offset),
                    "delivery report and fetched position disagree for \(Self.text(r.value))")
        }
        // Per key the values arrive in send order (idempotence keeps order with 5 in flight).
        var lastIndex: [String: Int] = [:]
        for r in got.sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
            let i = Int(Self.text(r.value).dropFirst()) ?? -1
            #expect(i > lastIndex[Self.text(r.key), default: -1], "out of order for \(Self.text(r.key))")
            lastIndex[Self.text(r.key)] = i
        }

        // kcat (librdkafka) sees the same placement.
        let k = try kcat(["-C", "-b", cluster.bootstrap, "-t", topic, "-e", "-q", "-f", "%p %k\n"], timeout: 30)
        let lines = k.out.split(separator: "\n")
        #expect(k.status == 0 && lines.count == n, "kcat: \(k.status) \(k.err)")
        for line in lines {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let p = Int32(parts[0]) else { Issue.record("kcat line \(line)"); continue }
            #expect(p == Murmur2.partition(key: Array(parts[1].utf8), numPartitions: 3), "kcat: \(line)")
        }
    }

    // MARK: mixed group

    @Test(.timeLimit(.minutes(3))) func mixedGroupSwiftPythonConfluent() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.fastGroups)
        defer { cluster.cleanup() }
        let topic = "sc-mixed", group = "sc-mixed-g"
        try GroupSupport.createTopic(cluster, topic, partitions: 3, rf: 1)
        #expect(GroupSupport.coordinator(cluster, group: group, via: 1) == 1, "\(cluster.logs)")

        var cc = ConsumerConfig(bootstrapServers: Self.servers(cluster), groupId: group)
        cc.autoOffsetReset = .earliest
        cc.sessionTimeoutMs = 6000
        cc.heartbeatIntervalMs = 1000
        cc.autoCommitIntervalMs = 300
        cc.assignmentStrategies = [.range]
        let swift = try Consumer(config: cc)
        defer { swift.close() }
        try swift.subscribe([topic])
        let py = try GroupSupport.member(cluster, group: group, topic: topic, kind: "python", seconds: 90)
        let ck = try GroupSupport.member(cluster, group: group, topic: topic, kind: "confluent", seconds: 90)
        defer { py.kill9(); ck.kill9() }

        var swiftGot: [ConsumerRecord] = []
        func assignments() -> [Set<Int32>] {
            [Set(swift.assigned.map(\.partition)), GroupSupport.assignment(py) ?? [], GroupSupport.assignment(ck) ?? []]
        }
        func shared() -> Bool {
            let a = assignments()
            return a.allSatisfy { $0.count == 1 } && a.reduce(Set<Int32>()) { $0.union($1) } == [0, 1, 2]
        }
        // Stable means: disjoint and covering, and still so a few polls later.
        var stable = false
        let deadline = Date().addingTimeInterval(60)
        while !stable && Date() < deadline {
            swiftGot += try swift.poll(timeoutMs: 200)
            if shared() {
                for _ in 0..<10 { swiftGot += try swift.poll(timeoutMs: 200) }
                stable = shared()
            }
        }
        #expect(stable, """
                three members never split the 3 partitions one each: swift \(assignments()[0]) python \(assignments()[1]) \
                confluent \(assignments()[2])\n\(py.stderrText.suffix(1500))\n\(ck.stderrText.suffix(1500))\n\(cluster.logs)
                """)
        guard stable else { return }

        // Produce only once the group is stable, so no rebalance can redeliver anything.
        let n = 300
        var pc = ProducerConfig(bootstrapServers: Self.servers(cluster))
        pc.lingerMs = 2
        let producer = try Producer(config: pc)
        for i in 0..<n { try producer.send(ProducerRecord(topic: topic, key: "k\(i)", value: "m\(i)")) }
        try producer.flush(timeoutMs: 20_000)
        producer.close()

        func all() -> [String] {
            swiftGot.map { Self.text($0.value) } + GroupSupport.consumed(py) + GroupSupport.consumed(ck)
        }
        let end = Date().addingTimeInterval(40)
        while all().count < n && Date() < end { swiftGot += try swift.poll(timeoutMs: 200) }
        for _ in 0..<5 { swiftGot += try swift.poll(timeoutMs: 200) }
        let values = all()
        let counts = Dictionary(values.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(values.count == n && counts.count == n, """
                consumed \(values.count) records, \(counts.count) distinct, want \(n) exactly once; duplicates: \
                \(counts.filter { $0.value > 1 }.keys.sorted().prefix(10))
                """)
        #expect(Set(values) == Set((0..<n).map { "m\($0)" }))
        let swiftParts = Set(swiftGot.map(\.partition))
        #expect(swiftParts.isSubset(of: Set(swift.assigned.map(\.partition))), "swift read outside its assignment")
        #expect(!swiftGot.isEmpty && !GroupSupport.consumed(py).isEmpty && !GroupSupport.consumed(ck).isEmpty,
                """
                every member should get a share: swift \(swiftGot.count) python \(GroupSupport.consumed(py).count) \
                confluent \(GroupSupport.consumed(ck).count)
                """)
    }

    // MARK: dead letters

    @Test(.timeLimit(.minutes(2))) func deadLetterProcessorAgainstBrokerd() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.fastGroups)
        defer { cluster.cleanup() }
        let topic = "sc-orders", group = "sc-dlq-g"
        let admin = try Admin(config: ClientConfig(bootstrapServers: Self.servers(cluster)))
        defer { admin.close() }
        try admin.createTopics([NewTopic(name: topic, partitions: 2, replicationFactor: 1),
                                NewTopic(name: topic + ".DLQ", partitions: 1, replicationFactor: 1)])
        let producer = try Producer(config: ProducerConfig(bootstrapServers: Self.servers(cluster)))
        defer { producer.close() }
        let n = 40
        let poison = Set((0..<n).filter { $0 % 7 == 3 }.map { "order-\($0)" })
        for i in 0..<n { try producer.send(ProducerRecord(topic: topic, key: "c\(i % 5)", value: "order-\(i)")) }
        try producer.flush(timeoutMs: 20_000)

        var cc = ConsumerConfig(bootstrapServers: Self.servers(cluster), groupId: group)
        cc.autoOffsetReset = .earliest
        cc.enableAutoCommit = false
        cc.sessionTimeoutMs = 10_000
        let consumer = try Consumer(config: cc)
        defer { consumer.close() }
        try consumer.subscribe([topic])
        let maxAttempts = 3
        let dlq = DeadLetterProcessor(source: consumer, publisher: producer,
                                      policy: RetryPolicy(maxAttempts: maxAttempts, initialBackoffMs: 5, maxBackoffMs: 20), seed: 7)
        var tries: [String: Int] = [:]
        var succeeded: [String] = []
        var outcomes: [RecordOutcome] = []
        let deadline = Date().addingTimeInterval(45)
        while outcomes.count < n && Date() < deadline {
            outcomes += try dlq.runOnce(timeoutMs: 300) { r in
                let v = Self.text(r.value)
                tries[v, default: 0] += 1
                if poison.contains(v) { throw KafkaError.invalidArgument("cannot price \(v)") }
                succeeded.append(v)
            }
        }
        #expect(outcomes.count == n, "\(outcomes.count) outcomes of \(n)\n\(cluster.logs)")
        #expect(succeeded.sorted() == (0..<n).map { "order-\($0)" }.filter { !poison.contains($0) }.sorted(), "each good record once")
        for p in poison { #expect(tries[p] == maxAttempts, "\(p) tried \(tries[p] ?? 0) times") }
        let committed = try consumer.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        let ends = try admin.listOffsets([TopicPartition(topic, 0), TopicPartition(topic, 1)], timestamp: -1)
        #expect(committed == ends, "committed \(committed) vs log end \(ends): nothing skipped, nothing left")

        let letters = try Self.readAll(Self.servers(cluster), [TopicPartition(topic + ".DLQ", 0)], count: poison.count)
        #expect(Set(letters.map { Self.text($0.value) }) == poison && letters.count == poison.count)
        for l in letters {
            #expect(Self.header(l, DeadLetterProcessor.Header.error)?.contains("cannot price") == true)
            #expect(Self.header(l, DeadLetterProcessor.Header.topic) == topic)
            #expect(Self.header(l, DeadLetterProcessor.Header.attempts) == String(maxAttempts))
            #expect(Self.header(l, DeadLetterProcessor.Header.partition).flatMap { Int32($0) } != nil)
            #expect(Self.header(l, DeadLetterProcessor.Header.offset).flatMap { Int64($0) } != nil)
            #expect(l.key?.isEmpty == false, "the dead letter keeps the original key")
        }
    }
}

/// A value shared with delivery callbacks (which run on the client's loop thread).
final class SyncBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func get() -> T { lock.withLock { value } }
    func update(_ f: (inout T) -> Void) { lock.withLock { f(&value) } }
}
