import Foundation
import KafkaClient
import Protocol
import Testing
import Transport

/// The Swift client while brokers die under it: a partition leader during idempotent produce, and a
/// group coordinator during group consumption.
@Suite(.serialized, .ownThreads) struct SwiftClientFaultTests {
    static func text(_ b: [UInt8]?) -> String { SwiftClientTests.text(b) }

    /// Kill -9 of partition 0's leader midway: every acknowledged record is in the log exactly once.
    @Test(.timeLimit(.minutes(3))) func idempotentProduceSurvivesLeaderKill() throws {
        let cluster = try BrokerCluster(brokers: 3)
        defer { cluster.cleanup() }
        let topic = "cf-idem"
        let servers = SwiftClientTests.servers(cluster)
        let admin = try Admin(config: ClientConfig(bootstrapServers: servers))
        defer { admin.close() }
        try admin.createTopics([NewTopic(name: topic, partitions: 3, replicationFactor: 3, configs: ["min.insync.replicas": "2"])])
        guard let victim = try admin.describeTopics([topic]).first?.partitions.first(where: { $0.partition == 0 })?.leader, victim > 0 else {
            Issue.record("no leader for \(topic)-0\n\(cluster.logs)")
            return
        }

        var pc = ProducerConfig(bootstrapServers: servers)
        pc.acks = -1
        pc.enableIdempotence = true
        pc.lingerMs = 2
        pc.deliveryTimeoutMs = 60_000
        let producer = try Producer(config: pc)
        let n = 2000
        let acked = SyncBox<[String: RecordMetadata]>([:])
        let failed = SyncBox<[String: String]>([:])
        let sent = SyncBox<Int>(0)
        let sendError = SyncBox<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        // The sender paces itself (~2 s in all) so the kill lands among in-flight batches.
        Thread {
            defer { done.signal() }
            for i in 0..<n {
                let value = "v\(i)"
                do {
                    try producer.send(ProducerRecord(topic: topic, key: "key-\(i % 50)", value: value)) { r in
                        switch r {
                        case .success(let md): acked.update { $0[value] = md }
                        case .failure(let e): failed.update { $0[value] = "\(e)" }
                        }
                    }
                } catch {
                    sendError.update { $0 = "send v\(i): \(error)" }
                    return
                }
                sent.update { $0 += 1 }
                if i % 20 == 19 { usleep(20_000) }
            }
        }.start()
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.01) { sent.get() >= n / 2 }, "sender stalled at \(sent.get())")
        #expect(!acked.get().isEmpty, "nothing acknowledged before the kill\n\(cluster.logs)")
        let sentAtKill = sent.get()
        cluster.kill9(victim)
        #expect(sentAtKill < n, "the kill came after the last send, not midway")
        #expect(done.wait(timeout: .now() + 60) == .success, "sender did not finish")
        try producer.flush(timeoutMs: 70_000)
        producer.close()
        #expect(sendError.get() == nil, "\(sendError.get() ?? "")")
        let ack = acked.get(), fail = failed.get()
        #expect(ack.count + fail.count == sent.get(), "reports \(ack.count) ok + \(fail.count) failed of \(sent.get()) sent")
        #expect(ack.count >= n / 2, "only \(ack.count) acknowledged; failures: \(fail.prefix(5))\n\(cluster.logs)")

        let tps = (0..<3).map { TopicPartition(topic, Int32($0)) }
        let got = try SwiftClientTests.readAll(SwiftClientTests.servers(cluster), tps, count: ack.count + fail.count, timeout: 30)
        let counts = Dictionary(got.map { (Self.text($0.value), 1) }, uniquingKeysWith: +)
        let dups = counts.filter { $0.value > 1 }.keys.sorted()
        #expect(dups.isEmpty, "duplicated after leader \(victim) died: \(dups.prefix(10)) (\(dups.count) values)")
        let lost = ack.keys.filter { counts[$0] == nil }.sorted()
        #expect(lost.isEmpty, "acknowledged but missing after leader \(victim) died: \(lost.prefix(10)) (\(lost.count) values)")
        let strangers = counts.keys.filter { ack[$0] == nil && fail[$0] == nil }
        #expect(strangers.isEmpty, "read values never reported: \(strangers.prefix(10))")
        // An acknowledged offset is final: the record sits exactly where its delivery report said.
        let moved = got.filter { r in ack[Self.text(r.value)].map { ($0.partition, $0.offset) != (r.partition, r.offset) } ?? false }
        #expect(moved.isEmpty, "records not at their acknowledged offset: \(moved.prefix(5).map { "\(Self.text($0.value))@\($0.partition):\($0.offset)" })")
    }

    /// Kill -9 of the group coordinator: the consumer finds the new one and resumes from its commits.
    @Test(.timeLimit(.minutes(3))) func groupConsumerSurvivesCoordinatorKill() throws {
        let cluster = try BrokerCluster(brokers: 3, extraConfig: SwiftClientTests.fastGroups)
        defer { cluster.cleanup() }
        let topic = "cf-group", group = "cf-group-g"
        let servers = SwiftClientTests.servers(cluster)
        try GroupSupport.createTopic(cluster, topic, partitions: 3, rf: 3)
        // Creates the offsets topic while all three brokers are up, so it gets RF 3.
        guard let coordinator = GroupSupport.coordinator(cluster, group: group, via: 1) else {
            Issue.record("no coordinator for \(group)\n\(cluster.logs)")
            return
        }

        var pc = ProducerConfig(bootstrapServers: servers)
        pc.acks = -1
        pc.enableIdempotence = true
        pc.lingerMs = 2
        let producer = try Producer(config: pc)
        defer { producer.close() }
        func produce(_ range: Range<Int>) throws {
            for i in range { try producer.send(ProducerRecord(topic: topic, key: "k\(i)", value: "m\(i)")) }
            try producer.flush(timeoutMs: 40_000)
        }
        let half = 300
        try produce(0..<(2 * half))

        var cc = ConsumerConfig(bootstrapServers: servers, groupId: group)
        cc.autoOffsetReset = .earliest
        cc.enableAutoCommit = false
        cc.sessionTimeoutMs = 10_000
        cc.heartbeatIntervalMs = 500
        // Small polls, so the kill lands mid-stream with records fetched but not yet returned.
        cc.maxPollRecords = 30
        let consumer = try Consumer(config: cc)
        defer { consumer.close() }
        try consumer.subscribe([topic])

        // Each poll's records are committed before the next poll, so a record seen twice is a bug.
        var seen: [String] = []
        var commitErrors: [String] = []
        func consume(until want: Int, seconds: Double) {
            let deadline = Date().addingTimeInterval(seconds)
            while seen.count < want && Date() < deadline {
                do {
                    let batch = try consumer.poll(timeoutMs: 200)
                    seen += batch.map { Self.text($0.value) }
                    guard !batch.isEmpty else { continue }
                    // Retry until the commit lands; the coordinator may be moving.
                    while true {
                        do {
                            try consumer.commitSync()
                            break
                        } catch {
                            commitErrors.append("\(error)")
                            if Date() > deadline { return }
                            usleep(100_000)
                        }
                    }
                } catch {
                    commitErrors.append("poll: \(error)")
                    usleep(100_000)
                }
            }
        }
        consume(until: half, seconds: 40)
        #expect(seen.count >= half && seen.count < 2 * half, "before the kill: consumed \(seen.count) of \(half)\n\(cluster.logs)")
        let tps = (0..<3).map { TopicPartition(topic, Int32($0)) }
        let before = try consumer.committed(tps)
        #expect(before.values.reduce(0, +) == Int64(seen.count), "committed before the kill: \(before), consumed \(seen.count)")

        cluster.kill9(coordinator)
        consume(until: 2 * half, seconds: 60)
        // A few more polls so any redelivery shows up.
        for _ in 0..<5 { seen += (try? consumer.poll(timeoutMs: 200))?.map { Self.text($0.value) } ?? [] }

        let counts = Dictionary(seen.map { ($0, 1) }, uniquingKeysWith: +)
        let dups = counts.filter { $0.value > 1 }.keys.sorted()
        #expect(dups.isEmpty, "consumed twice after coordinator \(coordinator) died: \(dups.prefix(10)) (\(dups.count))")
        let missing = (0..<(2 * half)).map { "m\($0)" }.filter { counts[$0] == nil }
        #expect(missing.isEmpty, """
                skipped after coordinator \(coordinator) died: \(missing.prefix(10)) (\(missing.count)); \
                errors: \(commitErrors.suffix(5))\n\(cluster.logs)
                """)
        let newCoordinator = GroupSupport.coordinator(cluster, group: group, via: coordinator == 1 ? 2 : 1)
        #expect(newCoordinator != nil && newCoordinator != coordinator, "coordinator after the kill: \(String(describing: newCoordinator))")
        // commitSync retries a retriable failure (the coordinator is gone, not yet moved) until its
        // timeout, as the Java client's does; it must not hand the failover to the application.
        #expect(commitErrors.isEmpty, "commitSync/poll threw during the failover: \(commitErrors.prefix(5))")
        let after = try consumer.committed(tps)
        #expect(after.values.reduce(0, +) == Int64(2 * half), "committed after the kill: \(after)\nerrors: \(commitErrors.suffix(5))")
    }
}
