import Glibc
import Protocol
import Testing
@testable import Storage

@Suite(.timeLimit(.minutes(1))) struct LogMaintenanceTests {
    let now: Int64 = 1_000_000

    func smallSegments(_ bytes: Int = 600) -> LogConfig {
        var c = LogConfig()
        c.segmentBytes = bytes
        c.indexIntervalBytes = 100
        return c
    }

    @Test func truncateWithinAndAcrossSegments() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, config: smallSegments(), now: now)
            for i in 0..<20 { _ = try log.append(try makeBatch(count: 2, valueSize: 30), leaderEpoch: Int32(i / 5), now: now) }
            #expect(log.leaderEpochCache.entries.map(\.startOffset) == [0, 10, 20, 30])
            let segsBefore = log.segmentBaseOffsets
            #expect(segsBefore.count >= 4)
            // Offset 23 is inside the batch 22-23: the whole batch goes.
            try log.truncate(to: 23)
            #expect(log.logEndOffset == 22)
            #expect(log.segmentBaseOffsets == segsBefore.filter { $0 < 22 })
            #expect(log.leaderEpochCache.entries.map(\.epoch) == [0, 1, 2])
            #expect(try readAllRecords(log).map(\.offset) == Array(0..<22))
            // Appends continue from the new end; indexes still find everything.
            #expect(try log.append(try makeBatch(count: 2), leaderEpoch: 7, now: now).firstOffset == 22)
            try log.close()
            let r = try PartitionLog.open(dir: dir, config: smallSegments(), recoveryPoint: log.recoveryPoint, now: now)
            #expect(r.logEndOffset == 24)
            #expect(try readAllRecords(r).map(\.offset) == Array(0..<24))
            #expect(r.leaderEpochCache.entries.map(\.epoch) == [0, 1, 2, 7])
            try r.truncate(to: 100)  // past the end: nothing
            #expect(r.logEndOffset == 24)
            try r.truncate(to: 0)
            #expect(r.logEndOffset == 0 && r.segmentBaseOffsets == [0] && r.leaderEpochCache.entries.isEmpty)
        }
    }

    @Test func truncateFullyAndStartAtOffset() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, config: smallSegments(), now: now)
            for _ in 0..<10 { _ = try log.append(try makeBatch(count: 2, valueSize: 30), leaderEpoch: 1, now: now) }
            try log.truncateFullyAndStartAt(500, now: now)
            #expect(log.logStartOffset == 500 && log.logEndOffset == 500 && log.segmentBaseOffsets == [500])
            #expect(try posixFS.list(dir).filter { $0.hasSuffix(".log") } == ["00000000000000000500.log"])
            #expect(throws: LogError.self) { _ = try log.read(from: 0, maxBytes: 10) }
            #expect(try log.append(try makeBatch(), leaderEpoch: 2, now: now).firstOffset == 500)
            try log.close()
            let r = try PartitionLog.open(dir: dir, config: smallSegments(), logStartOffset: 500, now: now)
            #expect(r.logStartOffset == 500 && r.logEndOffset == 503)
        }
    }

    @Test func leaderEpochCacheLookupsAndCheckpoint() throws {
        var c = LogEpochCache()
        #expect(c.endOffset(for: 0, logEndOffset: 10) == (-1, -1))
        c.assign(epoch: 1, startOffset: 0)
        c.assign(epoch: 1, startOffset: 5)  // same epoch: ignored
        c.assign(epoch: 3, startOffset: 10)
        c.assign(epoch: 2, startOffset: 12)  // older epoch: ignored
        c.assign(epoch: 5, startOffset: 20)
        #expect(c.entries == [.init(epoch: 1, startOffset: 0), .init(epoch: 3, startOffset: 10), .init(epoch: 5, startOffset: 20)])
        #expect(c.endOffset(for: 5, logEndOffset: 30) == (5, 30))
        #expect(c.endOffset(for: 3, logEndOffset: 30) == (3, 20))
        #expect(c.endOffset(for: 4, logEndOffset: 30) == (3, 20))  // unknown epoch: the one before it
        #expect(c.endOffset(for: 1, logEndOffset: 30) == (1, 10))
        #expect(c.endOffset(for: 0, logEndOffset: 30) == (0, 0))  // before the first epoch
        #expect(c.endOffset(for: 6, logEndOffset: 30) == (-1, -1))
        #expect(c.endOffset(for: -1, logEndOffset: 30) == (-1, -1))
        #expect(String(decoding: c.encode(), as: UTF8.self) == "0\n3\n1 0\n3 10\n5 20\n")
        #expect(try LogEpochCache.decode(c.encode()) == c)
        #expect(throws: LogError.self) { _ = try LogEpochCache.decode(Array("1\n0\n".utf8)) }
        #expect(throws: LogError.self) { _ = try LogEpochCache.decode(Array("0\n2\n1 0\n".utf8)) }
        #expect(throws: LogError.self) { _ = try LogEpochCache.decode(Array("0\n2\n3 0\n1 5\n".utf8)) }
        // A new epoch starting earlier replaces entries it overlaps (an unclean election).
        var d = c
        d.assign(epoch: 6, startOffset: 15)
        #expect(d.entries.map(\.epoch) == [1, 3, 6])
        var e = c
        e.truncateFromStart(12)
        #expect(e.entries == [.init(epoch: 3, startOffset: 12), .init(epoch: 5, startOffset: 20)])
        e.truncateFromEnd(20)
        #expect(e.entries == [.init(epoch: 3, startOffset: 12)])
    }

    @Test func epochCheckpointFileIsWritten() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 4, now: now)
            try log.assignEpoch(6)
            #expect(String(decoding: try readFile("\(dir)/leader-epoch-checkpoint"), as: UTF8.self) == "0\n3\n0 0\n4 3\n6 6\n")
            #expect(log.endOffset(forEpoch: 4) == (4, 6))
            #expect(log.endOffset(forEpoch: 6) == (6, 6))
        }
    }

    @Test func retentionByBytesAndTime() throws {
        try withTempDir { dir in
            var cfg = smallSegments()
            cfg.retentionBytes = 1500
            cfg.retentionMs = -1
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            for i in 0..<30 {
                _ = try log.append(try makeBatch(count: 2, valueSize: 30, timestamp: Int64(i) * 1000), leaderEpoch: Int32(i / 10), now: now)
            }
            let before = log.segmentBaseOffsets
            let deleted = try log.deleteOldSegments(now: now)
            #expect(deleted > 0)
            #expect(log.size >= 1500 - 600 && log.size - 600 < 1500)
            #expect(log.segmentBaseOffsets == Array(before.dropFirst(deleted)))
            #expect(log.logStartOffset == log.segmentBaseOffsets[0])
            #expect(log.leaderEpochCache.entries.first?.startOffset ?? 0 >= log.logStartOffset)
            #expect(throws: LogError.self) { _ = try log.read(from: 0, maxBytes: 10) }
            #expect(try readAllRecords(log).first?.offset == log.logStartOffset)

            // Time: segments whose newest record is older than retention.ms go; never the active one.
            var t = cfg
            t.retentionBytes = -1
            t.retentionMs = 10_000
            log.updateConfig(t)
            _ = try log.deleteOldSegments(now: 1_000_000_000)
            #expect(log.segmentBaseOffsets.count == 1)
            #expect(log.logStartOffset == log.segmentBaseOffsets[0])
            #expect(log.logEndOffset == 60)
            try log.close()
            let r = try PartitionLog.open(dir: dir, config: t, logStartOffset: log.logStartOffset, now: now)
            #expect(r.logStartOffset == log.logStartOffset && r.logEndOffset == 60)
        }
    }

    @Test func retentionKeepsSegmentsWithRecentTimestamps() throws {
        try withTempDir { dir in
            var cfg = smallSegments()
            cfg.retentionMs = 5000
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            for i in 0..<30 {
                _ = try log.append(try makeBatch(count: 2, valueSize: 30, timestamp: Int64(i) * 1000), leaderEpoch: 0, now: now)
            }
            try log.close()
            // After a restart the largest timestamps come from the time indexes.
            let r = try PartitionLog.open(dir: dir, config: cfg, recoveryPoint: 60, now: now)
            let deleted = try r.deleteOldSegments(now: 29_001 + 5000)
            #expect(deleted > 0)
            // Every kept record is younger than 5 s except what shares a segment with younger ones.
            let oldest = try #require(try readAllRecords(r).first)
            #expect(oldest.timestamp > 29_001 - 5000 - 6000)
            #expect(try readAllRecords(r).last?.offset == 59)
        }
    }

    @Test func advanceLogStartOffset() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, config: smallSegments(), now: now)
            for _ in 0..<20 { _ = try log.append(try makeBatch(count: 2, valueSize: 30), leaderEpoch: 0, now: now) }
            try log.advanceLogStartOffset(to: 25)
            #expect(log.logStartOffset == 25)
            #expect(log.segmentBaseOffsets[0] <= 25)
            #expect(throws: LogError.self) { _ = try log.read(from: 24, maxBytes: 10) }
            #expect(try log.read(from: 25, maxBytes: 10).firstBatchOffset == 24)
            #expect(throws: LogError.self) { try log.advanceLogStartOffset(to: 41) }
        }
    }

    @Test func compactionKeepsLatestPerKeyAndOffsets() throws {
        try withTempDir { dir in
            var cfg = smallSegments(400)
            cfg.cleanupCompact = true
            cfg.cleanupDelete = false
            cfg.deleteRetentionMs = 1000
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            // 10 rounds of keys a..e; round r writes value "r"; key "e" gets a tombstone in round 8.
            for r in 0..<10 {
                let keys = ["a", "b", "c", "d", "e"]
                let values: [[UInt8]?] = keys.map { k in (k == "e" && r == 8) ? nil : Array("\(k)\(r)".utf8) }
                let batch = try makeBatch(count: 5, timestamp: Int64(r) * 100, keys: keys, values: values)
                _ = try log.append(batch, leaderEpoch: 0, now: now)
            }
            // Round 9 rewrote e, so drop it from the last batch to leave the tombstone as latest.
            try log.truncate(to: 45)
            _ = try log.append(try makeBatch(count: 4, timestamp: 900, keys: ["a", "b", "c", "d"]), leaderEpoch: 0, now: now)
            let before = try readAllRecords(log)
            #expect(before.count == 49)
            #expect(log.segmentBaseOffsets.count > 2)

            let res = try log.compact(now: 850 + 500)  // tombstone (ts 804) younger than delete.retention.ms
            #expect(res.recordsRemoved > 0 && res.bytesAfter < res.bytesBefore)
            let after = try readAllRecords(log)
            // Latest values of a..d live in the active segment; "e" keeps only its tombstone.
            let eRecords = after.filter { $0.key == Array("e".utf8) }
            #expect(eRecords.count == 1 && eRecords[0].value == nil && eRecords[0].offset == 44)
            // Offsets survive; every key appears at most once in cleaned segments, all in order.
            #expect(zip(after, after.dropFirst()).allSatisfy { $0.offset < $1.offset })
            for r in after { #expect(before.contains(r)) }
            #expect(log.logEndOffset == 49)
            // Latest values are all still readable.
            var latest: [[UInt8]: [UInt8]?] = [:]
            for r in before { latest[r.key!] = r.value }
            var seen: [[UInt8]: [UInt8]?] = [:]
            for r in after { seen[r.key!] = r.value }
            #expect(seen.count == latest.count)
            for (k, v) in latest { #expect(seen[k] == v) }

            // Later, the tombstone expires.
            let res2 = try log.compact(now: 804 + 1000)
            #expect(res2.recordsRemoved == 1)
            #expect(try readAllRecords(log).filter { $0.key == Array("e".utf8) }.isEmpty)
            try log.close()
            // The rewritten segments reopen cleanly, with scans.
            let r = try PartitionLog.open(dir: dir, config: cfg, recoveryPoint: 0, now: now)
            #expect(r.logEndOffset == 49)
            #expect(try readAllRecords(r).count == after.count - 1)
        }
    }

    /// A zstd frame of raw (stored) blocks: valid zstd any decoder reads, built here because brokerd
    /// only decodes zstd.
    static func zstdRawFrame(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xA0]  // magic; single segment, 4-byte content size
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: data.count >> (8 * i))) }
        var pos = 0
        repeat {
            let n = min(data.count - pos, 128 << 10)
            let last = pos + n == data.count ? 1 : 0
            let header = last | (n << 3)  // block type 0: raw
            for i in 0..<3 { out.append(UInt8(truncatingIfNeeded: header >> (8 * i))) }
            out += data[pos..<(pos + n)]
            pos += n
        } while pos < data.count
        return out
    }

    /// librdkafka 0077 (zstd): a zstd batch with superseded keys is compacted too (the survivors are
    /// written uncompressed, as brokerd cannot encode zstd); before, such a batch was kept whole.
    @Test func compactionCleansBatchesOfACodecItCannotWrite() throws {
        try withTempDir { dir in
            var cfg = smallSegments(400)
            cfg.cleanupCompact = true
            cfg.cleanupDelete = false
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            let keys = ["a", "b", "a", "b", "a", "u1", "u2", "a"]
            let recs = keys.enumerated().map { i, k in
                Record(offset: Int64(i), timestamp: 1000 + Int64(i), key: Array(k.utf8), value: Array("\(k)\(i)".utf8))
            }
            var zstd = try RecordBatch.build(recs)
            // Swap the records section for a zstd frame and set codec 4, then re-seal the CRC.
            let section = Array(zstd[RecordBatchLayout.records...])
            zstd = Array(zstd[..<RecordBatchLayout.records]) + Self.zstdRawFrame(section)
            zstd[RecordBatchLayout.attributes + 1] |= 4
            let length = UInt32(zstd.count - 12)
            for i in 0..<4 { zstd[8 + i] = UInt8(truncatingIfNeeded: length >> (8 * (3 - i))) }
            let crc = CRC32C.checksum(zstd[RecordBatchLayout.attributes...])
            for i in 0..<4 { zstd[RecordBatchLayout.crc + i] = UInt8(truncatingIfNeeded: crc >> (8 * (3 - i))) }
            #expect(try RecordBatch.records(of: zstd).header.compression == .zstd)
            _ = try log.append(zstd, leaderEpoch: 0, now: now)
            // Later writes roll the zstd batch out of the active segment.
            for _ in 0..<4 { _ = try log.append(try makeBatch(count: 3, valueSize: 60, keys: ["x", "y", "z"]), leaderEpoch: 0, now: now) }
            #expect(log.segmentBaseOffsets.count > 2)

            let res = try log.compact(now: now)
            #expect(res.recordsRemoved > 0)
            let kept = try readAllRecords(log).filter { $0.offset < 8 }
            #expect(kept.map(\.offset) == [3, 5, 6, 7])  // latest b, u1, u2, latest a
            #expect(kept.map(\.value) == ["b3", "u15", "u26", "a7"].map { Array($0.utf8) })
        }
    }

    @Test func offsetCheckpointFormat() throws {
        let entries: [PartitionName: Int64] = [
            PartitionName(topic: "orders", partition: 1): 42,
            PartitionName(topic: "my-topic", partition: 0): 7,
        ]
        let text = String(decoding: OffsetCheckpoint.encode(entries), as: UTF8.self)
        #expect(text == "0\n2\nmy-topic 0 7\norders 1 42\n")
        #expect(try OffsetCheckpoint.decode(Array(text.utf8)) == entries)
        for bad in ["", "1\n0\n", "0\n2\na 0 1\n", "0\n1\na b 1\n", "0\n1\na 0 1 2\n", "0\nx\n"] {
            #expect(throws: LogError.self) { _ = try OffsetCheckpoint.decode(Array(bad.utf8)) }
        }
        #expect(PartitionName(dirName: "my-topic-12") == PartitionName(topic: "my-topic", partition: 12))
        #expect(PartitionName(dirName: "nodash") == nil)
        #expect(PartitionName(dirName: "-3") == nil && PartitionName(dirName: "t-x") == nil && PartitionName(dirName: "t-") == nil)
    }

    @Test func logDirectoryOpensCheckpointsAndRecovers() throws {
        try withTempDir { root in
            let d = try LogDirectory.open(path: root, now: now)
            let a = PartitionName(topic: "alpha", partition: 0), b = PartitionName(topic: "beta-x", partition: 3)
            let la = try d.getOrCreate(a, config: LogConfig(), now: now)
            let lb = try d.getOrCreate(b, config: LogConfig(), now: now)
            for _ in 0..<3 { _ = try la.append(try makeBatch(), leaderEpoch: 0, now: now) }
            _ = try lb.append(try makeBatch(count: 1), leaderEpoch: 0, now: now)
            try d.writeHighWatermarks([a: 6, b: 1])
            try d.close()
            #expect(String(decoding: try readFile("\(root)/recovery-point-offset-checkpoint"), as: UTF8.self)
                    == "0\n2\nalpha 0 9\nbeta-x 3 1\n")
            #expect(String(decoding: try readFile("\(root)/log-start-offset-checkpoint"), as: UTF8.self)
                    == "0\n2\nalpha 0 0\nbeta-x 3 0\n")

            let d2 = try LogDirectory.open(path: root, now: now)
            #expect(d2.logs.count == 2)
            #expect(d2.log(a)?.logEndOffset == 9 && d2.log(a)?.recoveryPoint == 9)
            #expect(d2.log(b)?.logEndOffset == 1)
            #expect(try d2.readHighWatermarks() == [a: 6, b: 1])
            try d2.delete(b)
            #expect(!posixFS.exists("\(root)/beta-x-3"))
            try d2.checkpoint()
            #expect(try OffsetCheckpoint.read("\(root)/recovery-point-offset-checkpoint") == [a: 9])
        }
    }

    @Test func checkpointFromCallerValuesKeepsFailedAndIgnoresUnknown() throws {
        try withTempDir { root in
            let d = try LogDirectory.open(path: root, now: now)
            let a = PartitionName(topic: "a", partition: 0), bad = PartitionName(topic: "bad", partition: 0)
            _ = try d.getOrCreate(a, config: LogConfig(), now: now).append(try makeBatch(), leaderEpoch: 0, now: now)
            let lb = try d.getOrCreate(bad, config: LogConfig(), now: now)
            _ = try lb.append(try makeBatch(), leaderEpoch: 0, now: now)
            try d.close()
            try writeFile("\(root)/bad-0/leader-epoch-checkpoint", Array("garbage".utf8))
            let d2 = try LogDirectory.open(path: root, now: now)
            #expect(d2.failed[bad] != nil)
            let stranger = PartitionName(topic: "elsewhere", partition: 0)
            try d2.checkpoint(recoveryPoints: [a: 2, bad: 0, stranger: 5], logStartOffsets: [a: 1, stranger: 5])
            #expect(try OffsetCheckpoint.read("\(root)/recovery-point-offset-checkpoint") == [a: 2, bad: 3])
            #expect(try OffsetCheckpoint.read("\(root)/log-start-offset-checkpoint") == [a: 1, bad: 0])
        }
    }

    @Test func retentionStopsAtMaxOffset() throws {
        try withTempDir { dir in
            var cfg = smallSegments()
            cfg.retentionBytes = 0
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            for _ in 0..<30 { _ = try log.append(try makeBatch(count: 2, valueSize: 30), leaderEpoch: 0, now: now) }
            let bases = log.segmentBaseOffsets
            #expect(bases.count >= 4)
            // Only segments wholly below offset bases[2] may go, whatever retention.bytes says.
            #expect(try log.deleteOldSegments(now: now, maxOffset: bases[2]) == 2)
            #expect(log.logStartOffset == bases[2])
            #expect(try log.deleteOldSegments(now: now, maxOffset: bases[2]) == 0)
            let left = log.segmentBaseOffsets.count
            #expect(try log.deleteOldSegments(now: now) == left - 1)
            #expect(log.segmentBaseOffsets.count == 1)
        }
    }

    @Test func flushPolicyAdvancesRecoveryPoint() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.flushMessages = 5
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            _ = try log.append(try makeBatch(count: 3), leaderEpoch: 0, now: now)
            #expect(log.recoveryPoint == 0)
            _ = try log.append(try makeBatch(count: 3), leaderEpoch: 0, now: now)
            #expect(log.recoveryPoint == 6)
            _ = try log.append(try makeBatch(count: 1), leaderEpoch: 0, now: now)
            try log.flush(upTo: 7)
            #expect(log.recoveryPoint == 7)
            var t = LogConfig()
            t.flushMs = 1000
            log.updateConfig(t)
            _ = try log.append(try makeBatch(count: 1), leaderEpoch: 0, now: now + 10)
            try log.maybeFlush(now: now + 500)
            #expect(log.recoveryPoint == 7)
            try log.maybeFlush(now: now + 1000)
            #expect(log.recoveryPoint == 8)
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct LogEdgeTests {
    let now: Int64 = 1_000_000

    @Test func badPartitionDoesNotStopTheDirectory() throws {
        try withTempDir { root in
            let d = try LogDirectory.open(path: root, now: now)
            let good = PartitionName(topic: "good", partition: 0), bad = PartitionName(topic: "bad", partition: 1)
            _ = try d.getOrCreate(good, config: LogConfig(), now: now).append(try makeBatch(), leaderEpoch: 0, now: now)
            let lb = try d.getOrCreate(bad, config: LogConfig(), now: now)
            _ = try lb.append(try makeBatch(), leaderEpoch: 0, now: now)
            try lb.advanceLogStartOffset(to: 2)
            try d.close()
            try writeFile("\(root)/bad-1/leader-epoch-checkpoint", Array("garbage".utf8))
            let d2 = try LogDirectory.open(path: root, now: now)
            #expect(d2.log(good)?.logEndOffset == 3)
            #expect(d2.log(bad) == nil)
            #expect(d2.failed[bad] != nil)
            try d2.checkpoint()
            #expect(try OffsetCheckpoint.read("\(root)/log-start-offset-checkpoint")[bad] == 2)
            #expect(throws: LogError.self) { _ = try d2.getOrCreate(bad, config: LogConfig(), now: now) }
            #expect(d2.runMaintenance(now: now).isEmpty)
            try d2.delete(bad)
            #expect(!posixFS.exists("\(root)/bad-1") && d2.failed.isEmpty)
        }
    }

    @Test func regionOutlivesRetention() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.segmentBytes = 400
            cfg.retentionBytes = 0
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            for _ in 0..<10 { _ = try log.append(try makeBatch(count: 2, valueSize: 30), leaderEpoch: 0, now: now) }
            let region = try #require(try log.read(from: 0, maxBytes: 1 << 20).region)
            #expect(try log.deleteOldSegments(now: now) > 0)
            #expect(!posixFS.exists("\(dir)/00000000000000000000.log"))
            // The descriptor is still open: the bytes can still be sent.
            let fd = try #require(region.fd)
            var buf = [UInt8](repeating: 0, count: region.length)
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(region.position)) }
            #expect(n == region.length)
            #expect(try RecordBatch.split(buf).batches.first?.header.baseOffset == 0)
        }
    }

    @Test func rollsWhenIndexIsFull() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.indexIntervalBytes = 1
            cfg.segmentIndexBytes = 8 * 4
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            for _ in 0..<20 { _ = try log.append(try makeBatch(count: 1), leaderEpoch: 0, now: now) }
            #expect(log.segmentBaseOffsets.count >= 4)
            try log.flush()
            for b in log.segmentBaseOffsets {
                #expect(fileSize("\(dir)/\(LogSegment.name(b)).index") <= 32)
            }
            #expect(try readAllRecords(log).count == 20)
        }
    }

    /// Random cuts and garbage tails across a multi-segment log: recovery keeps exactly the whole
    /// valid batches before the damage.
    @Test func randomTornTailsRecover() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.segmentBytes = 700
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            for i in 0..<30 { _ = try log.append(try makeBatch(count: 1 + i % 3, valueSize: 10 + i), leaderEpoch: Int32(i / 7), now: now) }
            try log.close()
            let bases = log.segmentBaseOffsets
            let lastPath = "\(dir)/\(LogSegment.name(bases.last!)).log"
            let full = try readFile(lastPath)
            let batches = try RecordBatch.split(full).batches
            var seed: UInt64 = 12345
            func rnd(_ n: Int) -> Int {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Int((seed >> 33) % UInt64(n))
            }
            for _ in 0..<40 {
                let cut = rnd(full.count + 1)
                var damaged = Array(full[0..<cut])
                for _ in 0..<rnd(80) { damaged.append(UInt8(rnd(256))) }
                try writeFile(lastPath, damaged)
                let keep = batches.filter { $0.range.upperBound <= cut }
                let r = try PartitionLog.open(dir: dir, config: cfg, recoveryPoint: bases.last!, now: now)
                let expectedEnd = keep.last?.header.nextOffset ?? bases.last!
                #expect(r.logEndOffset == expectedEnd)
                #expect(try readAllRecords(r).count == Int(expectedEnd))
                #expect(r.leaderEpochCache.entries.allSatisfy { $0.startOffset < max(expectedEnd, 1) })
                try r.close()
            }
        }
    }

    @Test func configFromKafkaProperties() throws {
        let c = try LogConfig(properties: [
            "segment.bytes": "1048576", "segment.ms": "60000", "retention.ms": "-1", "retention.bytes": "5000",
            "cleanup.policy": "compact,delete", "max.message.bytes": "2000000", "index.interval.bytes": "8192",
            "message.timestamp.type": "LogAppendTime", "flush.messages": "10", "unknown.key": "x",
        ])
        #expect(c.segmentBytes == 1 << 20 && c.segmentMs == 60000 && c.retentionMs == -1 && c.retentionBytes == 5000)
        #expect(c.cleanupCompact && c.cleanupDelete && c.maxMessageBytes == 2_000_000 && c.indexIntervalBytes == 8192)
        #expect(c.messageTimestampType == .logAppendTime && c.flushMessages == 10)
        #expect(try LogConfig(properties: ["cleanup.policy": "compact"]).cleanupDelete == false)
        for bad in [["segment.bytes": "0"], ["segment.bytes": "abc"], ["cleanup.policy": "shred"],
                    ["message.timestamp.type": "Now"], ["segment.bytes": "99999999999"]] {
            #expect(throws: LogError.self) { _ = try LogConfig(properties: bad) }
        }
    }

    @Test func maxTimestampAcrossSegments() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.segmentBytes = 300
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            #expect(log.maxTimestampAndOffset == (-1, -1))
            for ts: Int64 in [100, 900, 300, 200, 50] {
                _ = try log.append(try makeBatch(count: 2, timestamp: ts), leaderEpoch: 0, now: now)
            }
            #expect(log.segmentBaseOffsets.count > 1)
            #expect(log.maxTimestampAndOffset == (901, 3))
        }
    }

    @Test func maxTimestampIsTheRecordsOffsetNotTheBatchEnd() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, config: LogConfig(), now: now)
            // One batch with timestamps 100, 400, 250: Kafka 3.8+ answers the offset of 400's record.
            let recs = [Int64(100), 400, 250].enumerated().map { Record(offset: Int64($0.offset), timestamp: $0.element, key: nil, value: [1]) }
            _ = try log.append(try RecordBatch.build(recs, options: RecordBatchOptions()), leaderEpoch: 0, now: now)
            #expect(log.maxTimestampAndOffset == (400, 1))
        }
    }
}
