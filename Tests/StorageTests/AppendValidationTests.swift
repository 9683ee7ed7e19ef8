import Protocol
import Testing
@testable import Storage

/// The leader append refuses batches that carry a valid CRC but lie about their records, and leaves
/// the log as it was; a follower append (the leader's bytes) is not re-validated.
@Suite(.timeLimit(.minutes(1))) struct AppendValidationTests {
    let now: Int64 = 1_000_000

    /// `batch` with a 32-bit header field rewritten and the CRC resealed.
    func lie(_ batch: [UInt8], _ field: Int, _ value: Int32) -> [UInt8] {
        var b = batch
        for i in 0..<4 { b[field + i] = UInt8(truncatingIfNeeded: value >> (24 - 8 * i)) }
        b.withUnsafeMutableBytes { RecordBatch.resealCRC(in: $0) }
        return b
    }

    @Test func lyingBatchesAreRefusedAndTheLogIsUnchanged() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            _ = try log.append(try makeBatch(count: 2), leaderEpoch: 0, now: now)
            let one = try makeBatch(count: 1)
            var gzipOverPlain = try makeBatch(count: 3)
            gzipOverPlain[RecordBatchLayout.attributes + 1] = 1
            gzipOverPlain.withUnsafeMutableBytes { RecordBatch.resealCRC(in: $0) }
            let lies: [[UInt8]] = [
                lie(one, RecordBatchLayout.recordsCount, 1000),
                lie(one, RecordBatchLayout.lastOffsetDelta, 1_000_000),
                try RecordBatch.build([]),
                gzipOverPlain,
            ]
            for bad in lies {
                #expect(throws: LogError.self) { _ = try log.append(bad, leaderEpoch: 0, now: now) }
                #expect(log.logEndOffset == 2)
            }
            // One lying batch among honest ones refuses the whole request.
            let mixed = try makeBatch(count: 1) + lie(one, RecordBatchLayout.lastOffsetDelta, 5)
            #expect(throws: LogError.self) { _ = try log.append(mixed, leaderEpoch: 0, now: now) }
            #expect(log.offlineReason == nil)
            let info = try log.append(try makeBatch(count: 3, compression: .gzip), leaderEpoch: 0, now: now)
            #expect(info.firstOffset == 2 && info.lastOffset == 4)
            #expect(try readAllRecords(log).map(\.offset) == [0, 1, 2, 3, 4])
        }
    }

    @Test func compactedTopicsRefuseKeylessRecords() throws {
        try withTempDir { dir in
            var config = LogConfig()
            config.cleanupCompact = true
            let log = try PartitionLog.open(dir: dir, config: config, now: now)
            let keyless = try RecordBatch.build([Record(key: nil, value: [1])])
            #expect(throws: LogError.self) { _ = try log.append(keyless, leaderEpoch: 0, now: now) }
            _ = try log.append(try makeBatch(count: 1), leaderEpoch: 0, now: now)
            #expect(log.logEndOffset == 1)
        }
    }
}
