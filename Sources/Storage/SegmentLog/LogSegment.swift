import Protocol

/// Where a reader can find bytes for `sendfile`: the handle keeps the descriptor open until the
/// region is sent, even if retention deletes the segment meanwhile.
public struct FileRegion: Sendable {
    public let file: any OpenFile
    public let position: Int
    public let length: Int
    /// The descriptor to `sendfile` from; nil on a file system without one (then `copyBytes`).
    public var fd: Int32? { file.descriptor }

    /// The region's bytes, copied (the fallback when there is no descriptor).
    public func copyBytes() throws -> [UInt8] {
        let b = try file.read(count: length, at: position)
        guard b.count == length else { throw LogError.segmentMissing(path: file.path) }
        return b
    }
}

/// One segment: `<base>.log` holding record batches back to back, plus `.index` and `.timeindex`.
final class LogSegment {
    let baseOffset: Int64
    let dir: String
    let fs: any FileSystem
    let log: any OpenFile
    var index: OffsetIndex
    var timeIndex: TimeIndex
    private(set) var size: Int
    /// Offset after the last batch (baseOffset when empty).
    private(set) var nextOffset: Int64
    /// Largest batch maxTimestamp in the segment (-1 if unknown) and the last offset of that batch.
    private(set) var maxTimestamp: Int64 = -1
    private(set) var offsetOfMaxTimestamp: Int64
    private var bytesSinceIndexEntry = 0
    let createdMs: Int64
    let indexInterval: Int

    /// Largest batch this code will read whole while scanning; a bigger length is treated as corruption.
    static let maxScanBatch = 128 << 20

