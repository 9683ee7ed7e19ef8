#if canImport(Glibc)
import Glibc
#endif
import Protocol
import Testing
@testable import Storage

@Suite struct TxnLogTests {
    let dir = "/data/version-2"

    func payload(_ i: Int) -> [UInt8] { [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 10 + i % 7) }

    func write(_ fs: MemoryFileSystem, count: Int, options: TxnLog.Options = .init()) throws -> TxnLog {
        let log = TxnLog(fs: fs, directory: dir, options: options)
        #expect(try log.recover().isEmpty)
        for i in 1...count { try log.append(zxid: Int64(i), bytes: payload(i)) }
        try log.sync()
        return log
    }

    @Test func appendSyncRecoverRoundTrip() throws {
        let fs = MemoryFileSystem()
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
        let fs = MemoryFileSystem()
        let log = try write(fs, count: 3)
        for i in 4...10 { try log.append(zxid: Int64(i), bytes: payload(i)) }
        fs.crash()
        #expect(try TxnLog(fs: fs, directory: dir).recover().map(\.zxid) == [1, 2, 3])
        let log2 = try write(MemoryFileSystem(), count: 1)
        for i in 2...100 { try log2.append(zxid: Int64(i), bytes: payload(i)) }
        try log2.sync()
        #expect(try TxnLog(fs: log2.fs, directory: dir).recover().count == 100)
    }

    @Test func tornLastRecordIsCutAtEveryByte() throws {
        let fs = MemoryFileSystem()
        _ = try write(fs, count: 5)
        let full = try fs.read(dir + "/log.1")
        let lastLen = 16 + payload(5).count
        let lastStart = full.count - lastLen
        for cut in lastStart..<full.count {
            // The previous round's repair went on in a new file; only the newest file can be torn.
            for name in try fs.list(dir) where name != "log.1" { try fs.remove(dir + "/" + name) }
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

    /// A bad checksum with valid records after it is damage, not a torn tail: recovery refuses,
    /// naming the file and offset, and changes nothing (cutting there would drop zxids 13-30).
    @Test func corruptChecksumMidLogRefusesNamingFileAndOffset() throws {
        let fs = MemoryFileSystem()
        _ = try write(fs, count: 30, options: .init(maxRecordsPerFile: 10))
        #expect(try fs.list(dir).sorted() == ["log.1", "log.15", "log.b"])
        var second = try fs.read(dir + "/log.b")
        // Flip a payload byte of zxid 13, the third record of the second file.
        var offset = 16
        for z in 11...12 { offset += 16 + payload(z).count }
        second[offset + 17] ^= 0xff
        fs.setContents(dir + "/log.b", second)
        #expect(throws: TxnLogCorruption(path: dir + "/log.b", offset: offset, lastGoodZxid: 12)) { try TxnLog(fs: fs, directory: dir).recover() }
        #expect(try fs.list(dir).sorted() == ["log.1", "log.15", "log.b"])
        #expect(try fs.read(dir + "/log.b") == second)
        #expect("\(TxnLogCorruption(path: dir + "/log.b", offset: offset, lastGoodZxid: 12))".contains("log.b is corrupt at offset \(offset) after zxid 0xc"))

        // The same damage in the newest file, with records after it, is refused too.
        var third = try fs.read(dir + "/log.15")
        fs.setContents(dir + "/log.b", try fs.read(dir + "/log.b").enumerated().map { $0.offset == offset + 17 ? $0.element ^ 0xff : $0.element })
        third[16 + 17] ^= 0x01
        fs.setContents(dir + "/log.15", third)
        #expect(throws: TxnLogCorruption.self) { try TxnLog(fs: fs, directory: dir).recover() }
    }

    /// What a crash leaves at the end of the newest file is cut: a last record with a bad
    /// checksum, or a zeroed tail.
    @Test func badLastRecordAndZeroedTailAreTornTails() throws {
        let fs = MemoryFileSystem()
        _ = try write(fs, count: 5)
        let full = try fs.read(dir + "/log.1")
        var bad = full
        bad[bad.count - 1] ^= 0x40
        fs.setContents(dir + "/log.1", bad)
        #expect(try TxnLog(fs: fs, directory: dir).recover().map(\.zxid) == [1, 2, 3, 4])
        fs.setContents(dir + "/log.1", full + [UInt8](repeating: 0, count: 4096))
        let log = TxnLog(fs: fs, directory: dir)
        #expect(try log.recover().map(\.zxid) == [1, 2, 3, 4, 5])
        #expect(log.report.truncatedBytes == 4096)
        // Zeros over the last record (a block never written) are a torn tail as well.
        let lastLen = 16 + payload(5).count
        fs.setContents(dir + "/log.1", Array(full[0..<(full.count - lastLen)]) + [UInt8](repeating: 0, count: lastLen + 100))
        #expect(try TxnLog(fs: fs, directory: dir).recover().map(\.zxid) == [1, 2, 3, 4])
    }

    @Test func garbageAndHugeLengthsAreNotReplayed() throws {
        let fs = MemoryFileSystem()
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
        let fs = MemoryFileSystem()
        _ = try write(fs, count: 25, options: .init(maxRecordsPerFile: 10))
        #expect(try fs.list(dir).sorted() == ["log.1", "log.15", "log.b"])
        let fs2 = MemoryFileSystem()
        _ = try write(fs2, count: 10, options: .init(maxBytesPerFile: 100))
        #expect(try fs2.list(dir).count > 2)
        #expect(try TxnLog(fs: fs2, directory: dir).recover().count == 10)
    }

    @Test func truncateDropsRecordsAfterZxid() throws {
        let fs = MemoryFileSystem()
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
        let log = try write(MemoryFileSystem(), count: 3)
        #expect(throws: (any Error).self) { try log.append(zxid: 3, bytes: []) }
    }

    @Test func crc32cKnownAnswer() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    }

    @Test func posixFileSystemRecoversTooAndCleansUp() throws {
        let base = "/tmp/txnlog-test-\(UInt64.random(in: 0...UInt64.max))"
        let fs = PosixFileSystem()
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
