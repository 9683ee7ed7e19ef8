import Protocol

public struct AppendInfo: Equatable, Sendable {
    public var firstOffset: Int64
    public var lastOffset: Int64
    public var maxTimestamp: Int64
    public var offsetOfMaxTimestamp: Int64
    /// The broker's time when the topic uses LogAppendTime, else -1.
    public var logAppendTime: Int64
    public var logStartOffset: Int64
    public var batchCount: Int
    public var recordCount: Int
    public var validBytes: Int
}

public struct LogReadResult: Sendable {
    /// Bytes to send; nil when there is nothing at or after the offset (below `maxOffset`).
    public var region: FileRegion?
    /// Base offset of the first batch in the region.
    public var firstBatchOffset: Int64?
    public var logStartOffset: Int64
    public var logEndOffset: Int64
}

public struct CompactionResult: Equatable, Sendable {
    public var segmentsCleaned = 0
    public var recordsRemoved = 0
    public var bytesBefore = 0
    public var bytesAfter = 0
}

/// One partition's log: a directory of segments. Not thread-safe: confine it to one thread.
/// The caller passes wall-clock `now` (ms) where time matters; nothing here reads a clock.
public final class PartitionLog {
    public let dir: String
    /// Where the files live: the POSIX file system in brokerd, a memory one in simulations.
    public let fs: any FileSystem
    public private(set) var config: LogConfig
    private var segments: [LogSegment]
    public private(set) var logStartOffset: Int64
    /// Everything below this offset is fsynced.
    public private(set) var recoveryPoint: Int64
    public private(set) var leaderEpochCache: LogEpochCache
    /// Set after an I/O failure or corruption; every later call throws `LogError.offline`.
    public private(set) var offlineReason: String?
    private var unflushedRecords: Int64 = 0
    private var lastFlushMs: Int64
    private var dirNeedsSync = false
    /// The epoch cache changed but its checkpoint could not be written (a full disk). No record is
    /// appended until it is, so the file never lags behind records of a newer epoch.
    private var epochsUnpersisted = false

    public static let epochCheckpointName = "leader-epoch-checkpoint"

    private init(fs: any FileSystem, dir: String, config: LogConfig, segments: [LogSegment], logStartOffset: Int64, recoveryPoint: Int64,
                 epochs: LogEpochCache, now: Int64) {
        self.fs = fs
        self.dir = dir
        self.config = config
        self.segments = segments
        self.logStartOffset = logStartOffset
        self.recoveryPoint = recoveryPoint
        self.leaderEpochCache = epochs
        self.lastFlushMs = now
    }

    // MARK: state

    private var active: LogSegment { segments[segments.count - 1] }  // never empty: open/truncate keep one
    public var logEndOffset: Int64 { active.nextOffset }
    public var isOffline: Bool { offlineReason != nil }
    public var size: Int { segments.reduce(0) { $0 + $1.size } }
    public var segmentBaseOffsets: [Int64] { segments.map(\.baseOffset) }
    public var unflushedRecordCount: Int64 { unflushedRecords }

    public func updateConfig(_ c: LogConfig) { config = c }

    /// Runs a state-changing step; I/O errors and corruption take the log offline. A write refused
    /// for lack of space (`isOutOfSpace`) does not: every step leaves the log as it was before
    /// (a partial append is cut away), so the next attempt may succeed once space returns.
    private func guarded<T>(_ body: () throws -> T) throws -> T {
        if let r = offlineReason { throw LogError.offline(r) }
        do {
            return try body()
        } catch let e as LogError {
            switch e {
            case .io where e.isOutOfSpace: break
            case .io, .segmentMissing, .corruptFile: offlineReason = e.description
            default: break
            }
            throw e
        }
    }

    // MARK: open

