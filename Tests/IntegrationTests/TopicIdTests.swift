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

        // CreateTopics v7 answers the new topic's id (the znode's), its layout and its configs.
        let echo = try raw.call(CreateTopicsRequest(topics: [.init(name: "echo", numPartitions: 3, replicationFactor: 2, assignments: [],
                                                                  configs: [.init(name: "retention.ms", value: "3600000")])],
                                                    timeoutMs: 20_000), version: 7)
        let e = echo.topics.first
        let echoId = (cluster.znodeJSON(c, "/brokers/topics/echo")?["topic_id"] as? String).flatMap { KafkaUUID(kafkaString: $0) }
        #expect(e?.errorCode == ErrorCode.none && e?.topicId == echoId && echoId != nil, "\(echo)")
        #expect(e?.numPartitions == 3 && e?.replicationFactor == 2)
        let retention = e?.configs?.first { $0.name == "retention.ms" }
        #expect(retention?.value == "3600000" && retention?.configSource == 1, "\(String(describing: e?.configs))")
        #expect(e?.configs?.first { $0.name == "cleanup.policy" }?.configSource == 5)

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

    /// DeleteTopics v6 names topics by id; an unknown id answers UNKNOWN_TOPIC_ID with a message.
    @Test(.timeLimit(.minutes(3))) func deleteTopicsByIdAndMaxTimestampOffsets() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let raw = try RawKafka(port: cluster.port(1))
        #expect(try BrokerStorageTests.createTopics(cluster.port(1), [.init(name: "gone", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [])]) == [.none])
        var id = KafkaUUID.zero
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.2) {
            id = (try? raw.call(MetadataRequest(topics: [.init(name: "gone")], allowAutoTopicCreation: false), version: 12))?.topics.first?.topicId ?? .zero
            return id != .zero
        })

        // ListOffsets v7: MAX_TIMESTAMP (-3) is the record with the largest timestamp, wherever it is.
        let stamps: [Int64] = [1_000, 9_000, 5_000]
        for (i, ts) in stamps.enumerated() {
            let batch = try RecordBatch.build([Record(offset: 0, timestamp: ts, key: nil, value: Array("v\(i)".utf8))])
            let pr = try raw.call(ProduceRequest(acks: 1, timeoutMs: 5000, topicData: [.init(name: "gone", partitionData: [.init(index: 0, records: batch)])]), version: 7)
            #expect(pr.responses.first?.partitionResponses.first?.errorCode == ErrorCode.none)
        }
        let lo = try raw.call(ListOffsetsRequest(replicaId: -1, topics: [.init(name: "gone", partitions: [.init(partitionIndex: 0, timestamp: -3)])]), version: 7)
        let p = lo.topics.first?.partitions.first
        #expect(p?.errorCode == ErrorCode.none && p?.offset == 1 && p?.timestamp == 9_000, "\(lo)")

        let missing = KafkaUUID(high: 1, low: 2)
        let del = try raw.call(DeleteTopicsRequest(topics: [.init(name: nil, topicId: id), .init(name: nil, topicId: missing)], timeoutMs: 20_000), version: 6)
        let byId = Dictionary(del.responses.map { ($0.topicId, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byId[id]?.name == "gone" && byId[id]?.errorCode == ErrorCode.none, "\(del)")
        #expect(byId[missing]?.errorCode == .unknownTopicId && byId[missing]?.errorMessage != nil, "\(del)")
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.3) {
            (try? raw.call(MetadataRequest(topics: [.init(topicId: id, name: "")], allowAutoTopicCreation: false), version: 12))?.topics.first?.errorCode == .unknownTopicId
        })
    }
}
