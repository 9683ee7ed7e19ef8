import Glibc
import Protocol
import Testing
@testable import Storage

@Suite(.timeLimit(.minutes(1))) struct SegmentLogTests {
    let now: Int64 = 1_000_000

    @Test func appendAssignsOffsetsAndReadsBack() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            var firsts: [Int64] = []
            for i in 0..<50 {
                let info = try log.append(try makeBatch(count: 1 + i % 4), leaderEpoch: 0, now: now)
                #expect(info.lastOffset - info.firstOffset == Int64(i % 4))
                #expect(info.recordCount == 1 + i % 4)
                firsts.append(info.firstOffset)
            }
            #expect(firsts.first == 0)
            #expect(zip(firsts, firsts.dropFirst()).allSatisfy { $0 < $1 })
            #expect(log.logEndOffset == firsts.last! + 1 + 49 % 4)
            // Every offset lands in the batch that holds it.
            for off in stride(from: Int64(0), to: log.logEndOffset, by: 1) {
                let r = try log.read(from: off, maxBytes: 1)
                let base = try #require(r.firstBatchOffset)
                #expect(base <= off)
                let bytes = try log.readBytes(from: off, maxBytes: 1)
                let h = try RecordBatch.validate(bytes)  // one whole batch despite maxBytes 1
                #expect(h.baseOffset == base && h.lastOffset >= off && bytes.count == h.totalSize)
            }
            let all = try readAllRecords(log)
            #expect(all.map(\.offset) == Array(0..<log.logEndOffset))
            #expect(try log.read(from: log.logEndOffset, maxBytes: 100).region == nil)
            #expect(throws: LogError.self) { _ = try log.read(from: log.logEndOffset + 1, maxBytes: 100) }
            #expect(throws: LogError.self) { _ = try log.read(from: -1, maxBytes: 100) }
            try log.close()
        }
    }

    @Test func readRespectsMaxBytesAndHighWatermark() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            let batch = try makeBatch(count: 2)
            for _ in 0..<10 { _ = try log.append(batch, leaderEpoch: 0, now: now) }
            let r = try log.read(from: 0, maxBytes: batch.count * 3 + 5)
            #expect(r.region?.length == batch.count * 3 + 5)  // partial last batch, as Kafka does
            let hw = try log.read(from: 0, maxBytes: 1 << 20, maxOffset: 6)
            #expect(hw.region?.length == batch.count * 3)  // batches 0-1, 2-3, 4-5
            #expect(try log.read(from: 6, maxBytes: 1 << 20, maxOffset: 6).region == nil)
            #expect(try readAllRecords(log, maxOffset: 6).count == 6)
            let region = try #require(r.region)
            #expect((region.fd ?? -1) >= 0 && region.position == 0)
        }
    }

    @Test func rollsAtSegmentBytesAndNamesFiles() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.segmentBytes = 1000
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            let batch = try makeBatch(count: 3, valueSize: 50)  // ~260 bytes
            for _ in 0..<20 { _ = try log.append(batch, leaderEpoch: 0, now: now) }
            let bases = log.segmentBaseOffsets
            #expect(bases.count > 4)
            #expect(bases.first == 0)
            for b in bases {
                let name = String(repeating: "0", count: 20 - String(b).count) + String(b)
                #expect(fileSize("\(dir)/\(name).log") > 0)
                #expect(fileSize("\(dir)/\(name).log") <= 1000)
                #expect(fileSize("\(dir)/\(name).index") >= 0)
                #expect(fileSize("\(dir)/\(name).timeindex") >= 0)
            }
            #expect(fileSize("\(dir)/00000000000000000000.log") > 0)
            #expect(try readAllRecords(log).map(\.offset) == Array(0..<60))
            // Reads at a segment's first offset come from that segment.
            for b in bases { #expect(try log.read(from: b, maxBytes: 10).firstBatchOffset == b) }
        }
    }

    @Test func rollsAtSegmentMs() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.segmentMs = 1000
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now + 999)
            #expect(log.segmentBaseOffsets == [0])
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now + 1000)
            #expect(log.segmentBaseOffsets == [0, 6])
        }
    }

    @Test func sparseIndexesAreWrittenAndUsed() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.indexIntervalBytes = 200
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            for i in 0..<100 {
                _ = try log.append(try makeBatch(count: 2, valueSize: 40, timestamp: 10_000 + Int64(i) * 10), leaderEpoch: 0, now: now)
            }
            try log.flush()
            let idxSize = fileSize("\(dir)/00000000000000000000.index")
            let tSize = fileSize("\(dir)/00000000000000000000.timeindex")
            #expect(idxSize > 8 * 10 && idxSize % 8 == 0)
            #expect(tSize > 12 * 10 && tSize % 12 == 0)
            // Index entries: relative offset then position, both increasing, positions at batch starts.
            let idx = try readFile("\(dir)/00000000000000000000.index")
            let batchSize = try makeBatch(count: 2, valueSize: 40).count
            var lastRel: UInt32 = 0
            for e in stride(from: 0, to: idx.count, by: 8) {
                let rel = UInt32(idx[e]) << 24 | UInt32(idx[e + 1]) << 16 | UInt32(idx[e + 2]) << 8 | UInt32(idx[e + 3])
                let pos = Int(UInt32(idx[e + 4]) << 24 | UInt32(idx[e + 5]) << 16 | UInt32(idx[e + 6]) << 8 | UInt32(idx[e + 7]))
                #expect(pos % batchSize == 0)
                #expect(Int(rel) == (pos / batchSize) * 2 + 1)  // last offset of the batch at pos
                #expect(e == 0 || rel > lastRel)
                lastRel = rel
            }
            // Time lookups: batch i has timestamps 10_000 + 10i and +1.
            #expect(try log.offset(forTimestamp: 0) == 0)
            #expect(try log.offset(forTimestamp: 10_500) == 100)
            #expect(try log.offset(forTimestamp: 10_501) == 101)
            #expect(try log.offset(forTimestamp: 10_502) == 102)
            #expect(try log.offset(forTimestamp: 99_999) == nil)
        }
    }

    @Test func gzipBatchesStoredAsIs() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            let batch = try makeBatch(count: 50, valueSize: 100, compression: .gzip)
            _ = try log.append(try makeBatch(count: 2), leaderEpoch: 0, now: now)
            let info = try log.append(batch, leaderEpoch: 3, now: now)
            #expect(info.firstOffset == 2 && info.lastOffset == 51)
            let bytes = try log.readBytes(from: 2, maxBytes: 1 << 20)
            #expect(Array(bytes[12...]) != Array(batch[12...]))  // leader epoch was rewritten
            #expect(Array(bytes[16...]) == Array(batch[16...]))  // everything from magic on is untouched
            let (h, recs) = try RecordBatch.records(of: bytes)
            #expect(h.partitionLeaderEpoch == 3 && h.compression == .gzip)
            #expect(recs.map(\.offset) == Array(2...51))
        }
    }

    @Test func rejectsBadBatches() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.maxMessageBytes = 2000
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            var bad = try makeBatch()
            bad[bad.count - 1] ^= 1
            let e = #expect(throws: LogError.self) { _ = try log.append(bad, leaderEpoch: 0, now: now) }
            if case .corruptRecord(.crcMismatch) = e {} else { Issue.record("expected a CRC error, got \(String(describing: e))") }
            let good = try makeBatch()
            #expect(throws: LogError.self) { _ = try log.append(Array(good.dropLast()), leaderEpoch: 0, now: now) }
            #expect(throws: LogError.self) { _ = try log.append(good + [1, 2, 3], leaderEpoch: 0, now: now) }
            #expect(throws: LogError.self) { _ = try log.append([], leaderEpoch: 0, now: now) }
            #expect(throws: LogError.recordTooLarge(try makeBatch(count: 1, valueSize: 3000).count)) {
                _ = try log.append(try makeBatch(count: 1, valueSize: 3000), leaderEpoch: 0, now: now)
            }
            #expect(log.logEndOffset == 0)
            #expect(!log.isOffline)
            _ = try log.append(good, leaderEpoch: 0, now: now)
            #expect(log.logEndOffset == 3)
        }
    }

    @Test func followerAppendKeepsOffsetsAndIgnoresPartialTail() throws {
        try withTempDir { dir in
            try withTempDir { dir2 in
                let leader = try PartitionLog.open(dir: dir, now: now)
                for e: Int32 in [1, 1, 2, 2, 5] { _ = try leader.append(try makeBatch(), leaderEpoch: e, now: now) }
                let fetched = try leader.readBytes(from: 0, maxBytes: 1 << 20)
                let follower = try PartitionLog.open(dir: dir2, now: now)
                let info = try follower.appendAsFollower(fetched + Array(fetched[0..<20]), now: now)
                #expect(info.firstOffset == 0 && info.lastOffset == 14 && info.batchCount == 5)
                #expect(follower.logEndOffset == 15)
                #expect(follower.leaderEpochCache == leader.leaderEpochCache)
                #expect(follower.leaderEpochCache.entries.map(\.epoch) == [1, 2, 5])
                #expect(throws: LogError.self) { _ = try follower.appendAsFollower(fetched, now: now) }
                #expect(try readAllRecords(follower) == readAllRecords(leader))
            }
        }
    }

    @Test func logAppendTimeRewritesTimestampAndCRC() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.messageTimestampType = .logAppendTime
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            let info = try log.append(try makeBatch(timestamp: 5), leaderEpoch: 0, now: 777_777)
            #expect(info.logAppendTime == 777_777)
            let h = try RecordBatch.validate(try log.readBytes(from: 0, maxBytes: 1000))
            #expect(h.timestampType == .logAppendTime && h.maxTimestamp == 777_777)
        }
    }
}
