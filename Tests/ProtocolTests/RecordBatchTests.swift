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

    @Test func zstdDecodesButIsNotWritten() throws {
        #expect(throws: RecordBatchError.unsupportedCompression(4)) {
            _ = try RecordBatch.build(sampleRecords(), options: RecordBatchOptions(compression: .zstd))
        }
        // A client's zstd batch: records wrapped in a zstd frame made of one raw block.
        let plain = try RecordBatch.build(sampleRecords())
        let section = Array(plain[61...])
        let n = UInt32(section.count), blk = n << 3 | 1
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xA0]
        frame += [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8(n >> 24)]
        frame += [UInt8(blk & 0xff), UInt8((blk >> 8) & 0xff), UInt8(blk >> 16)] + section
        var bytes = Array(plain[0..<61]) + frame
        bytes[22] = (bytes[22] & 0xF8) | 4
        let len = UInt32(bytes.count - 12)
        bytes[8] = UInt8(len >> 24); bytes[9] = UInt8((len >> 16) & 0xff); bytes[10] = UInt8((len >> 8) & 0xff); bytes[11] = UInt8(len & 0xff)
        let crc = CRC32C.checksum(bytes[21...])
        bytes[17] = UInt8(crc >> 24); bytes[18] = UInt8((crc >> 16) & 0xff)
        bytes[19] = UInt8((crc >> 8) & 0xff); bytes[20] = UInt8(crc & 0xff)
        let (h, recs) = try RecordBatch.records(of: bytes)
        #expect(h.compression == .zstd)
        #expect(recs == sampleRecords())
        // Garbage under the zstd flag is a clean error.
        var bad = bytes
        bad[61] ^= 0xff
        let c2 = CRC32C.checksum(bad[21...])
        bad[17] = UInt8(c2 >> 24); bad[18] = UInt8((c2 >> 16) & 0xff); bad[19] = UInt8((c2 >> 8) & 0xff); bad[20] = UInt8(c2 & 0xff)
        #expect(throws: RecordBatchError.self) { _ = try RecordBatch.records(of: bad) }
    }

    /// A frame from the zstd 1.5 CLI (level 19): Huffman literals in 4 streams, FSE-coded sequences.
    @Test func zstdKnownFrame() throws {
        var plain: [UInt8] = []
        for i in 0..<80 {
            plain += Array("{\"id\":\(i),\"v\":\"\(String(repeating: "x", count: i % 7))kafka\",\"n\":\((i * 37) % 101)}\n".utf8)
        }
        let hex = "28b52ffd64e908650a00a6942e14b069396fb12d152fd1bca54c29c994b8e852c82033002400240072b2442b94919f1233a1c81d12ac297a1ff3503f13c2f9ce0401588883e1c010601030201030301c0c0886803818060a0c0a0144f72c3149a56758243f9ac2434890358f16f5b19ea50b9a71386f7119197b958449b807ae76d4a277752b6d7dba61bb96a563d45553a5d93e264f4d6732e3738a9bc9d831b5222b000bad3a952efb4b3e4d2f32ef79e22ef23a4e2bafc8ed4d628feace98e87d2ec555e10580a4a83120bdfdcf809934071128085e4808214450aaaa7aa8c5718033f4826984409b3c8c873ea4a0665f319c1a0465f20e1d8e4e5114d9c3e06c90b32a4e1e3ce2545c3da2969d3c743eb2c47b17bb8e0b1ca1077043a48c1c27f232c111cb0e830858aa2f4ac1f079c9e9721af4b98937c196a290128b07895808386241a080c58301c4040dc6ab5f806b076c157d665aa0"
        var frame: [UInt8] = []
        var it = hex.makeIterator()
        while let a = it.next(), let b = it.next() { frame.append(UInt8(String([a, b]), radix: 16)!) }
        #expect(plain.count == 2537)
        #expect(try Zstd.decompress(frame, maxBytes: 1 << 20) == plain)
        #expect(throws: RecordBatchError.self) { _ = try Zstd.decompress(frame, maxBytes: 1000) }
        // Every truncation and many single-byte corruptions fail cleanly or decode to something else.
        for cut in stride(from: 1, to: frame.count, by: 3) {
            #expect(throws: RecordBatchError.self) { _ = try Zstd.decompress(Array(frame[0..<cut]), maxBytes: 1 << 20) }
        }
        for i in 0..<frame.count {
            var f = frame
            f[i] ^= 0x5a
            _ = try? Zstd.decompress(f, maxBytes: 1 << 20)
        }
    }

    @Test func fseTableMatchesSpecAppendix() throws {
        // Appendix A of the format: predefined literal-length table, a few states.
        let t = try FSETable(counts: Zstd.llDefault, log: 6)
        let expect: [(Int, UInt8, UInt8, UInt16)] = [(0, 0, 4, 0), (1, 0, 4, 16), (2, 1, 5, 32), (10, 14, 6, 0),
                                                     (38, 25, 4, 0), (39, 25, 4, 16), (43, 0, 4, 48), (63, 32, 6, 0)]
        for (state, sym, bits, base) in expect {
            #expect(t.symbol[state] == sym && t.nbBits[state] == bits && t.baseline[state] == base, "state \(state)")
        }
        let of = try FSETable(counts: Zstd.ofDefault, log: 5)
        #expect(of.symbol[0] == 0 && of.symbol[1] == 6 && of.nbBits[1] == 4 && of.symbol[15] == 7 && of.baseline[15] == 16)
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
            for codec in [CompressionType.gzip, .snappy, .lz4, .zstd] {
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
