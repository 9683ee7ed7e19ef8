import Glibc
import Protocol

/// Errors the log reports to handlers; each maps to a Kafka error code.
public enum LogError: Error, Equatable, Sendable {
    case corrupt(String)
    case io(String, Int32)
    case tooLarge(Int)
}

/// A partition's log in one append-only file of v2 record batches, with an in-memory batch index
/// rebuilt at open (so recovery after kill -9 is "keep the valid prefix"). It stands in for the
/// storage module's segmented `PartitionLog` behind the same few operations the broker needs.
/// Not thread-safe: the replica manager serialises access.
public final class LocalLog: @unchecked Sendable {
    struct BatchEntry {
        var baseOffset: Int64
        var lastOffset: Int64
        var position: Int
        var size: Int
        var maxTimestamp: Int64
        var leaderEpoch: Int32
    }

    public let dir: String
    public let fd: Int32
    private var batches: [BatchEntry] = []
    private var fileSize = 0
    public private(set) var logStartOffset: Int64 = 0
    public private(set) var logEndOffset: Int64 = 0
    /// (epoch, start offset) pairs, ascending: which leader epoch wrote which offsets.
    public private(set) var epochs: [(epoch: Int32, start: Int64)] = []
    private var dirty = false

    static let logName = "00000000000000000000.log"
    static let epochName = "leader-epoch-checkpoint"
    static let startName = "log-start-offset"

    public init(dir: String) throws {
        self.dir = dir
        try LocalLog.mkdirs(dir)
        let path = dir + "/" + LocalLog.logName
        let f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard f >= 0 else { throw LogError.io("open \(path)", errno) }
        fd = f
        if let s = LocalLog.readSmallFile(dir + "/" + LocalLog.startName), let v = Int64(s.trimmed) {
            logStartOffset = max(0, v)
        }
        logEndOffset = logStartOffset
        try recover()
        loadEpochs()
    }

    deinit { close(fd) }

