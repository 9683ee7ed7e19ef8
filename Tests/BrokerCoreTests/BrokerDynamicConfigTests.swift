import BrokerCore
import Protocol
import Testing

@Suite struct BrokerDynamicConfigTests {
    typealias D = BrokerDynamicConfig

    func problem(_ f: () throws -> [String: String]) -> ErrorCode? {
        do { _ = try f(); return nil } catch { return (error as? TopicConfigChange.Problem)?.code ?? .unknownServerError }
    }

    func message(_ f: () throws -> [String: String]) -> String {
        do { _ = try f(); return "" } catch { return (error as? TopicConfigChange.Problem)?.message ?? "\(error)" }
    }

    @Test func incrementalSetDeleteAppendSubtract() throws {
        let next = try D.incremental(["log.retention.ms": "5"], [("log.retention.ms", 1, nil), ("message.max.bytes", 0, "2048"),
                                                               ("log.cleanup.policy", 2, "compact")],
                                     level: .perBroker, defaults: ["log.cleanup.policy": "delete"])
        // APPEND starts from Kafka's default when the entity has no value yet.
        #expect(next == ["message.max.bytes": "2048", "log.cleanup.policy": "delete,compact"])
        let back = try D.incremental(next, [("log.cleanup.policy", 3, "compact")], level: .perBroker)
        #expect(back["log.cleanup.policy"] == "delete")
        #expect(try D.replace([("log.segment.bytes", "1024"), ("min.insync.replicas", nil)], level: .clusterDefault) == ["log.segment.bytes": "1024"])
    }

