import CoordClient
import Foundation
import Protocol
import Testing

/// IncrementalAlterConfigs (44) and AlterConfigs (33) for topics through confluent-kafka's
/// AdminClient (compat/admin_configs.py): stored in /config/topics/<t> with a config_change_
/// notification, shown by describe_configs as DYNAMIC_TOPIC_CONFIG, applied live by the brokers.
@Suite(.serialized, .ownThreads) struct AdminConfigTests {
    static let script = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/admin_configs.py"

    @Test func adminClientAltersTopicConfigsAndRetentionTakesEffect() throws {
        let cluster = try BrokerCluster(brokers: 2, extraConfig: "log.retention.check.interval.ms=500")
        defer { cluster.cleanup() }
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.script, cluster.bootstrap, "cfg"], timeout: 180)
        let out = r.stdout + r.stderr
        #expect(r.status == 0, "\(out)\n\(cluster.logs)")
        let d = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        #expect(d["unknown"] as? String == "INVALID_CONFIG" && d["bad_value"] as? String == "INVALID_CONFIG"
                && d["bad_min_isr"] as? String == "INVALID_CONFIG", "\(out)")
        // 1 is DYNAMIC_TOPIC_CONFIG, 5 DEFAULT_CONFIG.
        #expect(d["retention"] as? String == "1@1" && d["min_isr"] as? String == "2@1", "\(out)")
        #expect(d["cleanup"] as? String == "delete,compact", "\(out)")
        #expect(d["segment_source"] as? Int == 1, "\(out)")
        #expect((d["earliest_after"] as? Int ?? 0) > (d["earliest_before"] as? Int ?? 0), "retention did not apply: \(out)\n\(cluster.logs)")
        #expect(d["after_alter"] as? [String: String] == ["retention.ms": "86400000@1", "min.insync.replicas": "1@5", "cleanup.policy": "delete@5"], "\(out)")
        #expect(d["after_delete"] as? Int == 5, "\(out)")

        // Kafka's znode layout: the overrides and the change notification.
        let c = try cluster.coordClient()
        defer { c.close() }
        let cfg = cluster.znodeJSON(c, "/config/topics/cfg")?["config"] as? [String: String]
        #expect(cfg == ["segment.bytes": "2048"], "\(String(describing: cfg))")
        let changes = try c.getChildren("/config/changes").filter { $0.hasPrefix("config_change_") }
        let entities = changes.compactMap { cluster.znodeJSON(c, "/config/changes/\($0)")?["entity_path"] as? String }
        #expect(entities.filter { $0 == "topics/cfg" }.count >= 3, "\(entities)")  // three successful alterations
    }

    @Test func brokerResourcesAndUnknownTopicsAreRefused() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let k = try RawKafka(port: cluster.port(1))
        var r = IncrementalAlterConfigsResponse(throttleTimeMs: 0, responses: [])
        let ok = ProcessHarness.waitUntil(timeout: 30, interval: 0.5) {
            r = (try? k.call(IncrementalAlterConfigsRequest(resources: [
                .init(resourceType: 2, resourceName: "missing", configs: [.init(name: "retention.ms", configOperation: 0, value: "1")]),
                .init(resourceType: 4, resourceName: "1", configs: [.init(name: "broker.id", configOperation: 0, value: "1")]),
                .init(resourceType: 2, resourceName: "missing", configs: [.init(name: "retention.ms", configOperation: 9, value: "1")]),
            ], validateOnly: false), version: 1)) ?? r
            return r.responses.first?.errorCode != .notController && !r.responses.isEmpty
        }
        #expect(ok)
        #expect(r.responses.map(\.errorCode) == [.unknownTopicOrPartition, .invalidRequest, .unknownTopicOrPartition], "\(r)")
        let a = try k.call(AlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: "missing", configs: [])], validateOnly: false), version: 0)
        #expect(a.responses.map(\.errorCode) == [.unknownTopicOrPartition])
    }

    @Test func kafkactlConfigsAltersAndDescribes() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let bs = ["--bootstrap-server", cluster.bootstrap]
        let created = ProcessHarness.waitUntil(timeout: 60, interval: 0.5) {
            (try? SwiftClientCLITests.kafkactl(["topics", "--create", "--topic", "k", "--partitions", "1", "--if-not-exists"] + bs))?.status == 0
        }
        #expect(created)
        let alter = try SwiftClientCLITests.kafkactl(["configs", "--alter", "--entity-type", "topics", "--entity-name", "k",
                                                      "--add-config", "retention.ms=60000,cleanup.policy=[compact,delete]"] + bs)
        #expect(alter.status == 0 && alter.out.contains("Completed updating config for topic k."), "\(alter.out)\(alter.err)")
        var d = try SwiftClientCLITests.kafkactl(["configs", "--describe", "--entity-type", "topics", "--entity-name", "k"] + bs)
        #expect(d.out.contains("cleanup.policy=compact,delete") && d.out.contains("retention.ms=60000"), "\(d.out)\(d.err)")
        let del = try SwiftClientCLITests.kafkactl(["configs", "--alter", "--entity-type", "topics", "--entity-name", "k", "--delete-config", "retention.ms"] + bs)
        #expect(del.status == 0)
        d = try SwiftClientCLITests.kafkactl(["configs", "--describe", "--entity-type", "topics", "--entity-name", "k"] + bs)
        #expect(d.out.contains("cleanup.policy=compact,delete") && !d.out.contains("retention.ms"), "\(d.out)")
        let bad = try SwiftClientCLITests.kafkactl(["configs", "--alter", "--entity-type", "topics", "--entity-name", "k", "--add-config", "retention.ms=never"] + bs)
        #expect(bad.status == 1 && bad.err.lowercased().contains("invalid"), "\(bad.err)")
    }
}
