import Foundation
import KafkaClient
import Protocol
import Testing

/// Fault matrix rows 1, 2 and 15: partition leaders bounced cleanly (SIGTERM) and hard (kill -9)
/// again and again under an idempotent acks=all producer, and a group consumer bounced cleanly.
@Suite(.serialized, .ownThreads) struct BounceMatrixTests {
    /// Bounces per run: 5 in the full matrix, 2 in the quick one.
    static var bounces: Int { FaultMatrix.full ? 5 : 2 }

    @Test(.timeLimit(.minutes(10)), arguments: ["clean", "kill9"])
    func row1And2LeaderBounces(_ how: String) throws {
        for run in 1...FaultMatrix.runs { try bounceOnce(how, run: run) }
    }

    private func bounceOnce(_ how: String, run: Int) throws {
        let cluster = try BrokerCluster(brokers: 3, extraConfig: "replica.lag.time.max.ms=3000\nmin.insync.replicas=2")
        defer { cluster.cleanup() }
        let zk = try cluster.coordClient()
        defer { zk.close() }
        let topic = "fm-bounce"
        try GroupSupport.createTopic(cluster, topic, partitions: 1, rf: 3)
        let p = try BrokerSessionMatrixTests.PacedProducer(BrokerSessionMatrixTests.servers(cluster), topic: topic)
        p.start()
        #expect(ProcessHarness.waitUntil(timeout: 30) { p.ledger.acked.get().count >= 50 }, "\(cluster.logs)")
        var outages: [Double] = []
        var epochs: [Int] = []
        for _ in 0..<Self.bounces {
            guard let st = cluster.partitionState(topic, via: zk), st.leader > 0 else {
                Issue.record("no leader before a bounce\n\(cluster.logs)")
                break
            }
            epochs.append(st.epoch)
            let leader = Int32(st.leader)
            let t0 = Date()
            if how == "clean" {
                let status = cluster.procs[leader]?.stop(grace: 20)
                #expect(status == 0, "broker \(leader) did not stop cleanly: \(String(describing: status))")
            } else {
                cluster.kill9(leader)
            }
            let before = p.ledger.acked.get().count
            // Writes resume through the new leader.
            let resumed = ProcessHarness.waitUntil(timeout: 40, interval: 0.02) { p.ledger.acked.get().count > before + 5 }
            #expect(resumed, "writes did not resume after the \(how) stop of broker \(leader)\n\(cluster.logs)")
            outages.append(p.ledger.longestGap(after: t0.addingTimeInterval(-0.2)))
            try cluster.startBroker(leader)
            #expect(ProcessHarness.waitUntil(timeout: 40, interval: 0.1) { cluster.partitionState(topic, via: zk)?.isr.count == 3 },
                    "broker \(leader) did not rejoin the ISR: \(String(describing: cluster.partitionState(topic, via: zk)))")
        }
        try p.finish()
        let got = try cluster.readPartition(topic, brokers: [1, 2, 3], count: p.ledger.acked.get().count, timeout: 30)
        let problems = p.ledger.check(got, text: SwiftClientTests.text)
        FaultMatrix.report(how == "clean" ? 1 : 2, "leader-\(how)-bounce", run: run, [
            "bounces": outages.count, "max_outage_s": outages.max() ?? -1, "mean_outage_s": outages.isEmpty ? -1 : outages.reduce(0, +) / Double(outages.count),
            "acked": p.ledger.acked.get().count, "failed": p.ledger.failed.get().count, "epochs": epochs.map(String.init).joined(separator: ","),
        ])
        #expect(problems.isEmpty, "\(problems)\n\(cluster.logs)")
        #expect(p.ledger.failed.get().isEmpty, "delivery failures: \(p.ledger.failed.get().prefix(5))")
    }

    /// Row 15: a group consumer stopped cleanly again and again: after each stop the committed
    /// offsets equal its positions and what it consumed; the next one resumes exactly there, so
    /// across the bounces every record is consumed once.
    @Test(.timeLimit(.minutes(6))) func row15ConsumerBounce() throws {
        for run in 1...FaultMatrix.runs { try consumerBounceOnce(run: run) }
    }

    private func consumerBounceOnce(run: Int) throws {
        let cluster = try BrokerCluster(brokers: 3, extraConfig: SwiftClientTests.fastGroups)
        defer { cluster.cleanup() }
        let topic = "fm-cbounce", group = "fm-cbounce-g"
        let servers = BrokerSessionMatrixTests.servers(cluster)
        try GroupSupport.createTopic(cluster, topic, partitions: 3, rf: 3)
        var pc = ProducerConfig(bootstrapServers: servers)
        pc.acks = -1
        pc.enableIdempotence = true
        let producer = try Producer(config: pc)
        let total = 600
        for i in 0..<total { try producer.send(ProducerRecord(topic: topic, key: "k\(i)", value: "m\(i)")) }
        try producer.flush(timeoutMs: 40_000)
        producer.close()
        let tps = (0..<3).map { TopicPartition(topic, Int32($0)) }

        var seen: [String] = []
        var problems: [String] = []
        var rounds = 0
        let start = Date()
        while seen.count < total && rounds < 12 {
            rounds += 1
            var cc = ConsumerConfig(bootstrapServers: servers, groupId: group)
            cc.autoOffsetReset = .earliest
            cc.enableAutoCommit = false
            cc.maxPollRecords = 40
            let consumer = try Consumer(config: cc)
            try consumer.subscribe([topic])
            var mine: [TopicPartition: Int64] = [:]
            let deadline = Date().addingTimeInterval(30)
            var got = 0
            while got < 150 && seen.count < total && Date() < deadline {
                for r in try consumer.poll(timeoutMs: 200) {
                    seen.append(SwiftClientTests.text(r.value))
                    mine[TopicPartition(r.topic, r.partition)] = r.offset + 1
                    got += 1
                }
            }
            try consumer.commitSync()
            for (tp, next) in mine {
                let pos = try consumer.position(tp)
                if pos != next { problems.append("round \(rounds) \(tp): position \(pos) after consuming up to \(next)") }
            }
            let committed = try consumer.committed(tps)
            for (tp, next) in mine where committed[tp] != next {
                problems.append("round \(rounds) \(tp): committed \(String(describing: committed[tp])) but consumed up to \(next)")
            }
            consumer.close()
        }
        let counts = Dictionary(seen.map { ($0, 1) }, uniquingKeysWith: +)
        let dups = counts.filter { $0.value > 1 }.keys.sorted()
        let missing = (0..<total).map { "m\($0)" }.filter { counts[$0] == nil }
        FaultMatrix.report(15, "consumer-bounce", run: run, [
            "rounds": rounds, "consumed": seen.count, "duplicates": dups.count, "missing": missing.count, "seconds": Date().timeIntervalSince(start),
        ])
        #expect(problems.isEmpty, "\(problems.prefix(10))")
        #expect(dups.isEmpty, "consumed twice across clean bounces: \(dups.prefix(10)) (\(dups.count))")
        #expect(missing.isEmpty, "never consumed: \(missing.prefix(10)) (\(missing.count))\n\(cluster.logs)")
    }
}
