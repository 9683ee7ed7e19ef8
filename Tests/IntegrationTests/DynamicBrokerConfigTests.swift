import CoordClient
import Foundation
import Testing

/// Dynamic broker configs (`/config/brokers/<id>` and `/config/brokers/<default>` with
/// `config_change_` notifications) through confluent-kafka's AdminClient
/// (compat/admin_broker_configs.py) and kafkactl: described with Kafka's sources, refused where
/// Kafka (or brokerd) refuses, and applied live by the running brokers.
@Suite(.serialized, .ownThreads) struct DynamicBrokerConfigTests {
    static let script = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/admin_broker_configs.py"

    @Test func adminClientAltersBrokerConfigsAndTheyApplyLive() throws {
        let cluster = try BrokerCluster(brokers: 2, extraConfig: "log.retention.check.interval.ms=500")
        defer { cluster.cleanup() }
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.script, cluster.bootstrap, "dyn", cluster.dir + "/logs-%d", ProcessHarness.binary("kafkactl") ?? "kafkactl"],
                                       timeout: 240)
        let out = r.stdout + r.stderr
        #expect(r.status == 0, "\(out)\n\(cluster.logs)")
        let d = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        // Sources: 2 DYNAMIC_BROKER_CONFIG, 3 DYNAMIC_DEFAULT_BROKER_CONFIG, 4 STATIC_BROKER_CONFIG, 5 DEFAULT_CONFIG.
        #expect(d["static"] as? String == "500@4 ro=True", "\(out)")
        #expect(d["default"] as? String == "1048588@5 ro=False", "\(out)")
        #expect(d["default_resource_before"] as? [String] == [], "\(out)")
        #expect((d["per_broker_at_default"] as? [String])?.first == "1", "\(out)")
        #expect((d["per_broker_at_default"] as? [String])?.last?.contains("INVALID_REQUEST: Cannot update these configs at default cluster level") == true,
                "\(out)")
        for k in ["non_dynamic", "not_live", "bad_value"] {
            #expect((d[k] as? [String])?.first == "INVALID_REQUEST", "\(k): \(out)")
        }
        #expect((d["non_dynamic"] as? [String])?.last?.contains("Cannot update these configs dynamically") == true, "\(out)")
        #expect((d["not_live"] as? [String])?.last?.contains("brokerd cannot change") == true, "\(out)")
        #expect(d["too_large"] as? String == "MSG_SIZE_TOO_LARGE", "\(out)")
        #expect(d["default_now"] as? String == "2000@3", "\(out)")
        #expect(d["default_resource"] as? [String: String] == ["message.max.bytes": "2000"], "\(out)")
        #expect(d["segment"] as? String == "1024@2" && d["segment_other"] as? String == "1073741824@5", "\(out)")
        #expect((d["segments_after"] as? Int ?? 0) > (d["segments_before"] as? Int ?? 0), "\(out)")
        #expect((d["earliest_after"] as? Int ?? 0) > (d["earliest_before"] as? Int ?? 0), "retention did not apply: \(out)")
        #expect(d["min_isr"] as? String == "NOT_ENOUGH_REPLICAS", "\(out)")
        #expect(d["restored"] as? String == "1048588@5", "\(out)")
        #expect(d["replaced"] as? String == "2000@2 segment@5", "\(out)")

        // Kafka's znode layout: both entities and the change notifications naming them.
        let c = try cluster.coordClient()
        defer { c.close() }
        #expect(cluster.znodeJSON(c, "/config/brokers/<default>")?["config"] as? [String: String] == ["log.retention.ms": "1000"])
        let leader = d["leader"] as? Int ?? 1
        #expect(cluster.znodeJSON(c, "/config/brokers/\(leader)")?["config"] as? [String: String] == ["log.cleaner.backoff.ms": "2000"])
        #expect(cluster.znodeJSON(c, "/config/brokers/\(leader)")?["version"] as? Int == 1)
        let entities = try c.getChildren("/config/changes").filter { $0.hasPrefix("config_change_") }
            .compactMap { cluster.znodeJSON(c, "/config/changes/\($0)")?["entity_path"] as? String }
        #expect(entities.contains("brokers/<default>") && entities.contains("brokers/\(leader)"), "\(entities)")
        #expect(!entities.contains("brokers/\(3 - leader)"), "\(entities)")

        // kafkactl, shaped like kafka-configs.sh.
        let bs = ["--bootstrap-server", cluster.bootstrap]
        let alter = try SwiftClientCLITests.kafkactl(["configs", "--alter", "--entity-type", "brokers", "--entity-name", "2",
                                                      "--add-config", "message.max.bytes=3000"] + bs)
        #expect(alter.status == 0 && alter.out.contains("Completed updating config for broker 2."), "\(alter.out)\(alter.err)")
        let desc = try SwiftClientCLITests.kafkactl(["configs", "--describe", "--entity-type", "brokers", "--entity-name", "2"] + bs)
        #expect(desc.out.contains("Dynamic configs for broker 2 are:")
                && desc.out.contains("message.max.bytes=3000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:message.max.bytes=3000, DEFAULT_CONFIG:message.max.bytes=1048588}"),
                "\(desc.out)\(desc.err)")
        let def = try SwiftClientCLITests.kafkactl(["configs", "--describe", "--entity-type", "brokers", "--entity-default"] + bs)
        #expect(def.out.contains("Default configs for brokers in the cluster are:") && def.out.contains("log.retention.ms=1000"), "\(def.out)\(def.err)")
        let bad = try SwiftClientCLITests.kafkactl(["configs", "--alter", "--entity-type", "brokers", "--entity-default",
                                                    "--add-config", "broker.id=3"] + bs)
        #expect(bad.status == 1 && bad.err.contains("Cannot update these configs dynamically"), "\(bad.err)")
    }
}
