import Glibc
import Protocol
import Testing
@testable import Storage

@Suite(.timeLimit(.minutes(1))) struct LogRecoveryTests {
    let now: Int64 = 1_000_000
    let seg0 = "00000000000000000000"

    @Test func cutAtEveryByteOfLastBatchRecoversTheBatchesBefore() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            for i in 0..<5 { _ = try log.append(try makeBatch(count: 2, valueSize: 10 + i), leaderEpoch: 0, now: now) }
            try log.close()
            let full = try readFile("\(dir)/\(seg0).log")
            let (batches, _) = try RecordBatch.split(full)
            let last = try #require(batches.last)
            let expected = try withTempDir { ref -> [Record] in
                let l = try PartitionLog.open(dir: ref, now: now)
                _ = try l.appendAsFollower(Array(full[0..<last.range.lowerBound]), now: now)
                return try readAllRecords(l)
            }
            for cut in last.range.lowerBound..<full.count {
                try writeFile("\(dir)/\(seg0).log", Array(full[0..<cut]))
                let r = try PartitionLog.open(dir: dir, recoveryPoint: 0, now: now)
                #expect(r.logEndOffset == last.header.baseOffset, "cut at \(cut)")
                #expect(fileSize("\(dir)/\(seg0).log") == last.range.lowerBound)
                #expect(try readAllRecords(r) == expected)
                // The log keeps working after recovery.
                #expect(try r.append(try makeBatch(count: 2), leaderEpoch: 0, now: now).firstOffset == last.header.baseOffset)
                try r.close()
            }
        }
    }

    @Test func corruptCRCInTheMiddleCutsThereAndDropsLaterSegments() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.segmentBytes = 600
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            for _ in 0..<12 { _ = try log.append(try makeBatch(count: 2, valueSize: 30), leaderEpoch: 0, now: now) }
            let bases = log.segmentBaseOffsets
            #expect(bases.count >= 3)
            try log.close()
            // Flip one value byte of the second batch of the first segment.
            let path = "\(dir)/\(seg0).log"
            var bytes = try readFile(path)
            let (batches, _) = try RecordBatch.split(bytes)
            bytes[batches[1].range.upperBound - 3] ^= 0xff
            try writeFile(path, bytes)
            let r = try PartitionLog.open(dir: dir, config: cfg, recoveryPoint: 0, now: now)
            #expect(r.logEndOffset == batches[1].header.baseOffset)
            #expect(r.segmentBaseOffsets == [0])
            #expect(fileSize(path) == batches[1].range.lowerBound)
            #expect(fileSize("\(dir)/\(LogSegment.name(bases[1])).log") == -1)
            #expect(try readAllRecords(r).map(\.offset) == [0, 1])
        }
    }

    @Test func segmentsBeforeRecoveryPointAreNotScanned() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.segmentBytes = 600
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            for _ in 0..<12 { _ = try log.append(try makeBatch(count: 2, valueSize: 30), leaderEpoch: 0, now: now) }
            try log.close()
            let leo = log.logEndOffset
            #expect(log.recoveryPoint == leo)
            // Corrupt a value in the first segment: the clean-shutdown open trusts it (as Kafka does);
            // the CRC still tells consumers.
            let path = "\(dir)/\(seg0).log"
            var bytes = try readFile(path)
            bytes[bytes.count - 3] ^= 0xff
            try writeFile(path, bytes)
            let r = try PartitionLog.open(dir: dir, config: cfg, recoveryPoint: leo, now: now)
            #expect(r.logEndOffset == leo)
            #expect(throws: RecordBatchError.self) { _ = try readAllRecords(r) }
        }
    }

    @Test func missingOrCorruptIndexIsRebuilt() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.indexIntervalBytes = 100
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            for i in 0..<40 { _ = try log.append(try makeBatch(count: 2, timestamp: Int64(i) * 100), leaderEpoch: 0, now: now) }
            try log.close()
            let idxPath = "\(dir)/\(seg0).index", tPath = "\(dir)/\(seg0).timeindex"
            let goodIndex = try readFile(idxPath), goodTime = try readFile(tPath)
            #expect(goodIndex.count >= 8 * 10)
            let expected = try readAllRecords(try PartitionLog.open(dir: dir, config: cfg, recoveryPoint: 80, now: now))

            let corruptions: [(String, [UInt8])] = [
                (idxPath, []),                                       // deleted (recreated empty)
                (idxPath, Array(goodIndex.dropLast(3))),             // not a multiple of 8
                (idxPath, Array(goodIndex[8...]) + goodIndex[0..<8]), // not monotonic
                (idxPath, goodIndex.dropLast(8) + [0, 0, 0, 79, 0x7f, 0, 0, 0]), // position past the end
                (tPath, Array(goodTime.dropLast(5))),
            ]
            for (path, content) in corruptions {
                if content.isEmpty { _ = unlink(path) } else { try writeFile(path, content) }
                let r = try PartitionLog.open(dir: dir, config: cfg, recoveryPoint: 80, now: now)
                #expect(r.logEndOffset == 80)
                #expect(try readAllRecords(r) == expected)
                #expect(try r.offset(forTimestamp: 1000) == 20)
                try r.close()
                let rebuilt = try readFile(idxPath)
                #expect(rebuilt == goodIndex, "\(path) \(content.count): \(rebuilt.count) vs \(goodIndex.count)")
                #expect(try readFile(tPath) == goodTime)
            }
        }
    }

    @Test func strayFilesAreCleanedUp() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
            try log.close()
            try writeFile("\(dir)/\(seg0).log.cleaned", [1, 2, 3])
            try writeFile("\(dir)/00000000000000000099.index", [1, 2, 3])
            let r = try PartitionLog.open(dir: dir, now: now)
            #expect(r.logEndOffset == 3)
            #expect(fileSize("\(dir)/\(seg0).log.cleaned") == -1)
            #expect(fileSize("\(dir)/00000000000000000099.index") == -1)
        }
    }

    @Test func segmentDeletedUnderRunningLogIsDetected() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
            #expect(unlink("\(dir)/\(seg0).log") == 0)
            let e = #expect(throws: LogError.self) { try log.flush() }
            #expect(e == .segmentMissing(path: "\(dir)/\(seg0).log"))
            #expect(log.isOffline)
            #expect(throws: LogError.self) { _ = try log.readBytes(from: 0, maxBytes: 100) }
        }
    }

    @Test func truncatedSegmentUnderRunningLogIsDetected() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            for _ in 0..<3 { _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now) }
            truncateFile("\(dir)/\(seg0).log", to: 10)
            #expect(throws: LogError.self) { _ = try log.readBytes(from: 3, maxBytes: 1000) }
            #expect(log.isOffline)
        }
    }
}
