import Foundation
import KafkaClient
import Outbox

/// `outbox-sample demo`: creates the topic, places orders, relays them, applies them, and checks
/// that every order was applied exactly once and the topic holds each event once.
enum Demo {
    static func run(servers: [String], dir: String?, orders: Int, topic: String) throws {
        let base = dir ?? NSTemporaryDirectory() + "outbox-demo-\(getpid())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let ordersDB = base + "/orders.db", appliedDB = base + "/applied.db"
        say("demo: databases in \(base)")

        let admin = try Admin(config: ClientConfig(bootstrapServers: servers))
        defer { admin.close() }
        if !(try admin.listTopics()).contains(topic) {
            let brokers = try admin.cluster.refreshMetadata(topics: []).brokers.count
            let rf = Int16(max(1, min(3, brokers)))
            try admin.createTopics([NewTopic(name: topic, partitions: 3, replicationFactor: rf,
                                             configs: rf >= 2 ? ["min.insync.replicas": "2"] : [:])])
            say("demo: created topic \(topic) (3 partitions, replication factor \(rf))")
        }

        let store = try OrderStore(path: ordersDB)
        for i in 0..<orders { try store.placeOrder(customer: "customer-\(i % 17)", amountCents: Int64(100 + i)) }
        say("demo: placed \(orders) orders, each with its outbox row in the same SQLite transaction")

        var rc = RelayConfig(bootstrapServers: servers)
        rc.topic = topic
        rc.exitWhenEmpty = true
        rc.log = { say($0) }
        let relay = Relay(store: store, config: rc)
        try relay.run()
        say("demo: relay published \(relay.published) events in Kafka transactions")

        let applier = try Applier(path: appliedDB, bootstrapServers: servers, topic: topic)
        applier.log = { say($0) }
        let expected = try store.counts().outbox
        try applier.run(expect: expected, timeoutMs: 120_000)

        let placed = Set(try store.orderIds()), applied = try applier.appliedOrderIds()
        let ok = Set(applied) == placed && applied.count == placed.count
        say("demo: \(placed.count) orders placed, \(applied.count) applied, \(try applier.duplicatesSkipped()) duplicates skipped")
        say(ok ? "demo: OK, every order applied exactly once" : "demo: MISMATCH between orders and applied rows")
        if !ok { exit(1) }
    }
}