    static func name(_ base: Int64) -> String {
        let digits = String(base)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    static func logPath(_ dir: String, _ base: Int64) -> String { "\(dir)/\(name(base)).log" }
    static func indexPath(_ dir: String, _ base: Int64) -> String { "\(dir)/\(name(base)).index" }
    static func timeIndexPath(_ dir: String, _ base: Int64) -> String { "\(dir)/\(name(base)).timeindex" }

    private init(fs: any FileSystem, dir: String, baseOffset: Int64, log: any OpenFile, index: OffsetIndex, timeIndex: TimeIndex,
                 size: Int, indexInterval: Int, now: Int64) {
        self.fs = fs
        self.dir = dir
        self.baseOffset = baseOffset
        self.log = log
        self.index = index
        self.timeIndex = timeIndex
        self.size = size
        self.nextOffset = baseOffset
        self.offsetOfMaxTimestamp = baseOffset
        self.indexInterval = indexInterval
        self.createdMs = now
    }

    /// A new empty segment (existing files with its name are emptied).
    static func create(fs: any FileSystem, dir: String, baseOffset: Int64, indexInterval: Int, now: Int64) throws -> LogSegment {
        let log = try fs.create(logPath(dir, baseOffset))
        let idx = try fs.create(indexPath(dir, baseOffset))
        let tidx = try fs.create(timeIndexPath(dir, baseOffset))
        return LogSegment(fs: fs, dir: dir, baseOffset: baseOffset, log: log, index: OffsetIndex(file: idx, baseOffset: baseOffset),
                          timeIndex: TimeIndex(file: tidx, baseOffset: baseOffset), size: 0, indexInterval: indexInterval, now: now)
    }

    /// Opens an existing segment. Indexes are trusted if they pass sanity checks and a short header
    /// scan from the last entry reaches the file end exactly; otherwise, or when the segment holds
    /// offsets at or past `recoveryPoint` (not known to be fsynced), every batch is checked, the
    /// indexes rebuilt and a torn or corrupt tail cut. Returns whether a tail was cut.
    static func open(fs: any FileSystem, dir: String, baseOffset: Int64, indexInterval: Int, recoveryPoint: Int64,
                     now: Int64) throws -> (LogSegment, truncated: Bool) {
        let log = try fs.open(logPath(dir, baseOffset), create: false)
        let size = try log.size()
        let indexesExist = fs.exists(indexPath(dir, baseOffset)) && fs.exists(timeIndexPath(dir, baseOffset))
        let idxFile = try fs.open(indexPath(dir, baseOffset), create: true)
        let tidxFile = try fs.open(timeIndexPath(dir, baseOffset), create: true)
        let seg = LogSegment(fs: fs, dir: dir, baseOffset: baseOffset, log: log, index: OffsetIndex(file: idxFile, baseOffset: baseOffset),
                             timeIndex: TimeIndex(file: tidxFile, baseOffset: baseOffset), size: size,
                             indexInterval: indexInterval, now: now)
        if indexesExist, let idx = try OffsetIndex.load(file: idxFile, baseOffset: baseOffset, logSize: size) {
            seg.index = idx
            if try seg.findEndFromIndex(), seg.nextOffset <= recoveryPoint,
               let tidx = try TimeIndex.load(file: tidxFile, baseOffset: baseOffset, maxOffset: seg.nextOffset) {
                seg.timeIndex = tidx
                if let last = tidx.last {
                    seg.maxTimestamp = last.timestamp
                    seg.offsetOfMaxTimestamp = last.offset
                } else if size > 0 {
                    seg.maxTimestamp = log.modifiedMs
                }
                return (seg, false)
            }
        }
        let cut = try seg.recover()
        return (seg, cut)
    }

    /// Walks batch headers from the last index entry to the end. False if anything looks wrong.
    private func findEndFromIndex() throws -> Bool {
        var pos = index.lookup(Int64.max)
        var next = index.lastOffset.map { $0 + 1 } ?? baseOffset
        while pos < size {
            guard let h = try? header(at: pos), pos + h.totalSize <= size, h.baseOffset >= baseOffset else { return false }
            next = h.nextOffset
            pos += h.totalSize
        }
        guard pos == size else { return false }
        nextOffset = next
        return true
    }

    /// Scans the whole segment, validating every batch, rebuilding both indexes, and cutting the
    /// file at the first torn or corrupt batch. Returns whether it cut anything.
    func recover() throws -> Bool {
        try index.reset()
        try timeIndex.reset()
        nextOffset = baseOffset
        maxTimestamp = -1
        offsetOfMaxTimestamp = baseOffset
        bytesSinceIndexEntry = 0
        var scanner = SegmentScanner(file: log, size: size)
        var pos = 0
        while pos < size {
            // Positions and relative offsets must fit the 32-bit index fields.
            guard pos <= Int(Int32.max), let (h, _) = try scanner.batch(at: pos, validate: true),
                  h.baseOffset >= nextOffset, h.lastOffset - baseOffset <= Int64(Int32.max) else { break }
            noteAppended(header: h, position: pos)
            pos += h.totalSize
        }
        if pos < size {
            try log.truncate(to: pos)
            size = pos
            return true
        }
        return false
    }

    /// Updates offsets, timestamps and index entries for a batch written at `position`.
    private func noteAppended(header h: RecordBatchHeader, position: Int) {
        if h.maxTimestamp > maxTimestamp {
            maxTimestamp = h.maxTimestamp
            offsetOfMaxTimestamp = h.lastOffset
        }
        if bytesSinceIndexEntry > indexInterval {
            index.append(offset: h.lastOffset, position: position)
            timeIndex.append(timestamp: maxTimestamp, offset: offsetOfMaxTimestamp)
            bytesSinceIndexEntry = 0
        }
        bytesSinceIndexEntry += h.totalSize
        nextOffset = h.nextOffset
    }

    /// Appends already validated batches (their headers given in order; `parts` laid end to end
    /// are their bytes), in one gather write.
    func append(_ parts: [UnsafeRawBufferPointer], headers: [RecordBatchHeader]) throws {
        let start = size
        do {
            try log.write(parts, at: start)
        } catch {
            // A short write (a full disk) must not leave a torn batch for readers, followers or
            // recovery; if the cut itself fails the file no longer matches `size`: not a space error.
            do {
                try log.truncate(to: start)
            } catch LogError.io(_, let path, let code) {
                throw LogError.io(op: "ftruncate after a failed write (\(error))", path: path, errno: code)
            }
            throw error
        }
        var pos = start
        for h in headers {
            noteAppended(header: h, position: pos)
            pos += h.totalSize
        }
        size = pos
    }

    /// The batch header at `position`, nil at end of segment.
    func header(at position: Int) throws -> RecordBatchHeader? {
        guard position < size else { return nil }
        var buf = [UInt8](repeating: 0, count: RecordBatchLayout.headerSize)
        let n = try buf.withUnsafeMutableBytes { try log.read(into: $0, at: position) }
        if n < buf.count {
            if !log.isLinked { throw LogError.segmentMissing(path: log.path) }
            throw LogError.corruptFile(path: log.path, reason: "short batch header at \(position)")
        }
        do {
            let h = try RecordBatchHeader.parse(buf)
            guard position + h.totalSize <= size else {
                throw LogError.corruptFile(path: log.path, reason: "batch at \(position) runs past end")
            }
            return h
        } catch let e as RecordBatchError {
            throw LogError.corruptFile(path: log.path, reason: "batch at \(position): \(e)")
        }
    }

    /// The first batch whose last offset is >= `offset`, found by index lookup and a short scan.
    func translate(_ offset: Int64) throws -> (position: Int, header: RecordBatchHeader)? {
        var pos = index.lookup(offset)
        while let h = try header(at: pos) {
            if h.lastOffset >= offset { return (pos, h) }
            pos += h.totalSize
        }
        return nil
    }

    /// First offset whose record timestamp is >= `timestamp`, if this segment has one.
    func offset(forTimestamp timestamp: Int64) throws -> Int64? {
        guard maxTimestamp >= timestamp else { return nil }
        var pos = timeIndex.offsetBefore(timestamp).map { index.lookup($0) } ?? 0
        while let h = try header(at: pos) {
            if h.maxTimestamp >= timestamp {
                let bytes = try log.read(count: h.totalSize, at: pos)
                // The exact record when it can be decoded; the batch start otherwise.
                if let recs = try? RecordBatch.records(of: bytes).records,
                   let r = recs.first(where: { $0.timestamp >= timestamp }) {
                    return r.offset
                }
                return h.baseOffset
            }
            pos += h.totalSize
        }
        return nil
    }

    /// Cuts the segment before the batch holding `offset`. Returns the new next offset.
    @discardableResult
    func truncate(toOffset offset: Int64) throws -> Int64 {
        guard let (pos, h) = try translate(offset) else { return nextOffset }
        try log.truncate(to: pos)
        size = pos
        try index.truncate(toPosition: pos)
        try timeIndex.truncate(toOffset: h.baseOffset)
        nextOffset = h.baseOffset
        if let last = timeIndex.last {
            maxTimestamp = last.timestamp
            offsetOfMaxTimestamp = last.offset
        } else if pos == 0 {
            maxTimestamp = -1
            offsetOfMaxTimestamp = baseOffset
        }
        // Reindexing resumes from here; re-adding entries is harmless.
        bytesSinceIndexEntry = indexInterval + 1
        return nextOffset
    }

    /// Records the final timestamp entry so retention can find it after a restart.
    func onBecomeInactive() {
        if maxTimestamp >= 0 { timeIndex.append(timestamp: maxTimestamp, offset: offsetOfMaxTimestamp) }
    }

    func writeIndexes() throws {
        try index.writePending()
        try timeIndex.writePending()
    }

    /// fsyncs the log, then writes and fsyncs the indexes. Returns false when the indexes could not
    /// be written for lack of space: the records are durable, but the segment must stay above the
    /// recovery point so a restart rebuilds its indexes (they are retried on the next flush).
    @discardableResult
    func flush() throws -> Bool {
        guard log.isLinked else { throw LogError.segmentMissing(path: log.path) }
        try log.sync()
        do {
            try writeIndexes()
        } catch let e as LogError where e.isOutOfSpace {
            return false
        }
        try index.file.sync()
        try timeIndex.file.sync()
        return true
    }

    func read(position: Int, count: Int) throws -> [UInt8] {
        let b = try log.read(count: count, at: position)
        if b.count < count {
            if !log.isLinked { throw LogError.segmentMissing(path: log.path) }
            throw LogError.corruptFile(path: log.path, reason: "short read at \(position)")
        }
        return b
    }

    func deleteFiles() throws {
        try fs.remove(log.path)
        try fs.remove(index.file.path)
        try fs.remove(timeIndex.file.path)
    }
}

/// Sequential batch reader with a large buffer, for recovery and compaction scans.
struct SegmentScanner {
    let file: any OpenFile
    let size: Int
    private var buf: [UInt8] = []
    private var bufStart = 0

