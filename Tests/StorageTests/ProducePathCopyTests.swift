import Glibc
import Protocol
import Synchronization
import Testing
@testable import Storage

/// The produce path's promise (docs/architecture.md, "The produce path"): the log writes a leader's
/// batches from the caller's own bytes, patching only baseOffset and partitionLeaderEpoch in a side
/// buffer, so the request frame's bytes reach the file with no copy in user space.
@Suite struct ProducePathCopyTests {
    /// Three batches laid end to end, as a producer sends them for one partition.
    static func records() throws -> [UInt8] {
        try (0..<3).flatMap { i in try makeBatch(count: 2 + i, valueSize: 40 + i, timestamp: 1000 + Int64(i)) }
    }

    @Test func leaderAppendWritesTheCallersBytesNotACopy() throws {
        let rec = WriteRecordingFileSystem()
        let log = try PartitionLog.open(fs: rec.fs, dir: "/p", now: 0)
        _ = try log.append(try makeBatch(count: 1), leaderEpoch: 3, now: 0)
        let records = try Self.records()
        rec.clear()
        try records.withUnsafeBytes { caller in
            _ = try log.append(records, leaderEpoch: 3, now: 0)
            let parts = rec.parts()
            #expect(parts.reduce(0) { $0 + $1.count } == records.count)
            // Every byte but the 16-byte header prefixes (baseOffset..partitionLeaderEpoch) of the
            // three batches was written straight from the caller's memory.
            let borrowed = parts.filter { $0.isInside(caller) }.reduce(0) { $0 + $1.count }
            #expect(borrowed == records.count - 3 * 16)
        }
        // On disk: the very bytes of the request, but for the assigned offsets and the epoch.
        let onDisk = try log.readBytes(from: 1, maxBytes: 1 << 20)
        #expect(onDisk.count == records.count)
        var expected = records
        var pos = 0
        var next: Int64 = 1
        while pos < expected.count {
            let h = try RecordBatchHeader.parse(expected, at: pos)
            expected.withUnsafeMutableBytes { b in
                let batch = UnsafeMutableRawBufferPointer(rebasing: b[pos..<pos + h.totalSize])
                RecordBatch.setBaseOffset(next, in: batch)
                RecordBatch.setPartitionLeaderEpoch(3, in: batch)
            }
            next += Int64(h.recordsCount)
            pos += h.totalSize
        }
        #expect(onDisk == expected)
        #expect(try RecordBatch.split(onDisk).batches.count == 3)
    }

    @Test func aSliceOfALargerFrameIsWrittenInPlace() throws {
        let rec = WriteRecordingFileSystem()
        let log = try PartitionLog.open(fs: rec.fs, dir: "/p", now: 0)
        let records = try Self.records()
        let frame = [UInt8](repeating: 0xEE, count: 37) + records + [1, 2, 3]
        let slice = frame[37..<(37 + records.count)]
        rec.clear()
        let info = try log.append(slice, leaderEpoch: 0, now: 0)
        #expect(info.batchCount == 3 && info.firstOffset == 0)
        frame.withUnsafeBytes { whole in
            let borrowed = rec.parts().filter { $0.isInside(whole) }.reduce(0) { $0 + $1.count }
            #expect(borrowed == records.count - 3 * 16)
        }
        #expect(frame[37..<(37 + records.count)].elementsEqual(records), "the caller's bytes are not modified")
    }

    @Test func logAppendTimeReSealsTheHeaderCopyAndLeavesTheCallerAlone() throws {
        var config = LogConfig()
        config.messageTimestampType = .logAppendTime
        let rec = WriteRecordingFileSystem()
        let log = try PartitionLog.open(fs: rec.fs, dir: "/p", config: config, now: 0)
        let records = try Self.records()
        let before = records
        rec.clear()
        let info = try log.append(records, leaderEpoch: 1, now: 987_654)
        #expect(info.logAppendTime == 987_654)
        #expect(records == before)
        records.withUnsafeBytes { caller in
            let borrowed = rec.parts().filter { $0.isInside(caller) }.reduce(0) { $0 + $1.count }
            #expect(borrowed == records.count - 3 * RecordBatchLayout.headerSize)
        }
        let onDisk = try log.readBytes(from: 0, maxBytes: 1 << 20)
        let batches = try RecordBatch.split(onDisk).batches  // CRCs checked
        #expect(batches.count == 3)
        for b in batches {
            #expect(b.header.timestampType == .logAppendTime && b.header.maxTimestamp == 987_654)
            #expect(onDisk[b.range].dropFirst(RecordBatchLayout.headerSize).elementsEqual(records[b.range].dropFirst(RecordBatchLayout.headerSize)))
        }
    }

