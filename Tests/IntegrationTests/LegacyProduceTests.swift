import Foundation
import Protocol
import Testing

/// Produce v0–v2 with pre-0.11 message sets (what librdkafka sends with `api.version.request=false`,
/// `broker.version.fallback=0.9.0.0`; librdkafka 0052): up-converted to v2 batches, timestamps as Kafka
/// gives them (none for magic 0 on CreateTime, the broker's clock on LogAppendTime).
@Suite(.serialized, .ownThreads) struct LegacyProduceTests {
    /// One magic 0/1 message (offset, size, CRC-32, magic, attributes, [timestamp], key, value).
    static func legacyMessage(magic: Int8, timestamp: Int64 = 0, value: String) -> [UInt8] {
        var body: [UInt8] = [UInt8(bitPattern: magic), 0]
        func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        if magic == 1 { body += be(timestamp) }
        body += be(Int32(-1))  // null key
        body += be(Int32(value.utf8.count)) + Array(value.utf8)
        var crc: UInt32 = 0xFFFF_FFFF  // CRC-32 (IEEE), bitwise
        for x in body {
            crc ^= UInt32(x)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return be(Int64(0)) + be(Int32(4 + body.count)) + be(~crc) + body
    }

    @Test(.timeLimit(.minutes(2))) func legacyMessageSetsAreUpConvertedOnOldProduceVersions() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let port = cluster.port(1)
        let raw = try RawKafka(port: port)
        let codes = try BrokerStorageTests.createTopics(port, [
            .init(name: "legacy", numPartitions: 1, replicationFactor: 1, assignments: [], configs: []),
            .init(name: "legacy-lat", numPartitions: 1, replicationFactor: 1, assignments: [],
                  configs: [.init(name: "message.timestamp.type", value: "LogAppendTime")]),
        ])
        #expect(codes == [.none, .none])
        func produce(_ topic: String, _ set: [UInt8], version: Int16) throws -> ProduceResponse.PartitionProduceResponse? {
            try raw.call(ProduceRequest(acks: 1, timeoutMs: 5000, topicData: [
                .init(name: topic, partitionData: [.init(index: 0, records: set)]),
            ]), version: version).responses.first?.partitionResponses.first
        }
        func records(_ topic: String) throws -> [Record] {
            guard let bytes = try BrokerStorageTests.fetch(port, topic, at: 0)?.records else { return [] }
            return try RecordBatch.split(bytes).0.flatMap { try RecordBatch.records(of: Array(bytes[$0.range])).records }
        }

        let v0 = try produce("legacy", Self.legacyMessage(magic: 0, value: "a") + Self.legacyMessage(magic: 0, value: "b"), version: 0)
        #expect(v0?.errorCode == ErrorCode.none && v0?.baseOffset == 0, "\(String(describing: v0))")
        let v1 = try produce("legacy", Self.legacyMessage(magic: 1, timestamp: 1_600_000_000_000, value: "c"), version: 1)
        #expect(v1?.errorCode == ErrorCode.none && v1?.baseOffset == 2, "\(String(describing: v1))")
        let got = try records("legacy")
        #expect(got.map(\.value) == ["a", "b", "c"].map { Array($0.utf8) })
        #expect(got.map(\.offset) == [0, 1, 2])
        #expect(got.map(\.timestamp) == [-1, -1, 1_600_000_000_000])

        // LogAppendTime overrides whatever the message said (Produce v2 also returns that time).
        let before = Int64(Date().timeIntervalSince1970 * 1000) - 1000
        let v2 = try produce("legacy-lat", Self.legacyMessage(magic: 1, timestamp: 5, value: "d"), version: 2)
        #expect(v2?.errorCode == ErrorCode.none && (v2?.logAppendTimeMs ?? 0) >= before, "\(String(describing: v2))")
        // Consumers read a LogAppendTime batch's time from its header.
        let lat = try BrokerStorageTests.fetch(port, "legacy-lat", at: 0)?.records ?? []
        let headers = try RecordBatch.split(lat).batches.map(\.header)
        #expect(headers.count == 1 && headers.allSatisfy { $0.timestampType == .logAppendTime && $0.maxTimestamp >= before })

        // From v3 on only v2 batches are allowed, as in Kafka; a bad CRC is CORRUPT_MESSAGE.
        let v3 = try produce("legacy", Self.legacyMessage(magic: 1, value: "e"), version: 3)
        #expect(v3?.errorCode == .invalidRecord)
        var bad = Self.legacyMessage(magic: 0, value: "f")
        bad[bad.count - 1] ^= 0xFF
        #expect(try produce("legacy", bad, version: 1)?.errorCode == .corruptMessage)
        #expect(try records("legacy").count == 3)
        #expect(cluster.procs[1]?.isRunning == true)
    }
}
