import Protocol
import Testing
@testable import KafkaClient

struct FetchDecoderTests {
    func batch(base: Int64, _ values: [String], control: Bool = false) throws -> [UInt8] {
        var o = RecordBatchOptions(baseOffset: base)
        o.isControl = control
        let recs = values.enumerated().map { Record(offset: base + Int64($0.offset), timestamp: 100, key: nil, value: Array($0.element.utf8)) }
        return try RecordBatch.build(recs, options: o)
    }

    @Test func decodesBatchesFromPosition() throws {
        let bytes = try batch(base: 0, ["a", "b", "c"]) + batch(base: 3, ["d"])
        let (recs, next) = try FetchDecoder.decode(bytes, topic: "t", partition: 0, from: 1)
        #expect(recs.map(\.offset) == [1, 2, 3])
        #expect(recs.map { String(decoding: $0.value!, as: UTF8.self) } == ["b", "c", "d"])
        #expect(next == 4)
    }

    @Test func skipsControlBatchesButAdvances() throws {
        let bytes = try batch(base: 5, ["marker"], control: true) + batch(base: 6, ["x"])
        let (recs, next) = try FetchDecoder.decode(bytes, topic: "t", partition: 0, from: 5)
        #expect(recs.map(\.offset) == [6])
        #expect(next == 7)
    }

    @Test func partialTrailingBatchIsLeftForLater() throws {
        let full = try batch(base: 0, ["a"])
        let second = try batch(base: 1, ["b"])
        let (recs, next) = try FetchDecoder.decode(full + second.prefix(20), topic: "t", partition: 0, from: 0)
        #expect(recs.count == 1 && next == 1)
    }

    @Test func corruptBatchThrows() throws {
        var bytes = try batch(base: 0, ["hello"])
        bytes[bytes.count - 1] ^= 0xff
        #expect(throws: (any Error).self) { try FetchDecoder.decode(bytes, topic: "t", partition: 0, from: 0) }
    }

    @Test func garbageNeverTraps() {
        var rng = SplitMix64(seed: 99)
        for n in [0, 1, 11, 12, 60, 61, 200] {
            for _ in 0..<50 {
                let junk = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                _ = try? FetchDecoder.decode(junk, topic: "t", partition: 0, from: 0)
            }
        }
    }
}

struct MetadataTests {
    func response() -> MetadataResponse {
        MetadataResponse(brokers: [.init(nodeId: 1, host: "h1", port: 9092), .init(nodeId: 2, host: "h2", port: 9093)],
                         clusterId: "c", controllerId: 2,
                         topics: [.init(name: "t", partitions: [.init(partitionIndex: 1, leaderId: 2, replicaNodes: [2, 1], isrNodes: [2]),
                                                                .init(partitionIndex: 0, leaderId: -1, replicaNodes: [1])]),
                                  .init(errorCode: .unknownTopicOrPartition, name: "gone")])
    }

    @Test func applySortsPartitionsAndDropsUnknownTopics() {
        var md = ClusterMetadata()
        md.topics["gone"] = TopicInfo(name: "gone", partitions: [PartitionInfo(partition: 0, leader: 1)])
        md.apply(response(), requestedTopics: ["t", "gone"], nowMs: 5)
        #expect(md.topics["gone"] == nil)
        #expect(md.partitionCount("t") == 2)
        #expect(md.leader(for: TopicPartition("t", 1)) == 2)
        #expect(md.leader(for: TopicPartition("t", 0)) == nil)
        #expect(md.leader(for: TopicPartition("t", 7)) == nil)
        #expect(md.topics["t"]?.available == [1])
        #expect(md.controllerId == 2 && md.brokers[2]?.address == HostPort(host: "h2", port: 9093))
    }

    @Test func partialRefreshKeepsOtherTopics() {
        var md = ClusterMetadata()
        md.topics["other"] = TopicInfo(name: "other", partitions: [PartitionInfo(partition: 0, leader: 1)])
        md.apply(response(), requestedTopics: ["t"], nowMs: 1)
        #expect(md.topics["other"] != nil)
        md.apply(response(), requestedTopics: nil, nowMs: 2)
        #expect(md.topics["other"] == nil)
    }

    @Test func versionNegotiationPicksHighestCommon() {
        let v = VersionNegotiation.negotiate([
            .init(apiKey: 0, minVersion: 0, maxVersion: 11),   // produce: ours 0...8
            .init(apiKey: 1, minVersion: 0, maxVersion: 6),    // fetch: ours 4...11
            .init(apiKey: 3, minVersion: 13, maxVersion: 14),  // metadata: ours 0...12, no overlap
            .init(apiKey: 999, minVersion: 0, maxVersion: 1),  // unknown api
        ])
        #expect(v[.produce] == 8)
        #expect(v[.fetch] == 6)
        #expect(v[.metadata] == nil)
        #expect(v.count == 2)
    }

    @Test func hostPortParsing() throws {
        #expect(HostPort("localhost:9092") == HostPort(host: "localhost", port: 9092))
        #expect(HostPort("[::1]:9092") == HostPort(host: "::1", port: 9092))
        #expect(HostPort("nohost") == nil && HostPort(":9092") == nil && HostPort("h:0") == nil && HostPort("h:70000") == nil)
        #expect(try ClientConfig.parseBootstrap(" a:1, b:2 ") == ["a:1", "b:2"])
        #expect(throws: KafkaError.self) { try ClientConfig.parseBootstrap("") }
    }

    @Test func errorClassification() {
        #expect(ErrorCode.notLeaderOrFollower.isRetriable && ErrorCode.notLeaderOrFollower.invalidatesMetadata)
        #expect(!ErrorCode.topicAlreadyExists.isRetriable)
        #expect(KafkaError.timeout("x").isRetriable && !KafkaError.invalidArgument("x").isRetriable)
    }
}

struct ToolsTests {
    @Test func datagenIsDeterministicJSON() {
        var a = DataGenerator(kind: .orders, seed: 5), b = DataGenerator(kind: .orders, seed: 5)
        let x = a.next(timestampMs: 1000), y = b.next(timestampMs: 1000)
        #expect(x == y)
        #expect(x.key == "1" && x.value.hasPrefix("{\"ordertime\":1000,\"orderid\":1,") && x.value.hasSuffix("}}"))
        var p = DataGenerator(kind: .pageviews, seed: 1)
        let v = p.next(timestampMs: 7)
        #expect(v.value.contains("\"viewtime\":7") && v.value.contains("\"userid\":\"\(v.key)\""))
    }

    @Test func perfStatsPercentiles() {
        var s = PerfStats()
        for i in 1...100 { s.record(latencyMs: Double(i), bytes: 10) }
        #expect(s.percentile(0.5) == 50 && s.percentile(0.99) == 99 && s.percentile(1) == 100)
        #expect(s.averageLatencyMs == 50.5 && s.maxLatencyMs == 100 && s.bytes == 1000)
        #expect(s.producerSummary(elapsedMs: 1000).hasPrefix("100 records sent, 100.0 records/sec (0.00 MB/sec), 50.50 ms avg latency"))
        #expect(fmt(3.14159, 2) == "3.14" && fmt(-0.5, 1) == "-0.5" && fmt(2, 0) == "2" && fmt(0.05, 2) == "0.05")
    }
}