    /// Opens (or creates) the log in `dir`. Segments from the one holding `recoveryPoint` onwards
    /// are scanned and a torn or corrupt tail is cut; everything after a cut is dropped.
    public static func open(fs: any FileSystem = PosixFileSystem(), dir: String, config: LogConfig = LogConfig(),
                            recoveryPoint: Int64 = 0, logStartOffset: Int64 = 0, now: Int64) throws -> PartitionLog {
        try fs.makeDirectory(dir)
        var bases: [Int64] = []
        let names = try fs.list(dir)
        for name in names {
            if name.hasSuffix(".cleaned") || name.hasSuffix(".tmp") || name.hasSuffix(".deleted") || name.hasSuffix(".swap") {
                try fs.remove("\(dir)/\(name)")  // leftovers of an interrupted compaction or write
            } else if name.hasSuffix(".log"), let b = Int64(name.dropLast(4)), name.count == 24, b >= 0 {
                bases.append(b)
            }
        }
        bases.sort()
        for name in names where name.hasSuffix(".index") || name.hasSuffix(".timeindex") {
            let stem = name.hasSuffix(".index") ? name.dropLast(6) : name.dropLast(10)
            if let b = Int64(stem), !bases.contains(b) { try fs.remove("\(dir)/\(name)") }
        }
        var segments: [LogSegment] = []
        if bases.isEmpty {
            segments.append(try LogSegment.create(fs: fs, dir: dir, baseOffset: max(0, logStartOffset), indexInterval: config.indexIntervalBytes, now: now))
        } else {
            for (i, b) in bases.enumerated() {
                let (seg, cut) = try LogSegment.open(fs: fs, dir: dir, baseOffset: b, indexInterval: config.indexIntervalBytes,
                                                     recoveryPoint: recoveryPoint, now: now)
                segments.append(seg)
                if cut || (i + 1 < bases.count && seg.nextOffset > bases[i + 1]) {
                    // Data after a corrupt point cannot be trusted to be contiguous.
                    for later in bases[(i + 1)...] {
                        for p in [LogSegment.logPath(dir, later), LogSegment.indexPath(dir, later), LogSegment.timeIndexPath(dir, later)] {
                            try fs.remove(p)
                        }
                    }
                    break
                }
            }
        }
        let leo = segments[segments.count - 1].nextOffset
        let start = min(max(logStartOffset, segments[0].baseOffset), leo)
        var epochs = LogEpochCache()
        let epochPath = "\(dir)/\(epochCheckpointName)"
        if fs.exists(epochPath) {
            epochs = try LogEpochCache.decode(try fs.read(epochPath), path: epochPath)
        }
        let log = PartitionLog(fs: fs, dir: dir, config: config, segments: segments, logStartOffset: start,
                               recoveryPoint: min(recoveryPoint, leo), epochs: epochs, now: now)
        var changed = log.leaderEpochCache.truncateFromEnd(leo)
        changed = log.leaderEpochCache.truncateFromStart(start) || changed
        // A restart on a full disk still opens the log; the first append writes the checkpoint.
        if changed { try log.persistEpochsOrDefer() }
        for seg in segments.dropLast() { seg.onBecomeInactive() }
        return log
    }

    private func persistEpochs() throws {
        epochsUnpersisted = true
        try fs.replaceAtomically("\(dir)/\(Self.epochCheckpointName)", with: leaderEpochCache.encode(), directory: dir)
        epochsUnpersisted = false
    }

    /// After a truncation or a new epoch at the log end: a full disk only defers the checkpoint
    /// (the next append or flush writes it first); other failures throw.
    private func persistEpochsOrDefer() throws {
        do {
            try persistEpochs()
        } catch let e as LogError where e.isOutOfSpace {}
    }

    // MARK: append

    /// Leader append: validates each batch (header, CRC, size, records), assigns offsets from the
    /// log end and stamps partitionLeaderEpoch (the CRC covers neither), and writes the bytes
    /// unchanged otherwise. No fsync unless the flush policy asks for one.
    /// `allowControl`: the broker's own transaction markers (clients may not write control batches).
    /// `parsed`: the batch headers of `records` when the caller already split them (the produce
    /// path's idempotence check), so the headers are not parsed twice.
    public func append(_ records: [UInt8], leaderEpoch: Int32, now: Int64, assignOffsets: Bool = true,
                       allowControl: Bool = false, parsed: [RecordBatchHeader]? = nil) throws -> AppendInfo {
        try records.withUnsafeBytes {
            try append(bytes: $0, leaderEpoch: leaderEpoch, now: now, assignOffsets: assignOffsets, allowControl: allowControl, parsed: parsed)
        }
    }

    /// The same for a slice of a larger buffer (a produce request's records inside its frame).
    public func append(_ records: ArraySlice<UInt8>, leaderEpoch: Int32, now: Int64, assignOffsets: Bool = true,
                       allowControl: Bool = false, parsed: [RecordBatchHeader]? = nil) throws -> AppendInfo {
        try records.withUnsafeBytes {
            try append(bytes: $0, leaderEpoch: leaderEpoch, now: now, assignOffsets: assignOffsets, allowControl: allowControl, parsed: parsed)
        }
    }

