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
            let fs = FaultInjectingFileSystem(posixFS)
            let log = try PartitionLog.open(fs: fs, dir: dir, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
            let sizeBefore = fileSize("\(dir)/\(seg0).log")
            // A short write, as tmpfs does when it fills mid-batch.
            fs.setWriteFailure(ENOSPC, partialBytes: 17)
            let e = #expect(throws: LogError.self) { _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now) }
            #expect(e == .io(op: "write", path: "\(dir)/\(seg0).log", errno: ENOSPC))
            #expect(e?.isOutOfSpace == true)
            #expect(!log.isOffline)
            // The torn piece is gone: nothing half-written is served, replicated or recovered.
            #expect(fileSize("\(dir)/\(seg0).log") == sizeBefore)
            #expect(log.logEndOffset == 3)
            #expect(try log.readBytes(from: 0, maxBytes: 1 << 20).count == sizeBefore)
            // Space returns: the same log takes the next write at the next offset.
            fs.setWriteFailure(nil)
            #expect(try log.append(try makeBatch(), leaderEpoch: 0, now: now).firstOffset == 3)
            try log.close()
            let r = try PartitionLog.open(dir: dir, recoveryPoint: 0, now: now)
            #expect(r.logEndOffset == 6)
        }
    }

    @Test func epochCheckpointThatCannotBeWrittenRefusesTheAppendFirst() throws {
        try withTempDir { dir in
            let fs = FaultInjectingFileSystem(posixFS)
            let log = try PartitionLog.open(fs: fs, dir: dir, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
            fs.setWriteFailure(ENOSPC)
            // Epoch 1 needs a new checkpoint entry: refused before any record is written.
            #expect(throws: LogError.self) { _ = try log.append(try makeBatch(), leaderEpoch: 1, now: now) }
            #expect(log.logEndOffset == 3 && !log.isOffline)
            #expect(fileSize("\(dir)/\(PartitionLog.epochCheckpointName).tmp") == -1, "temp file left on a full disk")
            fs.setWriteFailure(nil)
            _ = try log.append(try makeBatch(), leaderEpoch: 1, now: now)
            // A crash now must still know where epoch 1 starts.
            let r = try PartitionLog.open(dir: dir, recoveryPoint: 0, now: now)
            #expect(r.leaderEpochCache.entries == [.init(epoch: 0, startOffset: 0), .init(epoch: 1, startOffset: 3)])
        }
    }

    @Test func deferredEpochCheckpointIsWrittenBeforeTheNextRecord() throws {
        try withTempDir { dir in
            let fs = FaultInjectingFileSystem(posixFS)
            let log = try PartitionLog.open(fs: fs, dir: dir, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
            fs.setWriteFailure(ENOSPC)
            try log.assignEpoch(5)  // becoming leader on a full disk: deferred, not offline
            #expect(!log.isOffline)
            // Epoch 5 is already in memory, so only the deferred flag makes this append persist it.
            #expect(throws: LogError.self) { _ = try log.append(try makeBatch(), leaderEpoch: 5, now: now) }
            #expect(log.logEndOffset == 3)
            fs.setWriteFailure(nil)
            _ = try log.append(try makeBatch(), leaderEpoch: 5, now: now)
            let r = try PartitionLog.open(dir: dir, recoveryPoint: 0, now: now)
            #expect(r.leaderEpochCache.entries.last == .init(epoch: 5, startOffset: 3))
        }
    }

    @Test func indexesThatCannotBeWrittenKeepTheRecoveryPointBack() throws {
        try withTempDir { dir in
            var cfg = LogConfig()
            cfg.indexIntervalBytes = 1
            let fs = FaultInjectingFileSystem(posixFS)
            let log = try PartitionLog.open(fs: fs, dir: dir, config: cfg, now: now)
            for _ in 0..<4 { _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now) }
            fs.setWriteFailure(ENOSPC)
            try log.flush()  // the log is fsynced; its indexes are not written
            #expect(log.recoveryPoint == 0 && !log.isOffline)
            try log.roll(now: now)  // a roll on a full disk still works: new files take no space
            fs.setWriteFailure(nil)
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
            let fs = FaultInjectingFileSystem(posixFS)
            let log = try PartitionLog.open(fs: fs, dir: dir, config: cfg, now: now)
            _ = try log.append(try makeBatch(keys: ["a", "b", "c"]), leaderEpoch: 0, now: now)
            _ = try log.append(try makeBatch(keys: ["d", "e", "f"]), leaderEpoch: 0, now: now)
            try log.roll(now: now)
            _ = try log.append(try makeBatch(keys: ["a", "b", "c"]), leaderEpoch: 0, now: now)
            fs.setWriteFailure(ENOSPC)
            #expect(throws: LogError.self) { _ = try log.compact(now: now) }
            #expect(!log.isOffline)
            #expect(fileSize("\(dir)/\(seg0).log.cleaned") == -1)
            fs.setWriteFailure(nil)
            #expect(try log.compact(now: now).recordsRemoved > 0)
        }
    }

    @Test func otherWriteErrorsStillTakeTheLogOffline() throws {
        try withTempDir { dir in
            let fs = FaultInjectingFileSystem(posixFS)
            let log = try PartitionLog.open(fs: fs, dir: dir, now: now)
            fs.setWriteFailure(EIO)
            #expect(throws: LogError.self) { _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now) }
            #expect(log.isOffline)
            #expect(LogError.io(op: "fsync", path: "x", errno: ENOSPC).isOutOfSpace == false)
        }
    }
}