    @Test func followerAppendWritesTheFetchedBytesAsTheyAre() throws {
        let leader = try PartitionLog.open(fs: MemoryFileSystem(), dir: "/l", now: 0)
        _ = try leader.append(try Self.records(), leaderEpoch: 2, now: 0)
        let fetched = try leader.readBytes(from: 0, maxBytes: 1 << 20)
        let rec = WriteRecordingFileSystem()
        let follower = try PartitionLog.open(fs: rec.fs, dir: "/f", now: 0)
        rec.clear()
        _ = try follower.appendAsFollower(fetched, now: 0)
        fetched.withUnsafeBytes { caller in
            #expect(rec.parts().count == 1 && rec.parts()[0].isInside(caller) && rec.parts()[0].count == fetched.count)
        }
        #expect(try follower.readBytes(from: 0, maxBytes: 1 << 20) == fetched)
        #expect(follower.leaderEpochCache.entries.map(\.epoch) == [2])
    }

    @Test func parsedHeadersAreTakenAndTheRecordsStillChecked() throws {
        let log = try PartitionLog.open(fs: MemoryFileSystem(), dir: "/p", now: 0)
        let records = try Self.records()
        let parsed = try records.withUnsafeBytes { try RecordBatch.headers(of: $0) }
        #expect(parsed.headers.count == 3 && parsed.trailingBytes == 0)
        #expect(try log.append(records, leaderEpoch: 0, now: 0, parsed: parsed.headers).recordCount == 2 + 3 + 4)
        // A flipped record byte still fails the CRC though the header was parsed by the caller.
        var bad = records
        bad[bad.count - 2] ^= 0xFF
        let h = try bad.withUnsafeBytes { try RecordBatch.headers(of: $0) }.headers
        #expect(throws: LogError.self) { try log.append(bad, leaderEpoch: 0, now: 0, parsed: h) }
        #expect(log.logEndOffset == 9)
    }

    @Test func posixGatherWriteCrossesTheIOVecLimitAndKeepsOrder() throws {
        try withTempDir { dir in
            let f = try posixFS.create("\(dir)/g")
            let chunks: [[UInt8]] = (0..<3000).map { i in [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 1 + i % 7) }
            let pointers = chunks.map { c in c.withUnsafeBytes { UnsafeRawBufferPointer(start: UnsafeRawPointer($0.baseAddress), count: $0.count) } }
            try withExtendedLifetime(chunks) { try f.write(pointers, at: 5) }
            let back = try f.read(count: 1 << 20, at: 0)
            #expect(back == [UInt8](repeating: 0, count: 5) + chunks.flatMap { $0 })
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Whether these bytes lie within `outer`'s memory (the same storage, not an equal copy).
    func isInside(_ outer: UnsafeRawBufferPointer) -> Bool {
        guard let b = baseAddress, let o = outer.baseAddress else { return false }
        return b >= o && b + count <= o + outer.count
    }
}

/// The memory file system behind a write observer: where each segment write's bytes came from
/// (their addresses), to tell a write from the caller's memory from a write of a copy.
final class WriteRecordingFileSystem: Sendable {
    let fs: FaultInjectingFileSystem
    /// (address, count) of each write's source bytes.
    private let written = Mutex<[(UInt, Int)]>([])

    init() {
        fs = FaultInjectingFileSystem(MemoryFileSystem())
        fs.observeWrites { [weak self] path, b in
            // Segment logs only: indexes and checkpoints are not the produced bytes.
            if path.hasSuffix(".log") { self?.written.withLock { $0.append((UInt(bitPattern: b.baseAddress), b.count)) } }
        }
    }

    func clear() { written.withLock { $0.removeAll() } }
    /// The writes since `clear`, part by part (valid only while their source is alive).
    func parts() -> [UnsafeRawBufferPointer] { written.withLock { $0.map { UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: $0.0), count: $0.1) } } }
}
