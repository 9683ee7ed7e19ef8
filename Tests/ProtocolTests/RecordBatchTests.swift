import Testing
@testable import Protocol

@Suite(.timeLimit(.minutes(1))) struct RecordBatchTests {
    func sampleRecords(base: Int64 = 0) -> [Record] {
        [
            Record(offset: base, timestamp: 1_700_000_000_000, key: Array("k1".utf8), value: Array("v1".utf8),
                   headers: [RecordHeader(key: "h", value: [1, 2, 3]), RecordHeader(key: "null", value: nil)]),
            Record(offset: base + 1, timestamp: 1_700_000_000_005, key: nil, value: Array("no key".utf8)),
            Record(offset: base + 2, timestamp: 1_699_999_999_990, key: Array("tomb".utf8), value: nil),
            Record(offset: base + 3, timestamp: 1_700_000_000_001, key: [], value: []),
        ]
    }

    @Test func crc32cKnownVector() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = CRC32C.checksum(data)
        let split = data.withUnsafeBytes { raw in
            CRC32C.update(CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[0..<333])), UnsafeRawBufferPointer(rebasing: raw[333...]))
        }
        #expect(whole == split)
    }

    /// Bit-at-a-time reference against the table-driven, two-stream implementation.
    @Test func crc32cMatchesBitwiseReference() {
        func reference(_ d: ArraySlice<UInt8>) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for byte in d {
                c ^= UInt32(byte)
                for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            }
            return ~c
        }
        var seed: UInt64 = 7
        let data: [UInt8] = (0..<40_000).map { _ in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1
            return UInt8(truncatingIfNeeded: seed >> 56)
        }
        for n in [0, 1, 15, 16, 17, 31, 32, 511, 512, 513, 527, 528, 1000, 4096, 16_411, 40_000] {
            #expect(CRC32C.checksum(data[0..<n]) == reference(data[0..<n]), "length \(n)")
            #expect(CRC32C.checksum(data[3..<max(3, n)]) == reference(data[3..<max(3, n)]), "offset 3, length \(n)")
        }
        for n in stride(from: 480, to: 700, by: 7) {
            #expect(CRC32C.checksum(data[0..<n]) == reference(data[0..<n]), "length \(n)")
        }
    }

    @Test func headerLayoutAndRoundTrip() throws {
        var opts = RecordBatchOptions(baseOffset: 100)
        opts.partitionLeaderEpoch = 7
        opts.producerId = 42
        opts.producerEpoch = 3
        opts.baseSequence = 9
        let bytes = try RecordBatch.build(sampleRecords(base: 100), options: opts)
        let h = try RecordBatch.validate(bytes)
        #expect(h.baseOffset == 100)
        #expect(h.totalSize == bytes.count)
        #expect(h.partitionLeaderEpoch == 7)
        #expect(h.magic == 2)
        #expect(h.lastOffsetDelta == 3)
        #expect(h.lastOffset == 103)
        #expect(h.recordsCount == 4)
        #expect(h.baseTimestamp == 1_699_999_999_990)
        #expect(h.maxTimestamp == 1_700_000_000_005)
        #expect(h.producerId == 42 && h.producerEpoch == 3 && h.baseSequence == 9)
        #expect(h.compression == CompressionType.none)
        #expect(bytes[16] == 2)  // magic byte position
        let (_, recs) = try RecordBatch.records(of: bytes)
        #expect(recs == sampleRecords(base: 100))
    }

    @Test(arguments: [CompressionType.gzip, .snappy, .lz4])
    func compressedRoundTrip(_ codec: CompressionType) throws {
        let many = (0..<500).map { i in
            Record(offset: Int64(i), timestamp: 1000 + Int64(i), key: Array("key-\(i % 10)".utf8),
                   value: Array(String(repeating: "value \(i) ", count: 5).utf8))
        }
        let bytes = try RecordBatch.build(many, options: RecordBatchOptions(compression: codec))
        let h = try RecordBatch.validate(bytes)
        #expect(h.compression == codec)
        let (_, recs) = try RecordBatch.records(of: bytes)
        #expect(recs == many)
        let plain = try RecordBatch.build(many)
        #expect(bytes.count < plain.count / 2)
    }

    @Test func zstdIsUnsupported() throws {
        #expect(throws: RecordBatchError.unsupportedCompression(4)) {
            _ = try RecordBatch.build(sampleRecords(), options: RecordBatchOptions(compression: .zstd))
        }
        // A zstd batch from a client: header is fine, decoding refuses clearly.
        var bytes = try RecordBatch.build(sampleRecords())
        bytes[22] = (bytes[22] & 0xF8) | 4
        let crc = CRC32C.checksum(bytes[21...])
        bytes[17] = UInt8(crc >> 24); bytes[18] = UInt8((crc >> 16) & 0xff)
        bytes[19] = UInt8((crc >> 8) & 0xff); bytes[20] = UInt8(crc & 0xff)
        #expect(try RecordBatch.validate(bytes).compression == .zstd)
        #expect(throws: RecordBatchError.unsupportedCompression(4)) { _ = try RecordBatch.records(of: bytes) }
    }

    @Test func rewritingBaseOffsetAndEpochKeepsCRC() throws {
        var bytes = try RecordBatch.build(sampleRecords())
        bytes.withUnsafeMutableBytes {
            RecordBatch.setBaseOffset(1 << 40, in: $0)
            RecordBatch.setPartitionLeaderEpoch(5, in: $0)
        }
        let h = try RecordBatch.validate(bytes)
        #expect(h.baseOffset == 1 << 40 && h.partitionLeaderEpoch == 5)
        #expect(try RecordBatch.records(of: bytes).records.first?.offset == 1 << 40)
    }

    @Test func everyTruncationThrows() throws {
        let bytes = try RecordBatch.build(sampleRecords())
        for n in 0..<bytes.count {
            #expect(throws: RecordBatchError.self) { _ = try RecordBatch.validate(Array(bytes[0..<n])) }
        }
    }

    @Test func corruptionDetected() throws {
        let bytes = try RecordBatch.build(sampleRecords())
        // Any flipped byte from attributes on is caught by the CRC.
        for i in stride(from: 21, to: bytes.count, by: 3) {
            var b = bytes
            b[i] ^= 0x40
            #expect(throws: RecordBatchError.self) { _ = try RecordBatch.validate(b) }
        }
        var badMagic = bytes
        badMagic[16] = 1
        #expect(throws: RecordBatchError.unsupportedMagic(1)) { _ = try RecordBatch.validate(badMagic) }
        var tiny = bytes
        tiny[8] = 0; tiny[9] = 0; tiny[10] = 0; tiny[11] = 10
        #expect(throws: RecordBatchError.invalidBatchLength(10)) { _ = try RecordBatch.validate(tiny) }
        var huge = bytes
        huge[8] = 0x7f
        #expect(throws: RecordBatchError.self) { _ = try RecordBatch.validate(huge) }
        var negative = bytes
        negative[8] = 0xff
        #expect(throws: RecordBatchError.self) { _ = try RecordBatch.validate(negative) }
    }

    @Test func malformedRecordsThrow() throws {
        let h = try RecordBatch.validate(try RecordBatch.build(sampleRecords()))
        // Record count says 4 but the section is garbage or short.
        let cases: [[UInt8]] = [[], [0x01], [0x7f, 0, 0], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                                [0x0c, 0, 0, 0, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0]]
        for c in cases {
            #expect(throws: RecordBatchError.self) { _ = try RecordBatch.decodeRecords(c, header: h) }
        }
        // Deterministic garbage: must throw or decode, never trap.
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<300 {
            let n = Int(seed % 200)
            var bytes: [UInt8] = []
            for _ in 0..<n {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(UInt8(truncatingIfNeeded: seed >> 33))
            }
            _ = try? RecordBatch.decodeRecords(bytes, header: h)
            for codec in [CompressionType.gzip, .snappy, .lz4] {
                _ = try? RecordCompression.decompress(bytes, type: codec, maxBytes: 1 << 20)
            }
        }
    }

    @Test func iteratorStopsAtPartialBatch() throws {
        let a = try RecordBatch.build(sampleRecords(base: 0), options: RecordBatchOptions(baseOffset: 0))
        let b = try RecordBatch.build(sampleRecords(base: 4), options: RecordBatchOptions(baseOffset: 4))
        let all = a + b + Array(b[0..<30])
        let (batches, trailing) = try RecordBatch.split(all)
        #expect(batches.map(\.header.baseOffset) == [0, 4])
        #expect(batches[1].range == a.count..<(a.count + b.count))
        #expect(trailing == 30)
        var bad = a + b
        bad[a.count + 30] ^= 1
        #expect(throws: RecordBatchError.self) { _ = try RecordBatch.split(bad) }
    }

    @Test func snappyKnownBlockAndXerial() throws {
        // preamble 11; literal "abc"; copy len 8 offset 3.
        let block: [UInt8] = [0x0b, 0x08, 0x61, 0x62, 0x63, 0x11, 0x03]
        #expect(try Snappy.decompressKafka(block, maxBytes: 100) == Array("abcabcabcab".utf8))
        #expect(throws: RecordBatchError.self) { _ = try Snappy.decompressKafka([0x0b, 0x08, 0x61, 0x62, 0x63, 0x11, 0x09], maxBytes: 100) }
        #expect(throws: RecordBatchError.self) { _ = try Snappy.decompressKafka(block, maxBytes: 5) }
        let text = Array(String(repeating: "hello snappy ", count: 10_000).utf8)
        let framed = Snappy.compressXerial(text)
        #expect(Array(framed[0..<8]) == Snappy.xerialMagic)
        #expect(try Snappy.decompressKafka(framed, maxBytes: 1 << 20) == text)
        #expect(try Snappy.decompressBlock(Snappy.compressBlock(text)[...], maxBytes: 1 << 20) == text)
    }

    @Test func lz4KnownValues() throws {
        #expect(XXH32.hash([UInt8]()[...]) == 0x02CC_5D05)
        // The lz4 CLI's usual descriptor 64 40 has header checksum A7.
        #expect((XXH32.hash([0x64, 0x40][...]) >> 8) & 0xff == 0xA7)
        // One compressed block: literals "abc", match offset 3 length 8, last literals "d".
        let blk: [UInt8] = [0x34, 0x61, 0x62, 0x63, 0x03, 0x00, 0x10, 0x64]
        var frame: [UInt8] = [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82]
        frame += [UInt8(blk.count), 0, 0, 0] + blk + [0, 0, 0, 0]
        #expect(try LZ4.decompressFrames(frame, maxBytes: 100) == Array("abcabcabcabd".utf8))
        // Our compressor against our decoder, over awkward sizes and contents.
        var seed: UInt64 = 99
        for n in [0, 1, 5, 12, 13, 17, 100, 65_535, 65_536, 70_000, 200_000] {
            let data: [UInt8] = (0..<n).map { i in
                seed = seed &* 6_364_136_223_846_793_005 &+ 1
                return i % 7 == 0 ? UInt8(truncatingIfNeeded: seed >> 56) : UInt8(i % 13)
            }
            #expect(try LZ4.decompressFrames(LZ4.compressFrame(data), maxBytes: 1 << 20) == data, "size \(n)")
            #expect(try Snappy.decompressKafka(Snappy.compressXerial(data), maxBytes: 1 << 20) == data, "size \(n)")
        }
        var badHC = frame
        badHC[6] ^= 1
        #expect(throws: RecordBatchError.self) { _ = try LZ4.decompressFrames(badHC, maxBytes: 100) }
        #expect(throws: RecordBatchError.self) { _ = try LZ4.decompressFrames(Array(frame[0..<12]), maxBytes: 100) }
    }
}
