import Glibc
import Protocol
import Testing
@testable import Storage

/// A full disk (fault matrix row 17): writes refused for lack of space leave the log as it was,
/// online, and the same log takes writes again once space returns.
@Suite(.timeLimit(.minutes(1))) struct FullDiskTests {
    let now: Int64 = 1_000_000
    let seg0 = "00000000000000000000"

    @Test func fullDiskRefusesTheAppendCutsTheShortWriteAndRecoversInPlace() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
            let sizeBefore = fileSize("\(dir)/\(seg0).log")
            log.faults.failWritesWith = ENOSPC
            log.faults.partialBytes = 17  // a short write, as tmpfs does when it fills mid-batch
            let e = #expect(throws: LogError.self) { _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now) }
            #expect(e == .io(op: "write", path: "\(dir)/\(seg0).log", errno: ENOSPC))
            #expect(e?.isOutOfSpace == true)
            #expect(!log.isOffline)
            // The torn piece is gone: nothing half-written is served, replicated or recovered.
            #expect(fileSize("\(dir)/\(seg0).log") == sizeBefore)
            #expect(log.logEndOffset == 3)
            #expect(try log.readBytes(from: 0, maxBytes: 1 << 20).count == sizeBefore)
            // Space returns: the same log takes the next write at the next offset.
            log.faults.failWritesWith = nil
            #expect(try log.append(try makeBatch(), leaderEpoch: 0, now: now).firstOffset == 3)
            try log.close()
            let r = try PartitionLog.open(dir: dir, recoveryPoint: 0, now: now)
            #expect(r.logEndOffset == 6)
        }
    }

    @Test func epochCheckpointThatCannotBeWrittenRefusesTheAppendFirst() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
            log.faults.failWritesWith = ENOSPC
            // Epoch 1 needs a new checkpoint entry: refused before any record is written.
            #expect(throws: LogError.self) { _ = try log.append(try makeBatch(), leaderEpoch: 1, now: now) }
            #expect(log.logEndOffset == 3 && !log.isOffline)
            #expect(fileSize("\(dir)/\(PartitionLog.epochCheckpointName).tmp") == -1, "temp file left on a full disk")
            log.faults.failWritesWith = nil
            _ = try log.append(try makeBatch(), leaderEpoch: 1, now: now)
            // A crash now must still know where epoch 1 starts.
            let r = try PartitionLog.open(dir: dir, recoveryPoint: 0, now: now)
            #expect(r.leaderEpochCache.entries == [.init(epoch: 0, startOffset: 0), .init(epoch: 1, startOffset: 3)])
        }
    }

    @Test func deferredEpochCheckpointIsWrittenBeforeTheNextRecord() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
            log.faults.failWritesWith = ENOSPC
            try log.assignEpoch(5)  // becoming leader on a full disk: deferred, not offline
            #expect(!log.isOffline)
            // Epoch 5 is already in memory, so only the deferred flag makes this append persist it.
            #expect(throws: LogError.self) { _ = try log.append(try makeBatch(), leaderEpoch: 5, now: now) }
            #expect(log.logEndOffset == 3)
            log.faults.failWritesWith = nil
            _ = try log.append(try makeBatch(), leaderEpoch: 5, now: now)
            let r = try PartitionLog.open(dir: dir, recoveryPoint: 0, now: now)
            #expect(r.leaderEpochCache.entries.last == .init(epoch: 5, startOffset: 3))
        }
    }

    @Test func indexesThatCannotBeWrittenKeepTheRecoveryPointBack() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.indexIntervalBytes = 1
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            for _ in 0..<4 { _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now) }
            log.faults.failWritesWith = ENOSPC
            try log.flush()  // the log is fsynced; its indexes are not written
            #expect(log.recoveryPoint == 0 && !log.isOffline)
            try log.roll(now: now)  // a roll on a full disk still works: new files take no space
            log.faults.failWritesWith = nil
            try log.flush()
            #expect(log.recoveryPoint == 12)
            #expect(fileSize("\(dir)/\(seg0).index") > 0)
        }
    }

    @Test func compactionOnAFullDiskLeavesNoCleanedFileAndTheLogOnline() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.cleanupCompact = true
            cfg.cleanupDelete = false
            let log = try PartitionLog.open(dir: dir, config: cfg, now: now)
            _ = try log.append(try makeBatch(keys: ["a", "b", "c"]), leaderEpoch: 0, now: now)
            _ = try log.append(try makeBatch(keys: ["d", "e", "f"]), leaderEpoch: 0, now: now)
            try log.roll(now: now)
            _ = try log.append(try makeBatch(keys: ["a", "b", "c"]), leaderEpoch: 0, now: now)
            log.faults.failWritesWith = ENOSPC
            #expect(throws: LogError.self) { _ = try log.compact(now: now) }
            #expect(!log.isOffline)
            #expect(fileSize("\(dir)/\(seg0).log.cleaned") == -1)
            log.faults.failWritesWith = nil
            #expect(try log.compact(now: now).recordsRemoved > 0)
        }
    }

    @Test func otherWriteErrorsStillTakeTheLogOffline() throws {
        try withTempDir { dir in
            let log = try PartitionLog.open(dir: dir, now: now)
            log.faults.failWritesWith = EIO
            #expect(throws: LogError.self) { _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now) }
            #expect(log.isOffline)
            #expect(LogError.io(op: "fsync", path: "x", errno: ENOSPC).isOutOfSpace == false)
        }
    }
}
