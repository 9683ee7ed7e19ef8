import Glibc
import Protocol
import Testing
@testable import Storage

/// The in-memory file system behind the simulations and the fault-injecting wrapper: what a crash
/// keeps, and that segment logs, their recovery and their readers work on it unchanged.
@Suite struct MemoryFileSystemTests {
    let now: Int64 = 1_000_000

    func fresh(_ dir: String = "/logs") throws -> MemoryFileSystem {
        let fs = MemoryFileSystem()
        try fs.makeDirectories(dir)
        return fs
    }

    @Test func crashKeepsSyncedBytesAndDropsTheRest() throws {
        let fs = try fresh()
        let f = try fs.create("/logs/a")
        try f.write([1, 2, 3, 4], at: 0)
        try f.sync()
        try f.write([9, 9], at: 2)  // an overwrite inside the synced part ...
        try f.append([5, 6])  // ... and an append, neither synced
        #expect(try fs.read("/logs/a") == [1, 2, 9, 9, 5, 6])
        #expect(fs.unsyncedFiles == ["/logs/a"])
        fs.crash()
        #expect(try fs.read("/logs/a") == [1, 2, 3, 4])
        try f.write([7], at: 4)
        try f.syncData()
        fs.crash()
        #expect(try fs.read("/logs/a") == [1, 2, 3, 4, 7])
        #expect(fs.unsyncedFiles.isEmpty)
    }

    @Test func namesBehaveAsOnDisk() throws {
        let fs = try fresh()
        #expect(throws: LogError.self) { _ = try fs.open("/logs/missing", create: false) }
        #expect(throws: LogError.self) { _ = try fs.create("/nodir/x") }
        #expect(throws: LogError.self) { _ = try fs.list("/nodir") }
        let f = try fs.create("/logs/seg")
        try f.write([1, 2, 3], at: 0)
        try fs.makeDirectory("/logs/sub")
        #expect(try fs.list("/logs") == ["seg", "sub"] && fs.isDirectory("/logs/sub") && !fs.isDirectory("/logs/seg"))
        // An unlinked file stays readable through an open handle, as a sendfile region needs.
        try fs.remove("/logs/seg")
        #expect(!fs.exists("/logs/seg") && !f.isLinked)
        #expect(try f.read(count: 3, at: 0) == [1, 2, 3])
        try fs.replaceAtomically("/logs/cp", with: [4, 5])
        #expect(try fs.read("/logs/cp") == [4, 5] && !fs.exists("/logs/cp.tmp"))
        try fs.removeTree("/logs")
        #expect(!fs.exists("/logs") && !fs.exists("/logs/cp"))
    }

    @Test func unflushedRecordsAreLostByACrashAndFlushedOnesRecovered() throws {
        let fs = try fresh()
        let log = try PartitionLog.open(fs: fs, dir: "/logs/t-0", now: now)
        for _ in 0..<6 { _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now) }
        try log.flush()
        for _ in 0..<4 { _ = try log.append(try makeBatch(), leaderEpoch: 1, now: now) }
        #expect(log.logEndOffset == 30 && log.recoveryPoint == 18)
        fs.crash()
        let again = try PartitionLog.open(fs: fs, dir: "/logs/t-0", now: now)
        #expect(again.logEndOffset == 18)
        #expect(try readAllRecords(again).map(\.offset) == Array(0..<18))
        // The epoch checkpoint was synced, but epoch 1 started at 18: cut with the lost records.
        #expect(again.leaderEpochCache.entries == [.init(epoch: 0, startOffset: 0)])
        #expect(try again.append(try makeBatch(), leaderEpoch: 2, now: now).firstOffset == 18)
    }

    @Test func rolledSegmentsAreFsyncedSoACrashLosesOnlyTheActiveTail() throws {
        let fs = try fresh()
        var cfg = LogConfig()
        cfg.segmentBytes = 200  // one batch per segment
        let log = try PartitionLog.open(fs: fs, dir: "/logs/t-0", config: cfg, now: now)
        for e in 0..<10 { _ = try log.append(try makeBatch(), leaderEpoch: Int32(e / 6), now: now) }
        #expect(log.logEndOffset == 30 && log.recoveryPoint == 27)
        fs.crash()
        // Reopened from recovery point 0: every segment is scanned and its indexes rebuilt.
        let again = try PartitionLog.open(fs: fs, dir: "/logs/t-0", config: cfg, now: now)
        #expect(again.logEndOffset == 27 && again.segmentBaseOffsets.count == 10)
        #expect(try readAllRecords(again).map(\.offset) == Array(0..<27))
        #expect(again.leaderEpochCache.entries == [.init(epoch: 0, startOffset: 0), .init(epoch: 1, startOffset: 18)])
    }

    @Test func flushMessagesOneMakesEveryAppendSurviveACrash() throws {
        let fs = try fresh()
        var cfg = LogConfig()
        cfg.flushMessages = 1
        let log = try PartitionLog.open(fs: fs, dir: "/logs/t-0", config: cfg, now: now)
        for _ in 0..<5 { _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now) }
        fs.crash()
        #expect(try PartitionLog.open(fs: fs, dir: "/logs/t-0", config: cfg, now: now).logEndOffset == 15)
    }

    @Test func regionsWithoutADescriptorAreCopied() throws {
        let fs = try fresh()
        let log = try PartitionLog.open(fs: fs, dir: "/logs/t-0", now: now)
        let batch = try makeBatch()
        _ = try log.append(batch, leaderEpoch: 0, now: now)
        let region = try #require(try log.read(from: 0, maxBytes: 1 << 20).region)
        #expect(region.fd == nil)
        let bytes = try region.copyBytes()
        let first = try RecordBatch.split(bytes).batches.first?.header.baseOffset
        #expect(bytes.count == batch.count && first == 0)
        // The POSIX file system hands out a descriptor for sendfile, also through the fault wrapper.
        try withTempDir { dir in
            let real = try PartitionLog.open(fs: FaultInjectingFileSystem(posixFS), dir: dir, now: now)
            _ = try real.append(batch, leaderEpoch: 0, now: now)
            #expect(try real.read(from: 0, maxBytes: 1 << 20).region?.fd != nil)
        }
    }

    @Test func aFailedFsyncTakesTheLogOfflineEvenForENOSPC() throws {
        let fs = FaultInjectingFileSystem(try fresh())
        let log = try PartitionLog.open(fs: fs, dir: "/logs/t-0", now: now)
        _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
        fs.update { $0.failSyncsWith = ENOSPC }
        let e = #expect(throws: LogError.self) { try log.flush() }
        #expect(e?.isOutOfSpace == false)
        #expect(log.isOffline && log.recoveryPoint == 0)
    }

    @Test func writeRoomEndsInAShortWriteThatTheLogCutsAway() throws {
        let mem = try fresh()
        let fs = FaultInjectingFileSystem(mem)
        let log = try PartitionLog.open(fs: fs, dir: "/logs/t-0", now: now)
        _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now)
        let size = try mem.size("/logs/t-0/00000000000000000000.log")
        fs.setWriteFailure(ENOSPC, afterBytes: 10)
        #expect(throws: LogError.self) { _ = try log.append(try makeBatch(), leaderEpoch: 0, now: now) }
        let after = try mem.size("/logs/t-0/00000000000000000000.log")
        #expect(after == size && !log.isOffline)
        fs.setWriteFailure(nil)
        #expect(try log.append(try makeBatch(), leaderEpoch: 0, now: now).firstOffset == 3)
    }
}
