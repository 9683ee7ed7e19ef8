import Foundation
import KafkaClient
import Outbox
import Protocol
import Testing

/// The transactional outbox sample (docs/outbox.md) as real processes against coordd + brokerd:
/// `outbox-sample order`, `relay` (killed -9 again and again, once right after a Kafka commit and
/// before its SQLite mark, while a broker dies and comes back) and `consume`.
@Suite(.serialized, .ownThreads) struct OutboxSampleTests {
    static var sample: String? { ProcessHarness.binary("outbox-sample") }

    /// Every committed event in the topic (read_committed), as outbox ids.
    static func committedIds(_ servers: [String], topic: String, partitions: Int, readCommitted: Bool = true) throws -> [Int64] {
        var cc = ConsumerConfig(bootstrapServers: servers)
        cc.readCommitted = readCommitted
        cc.autoOffsetReset = .earliest
        let c = try Consumer(config: cc)
        defer { c.close() }
        let tps = (0..<partitions).map { TopicPartition(topic, Int32($0)) }
        c.assign(tps)
        let ends = try c.listOffsets(tps, timestamp: -1)
        var ids: [Int64] = []
        let deadline = Date().addingTimeInterval(60)
        while try tps.contains(where: { try c.position($0) < (ends[$0] ?? 0) }) && Date() < deadline {
            for r in try c.poll(timeoutMs: 200) { ids.append(OutboxEvent(record: r)?.id ?? -1) }
        }
        return ids
    }

    @Test(.timeLimit(.minutes(3))) func demoRunsEndToEnd() throws {
        guard let bin = Self.sample else { Issue.record("outbox-sample not built"); return }
        let cluster = try BrokerCluster(brokers: 1, extraConfig: SwiftTransactionTests.txnConfig)
        defer { cluster.cleanup() }
        let dir = try ProcessHarness.makeTempDir("outbox-demo")
        defer { ProcessHarness.removeDir(dir) }
        let r = try ProcessHarness.run(bin, ["demo", "--bootstrap-server", cluster.bootstrap, "--dir", dir, "--orders", "40"], timeout: 150)
        #expect(r.status == 0 && r.stdout.contains("demo: OK, every order applied exactly once"), "\(r.stdout.suffix(2000))\n\(r.stderr.suffix(1000))")
        #expect(r.stdout.contains("demo: 40 orders placed, 40 applied"), "\(r.stdout.suffix(1000))")
        print(r.stdout.suffix(1500))
        // The real topic holds each event once.
        let ids = try Self.committedIds(SwiftClientTests.servers(cluster), topic: "orders", partitions: 3)
        #expect(ids.count == 40 && Set(ids).count == 40, "topic has \(ids.count) events, \(Set(ids).count) distinct")
    }