/// The same on a real full file system: a small tmpfs this test mounts itself (root only, as on
/// the CI machine; skipped otherwise).
@Suite(.serialized, .timeLimit(.minutes(1))) struct FullTmpfsTests {
    let now: Int64 = 1_000_000

    /// Mounts a tmpfs of `bytes` under a temp dir and runs `body` with a log dir on it and a way to
    /// make space again (remove the filler `fill` wrote); unmounts in every case.
    func withFullTmpfs(bytes: Int = 256 << 10, _ body: (String, () -> Void) throws -> Void) throws {
        try withTempDir { dir in
            let mnt = dir + "/mnt"
            try posixFS.makeDirectory(mnt)
            try #require(mount("tmpfs", mnt, "tmpfs", 0, "size=\(bytes)") == 0, "mount: errno \(errno)")
            defer { umount2(mnt, Int32(MNT_DETACH)) }
            try body(mnt + "/p-0") {
                unlink(mnt + "/filler")
            }
        }
    }

    static func fill(_ dir: String, slack: Int) {
        let fd = open(PosixFileSystem.parent(of: dir) + "/filler", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 1, count: 16 << 10)
        var size = 0
        while true {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            size += n
        }
        if slack > 0 { _ = ftruncate(fd, off_t(max(0, size - slack))) }
    }

    @Test(.enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
    func shortWritesOnAFullTmpfsAreCutAndTheLogRecovers() throws {
        try withFullTmpfs { dir, makeSpace in
            let log = try PartitionLog.open(dir: dir, now: now)
            _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
            Self.fill(dir, slack: 6000)
            var refused = 0
            for _ in 0..<200 {
                do { _ = try log.append(try makeBatch(count: 5, valueSize: 300), leaderEpoch: 0, now: now) } catch let e as LogError {
                    #expect(e.isOutOfSpace, "\(e)")
                    refused += 1
                }
            }
            #expect(refused > 0 && !log.isOffline)
            let seg = dir + "/00000000000000000000.log"
            let end = log.logEndOffset
            // Every byte on disk is a whole batch the log knows of.
            #expect(try PartitionLog.open(dir: dir, recoveryPoint: 0, now: now).logEndOffset == end)
            #expect(fileSize(seg) == (try log.readBytes(from: 0, maxBytes: 1 << 22).count))
            makeSpace()
            #expect(try log.append(try makeBatch(), leaderEpoch: 0, now: now).firstOffset == end)
        }
    }

    @Test(.enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
    func aLogWhoseEpochCheckpointMustChangeStillOpensOnAFullTmpfs() throws {
        try withFullTmpfs { dir, makeSpace in
            do {
                let log = try PartitionLog.open(dir: dir, now: now)
                _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
                _ = try log.append(try makeBatch(), leaderEpoch: 1, now: now)
                try log.close()
            }
            // A lost tail: the epoch-1 batch is gone, so opening must rewrite the checkpoint.
            let seg = dir + "/00000000000000000000.log"
            let first = try #require(try RecordBatch.split(try readFile(seg)).batches.first)
            truncateFile(seg, to: first.range.upperBound)
            Self.fill(dir, slack: 0)
            let log = try PartitionLog.open(dir: dir, recoveryPoint: 0, now: now)
            #expect(log.logEndOffset == 3 && log.leaderEpochCache.entries == [.init(epoch: 0, startOffset: 0)])
            #expect(throws: LogError.self) { _ = try log.append(try makeBatch(), leaderEpoch: 2, now: now) }
            makeSpace()
            _ = try log.append(try makeBatch(), leaderEpoch: 2, now: now)
            let again = try PartitionLog.open(dir: dir, recoveryPoint: 0, now: now)
            #expect(again.leaderEpochCache.entries == [.init(epoch: 0, startOffset: 0), .init(epoch: 2, startOffset: 3)])
        }
    }
}
