import Foundation
import Protocol
import Testing

/// Topic ids (KIP-516) as Kafka 2.8+ keeps them in ZooKeeper mode: in `/brokers/topics/<t>`, sent
/// to brokers in UpdateMetadata v7 and answered in Metadata v10–12.
@Suite(.serialized, .ownThreads) struct TopicIdTests {
    @Test(.timeLimit(.minutes(4))) func topicsCarryTheIdTheirZnodeHolds() throws {
        let cluster = try BrokerCluster(brokers: 2)
        defer { cluster.cleanup() }
        let raw = try RawKafka(port: cluster.port(1))
        let created = try raw.call(CreateTopicsRequest(topics: [.init(name: "ids", numPartitions: 2, replicationFactor: 2, assignments: [], configs: [])],
                                                       timeoutMs: 20_000), version: 4)
        #expect(created.topics.map(\.errorCode) == [.none], "\(created)\n\(cluster.logs)")
        let c = try cluster.coordClient()
        defer { c.close() }
        let stored = (cluster.znodeJSON(c, "/brokers/topics/ids")?["topic_id"] as? String).flatMap { KafkaUUID(kafkaString: $0) }
        #expect(stored != nil && stored != .zero)

        // Both brokers learn the id from the controller; v9 has no id field, v12 does.
        var md: MetadataResponse?
        let learned = ProcessHarness.waitUntil(timeout: 30, interval: 0.3) {
            md = try? RawKafka(port: cluster.port(2)).call(MetadataRequest(topics: [.init(name: "ids")], allowAutoTopicCreation: false), version: 12)
            return md?.topics.first?.topicId == stored && md?.topics.first?.partitions.count == 2
        }
        #expect(learned, "\(String(describing: md))\n\(cluster.logs)")

        // v12: asked for by id alone, answered with the name; an unknown id is UNKNOWN_TOPIC_ID
        // (listed first, as Kafka lists them).
        let byId = try raw.call(MetadataRequest(topics: [.init(topicId: stored ?? .zero, name: ""), .init(topicId: KafkaUUID(high: 7, low: 7), name: "")],
                                                allowAutoTopicCreation: false), version: 12)
        #expect(byId.topics.map(\.name) == ["", "ids"] && byId.topics.map(\.errorCode) == [.unknownTopicId, .none], "\(byId)")
        #expect(byId.topics.map(\.topicId) == [KafkaUUID(high: 7, low: 7), stored ?? .zero])

        // A topic an older tool wrote without an id gets one from the controller.
        _ = try c.create("/brokers/topics/legacy", data: Array(#"{"version":2,"partitions":{"0":[1]},"adding_replicas":{},"removing_replicas":{}}"#.utf8))
        var legacy: String?
        let assigned = ProcessHarness.waitUntil(timeout: 30, interval: 0.3) {
            legacy = cluster.znodeJSON(c, "/brokers/topics/legacy")?["topic_id"] as? String
            return legacy != nil
        }
        #expect(assigned, "\(cluster.logs)")
        let legacyId = legacy.flatMap { KafkaUUID(kafkaString: $0) }
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.3) {
            let m = try? raw.call(MetadataRequest(topics: [.init(name: "legacy")], allowAutoTopicCreation: false), version: 10)
            return m?.topics.first?.topicId == legacyId && legacyId != nil
        })

        // librdkafka reads the id too (Metadata v12 negotiated).
        let script = """
        import sys
        from confluent_kafka.admin import AdminClient
        from confluent_kafka import TopicCollection
        a = AdminClient({"bootstrap.servers": sys.argv[1]})
        d = a.describe_topics(TopicCollection(["ids"]), request_timeout=20)["ids"].result()
        # librdkafka prints standard base64; Kafka's text form is the URL-safe alphabet.
        print("id", str(d.topic_id).replace("+", "-").replace("/", "_"))
        """
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", "-c", script, cluster.bootstrap], timeout: 60)
        #expect(r.status == 0 && r.stdout.contains("id \(stored?.kafkaString ?? "?")"), "\(r.stdout)\(r.stderr)")
    }
}
