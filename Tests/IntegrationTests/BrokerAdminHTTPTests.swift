import Foundation
import Observability
import Protocol
import Testing

/// brokerd's admin listener on a 3-broker cluster, and a real Prometheus scraping it.
@Suite(.serialized) struct BrokerAdminHTTPTests {
    @Test(.timeLimit(.minutes(4))) func prometheusSeesUnderReplicationWhileABrokerIsDown() throws {
        var admin: [Int32: Int] = [:]
        for id in Int32(1)...3 { admin[id] = try ProcessHarness.freePort() }
        let cluster = try BrokerCluster(brokers: 3, extraConfig: "replica.lag.time.max.ms=2000\n",
                                        brokerConfig: { id, _ in "admin.listener=127.0.0.1:\(admin[id] ?? 0)" })
        defer { cluster.cleanup() }
        let a1 = admin[1]!
        #expect(try BrokerStorageTests.createTopics(cluster.port(1), [.init(name: "obs", numPartitions: 3, replicationFactor: 3, configs: [])]) == [.none])
        let synced = ProcessHarness.waitUntil(timeout: 30, interval: 0.2) {
            let parts = (try? AdminHTTP.json(a1, "/v1/topics/obs"))?["partitions"]?.array ?? []
            return parts.count == 3 && parts.allSatisfy { $0["isr"]?.array?.count == 3 }
        }
        #expect(synced, "topic obs never had 3 in-sync replicas: \(cluster.logs)")
        for id in Int32(1)...3 {
            let text = try AdminHTTP.get(admin[id]!, "/metrics").text
            if let problems = try AdminHTTP.promtoolProblems(text) { Issue.record(Comment(rawValue: "broker \(id): \(problems)")) }
            #expect(AdminHTTP.sample(text, "kafka_server_replicamanager_underreplicatedpartitions") == 0)
            #expect(text.contains("kafka_log_log_logendoffset{topic=\"obs\",partition=\"0\"}"))
            // Every broker hosting a replica got the controller's LeaderAndIsr.
            #expect(text.contains("kafka_network_requestmetrics_localtimems_bucket{request=\"LeaderAndIsr\""))
        }
        let controllers = (Int32(1)...3).compactMap { id in
            (try? AdminHTTP.get(admin[id]!, "/metrics")).flatMap { AdminHTTP.sample($0.text, "kafka_controller_kafkacontroller_activecontrollercount") }
        }
        #expect(controllers.reduce(0, +) == 1, "exactly one active controller: \(controllers)")
        let clusterView = try AdminHTTP.json(a1, "/v1/cluster")
        #expect(clusterView["brokers"]?.array?.count == 3)
        #expect((clusterView["controller"]?["epoch"]?.int ?? -1) >= 1)
        #expect(try AdminHTTP.get(a1, "/v1/topics/nosuch").status == 404)
        #expect(try AdminHTTP.get(a1, "/health/ready").status == 200)
        try AdminHTTP.abuse(port: a1)

        guard PrometheusProcess.binary != nil else {
            if ProcessInfo.processInfo.environment["CI"] != nil { Issue.record("prometheus not installed in CI") }
            print("skipping the Prometheus part: /usr/bin/prometheus not installed")
            return
        }
        let prom = try PrometheusProcess(targets: (Int32(1)...3).map { admin[$0]! })
        defer { prom.cleanup() }
        let metric = "kafka_server_replicamanager_underreplicatedpartitions"
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.5) { ((try? prom.query(metric))?.count ?? 0) == 3 }, "Prometheus never scraped all 3 brokers")

        let victim: Int32 = 3
        cluster.kill9(victim)
        let under = ProcessHarness.waitUntil(timeout: 40, interval: 0.5) {
            ((try? prom.query("sum(\(metric))"))?.values.first ?? 0) > 0
        }
        #expect(under, "Prometheus never saw under-replicated partitions with broker \(victim) down")
        let shrinks = (try? AdminHTTP.json(a1, "/timeline?kind=isr.shrink"))?["events"]?.array?.count ?? 0
        let shrinks2 = (try? AdminHTTP.json(admin[2]!, "/timeline?kind=isr.shrink"))?["events"]?.array?.count ?? 0
        #expect(shrinks + shrinks2 > 0, "no isr.shrink in the timelines")

        try cluster.startBroker(victim)
        let healed = ProcessHarness.waitUntil(timeout: 60, interval: 0.5) {
            guard let r = try? prom.query(metric), r.count == 3 else { return false }
            return r.values.allSatisfy { $0 == 0 }
        }
        #expect(healed, "under-replicated partitions did not return to 0 after broker \(victim) restarted: \(cluster.logs.suffix(3000))")

        // Kill the controller: a survivor records itself elected in a newer epoch, and every
        // partition leader it moved off the dead broker.
        let active = (Int32(1)...3).first { id in
            (try? AdminHTTP.get(admin[id]!, "/metrics")).flatMap { AdminHTTP.sample($0.text, "kafka_controller_kafkacontroller_activecontrollercount") } == 1
        }
        guard let dead = active else { Issue.record("no active controller"); return }
        let oldEpoch = try AdminHTTP.json(admin[dead]!, "/v1/cluster")["controller"]?["epoch"]?.int ?? -1
        let led = (try AdminHTTP.json(admin[dead]!, "/v1/topics/obs")["partitions"]?.array ?? []).filter { $0["leader"]?.int == Int64(dead) }.compactMap { $0["partition"]?.int }
        let killedAt = Int64(Date().timeIntervalSince1970 * 1000)
        cluster.kill9(dead)
        let survivors = (Int32(1)...3).filter { $0 != dead }
        var story: [JSONValue] = []
        let moved = ProcessHarness.waitUntil(timeout: 30, interval: 0.5) {
            story = survivors.flatMap { (try? AdminHTTP.json(admin[$0]!, "/timeline?since=\(killedAt)&kind=controller.elected,partition"))?["events"]?.array ?? [] }
            let elected = story.contains { $0["kind"]?.string == "controller.elected" && ($0["clocks"]?["controller_epoch"]?.int ?? -1) > oldEpoch }
            let movedAll = led.allSatisfy { p in story.contains { $0["kind"]?.string == "partition.leader_changed" && $0["fields"]?["partition"]?.int == p && $0["fields"]?["old"]?.int == Int64(dead) } }
            return elected && movedAll
        }
        #expect(moved, "timeline after killing controller \(dead) (epoch \(oldEpoch), led \(led)): \(story.map { $0.encoded() })")
    }
}