    /// Rebuilds the index from the file, cutting it at the first torn or corrupt batch.
    private func recover() throws {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LogError.io("fstat", errno) }
        let size = Int(st.st_size)
        var pos = 0
        var header = [UInt8](repeating: 0, count: RecordBatchLayout.headerSize)
        while pos + RecordBatchLayout.headerSize <= size {
            guard pread(fd, &header, header.count, off_t(pos)) == header.count,
                  let h = try? RecordBatchHeader.parse(header), pos + h.totalSize <= size else { break }
            var whole = [UInt8](repeating: 0, count: h.totalSize)
            guard pread(fd, &whole, whole.count, off_t(pos)) == whole.count,
                  (try? RecordBatch.validate(whole)) != nil,
                  h.baseOffset >= logEndOffset || batches.isEmpty else { break }
            batches.append(BatchEntry(baseOffset: h.baseOffset, lastOffset: h.lastOffset, position: pos,
                                      size: h.totalSize, maxTimestamp: h.maxTimestamp, leaderEpoch: h.partitionLeaderEpoch))
            logEndOffset = max(logEndOffset, h.nextOffset)
            pos += h.totalSize
        }
        if pos != size { _ = ftruncate(fd, off_t(pos)) }
        fileSize = pos
        if let first = batches.first, first.baseOffset > logStartOffset { logStartOffset = first.baseOffset }
    }

    // MARK: - Append

    /// Leader append: validates every batch (CRC), assigns offsets from the log end and stamps the epoch.
    public func append(_ records: [UInt8], leaderEpoch: Int32, now: Int64, maxBatchBytes: Int) throws -> (first: Int64, last: Int64) {
        var buf = records
        let split: [(header: RecordBatchHeader, range: Range<Int>)]
        do {
            let s = try RecordBatch.split(buf, validateCRC: true)
            guard s.trailingBytes == 0, !s.batches.isEmpty else { throw LogError.corrupt("truncated record batch") }
            split = s.batches
        } catch let e as LogError { throw e } catch { throw LogError.corrupt("\(error)") }
        var next = logEndOffset
        let first = next
        for b in split {
            if b.header.totalSize > maxBatchBytes { throw LogError.tooLarge(b.header.totalSize) }
            guard b.header.lastOffsetDelta >= 0, b.header.recordsCount >= 0 else { throw LogError.corrupt("bad offset delta") }
        }
        buf.withUnsafeMutableBytes { raw in
            for b in split {
                let slice = UnsafeMutableRawBufferPointer(rebasing: raw[b.range])
                RecordBatch.setBaseOffset(next, in: slice)
                RecordBatch.setPartitionLeaderEpoch(leaderEpoch, in: slice)
                next += Int64(b.header.lastOffsetDelta) + 1
            }
        }
        if epochs.last.map({ $0.epoch < leaderEpoch }) ?? true { assignEpoch(leaderEpoch, start: first) }
        try write(buf, split.map { ($0.header, $0.range) }, assigned: true, first: first, epoch: leaderEpoch)
        return (first, next - 1)
    }

    /// Follower append: batches keep the leader's offsets; batches already present are skipped.
    public func appendAsFollower(_ records: [UInt8]) throws -> Int {
        let split: [(header: RecordBatchHeader, range: Range<Int>)]
        do { split = try RecordBatch.split(records, validateCRC: true).batches } catch { throw LogError.corrupt("\(error)") }
        var keep: [(RecordBatchHeader, Range<Int>)] = []
        var expect = logEndOffset
        for b in split where b.header.lastOffset >= expect {
            guard b.header.baseOffset == expect || (batches.isEmpty && b.header.baseOffset >= expect) else {
                throw LogError.corrupt("follower batch at \(b.header.baseOffset), log end \(expect)")
            }
            if b.header.baseOffset > expect { logStartOffset = b.header.baseOffset; persistStart() }
            if epochs.last.map({ $0.epoch < b.header.partitionLeaderEpoch }) ?? true {
                assignEpoch(b.header.partitionLeaderEpoch, start: b.header.baseOffset)
            }
            keep.append((b.header, b.range))
            expect = b.header.nextOffset
        }
        guard !keep.isEmpty else { return 0 }
        var out: [UInt8] = []
        var ranges: [(RecordBatchHeader, Range<Int>)] = []
        for (h, r) in keep {
            ranges.append((h, out.count..<out.count + r.count))
            out.append(contentsOf: records[r])
        }
        try write(out, ranges, assigned: false, first: keep[0].0.baseOffset, epoch: nil)
        return keep.count
    }

    private func write(_ bytes: [UInt8], _ ranges: [(RecordBatchHeader, Range<Int>)], assigned: Bool, first: Int64, epoch: Int32?) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(fileSize + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                _ = ftruncate(fd, off_t(fileSize))
                throw LogError.io("write \(dir)", errno)
            }
            done += n
        }
        var next = first
        for (h, r) in ranges {
            let base = assigned ? next : h.baseOffset
            let last = base + Int64(h.lastOffsetDelta)
            batches.append(BatchEntry(baseOffset: base, lastOffset: last, position: fileSize + r.lowerBound, size: r.count,
                                      maxTimestamp: h.maxTimestamp, leaderEpoch: epoch ?? h.partitionLeaderEpoch))
            next = last + 1
        }
        fileSize += bytes.count
        logEndOffset = next
        dirty = true
    }

    // MARK: - Read

    /// A file region of whole batches starting at the batch holding `offset`, ending before
    /// `maxOffset` (exclusive), at most `maxBytes` unless the first batch alone is larger.
    public func read(from offset: Int64, maxBytes: Int, maxOffset: Int64) -> (position: Int, count: Int) {
        guard offset >= logStartOffset, offset < logEndOffset, offset < maxOffset else { return (0, 0) }
        var lo = 0, hi = batches.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if batches[mid].lastOffset < offset { lo = mid + 1 } else { hi = mid }
        }
        guard lo < batches.count else { return (0, 0) }
        let start = batches[lo].position
        var end = start
        var i = lo
        while i < batches.count, batches[i].lastOffset < maxOffset {
            if end > start && end + batches[i].size - start > maxBytes { break }
            end += batches[i].size
            i += 1
        }
        return (start, end - start)
    }

    public func readBytes(position: Int, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        let n = pread(fd, &out, count, off_t(position))
        if n < count { out.removeSubrange(max(0, n)...) }
        return out
    }

    /// First offset whose batch has a timestamp at or after `timestamp`, nil if none.
    public func offset(forTimestamp timestamp: Int64) -> Int64? {
        for b in batches where b.maxTimestamp >= timestamp && b.lastOffset >= logStartOffset {
            return max(b.baseOffset, logStartOffset)
        }
        return nil
    }

    // MARK: - Epochs

    public var latestEpoch: Int32 { epochs.last?.epoch ?? -1 }

    public func assignEpoch(_ epoch: Int32, start: Int64) {
        guard epoch >= 0 else { return }
        if let last = epochs.last {
            if last.epoch > epoch { return }
            if last.epoch == epoch { return }
        }
        epochs.removeAll { $0.start >= start }
        epochs.append((epoch, start))
        persistEpochs()
    }

    /// Kafka's OffsetForLeaderEpoch answer: the largest epoch ≤ requested and where it ended.
    public func endOffset(forEpoch requested: Int32) -> (epoch: Int32, offset: Int64) {
        guard let latest = epochs.last else { return (-1, -1) }
        if requested == latest.epoch { return (latest.epoch, logEndOffset) }
        guard let idx = epochs.lastIndex(where: { $0.epoch <= requested }) else { return (-1, -1) }
        let end = idx + 1 < epochs.count ? epochs[idx + 1].start : logEndOffset
        return (epochs[idx].epoch, end)
    }

    // MARK: - Truncation, flush

    /// Drops every batch at or after `offset` (rounded down to a batch boundary).
    public func truncate(to offset: Int64) throws {
        guard offset < logEndOffset else { return }
        guard let idx = batches.firstIndex(where: { $0.lastOffset >= offset }) else { return }
        let pos = batches[idx].position
        guard ftruncate(fd, off_t(pos)) == 0 else { throw LogError.io("truncate \(dir)", errno) }
        batches.removeSubrange(idx...)
        fileSize = pos
        logEndOffset = batches.last.map { $0.lastOffset + 1 } ?? max(logStartOffset, min(offset, logEndOffset))
        if batches.isEmpty { logEndOffset = logStartOffset }
        let before = epochs.count
        epochs.removeAll { $0.start >= logEndOffset && $0.start > logStartOffset }
        if epochs.count != before { persistEpochs() }
        _ = fsync(fd)
    }

    /// Empties the log and restarts it at `offset` (a follower far behind a leader's log start).
    public func truncateFullyAndStartAt(_ offset: Int64) throws {
        guard ftruncate(fd, 0) == 0 else { throw LogError.io("truncate \(dir)", errno) }
        batches = []
        fileSize = 0
        logStartOffset = offset
        logEndOffset = offset
        epochs = []
        persistEpochs()
        persistStart()
    }

    public func flush() {
        guard dirty else { return }
        _ = fsync(fd)
        dirty = false
    }

    public func deleteFiles() {
        for name in [LocalLog.logName, LocalLog.epochName, LocalLog.startName] { unlink(dir + "/" + name) }
        rmdir(dir)
    }

    // MARK: - Small files

    private func loadEpochs() {
        guard let text = LocalLog.readSmallFile(dir + "/" + LocalLog.epochName) else { return }
        let lines = text.split(separator: "\n").map { String($0) }
        guard lines.count >= 2, lines[0].trimmed == "0", let n = Int(lines[1].trimmed), n >= 0 else { return }
        var out: [(Int32, Int64)] = []
        for line in lines.dropFirst(2).prefix(n) {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let e = Int32(parts[0]), let s = Int64(parts[1]) else { return }
            if s <= logEndOffset { out.append((e, s)) }
        }
        epochs = out.map { (epoch: $0.0, start: $0.1) }
    }

    private func persistEpochs() {
        var s = "0\n\(epochs.count)\n"
        for e in epochs { s += "\(e.epoch) \(e.start)\n" }
        LocalLog.writeFileAtomically(dir + "/" + LocalLog.epochName, s)
    }

    private func persistStart() {
        LocalLog.writeFileAtomically(dir + "/" + LocalLog.startName, "\(logStartOffset)\n")
    }

    static func mkdirs(_ path: String) throws {
        var cur = ""
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            cur += "/" + part
            if mkdir(cur, 0o755) != 0 && errno != EEXIST { throw LogError.io("mkdir \(cur)", errno) }
        }
    }

    static func readSmallFile(_ path: String, limit: Int = 1 << 22) -> String? {
        let f = open(path, O_RDONLY | O_CLOEXEC)
        guard f >= 0 else { return nil }
        defer { close(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while out.count < limit {
            let n = Glibc.read(f, &buf, buf.count)
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Write to a temp file, fsync, rename: a crash leaves the old or the new file, never half of one.
    static func writeFileAtomically(_ path: String, _ text: String) {
        let tmp = path + ".tmp"
        let f = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard f >= 0 else { return }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(f, $0.baseAddress, $0.count) }
        _ = fsync(f)
        close(f)
        rename(tmp, path)
    }
}