    init(file: any OpenFile, size: Int) {
        self.file = file
        self.size = size
    }

    private mutating func ensure(_ pos: Int, _ count: Int) throws -> Bool {
        if pos >= bufStart, pos + count <= bufStart + buf.count { return true }
        guard pos + count <= size else { return false }
        buf = try file.read(count: min(size - pos, max(count, 1 << 20)), at: pos)
        bufStart = pos
        return buf.count >= count
    }

    /// The batch at `pos` and its bytes' range in the returned buffer; nil if torn or (when
    /// `validate`) corrupt, which is where recovery cuts.
    mutating func batch(at pos: Int, validate: Bool) throws -> (RecordBatchHeader, [UInt8])? {
        guard try ensure(pos, RecordBatchLayout.headerSize) else { return nil }
        let rel = pos - bufStart
        let length = buf.withUnsafeBytes { Int(Int32(bigEndian: $0.loadUnaligned(fromByteOffset: rel + 8, as: Int32.self))) }
        guard length >= RecordBatchLayout.minBatchLength, length + 12 <= LogSegment.maxScanBatch else { return nil }
        guard try ensure(pos, length + 12) else { return nil }
        let r = pos - bufStart
        let h: RecordBatchHeader? = buf.withUnsafeBytes { raw in
            let b = UnsafeRawBufferPointer(rebasing: raw[r..<r + length + 12])
            return validate ? try? RecordBatch.validate(b) : try? RecordBatchHeader.parse(b)
        }
        guard let h else { return nil }
        return (h, Array(buf[r..<r + h.totalSize]))
    }
}