    /// Follower append: offsets and epochs are the leader's; a partial last batch (allowed in fetch
    /// responses) is ignored.
    public func appendAsFollower(_ records: [UInt8], now: Int64) throws -> AppendInfo {
        try records.withUnsafeBytes { try append(bytes: $0, leaderEpoch: -1, now: now, assignOffsets: false) }
    }

    /// The zero-copy form: `bytes` are borrowed, never modified nor copied. The fields a leader
    /// rewrites live in the first bytes of each batch header; those go into a small side buffer and
    /// the file gets one gather write of side buffer and caller bytes in turn.
    public func append(bytes: UnsafeRawBufferPointer, leaderEpoch: Int32, now: Int64, assignOffsets: Bool,
                       allowControl: Bool = false, parsed: [RecordBatchHeader]? = nil) throws -> AppendInfo {
        try guarded {
            var (headers, pos) = try AppendValidation(config: config, asLeader: assignOffsets, allowControl: allowControl)
                .headers(of: bytes, parsed: parsed)
            guard !headers.isEmpty else {
                return AppendInfo(firstOffset: -1, lastOffset: -1, maxTimestamp: -1, offsetOfMaxTimestamp: -1, logAppendTime: -1,
                                  logStartOffset: logStartOffset, batchCount: 0, recordCount: 0, validBytes: 0)
            }
            var logAppendTime: Int64 = -1
            let appendTime = assignOffsets && config.messageTimestampType == .logAppendTime
            if assignOffsets {
                var next = logEndOffset
                for i in headers.indices {
                    headers[i].baseOffset = next
                    headers[i].partitionLeaderEpoch = leaderEpoch
                    if appendTime {
                        headers[i].attributes |= 0x08
                        headers[i].maxTimestamp = now
                        logAppendTime = now
                    }
                    next = headers[i].nextOffset
                }
            } else {
                var expected = logEndOffset
                for h in headers {
                    guard h.baseOffset >= expected else {
                        throw LogError.invalidArgument("unexpected append offset \(h.baseOffset), log end \(expected)")
                    }
                    expected = h.nextOffset
                }
            }
            let first = headers[0].baseOffset
            let last = headers[headers.count - 1].lastOffset
            // The epoch checkpoint goes first: if it cannot be written nothing is appended, and an
            // entry starting at the log end without records is what becoming leader writes anyway.
            var epochChanged = false
            if assignOffsets {
                epochChanged = leaderEpochCache.assign(epoch: leaderEpoch, startOffset: first)
            } else {
                for h in headers where h.partitionLeaderEpoch >= 0 {
                    epochChanged = leaderEpochCache.assign(epoch: h.partitionLeaderEpoch, startOffset: h.baseOffset) || epochChanged
                }
            }
            if epochChanged || epochsUnpersisted { try persistEpochs() }
            try maybeRoll(incomingBytes: pos, firstOffset: first, lastOffset: last, now: now)
            let whole = UnsafeRawBufferPointer(rebasing: bytes[0..<pos])
            if assignOffsets {
                try writePatched(whole, headers: headers, appendTime: appendTime)
            } else {
                try active.append([whole], headers: headers)
            }

            var info = AppendInfo(firstOffset: first, lastOffset: last, maxTimestamp: -1, offsetOfMaxTimestamp: first,
                                  logAppendTime: logAppendTime, logStartOffset: logStartOffset, batchCount: headers.count,
                                  recordCount: 0, validBytes: pos)
            for h in headers {
                info.recordCount += Int(h.recordsCount)
                if h.maxTimestamp > info.maxTimestamp {
                    info.maxTimestamp = h.maxTimestamp
                    info.offsetOfMaxTimestamp = h.lastOffset
                }
            }
            unflushedRecords += Int64(info.recordCount)
            if unflushedRecords >= config.flushMessages || now - lastFlushMs >= config.flushMs {
                try flushLocked(upTo: logEndOffset)
                lastFlushMs = now
            }
            return info
        }
    }

