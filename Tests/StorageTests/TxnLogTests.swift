#if canImport(Glibc)
import Glibc
#endif
import Protocol
import Testing
@testable import Storage

@Suite struct TxnLogTests {
    let dir = "/data/version-2"

    func payload(_ i: Int) -> [UInt8] { [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 10 + i % 7) }

    func write(_ fs: MemoryCoordFileSystem, count: Int, options: TxnLog.Options = .init()) throws -> TxnLog {
        let log = TxnLog(fs: fs, directory: dir, options: options)
        #expect(try log.recover().isEmpty)
        for i in 1...count { try log.append(zxid: Int64(i), bytes: payload(i)) }
        try log.sync()
        return log
    }

    @Test func appendSyncRecoverRoundTrip() throws {
        let fs = MemoryCoordFileSystem()
        let log = try write(fs, count: 50)
        log.close()
        let again = TxnLog(fs: fs, directory: dir)
        let recs = try again.recover()
        #expect(recs.map(\.zxid) == (1...50).map { Int64($0) })
        #expect(recs.allSatisfy { $0.bytes == payload(Int($0.zxid)) })
        #expect(again.lastZxid == 50 && again.report.truncatedBytes == 0)
        // Recovery after a snapshot returns only the tail.
        let tail = try TxnLog(fs: fs, directory: dir).recover(after: 45)
        #expect(tail.map(\.zxid) == [46, 47, 48, 49, 50])
        #expect(try fs.list(dir) == ["log.1"])
    }

    @Test func groupCommitMakesNothingDurableUntilSync() throws {
        let fs = MemoryCoordFileSystem()
        let log = try write(fs, count: 3)
        for i in 4...10 { try log.append(zxid: Int64(i), bytes: payload(i)) }
        fs.crash()
        #expect(try TxnLog(fs: fs, directory: dir).recover().map(\.zxid) == [1, 2, 3])
        let log2 = try write(MemoryCoordFileSystem(), count: 1)
        for i in 2...100 { try log2.append(zxid: Int64(i), bytes: payload(i)) }
        try log2.sync()
        #expect(try TxnLog(fs: log2.fs, directory: dir).recover().count == 100)
    }

    @Test func tornLastRecordIsCutAtEveryByte() throws {
        let fs = MemoryCoordFileSystem()
        _ = try write(fs, count: 5)
        let full = try fs.read(dir + "/log.1")
        let lastLen = 16 + payload(5).count
        let lastStart = full.count - lastLen
        for cut in lastStart..<full.count {
            fs.setContents(dir + "/log.1", Array(full[0..<cut]))
            let log = TxnLog(fs: fs, directory: dir)
            let recs = try log.recover()
            #expect(recs.map(\.zxid) == [1, 2, 3, 4], "cut at \(cut)")
            #expect(log.report.truncatedBytes == cut - lastStart)
            #expect(try fs.size(dir + "/log.1") == lastStart)
            // The log keeps working after the repair.
            try log.append(zxid: 5, bytes: [42])
            try log.sync()
            #expect(try TxnLog(fs: fs, directory: dir).recover().last == TxnLog.Record(zxid: 5, bytes: [42]))
        }
    }

    @Test func corruptChecksumStopsReplayAndDropsLaterFiles() throws {
        let fs = MemoryCoordFileSystem()
        _ = try write(fs, count: 30, options: .init(maxRecordsPerFile: 10))
        #expect(try fs.list(dir).sorted() == ["log.1", "log.15", "log.b"])
        var second = try fs.read(dir + "/log.b")
        // Flip a payload byte of zxid 13, the third record of the second file.
        var offset = 16
        for z in 11...12 { offset += 16 + payload(z).count }
        second[offset + 17] ^= 0xff
        fs.setContents(dir + "/log.b", second)
        let log = TxnLog(fs: fs, directory: dir)
        let recs = try log.recover()
        #expect(recs.map(\.zxid) == (1...12).map { Int64($0) })
        #expect(log.report.removedFiles == 1)
        #expect(try fs.list(dir).sorted() == ["log.1", "log.b"])
        try log.append(zxid: 13, bytes: [1])
        try log.sync()
        #expect(try TxnLog(fs: fs, directory: dir).recover().count == 13)
    }

    @Test func garbageAndHugeLengthsAreNotReplayed() throws {
        let fs = MemoryCoordFileSystem()
        _ = try write(fs, count: 2)
        var data = try fs.read(dir + "/log.1")
        data += [0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4] + [UInt8](repeating: 9, count: 40)
        fs.setContents(dir + "/log.1", data)
        #expect(try TxnLog(fs: fs, directory: dir).recover().map(\.zxid) == [1, 2])
        fs.setContents(dir + "/log.1", [1, 2, 3])
        #expect(try TxnLog(fs: fs, directory: dir).recover().isEmpty)
        #expect(try fs.list(dir).isEmpty)
    }

    @Test func rollsByRecordsAndBytesAndNamesFilesByFirstZxid() throws {
        let fs = MemoryCoordFileSystem()
        _ = try write(fs, count: 25, options: .init(maxRecordsPerFile: 10))
        #expect(try fs.list(dir).sorted() == ["log.1", "log.15", "log.b"])
        let fs2 = MemoryCoordFileSystem()
        _ = try write(fs2, count: 10, options: .init(maxBytesPerFile: 100))
        #expect(try fs2.list(dir).count > 2)
        #expect(try TxnLog(fs: fs2, directory: dir).recover().count == 10)
    }

    @Test func truncateDropsRecordsAfterZxid() throws {
        let fs = MemoryCoordFileSystem()
        let log = try write(fs, count: 25, options: .init(maxRecordsPerFile: 10))
        try log.truncate(after: 13)
        #expect(log.lastZxid == 13)
        #expect(try fs.list(dir).sorted() == ["log.1", "log.b"])
        try log.append(zxid: 14, bytes: [7])
        try log.sync()
        let recs = try TxnLog(fs: fs, directory: dir).recover()
        #expect(recs.map(\.zxid) == (1...14).map { Int64($0) })
        #expect(recs.last?.bytes == [7])
        try log.truncate(after: 0)
        #expect(try TxnLog(fs: fs, directory: dir).recover().isEmpty)
    }

    @Test func refusesNonIncreasingZxid() throws {
        let log = try write(MemoryCoordFileSystem(), count: 3)
        #expect(throws: (any Error).self) { try log.append(zxid: 3, bytes: []) }
    }

    @Test func crc32cKnownAnswer() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    }

    @Test func posixFileSystemRecoversTooAndCleansUp() throws {
        let base = "/tmp/txnlog-test-\(UInt64.random(in: 0...UInt64.max))"
        let fs = PosixCoordFileSystem()
        defer {
            for n in (try? fs.list(base + "/v")) ?? [] { try? fs.remove(base + "/v/" + n) }
            rmdir(base + "/v")
            rmdir(base)
        }
        let log = TxnLog(fs: fs, directory: base + "/v", options: .init(maxRecordsPerFile: 4))
        _ = try log.recover()
        for i in 1...10 { try log.append(zxid: Int64(i), bytes: payload(i)) }
        try log.sync()
        log.close()
        let size = try fs.size(base + "/v/log.9")
        try fs.truncate(base + "/v/log.9", to: size - 3)
        #expect(try TxnLog(fs: fs, directory: base + "/v").recover().map(\.zxid) == (1...9).map { Int64($0) })
    }
}