    @Test(.timeLimit(.minutes(8))) func relayKilledAtRandomNeitherLosesNorDuplicates() throws {
        guard let bin = Self.sample else { Issue.record("outbox-sample not built"); return }
        let cluster = try BrokerCluster(brokers: 3, extraConfig: SwiftTransactionTests.txnConfig)
        defer { cluster.cleanup() }
        let dir = try ProcessHarness.makeTempDir("outbox-kill")
        defer { ProcessHarness.removeDir(dir) }
        let servers = SwiftClientTests.servers(cluster)
        let bootstrap = cluster.bootstrap
        let topic = "orders"
        let admin = try Admin(config: ClientConfig(bootstrapServers: servers))
        defer { admin.close() }
        try admin.createTopics([NewTopic(name: topic, partitions: 3, replicationFactor: 3, configs: ["min.insync.replicas": "2"])])

        let n = 500
        let ordersDB = dir + "/orders.db", appliedDB = dir + "/applied.db"
        // Orders keep arriving (125/s) while the relay is killed and restarted; the paced relay publishes
        // about 50/s, so it always has a backlog and every kill finds it busy.
        let orders = try ManagedProcess(bin, ["order", "--db", ordersDB, "--count", "\(n)", "--interval-ms", "8"], stderrPath: dir + "/order.log")
        let consumer = try ManagedProcess(bin, ["consume", "--db", appliedDB, "--bootstrap-server", bootstrap, "--topic", topic,
                                                "--expect", "\(n)", "--timeout-ms", "400000"], stderrPath: dir + "/consume.log")
        defer { orders.kill9(); consumer.kill9() }

        var rng = SystemRandomNumberGenerator()
        var midRunKills = 0
        var crashedAfterCommit = false
        var recoveredAfterCrash = false
        var survivedBrokerKill = false
        let victim: Int32 = 2
        for round in 0..<9 {
            if round == 5 { try cluster.startBroker(victim) }
            let crashRound = round == 3
            let log = dir + "/relay-\(round).log"
            let relay = try ManagedProcess(bin, ["relay", "--db", ordersDB, "--bootstrap-server", bootstrap, "--topic", topic, "--batch", "10", "--pace-ms", "20"],
                                           stderrPath: log, env: crashRound ? ["OUTBOX_RELAY_CRASH_AFTER_COMMITS": "2"] : nil)
            if crashRound {
                #expect(relay.process.wait(seconds: 90), "the crash-after-commit relay did not die")
                crashedAfterCommit = relay.stderrText.contains("crashing after commit")
                continue
            }
            if round == 4 {
                // The run after the crash finds the committed-but-unmarked batch in the log.
                recoveredAfterCrash = relay.waitForLine(containing: "relay: recovered outbox ids", timeout: 60) != nil
            }
            // Kill once it is publishing: after its first commit, plus a random slice of a few batches' time
            // (a paced batch takes about 200 ms, so most kills land inside an open transaction).
            _ = relay.waitForLine(containing: "relay: committed", timeout: 30)
            if round == 2 {
                // A broker dies under the publishing relay, which carries on with the other two.
                let commits = { relay.stderrText.components(separatedBy: "relay: committed").count }
                let before = commits()
                cluster.kill9(victim)
                survivedBrokerKill = ProcessHarness.waitUntil(timeout: 90, interval: 0.1) { commits() > before + 1 }
            }
            usleep(UInt32.random(in: 0...600_000, using: &rng))
            let before = relay.stderrText
            relay.kill9()
            if before.contains("relay: committed") { midRunKills += 1 }
        }
        #expect(survivedBrokerKill, "the relay stopped committing after broker \(victim) died")
        #expect(crashedAfterCommit, "the fault point did not fire")
        #expect(recoveredAfterCrash, "the relay after the crash did not recover the unmarked commit")
        #expect(midRunKills >= 5, "only \(midRunKills) kills landed while the relay was publishing")

        #expect(orders.process.wait(seconds: 60), "the order service did not finish")
        #expect(orders.process.terminationStatus == 0, "\(orders.stderrText)")
        let last = try ProcessHarness.run(bin, ["relay", "--db", ordersDB, "--bootstrap-server", bootstrap, "--topic", topic, "--until-empty"], timeout: 180)
        #expect(last.status == 0, "final relay: \(last.stdout.suffix(1500)) \(last.stderr.suffix(800))")
        #expect(consumer.process.wait(seconds: 240), "consumer did not apply \(n): \(consumer.stderrText.suffix(1500))")

        let store = try OrderStore(path: ordersDB)
        let counts = try store.counts()
        #expect(counts.orders == Int64(n) && counts.outbox == Int64(n) && counts.sent == Int64(n), "\(counts)")
        let applier = try Applier(path: appliedDB, bootstrapServers: servers, topic: topic)
        let applied = try applier.appliedOrderIds()
        let placed = try store.orderIds()
        #expect(applied == placed, "applied \(applied.count) orders vs \(placed.count) placed; missing \(Set(placed).subtracting(applied).sorted().prefix(10))")
        // The relay itself never published twice: the topic's committed events are the outbox rows, once each.
        let ids = try Self.committedIds(servers, topic: topic, partitions: 3)
        let dupes = Dictionary(ids.map { ($0, 1) }, uniquingKeysWith: +).filter { $0.value > 1 }
        #expect(ids.count == n && Set(ids) == Set(1...Int64(n)),
                "topic has \(ids.count) committed events for \(n) rows; duplicated ids \(dupes.keys.sorted().prefix(10))")
        #expect(try applier.duplicatesSkipped() == 0, "the consumer saw duplicates")
        // confluent-kafka's read_committed consumer agrees: 500 events, one per order.
        let py = try ProcessHarness.run("/usr/bin/env", ["python3", GroupSupport.compatDir + "/read_committed.py", cluster.bootstrap, topic, "\(n)", "90"], timeout: 120)
        let pyOrders = py.stdout.split(separator: "\n").compactMap { line -> Int64? in
            guard let r = line.range(of: #""orderId":"#) else { return nil }
            return Int64(line[r.upperBound...].prefix { $0.isNumber })
        }
        #expect(py.status == 0 && pyOrders.count == n && Set(pyOrders) == Set(placed),
                "confluent-kafka read_committed: \(pyOrders.count) events, \(Set(pyOrders).count) orders \(py.stderr.suffix(500))")
        let all = try Self.committedIds(servers, topic: topic, partitions: 3, readCommitted: false)
        #expect(all.count > ids.count, "no kill landed inside an open transaction (no aborted records in the log)")
        print("outbox-kill: \(n) orders, \(midRunKills) mid-run relay kills, broker \(victim) killed and restarted, "
              + "\(all.count - ids.count) records of aborted transactions hidden from read_committed")
    }
}