    /// Writes the leader's batches: each batch's rewritten header prefix (baseOffset and
    /// partitionLeaderEpoch, or the whole header with a new CRC under LogAppendTime) from a side
    /// buffer, the rest straight from `bytes`.
    private func writePatched(_ bytes: UnsafeRawBufferPointer, headers: [RecordBatchHeader], appendTime: Bool) throws {
        let L = RecordBatchLayout.self
        let prefix = appendTime ? L.headerSize : L.partitionLeaderEpoch + 4
        try withUnsafeTemporaryAllocation(byteCount: prefix * headers.count, alignment: 8) { side in
            var parts: [UnsafeRawBufferPointer] = []
            parts.reserveCapacity(2 * headers.count)
            var pos = 0
            for (i, h) in headers.enumerated() {
                let head = UnsafeMutableRawBufferPointer(rebasing: side[(i * prefix)..<((i + 1) * prefix)])
                head.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[pos..<pos + prefix]))
                RecordBatch.setBaseOffset(h.baseOffset, in: head)
                RecordBatch.setPartitionLeaderEpoch(h.partitionLeaderEpoch, in: head)
                let body = UnsafeRawBufferPointer(rebasing: bytes[(pos + prefix)..<(pos + h.totalSize)])
                if appendTime { RecordBatch.setLogAppendTime(h.maxTimestamp, inHeader: head, body: body) }
                parts.append(UnsafeRawBufferPointer(head))
                parts.append(body)
                pos += h.totalSize
            }
            try active.append(parts, headers: headers)
        }
    }

    private func maybeRoll(incomingBytes: Int, firstOffset: Int64, lastOffset: Int64, now: Int64) throws {
        let seg = active
        guard seg.size > 0 else { return }
        // Kafka's limit: positions in the index are 32-bit.
        let full = seg.size > min(config.segmentBytes, Int(Int32.max)) - incomingBytes
        let old = now - seg.createdMs >= config.segmentMs
        let indexFull = (seg.index.count + 1) * OffsetIndex.entrySize > config.segmentIndexBytes
            || (seg.timeIndex.count + 1) * TimeIndex.entrySize > config.segmentIndexBytes
        let offsetOverflow = lastOffset - seg.baseOffset > Int64(Int32.max)
        guard full || old || indexFull || offsetOverflow else { return }
        try roll(newBase: max(firstOffset, seg.nextOffset), now: now)
    }

    private func roll(newBase: Int64, now: Int64) throws {
        let old = active
        old.onBecomeInactive()
        do {
            try old.writeIndexes()
        } catch let e as LogError where e.isOutOfSpace {
            // Still pending in memory; the next flush writes them, and until then the segment stays
            // above the recovery point, so a restart rebuilds them.
        }
        let seg = try LogSegment.create(fs: fs, dir: dir, baseOffset: newBase, indexInterval: config.indexIntervalBytes, now: now)
        segments.append(seg)
        dirNeedsSync = true
        if config.flushOnRoll { try flushLocked(upTo: newBase) }
    }

    /// Starts a new segment now (e.g. for tests or an admin request); no-op on an empty active segment.
    public func roll(now: Int64) throws {
        try guarded {
            guard active.size > 0 else { return }
            try roll(newBase: logEndOffset, now: now)
        }
    }

    // MARK: flush

    /// fsyncs every segment holding offsets below `upTo` (default: everything) and advances the
    /// recovery point. Group commit: append several batches, then flush once.
    public func flush(upTo offset: Int64? = nil) throws {
        try guarded { try flushLocked(upTo: offset ?? logEndOffset) }
    }

    /// Applies `flush.ms`; call from a periodic timer.
    public func maybeFlush(now: Int64) throws {
        guard now - lastFlushMs >= config.flushMs else { return }
        try flush()
        lastFlushMs = now
    }

    private func flushLocked(upTo target: Int64) throws {
        let upTo = min(target, logEndOffset)
        guard upTo > recoveryPoint else { return }
        var flushedTo = recoveryPoint
        var whole = true
        for seg in segments where seg.nextOffset > recoveryPoint && seg.baseOffset < upTo {
            // Past a segment whose indexes could not be written the recovery point stops.
            let indexed = try seg.flush()
            if whole && indexed { flushedTo = max(flushedTo, seg.nextOffset) } else { whole = false }
        }
        if epochsUnpersisted { try persistEpochsOrDefer() }
        if dirNeedsSync {
            try fs.syncDirectory(dir)
            dirNeedsSync = false
        }
        recoveryPoint = max(recoveryPoint, min(flushedTo, logEndOffset))
        if recoveryPoint >= logEndOffset { unflushedRecords = 0 }
    }

    // MARK: read

    private func segmentIndex(for offset: Int64) -> Int {
        var lo = 0, hi = segments.count  // first segment with base > offset
        while lo < hi {
            let mid = (lo + hi) / 2
            if segments[mid].baseOffset <= offset { lo = mid + 1 } else { hi = mid }
        }
        return max(0, lo - 1)
    }

    /// Finds bytes from the batch holding `offset`, at most `maxBytes` (the last batch may be cut,
    /// as in Kafka fetches) but at least one whole batch when `minOneBatch`; only batches entirely
    /// below `maxOffset` (the high watermark) when given. Reads stay within one segment.
    public func read(from offset: Int64, maxBytes: Int, maxOffset: Int64? = nil, minOneBatch: Bool = true) throws -> LogReadResult {
        try guarded {
            let leo = logEndOffset
            guard offset >= logStartOffset, offset <= leo else {
                throw LogError.offsetOutOfRange(requested: offset, logStart: logStartOffset, logEnd: leo)
            }
            var result = LogReadResult(region: nil, firstBatchOffset: nil, logStartOffset: logStartOffset, logEndOffset: leo)
            let limit = min(maxOffset ?? leo, leo)
            guard offset < limit, maxBytes > 0 || minOneBatch else { return result }
            var i = segmentIndex(for: offset)
            while i < segments.count {
                let seg = segments[i]
                i += 1
                guard seg.baseOffset < limit else { break }
                guard let (start, h) = try seg.translate(offset) else { continue }
                guard h.lastOffset < limit else { break }
                var end = seg.size
                if limit < seg.nextOffset, let (hwPos, _) = try seg.translate(limit) { end = hwPos }
                var length = min(maxBytes, end - start)
                if minOneBatch && length < h.totalSize { length = h.totalSize }
                guard length > 0 else { break }
                result.region = FileRegion(file: seg.log, position: start, length: length)
                result.firstBatchOffset = h.baseOffset
                return result
            }
            return result
        }
    }

    /// A copying read (tests, replication convenience).
    public func readBytes(from offset: Int64, maxBytes: Int, maxOffset: Int64? = nil) throws -> [UInt8] {
        let r = try read(from: offset, maxBytes: maxBytes, maxOffset: maxOffset)
        guard let region = r.region else { return [] }
        return try guarded {
            guard let seg = segments.first(where: { $0.log === region.file }) else {
                return try region.copyBytes()
            }
            return try seg.read(position: region.position, count: region.length)
        }
    }

    /// ListOffsets by time: the first offset whose timestamp is >= `timestamp`, nil if none.
    public func offset(forTimestamp timestamp: Int64) throws -> Int64? {
        try guarded {
            for seg in segments where seg.maxTimestamp >= timestamp {
                if let o = try seg.offset(forTimestamp: timestamp) { return max(o, logStartOffset) }
            }
            return nil
        }
    }

    /// ListOffsets with timestamp -3 (MAX_TIMESTAMP): the largest timestamp and the offset of the
    /// first record carrying it, as Kafka 3.8+ answers (KAFKA-16310), falling back to the last offset
    /// of its batch when the records cannot be decoded; (-1, -1) for an empty log.
    public var maxTimestampAndOffset: (timestamp: Int64, offset: Int64) {
        var best: LogSegment?
        for seg in segments where seg.size > 0 && seg.maxTimestamp > (best?.maxTimestamp ?? -1) { best = seg }
        guard let seg = best else { return (-1, -1) }
        let exact = (try? seg.offset(forTimestamp: seg.maxTimestamp)) ?? nil
        return (seg.maxTimestamp, exact.map { min($0, seg.offsetOfMaxTimestamp) } ?? seg.offsetOfMaxTimestamp)
    }

    // MARK: leader epochs

    /// Records a new leader epoch starting at the current log end (on becoming leader).
    public func assignEpoch(_ epoch: Int32, startOffset: Int64? = nil) throws {
        try guarded {
            if leaderEpochCache.assign(epoch: epoch, startOffset: startOffset ?? logEndOffset) { try persistEpochsOrDefer() }
        }
    }

    public func endOffset(forEpoch epoch: Int32) -> (epoch: Int32, endOffset: Int64) {
        leaderEpochCache.endOffset(for: epoch, logEndOffset: logEndOffset)
    }

    // MARK: truncation

    /// Removes everything at and after `offset` (whole batches: a batch holding `offset` goes too).
    public func truncate(to offset: Int64) throws {
        try guarded {
            guard offset < logEndOffset else { return }
            if offset <= segments[0].baseOffset || offset < logStartOffset {
                try truncateFullyLocked(startAt: offset, now: active.createdMs)
                return
            }
            while segments.count > 1, active.baseOffset >= offset {
                try segments.removeLast().deleteFiles()
            }
            try active.truncate(toOffset: offset)
            if leaderEpochCache.truncateFromEnd(logEndOffset) { try persistEpochsOrDefer() }
            recoveryPoint = min(recoveryPoint, logEndOffset)
        }
    }

    /// Deletes all data and restarts the log at `offset` (a follower far behind the leader's start).
    public func truncateFullyAndStartAt(_ offset: Int64, now: Int64) throws {
        try guarded { try truncateFullyLocked(startAt: offset, now: now) }
    }

    private func truncateFullyLocked(startAt offset: Int64, now: Int64) throws {
        guard offset >= 0 else { throw LogError.invalidArgument("negative offset \(offset)") }
        for seg in segments { try seg.deleteFiles() }
        do {
            segments = [try LogSegment.create(fs: fs, dir: dir, baseOffset: offset, indexInterval: config.indexIntervalBytes, now: now)]
        } catch {
            // The old segments are gone and there is no new one: nothing left to serve.
            offlineReason = "no segment after a full truncation: \(error)"
            throw error
        }
        dirNeedsSync = true
        logStartOffset = offset
        recoveryPoint = offset
        unflushedRecords = 0
        leaderEpochCache.clear()
        try persistEpochsOrDefer()
    }

    // MARK: retention

    /// DeleteRecords: moves the log start forward (never past the end) and drops whole segments below it.
    public func advanceLogStartOffset(to offset: Int64) throws {
        try guarded {
            guard offset > logStartOffset else { return }
            guard offset <= logEndOffset else {
                throw LogError.offsetOutOfRange(requested: offset, logStart: logStartOffset, logEnd: logEndOffset)
            }
            logStartOffset = offset
            _ = try deleteSegments(now: nil)
        }
    }

    /// Applies retention.ms / retention.bytes (with cleanup.policy delete) and the log start offset:
    /// deletes whole old segments, never the active one. Returns how many went.
    /// `maxOffset` (the high watermark) keeps segments holding offsets at or above it, as Kafka
    /// never deletes data followers may still need to fetch.
    @discardableResult
    public func deleteOldSegments(now: Int64, maxOffset: Int64? = nil) throws -> Int {
        try guarded { try deleteSegments(now: now, maxOffset: maxOffset) }
    }

    private func deleteSegments(now: Int64?, maxOffset: Int64? = nil) throws -> Int {
        var deleted = 0
        var total = Int64(size)
        while segments.count > 1 {
            let seg = segments[0]
            if let maxOffset, seg.nextOffset > maxOffset, seg.nextOffset > logStartOffset { break }
            var expired = seg.nextOffset <= logStartOffset
            if let now, config.cleanupDelete {
                if config.retentionMs >= 0 {
                    let ts = seg.maxTimestamp >= 0 ? seg.maxTimestamp : seg.log.modifiedMs
                    if now - ts > config.retentionMs { expired = true }
                }
                if config.retentionBytes >= 0, total - Int64(seg.size) >= config.retentionBytes { expired = true }
            }
            guard expired else { break }
            try seg.deleteFiles()
            segments.removeFirst()
            total -= Int64(seg.size)
            deleted += 1
        }
        if segments[0].baseOffset > logStartOffset { logStartOffset = segments[0].baseOffset }
        if leaderEpochCache.truncateFromStart(logStartOffset) { try persistEpochsOrDefer() }
        return deleted
    }

    // MARK: close / delete

    /// Flushes everything; the object is unusable afterwards. Open file regions stay valid.
    public func close() throws {
        if offlineReason == nil {
            try guarded {
                try active.writeIndexes()
                try flushLocked(upTo: logEndOffset)
            }
        }
        offlineReason = offlineReason ?? "closed"
    }

    /// Removes the partition directory and everything in it.
    public func delete() throws {
        offlineReason = "deleted"
        segments.removeAll()
        try fs.removeTree(dir)
    }

    // MARK: internals for compaction

    var allSegments: [LogSegment] { segments }

    func replaceSegment(at i: Int, with seg: LogSegment?) {
        if let seg { segments[i] = seg } else { segments.remove(at: i) }
    }

    func runGuarded<T>(_ body: () throws -> T) throws -> T { try guarded(body) }
}
