import Foundation
import Protocol
import Testing
import Transport

/// Hostile produce input against a real brokerd: batches whose CRC is valid but whose header or
/// records lie are refused, and the log stays readable by a real client afterwards.
@Suite(.serialized, .ownThreads) struct BrokerBadInputTests {
    static var compatDir: String { ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat" }

    /// `batch` edited by `edit`, with batchLength and CRC made valid again.
    static func forge(_ batch: [UInt8], _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        var b = batch
        edit(&b)
        let length = Int32(b.count - RecordBatchLayout.logOverhead)
        for i in 0..<4 { b[RecordBatchLayout.batchLength + i] = UInt8(truncatingIfNeeded: length >> (24 - 8 * i)) }
        b.withUnsafeMutableBytes { RecordBatch.resealCRC(in: $0) }
        return b
    }

    static func put32(_ v: Int32, at: Int, _ b: inout [UInt8]) {
        for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (24 - 8 * i)) }
    }

    static func lies() throws -> [(String, [UInt8], ErrorCode)] {
        let L = RecordBatchLayout.self
        let one = try RecordBatch.build([Record(key: Array("k".utf8), value: Array("one".utf8))])
        let three = try RecordBatch.build((0..<3).map { Record(offset: Int64($0), key: Array("k".utf8), value: Array("v\($0)".utf8)) })
        var control = RecordBatchOptions()
        control.isControl = true
        return [
            ("recordsCount 1000 with 1 record", forge(one) { put32(1000, at: L.recordsCount, &$0) }, .invalidRecord),
            ("lastOffsetDelta 10^6", forge(one) { put32(1_000_000, at: L.lastOffsetDelta, &$0) }, .invalidRecord),
            ("zero records", try RecordBatch.build([]), .invalidRecord),
            ("garbage record bytes", forge(three) { b in
                for i in L.records..<b.count { b[i] = UInt8(truncatingIfNeeded: i &* 131 &+ 7) }
            }, .invalidRecord),
            ("gzip flag over garbage", forge(three) { $0[L.attributes + 1] = 1 }, .corruptMessage),
            ("lz4 flag over garbage", forge(three) { $0[L.attributes + 1] = 3 }, .corruptMessage),
            ("control batch", try RecordBatch.build([Record(key: nil, value: [0])], options: control), .invalidRecord),
        ]
    }

    @Test(.timeLimit(.minutes(3))) func lyingBatchesAreRefusedAndTheLogStaysReadable() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let raw = try RawKafka(port: cluster.port(1))
        let ct = try raw.call(CreateTopicsRequest(topics: [.init(name: "lies", numPartitions: 1, replicationFactor: 1, assignments: [],
                                                                 configs: [])], timeoutMs: 10_000), version: 4)
        #expect(ct.topics.first?.errorCode == ErrorCode.none)
        func logEnd() throws -> Int64? {
            let r = try raw.call(ListOffsetsRequest(replicaId: -1, topics: [.init(name: "lies", partitions: [.init(partitionIndex: 0, timestamp: -1)])]),
                                 version: 2)
            return r.topics.first?.partitions.first?.offset
        }
        for (name, batch, code) in try Self.lies() {
            let pr = try raw.call(ProduceRequest(acks: -1, timeoutMs: 5000, topicData: [
                .init(name: "lies", partitionData: [.init(index: 0, records: batch)]),
            ]), version: 8)
            let got = pr.responses.first?.partitionResponses.first
            #expect(got?.errorCode == code, "\(name): \(String(describing: got))")
            #expect(try logEnd() == 0, "\(name) moved the log end")
        }
        // KIP-467: the record that broke the batch is named (produce v8).
        var gapped = [Record(key: nil, value: [1]), Record(offset: 3, key: nil, value: [2])]
        gapped[1].offset = 3
        var o = RecordBatchOptions()
        o.lastOffsetDelta = 1
        let pr = try raw.call(ProduceRequest(acks: 1, timeoutMs: 5000, topicData: [
            .init(name: "lies", partitionData: [.init(index: 0, records: try RecordBatch.build(gapped, options: o))]),
        ]), version: 8)
        let p = pr.responses.first?.partitionResponses.first
        #expect(p?.errorCode == .invalidRecord && p?.recordErrors.map(\.batchIndex) == [1], "\(String(describing: p))")

        // Records acknowledged after the lies are all readable by librdkafka, in every codec.
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compatDir + "/produce_read_all.py", cluster.bootstrap, "lies", "200"],
                                       timeout: 90)
        #expect(r.status == 0 && r.stdout.contains("OK 800"), "\(r.stdout)\(r.stderr)\n\(cluster.logs)")
        #expect(try logEnd() == 800)
        #expect(cluster.procs[1]?.isRunning == true)
    }

    @Test(.timeLimit(.minutes(2))) func topicNamesAreValidatedAndMayNotCollideInMetricNames() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let raw = try RawKafka(port: cluster.port(1))
        func create(_ names: [String]) throws -> [ErrorCode] {
            let r = try raw.call(CreateTopicsRequest(topics: names.map {
                .init(name: $0, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [])
            }, timeoutMs: 10_000), version: 4)
            return r.topics.map(\.errorCode)
        }
        #expect(try create(["abuse.col"]) == [.none])
        #expect(try create(["abuse_col"]) == [.invalidTopicException])
        #expect(try create(["abuse.col"]) == [.topicAlreadyExists])
        // Within one request, the second of a colliding pair is refused.
        #expect(try create(["m_x.y", "m.x_y"]) == [.none, .invalidTopicException])
        let bad = [".", "..", String(repeating: "n", count: 250), "a b", "caf\u{E9}", "x/y", ""]
        #expect(try create(bad) == Array(repeating: ErrorCode.invalidTopicException, count: bad.count))
        #expect(try create([String(repeating: "n", count: 249)]) == [.none])
        // Auto-creation through Metadata obeys the same rule.
        let md = try raw.call(MetadataRequest(topics: [.init(name: "abuse_col")], allowAutoTopicCreation: true), version: 8)
        #expect(md.topics.first?.errorCode == .invalidTopicException)
        let names = try raw.call(MetadataRequest(topics: nil), version: 8).topics.map(\.name)
        #expect(!names.contains("abuse_col") && !names.contains("m.x_y"))
        #expect(cluster.procs[1]?.isRunning == true)
    }

    /// acks=0 has no response to carry an error, so a failed produce closes the connection (the
    /// producer then refreshes metadata); a successful one leaves it open.
    @Test(.timeLimit(.minutes(2))) func acksZeroErrorsCloseTheConnection() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: "auto.create.topics.enable=false")
        defer { cluster.cleanup() }
        let port = cluster.port(1)
        let setup = try RawKafka(port: port)
        let ct = try setup.call(CreateTopicsRequest(topics: [.init(name: "fire", numPartitions: 1, replicationFactor: 1, assignments: [],
                                                                   configs: [])], timeoutMs: 10_000), version: 4)
        #expect(ct.topics.first?.errorCode == ErrorCode.none)
        let good = try RecordBatch.build([Record(key: nil, value: Array("ok".utf8))])
        func fireAndForget(_ topic: String, _ partition: Int32, _ records: [UInt8]) throws -> RawKafka {
            let k = try RawKafka(port: port)
            let req = ProduceRequest(acks: 0, timeoutMs: 1000, topicData: [.init(name: topic, partitionData: [.init(index: partition, records: records)])])
            try k.socket.sendAll(try KafkaRequestFrame.encode(req, version: 7, correlationId: 1, clientId: "tests"))
            return k
        }
        let cases: [(String, String, Int32, [UInt8])] = [
            ("unknown topic", "nowhere", 0, good),
            ("unknown partition", "fire", 7, good),
            ("lying batch", "fire", 0, BrokerBadInputTests.forge(good) { BrokerBadInputTests.put32(1000, at: RecordBatchLayout.recordsCount, &$0) }),
        ]
        for (name, topic, partition, records) in cases {
            let k = try fireAndForget(topic, partition, records)
            let sent = Date()
            // closedByPeer is also true after the socket's 10 s read timeout: EOF must come at once.
            #expect(k.closedByPeer() && Date().timeIntervalSince(sent) < 5, "\(name): connection left open")
        }
        // Success: nothing is sent back and the connection keeps serving.
        let k = try fireAndForget("fire", 0, good)
        let v = try k.call(ApiVersionsRequest(), version: 0)
        #expect(v.errorCode == .none)
        let lo = try k.call(ListOffsetsRequest(replicaId: -1, topics: [.init(name: "fire", partitions: [.init(partitionIndex: 0, timestamp: -1)])]),
                            version: 2)
        #expect(lo.topics.first?.partitions.first?.offset == 1)
    }
}
