import Glibc
import Protocol
import Testing
@testable import Storage

@Suite struct SnapshotTests {
    let dir = "/data/version-2"

    @Test func newestValidSnapshotWinsAndDamagedOnesAreSkipped() throws {
        let fs = MemoryFileSystem()
        try fs.makeDirectories(dir)  // as coordd's DataDirs does: listing a missing directory fails, as on disk
        let store = SnapshotStore(fs: fs, directory: dir)
        #expect(try store.loadNewest() == nil)
        try store.write(zxid: 0x10, payload: [1, 2, 3])
        try store.write(zxid: 0x20, payload: [4, 5])
        #expect(try store.loadNewest()?.zxid == 0x20)
        #expect(try store.loadNewest()?.payload == [4, 5])
        // Corrupt the newest: a flipped byte anywhere, then a torn file at every cut.
        let path = dir + "/snapshot.20"
        let good = try fs.read(path)
        for i in 0..<good.count {
            var bad = good
            bad[i] ^= 0x40
            fs.setContents(path, bad)
            #expect(try store.loadNewest()?.zxid == 0x10, "flip at \(i)")
        }
        for cut in 0..<good.count {
            fs.setContents(path, Array(good[0..<cut]))
            #expect(try store.loadNewest()?.zxid == 0x10, "cut at \(cut)")
        }
    }

    @Test func snapshotOnAFullDiskLeavesThePreviousOneAndNoTempFile() throws {
        let fs = FaultInjectingFileSystem(MemoryFileSystem())
        let store = SnapshotStore(fs: fs, directory: dir)
        try store.write(zxid: 0x10, payload: [1, 2, 3])
        fs.setWriteFailure(ENOSPC, afterBytes: 20)
        let e = #expect(throws: LogError.self) { try store.write(zxid: 0x20, payload: [UInt8](repeating: 7, count: 100)) }
        #expect(e == .io(op: "write", path: dir + "/snapshot.20.tmp", errno: ENOSPC))
        #expect(try fs.list(dir) == ["snapshot.10"])
        #expect(try store.loadNewest()?.zxid == 0x10)
        fs.setWriteFailure(nil)
        try store.write(zxid: 0x20, payload: [4])
        #expect(try store.loadNewest()?.zxid == 0x20)
    }

    @Test func txnLogCutShortByAFullDiskRecoversToTheLastWholeRecord() throws {
        let fs = FaultInjectingFileSystem(MemoryFileSystem())
        let log = TxnLog(fs: fs, directory: dir)
        _ = try log.recover()
        for z in 1...3 { try log.append(zxid: Int64(z), bytes: [UInt8](repeating: UInt8(z), count: 30)) }
        try log.sync()
        for z in 4...6 { try log.append(zxid: Int64(z), bytes: [UInt8](repeating: UInt8(z), count: 30)) }
        fs.setWriteFailure(ENOSPC, afterBytes: 50)  // record 4 whole, record 5 torn
        #expect(throws: LogError.self) { try log.sync() }
        fs.setWriteFailure(nil)
        // The server exits there; on restart the torn record is cut and the whole one kept (it
        // was never acknowledged, and a logged proposal may be committed by the next leader).
        let again = TxnLog(fs: fs, directory: dir)
        #expect(try again.recover().map(\.zxid) == [1, 2, 3, 4])
        #expect(again.report.truncatedBytes > 0)
        try again.append(zxid: 5, bytes: [5])
        try again.sync()
        #expect(try TxnLog(fs: fs, directory: dir).recover().map(\.zxid) == [1, 2, 3, 4, 5])
    }

    @Test func purgeKeepsNewestAndRemovesTempFiles() throws {
        let fs = MemoryFileSystem()
        let store = SnapshotStore(fs: fs, directory: dir)
        for z in 1...5 { try store.write(zxid: Int64(z), payload: [UInt8(z)]) }
        fs.setContents(dir + "/snapshot.9.tmp", [1])
        try store.purge(keep: 2)
        #expect(try fs.list(dir).sorted() == ["snapshot.4", "snapshot.5"])
    }

    @Test func snapshotPlusLogTailRecovery() throws {
        // Log 1...20, snapshot at 12: recovery replays 13...20 only, even after older logs are purged.
        let fs = MemoryFileSystem()
        let log = TxnLog(fs: fs, directory: dir, options: .init(maxRecordsPerFile: 5))
        _ = try log.recover()
        for i in 1...20 { try log.append(zxid: Int64(i), bytes: [UInt8(i)]) }
        try log.sync()
        let store = SnapshotStore(fs: fs, directory: dir)
        try store.write(zxid: 12, payload: [0xAA])
        try log.purge(upTo: 12)
        #expect(try log.logFiles().map(\.zxid) == [11, 16])
        let snap = try #require(try store.loadNewest())
        let tail = try TxnLog(fs: fs, directory: dir).recover(after: snap.zxid)
        #expect(tail.map(\.zxid) == (13...20).map { Int64($0) })
    }
}
