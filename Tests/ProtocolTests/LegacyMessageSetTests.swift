import Testing
@testable import Protocol

/// Pre-0.11 message sets (magic 0/1) that Produce v0–v2 carries, up-converted to v2 batches.
@Suite struct LegacyMessageSetTests {
    /// CRC-32 (IEEE, reflected 0xEDB88320), what legacy messages carry; bitwise so the test does not
    /// share the code under test.
    static func crc32(_ b: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for x in b {
            c ^= UInt32(x)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return ~c
    }

    static func message(magic: Int8, attributes: Int8 = 0, timestamp: Int64 = 0, key: [UInt8]?, value: [UInt8]?, offset: Int64 = 0) -> [UInt8] {
        var body = ByteWriter(capacity: 64)
        body.writeInt8(magic)
        body.writeInt8(attributes)
        if magic == 1 { body.writeInt64(timestamp) }
        for b in [key, value] {
            if let b {
                body.writeInt32(Int32(b.count))
                body.writeBytes(b)
            } else {
                body.writeInt32(-1)
            }
        }
        var w = ByteWriter(capacity: 64)
        w.writeInt64(offset)
        w.writeInt32(Int32(4 + body.count))
        w.writeUInt32(crc32(body.bytes))
        w.writeBytes(body.bytes)
        return w.bytes
    }

    @Test func magicZeroBecomesV2WithoutTimestamps() throws {
        let set = Self.message(magic: 0, key: Array("k1".utf8), value: Array("v1".utf8))
            + Self.message(magic: 0, key: nil, value: Array("v2".utf8), offset: 1)
        #expect(LegacyMessageSet.magic(of: set) == 0)
        let batch = try LegacyMessageSet.upConvert(set)
        let (h, recs) = try RecordBatch.records(of: batch)
        #expect(h.magic == 2)
        #expect(recs.map(\.offset) == [0, 1])
        #expect(recs.map(\.key) == [Array("k1".utf8), nil])
        #expect(recs.map(\.value) == [Array("v1".utf8), Array("v2".utf8)])
        // Magic 0 has no timestamp: a CreateTime topic shows -1, as Kafka does.
        #expect(recs.map(\.timestamp) == [-1, -1])
    }

    @Test func magicOneKeepsCreateTimestamps() throws {
        let set = Self.message(magic: 1, timestamp: 1_700_000_000_123, key: Array("a".utf8), value: nil)
        let (_, recs) = try RecordBatch.records(of: LegacyMessageSet.upConvert(set))
        #expect(recs.count == 1)
        #expect(recs[0].timestamp == 1_700_000_000_123)
        #expect(recs[0].value == nil)  // a tombstone stays one
    }

    @Test func gzipWrapperIsUnpackedAndRecompressed() throws {
        let inner = (0..<5).flatMap { i in
            Self.message(magic: 1, timestamp: 1000 + Int64(i), key: nil, value: Array("m\(i)".utf8), offset: Int64(i))
        }
        let wrapped = try RecordCompression.compress(inner, type: .gzip)
        let set = Self.message(magic: 1, attributes: 1, timestamp: 1004, key: nil, value: wrapped, offset: 4)
        let batch = try LegacyMessageSet.upConvert(set)
        let (h, recs) = try RecordBatch.records(of: batch)
        #expect(h.compression == .gzip)
        #expect(recs.map(\.value) == (0..<5).map { Array("m\($0)".utf8) })
        #expect(recs.map(\.timestamp) == [1000, 1001, 1002, 1003, 1004])
    }

    @Test func hostileSetsAreRefused() {
        var bad = Self.message(magic: 0, key: nil, value: Array("x".utf8))
        bad[bad.count - 1] ^= 0xFF  // flips a value byte: CRC no longer matches
        #expect(throws: RecordBatchError.self) { try LegacyMessageSet.upConvert(bad) }
        var lying = Self.message(magic: 0, key: nil, value: Array("x".utf8))
        lying[11] = 0x7F  // size far beyond the buffer
        #expect(throws: RecordBatchError.self) { try LegacyMessageSet.upConvert(lying) }
        let nested = Self.message(magic: 1, attributes: 1, key: nil,
                                  value: (try? RecordCompression.compress(Self.message(magic: 1, attributes: 1, key: nil, value: []), type: .gzip)) ?? [])
        #expect(throws: RecordBatchError.self) { try LegacyMessageSet.upConvert(nested) }
        #expect(throws: RecordBatchError.self) { try LegacyMessageSet.upConvert([]) }
    }
}
