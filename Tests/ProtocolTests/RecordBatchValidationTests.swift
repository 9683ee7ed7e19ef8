import Testing
@testable import Protocol

/// Batches whose CRC is valid but whose header or records lie: each must be refused before append.
@Suite(.timeLimit(.minutes(1))) struct RecordBatchValidationTests {
    static func records(_ n: Int) -> [Record] {
        (0..<n).map { Record(offset: Int64($0), timestamp: 1_700_000_000_000 + Int64($0), key: Array("k\($0)".utf8),
                             value: Array("value \($0)".utf8), headers: [RecordHeader(key: "h", value: [1])]) }
    }

    /// Writes `value` big-endian at `at` and reseals the CRC, so only the lie is left to find.
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

    static func put16(_ v: Int16, at: Int, _ b: inout [UInt8]) {
        b[at] = UInt8(truncatingIfNeeded: v >> 8)
        b[at + 1] = UInt8(truncatingIfNeeded: v)
    }

    /// The lies, by name. Every one passes `RecordBatch.validate` (header and CRC).
    static func lies() throws -> [(String, [UInt8])] {
        let L = RecordBatchLayout.self
        let one = try RecordBatch.build(records(1))
        let three = try RecordBatch.build(records(3))
        var gapped = records(2)
        gapped[1].offset = 2
        var gapOptions = RecordBatchOptions()
        gapOptions.lastOffsetDelta = 1
        var control = RecordBatchOptions()
        control.isControl = true
        var noSequence = RecordBatchOptions()
        noSequence.producerId = 7
        noSequence.producerEpoch = 0
        var out: [(String, [UInt8])] = [
            ("recordsCount 1000 with 1 record", forge(one) { put32(1000, at: L.recordsCount, &$0) }),
            ("count and lastOffsetDelta 1000 with 1 record", forge(one) {
                put32(1000, at: L.recordsCount, &$0)
                put32(999, at: L.lastOffsetDelta, &$0)
            }),
            ("lastOffsetDelta 10^6", forge(one) { put32(1_000_000, at: L.lastOffsetDelta, &$0) }),
            ("zero records", try RecordBatch.build([])),
            ("zero records, count 1", forge(try RecordBatch.build([])) { put32(1, at: L.recordsCount, &$0) }),
            ("garbage record bytes", forge(three) { b in
                for i in L.records..<b.count { b[i] = UInt8(truncatingIfNeeded: i &* 131 &+ 7) }
            }),
            ("trailing bytes after the records", forge(three) { $0 += [0, 0, 0] }),
            ("one record missing", forge(three) { put32(4, at: L.recordsCount, &$0); put32(3, at: L.lastOffsetDelta, &$0) }),
            ("offset deltas with a gap", try RecordBatch.build(gapped, options: gapOptions)),
            ("record length shorter than its fields", forge(one) { $0[L.records] = 2 * 8 }),  // varint 8: too short
            ("control batch from a client", try RecordBatch.build(records(1), options: control)),
            ("producer id without a sequence", try RecordBatch.build(records(1), options: noSequence)),
            ("reserved compression code 5", forge(one) { put16(5, at: L.attributes, &$0) }),
        ]
        for codec in [CompressionType.gzip, .snappy, .lz4, .zstd] {
            out.append(("\(codec) flag over plain records", forge(three) { put16(Int16(codec.rawValue), at: L.attributes, &$0) }))
        }
        // A real gzip payload that inflates to records that lie about their count.
        out.append(("gzip with a count lie", forge(try RecordBatch.build(records(3), options: RecordBatchOptions(compression: .gzip))) {
            put32(2, at: L.recordsCount, &$0); put32(1, at: L.lastOffsetDelta, &$0)
        }))
        return out
    }

    static func check(_ batch: [UInt8], maxDecompressedBytes: Int = 64 << 20, requireKeys: Bool = false) throws {
        try batch.withUnsafeBytes { raw in
            let h = try RecordBatch.validate(raw)
            try RecordBatch.validateRecords(raw, header: h, maxDecompressedBytes: maxDecompressedBytes, requireKeys: requireKeys)
        }
    }

    @Test func everyLieHasAValidCRCAndIsRefused() throws {
        for (name, batch) in try Self.lies() {
            #expect(throws: Never.self, "\(name): header and CRC are valid") { _ = try RecordBatch.validate(batch) }
            #expect(throws: RecordBatchError.self, "\(name)") { try Self.check(batch) }
        }
    }

    @Test func honestBatchesPassInEveryCodec() throws {
        for n in [1, 2, 50] {
            try Self.check(try RecordBatch.build(Self.records(n)))
            for codec in [CompressionType.gzip, .snappy, .lz4] {
                try Self.check(try RecordBatch.build(Self.records(n), options: RecordBatchOptions(compression: codec)))
            }
        }
        var idempotent = RecordBatchOptions()
        idempotent.producerId = 7
        idempotent.producerEpoch = 0
        idempotent.baseSequence = 0
        try Self.check(try RecordBatch.build(Self.records(2), options: idempotent))
        // Null keys, null values and empty headers are legal.
        try Self.check(try RecordBatch.build([Record(key: nil, value: nil), Record(offset: 1, key: [], value: [])]))
    }

    @Test func theOffendingRecordIsNamed() throws {
        var gapped = Self.records(3)
        gapped[2].offset = 5
        var o = RecordBatchOptions()
        o.lastOffsetDelta = 2
        let batch = try RecordBatch.build(gapped, options: o)
        let e = #expect(throws: RecordBatchError.self) { try Self.check(batch) }
        guard case .invalidRecordAt(let i, _) = e else {
            Issue.record("expected a per-record error, got \(String(describing: e))")
            return
        }
        #expect(i == 2)
    }

    @Test func decompressionIsBounded() throws {
        // 1 MiB of zeros in one record deflates to about 1 KiB.
        let big = try RecordBatch.build([Record(key: nil, value: [UInt8](repeating: 0, count: 1 << 20))],
                                        options: RecordBatchOptions(compression: .gzip))
        #expect(big.count < 8192)
        try Self.check(big, maxDecompressedBytes: 2 << 20)
        #expect(throws: RecordBatchError.self) { try Self.check(big, maxDecompressedBytes: 512 << 10) }
    }

    @Test func compactedTopicsRequireKeys() throws {
        let keyless = try RecordBatch.build([Record(key: nil, value: [1])])
        try Self.check(keyless)
        #expect(throws: RecordBatchError.recordsWithoutKey([0])) { try Self.check(keyless, requireKeys: true) }
        // Every keyless record is named (KIP-467 record_errors), not just the first; compressed too.
        let mixed = (0..<25).map { Record(offset: Int64($0), timestamp: 1_700_000_000_000, key: $0 % 10 == 0 ? nil : [UInt8($0)], value: [1]) }
        for compression in [CompressionType.none, .gzip] {
            let batch = try RecordBatch.build(mixed, options: RecordBatchOptions(compression: compression))
            #expect(throws: RecordBatchError.recordsWithoutKey([0, 10, 20])) { try Self.check(batch, requireKeys: true) }
            try Self.check(batch)
        }
    }

    /// Random single-byte corruptions of an honest batch, resealed: the walk never traps or hangs.
    @Test func mutatedRecordsNeverTrap() throws {
        let honest = try RecordBatch.build(Self.records(5))
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20_000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let at = RecordBatchLayout.records + Int(seed >> 33) % (honest.count - RecordBatchLayout.records)
            let mutated = Self.forge(honest) { $0[at] = UInt8(truncatingIfNeeded: seed >> 13) }
            _ = try? Self.check(mutated)
        }
    }
}