    @Test func kafkaRefusalsAreInvalidRequest() {
        // Not dynamic in Kafka (or not a Kafka key at all).
        #expect(problem { try D.incremental([:], [("broker.id", 0, "7")], level: .perBroker) } == .invalidRequest)
        #expect(message { try D.incremental([:], [("broker.id", 0, "7")], level: .perBroker) }
                == "Cannot update these configs dynamically: Set(broker.id)")
        #expect(problem { try D.replace([("zookeeper.connect", "x:1")], level: .clusterDefault) } == .invalidRequest)
        // Per-broker only keys at the cluster default.
        #expect(message { try D.incremental([:], [("sasl.kerberos.min.time.before.relogin", 0, "1")], level: .clusterDefault) }
                .hasPrefix("Cannot update these configs at default cluster level"))
        // Types and ranges.
        #expect(problem { try D.incremental([:], [("log.retention.ms", 0, "soon")], level: .perBroker) } == .invalidRequest)
        #expect(problem { try D.incremental([:], [("log.segment.bytes", 0, "13")], level: .perBroker) } == .invalidRequest)
        #expect(problem { try D.incremental([:], [("log.cleanup.policy", 0, "forever")], level: .perBroker) } == .invalidRequest)
        #expect(problem { try D.incremental([:], [("min.insync.replicas", 0, "0")], level: .clusterDefault) } == .invalidRequest)
        // APPEND on a non-list is Kafka's INVALID_CONFIG; bad operation, null SET and duplicates INVALID_REQUEST.
        #expect(problem { try D.incremental([:], [("message.max.bytes", 2, "1")], level: .perBroker) } == .invalidConfig)
        #expect(problem { try D.incremental([:], [("message.max.bytes", 9, "1")], level: .perBroker) } == .invalidRequest)
        #expect(problem { try D.incremental([:], [("message.max.bytes", 0, nil)], level: .perBroker) } == .invalidRequest)
        #expect(problem { try D.incremental([:], [("message.max.bytes", 0, "1"), ("message.max.bytes", 1, nil)], level: .perBroker) } == .invalidRequest)
    }

    @Test func dynamicInKafkaButNotApplicableHereIsRefusedNotStored() {
        for k in ["num.io.threads", "background.threads", "log.cleaner.threads", "listeners", "ssl.keystore.location",
                  "listener.name.plaintext.ssl.keystore.location", "unclean.leader.election.enable"] {
            #expect(D.spec(k)?.handling == .refused, "\(k)")
            #expect(message { try D.incremental([:], [(k, 0, "1")], level: .perBroker) }.contains("brokerd cannot change"), "\(k)")
        }
        // Refused keys found in a znode (written by a Kafka broker) never reach the running config.
        let merged = D.merged(D.Layers(perBroker: ["num.io.threads": "2", "message.max.bytes": "10"], staticProps: ["num.io.threads": "8"]))
        #expect(merged == ["num.io.threads": "8", "message.max.bytes": "10"])
    }

    @Test func inertKerberosKeysAreStoredPerBroker() throws {
        #expect(try D.incremental([:], [("sasl.kerberos.min.time.before.relogin", 0, "58000")], level: .perBroker)
                == ["sasl.kerberos.min.time.before.relogin": "58000"])
        #expect(D.spec("sasl.kerberos.min.time.before.relogin")?.handling == .inert)
    }

    @Test func precedencePerBrokerOverDefaultOverStaticOverBuiltIn() {
        let l = D.Layers(perBroker: ["message.max.bytes": "100"], clusterDefault: ["message.max.bytes": "200", "log.segment.bytes": "300"],
                         staticProps: ["message.max.bytes": "400", "log.segment.bytes": "500", "num.io.threads": "4", "broker.id": "1"],
                         defaults: ["message.max.bytes": "1048588", "log.segment.bytes": "1073741824", "num.partitions": "1"])
        let m = D.merged(l)
        #expect(m["message.max.bytes"] == "100" && m["log.segment.bytes"] == "300" && m["num.io.threads"] == "4")
        let d = Dictionary(uniqueKeysWithValues: D.describe(l, level: .perBroker).map { ($0.name, $0) })
        #expect(d["message.max.bytes"]?.value == "100" && d["message.max.bytes"]?.source == .dynamicBroker)
        #expect(d["message.max.bytes"]?.synonyms.map(\.source) == [.dynamicBroker, .dynamicDefaultBroker, .staticBroker, .defaultConfig])
        #expect(d["log.segment.bytes"]?.value == "300" && d["log.segment.bytes"]?.source == .dynamicDefaultBroker)
        #expect(d["num.io.threads"]?.source == .staticBroker && d["num.io.threads"]?.readOnly == true)
        #expect(d["num.partitions"]?.source == .defaultConfig && d["num.partitions"]?.value == "1")
        #expect(d["message.max.bytes"]?.readOnly == false && d["broker.id"]?.readOnly == true)
        // The cluster default resource shows only its own keys, without per-broker synonyms.
        let def = D.describe(l, level: .clusterDefault)
        #expect(def.map(\.name) == ["log.segment.bytes", "message.max.bytes"])
        #expect(def.first { $0.name == "message.max.bytes" }?.synonyms.map(\.source) == [.dynamicDefaultBroker, .staticBroker, .defaultConfig])
        #expect(def.first { $0.name == "message.max.bytes" }?.value == "200")
    }

    @Test func synonymsFollowKafkasUnitPrecedence() {
        // Merged key by key, then ms over minutes over hours, as KafkaConfig reads them.
        var props = D.merged(D.Layers(clusterDefault: ["log.retention.hours": "2"], staticProps: ["log.retention.minutes": "5"]))
        #expect(D.millis(props, "log.retention.ms") == 300_000)
        props = D.merged(D.Layers(perBroker: ["log.retention.ms": "1000"], staticProps: ["log.retention.hours": "5"]))
        #expect(D.millis(props, "log.retention.ms") == 1000)
        #expect(D.millis(["log.retention.hours": "-1"], "log.retention.ms") == -1)
        #expect(D.millis([:], "log.retention.ms") == nil)
        let l = D.Layers(staticProps: ["log.retention.hours": "2"], defaults: ["log.retention.hours": "168"])
        let e = D.describe(l, level: .perBroker)
        #expect(e.first { $0.name == "log.retention.hours" }?.value == "2")
    }

    @Test func sensitiveValuesAreNeverDescribed() {
        let l = D.Layers(staticProps: ["ssl.keystore.password": "s3cret", "listener.name.x.scram-sha-256.sasl.jaas.config": "secret"])
        for e in D.describe(l, level: .perBroker) {
            #expect(e.value == nil && e.isSensitive && e.type == .password, "\(e)")
            #expect(e.synonyms.allSatisfy { $0.value == nil })
        }
    }

    @Test func resourceNames() throws {
        #expect(try D.entity(resourceName: "", localBroker: 3) == ("<default>", .clusterDefault))
        #expect(try D.entity(resourceName: "3", localBroker: 3) == ("3", .perBroker))
        #expect(throws: TopicConfigChange.Problem.self) { try D.entity(resourceName: "4", localBroker: 3) }
        #expect(throws: TopicConfigChange.Problem.self) { try D.entity(resourceName: "x", localBroker: 3) }
    }

    @Test func writesKafkasZnodes() throws {
        let ops = D.writeOps(entity: "<default>", config: ["log.retention.ms": "1"], configZkVersion: nil)
        guard case .create(let p, let d, _, false) = ops.first, case .create(let cp, let cd, _, true) = ops.last else {
            Issue.record("\(ops)")
            return
        }
        #expect(p == "/config/brokers/<default>" && cp == "/config/changes/config_change_")
        #expect(String(decoding: d, as: UTF8.self) == #"{"version":1,"config":{"log.retention.ms":"1"}}"#)
        #expect(try ConfigChangePayload.decode(cd) == "brokers/<default>")
        guard case .setData(_, _, 4) = D.writeOps(entity: "1", config: [:], configZkVersion: 4).first else {
            Issue.record("not conditional")
            return
        }
    }
}
