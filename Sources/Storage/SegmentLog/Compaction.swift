import Protocol

extension PartitionLog {
    /// cleanup.policy=compact: keeps only the latest record per key in the non-active segments,
    /// rewriting each one in place of the old (offsets are kept; emptied batches vanish). Tombstones
    /// (null value) that are the latest for their key go once older than delete.retention.ms.
    /// Control batches and batches that cannot be decoded are kept whole. Run it in the background.
    public func compact(now: Int64) throws -> CompactionResult {
        try runGuarded {
            var result = CompactionResult()
            let segs = allSegments
            guard segs.count > 1 else { return result }
            // Pass 1: the latest offset of every key, over the whole log (active segment included,
            // read-only), so a value superseded anywhere is dropped.
            var latest: [[UInt8]: Int64] = [:]
            for seg in segs {
                try forEachBatch(seg) { h, bytes in
                    guard !h.isControl, let recs = try? RecordBatch.records(of: bytes).records else { return }
                    for r in recs { if let k = r.key { latest[k] = r.offset } }
                }
            }
            // Pass 2: rewrite each non-active segment through a `.cleaned` file.
            var i = 0
            while i < allSegments.count - 1 {
                let seg = allSegments[i]
                let cleanedPath = LogSegment.logPath(dir, seg.baseOffset) + ".cleaned"
                var outSize = 0
                var removed = 0
                do {
                    let out = try fs.create(cleanedPath)
                    try forEachBatch(seg) { h, bytes in
                        var keep = bytes
                        if !h.isControl, let recs = try? RecordBatch.records(of: bytes).records {
                            let kept = recs.filter { r in
                                guard let k = r.key else { return true }
                                guard latest[k] == r.offset else { return false }
                                return r.value != nil || r.timestamp + config.deleteRetentionMs > now
                            }
                            removed += recs.count - kept.count
                            if kept.isEmpty {
                                keep = []
                            } else if kept.count < recs.count {
                                var o = RecordBatchOptions(baseOffset: h.baseOffset, compression: h.compression ?? .none)
                                o.partitionLeaderEpoch = h.partitionLeaderEpoch
                                o.timestampType = h.timestampType
                                o.isTransactional = h.isTransactional
                                o.producerId = h.producerId
                                o.producerEpoch = h.producerEpoch
                                o.baseSequence = h.baseSequence
                                o.lastOffsetDelta = h.lastOffsetDelta
                                o.baseTimestamp = h.baseTimestamp
                                o.maxTimestamp = h.maxTimestamp
                                if let rebuilt = try? RecordBatch.build(kept, options: o) {
                                    keep = rebuilt
                                } else {
                                    // A codec brokerd reads but cannot write (zstd): the survivors go
                                    // uncompressed, since a consumer takes any codec per batch.
                                    o.compression = .none
                                    if let plain = try? RecordBatch.build(kept, options: o) {
                                        keep = plain
                                    } else {
                                        removed -= recs.count - kept.count
                                    }
                                }
                            }
                        }
                        try out.write(keep, at: outSize)
                        outSize += keep.count
                    }
                    if removed > 0 { try out.sync() }
                } catch {
                    // Nothing was replaced yet; a full disk only postpones the cleaning.
                    try? fs.remove(cleanedPath)
                    throw error
                }
                result.bytesBefore += seg.size
                result.bytesAfter += outSize
                result.recordsRemoved += removed
                guard removed > 0 else {
                    try fs.remove(cleanedPath)
                    i += 1
                    continue
                }
                result.segmentsCleaned += 1
                // Old indexes go first, so a crash after the rename rebuilds them instead of
                // trusting positions into the old file.
                try fs.remove(seg.index.file.path)
                try fs.remove(seg.timeIndex.file.path)
                try fs.syncDirectory(dir)
                try fs.rename(cleanedPath, to: seg.log.path)
                try fs.syncDirectory(dir)
                if outSize == 0 && i > 0 {
                    try seg.deleteFiles()
                    replaceSegment(at: i, with: nil)
                    continue
                }
                let (fresh, _) = try LogSegment.open(fs: fs, dir: dir, baseOffset: seg.baseOffset, indexInterval: config.indexIntervalBytes,
                                                     recoveryPoint: Int64.min, now: seg.createdMs)
                fresh.onBecomeInactive()
                try fresh.flush()
                replaceSegment(at: i, with: fresh)
                i += 1
            }
            return result
        }
    }

    private func forEachBatch(_ seg: LogSegment, _ body: (RecordBatchHeader, [UInt8]) throws -> Void) throws {
        var scanner = SegmentScanner(file: seg.log, size: seg.size)
        var pos = 0
        while pos < seg.size {
            guard let (h, bytes) = try scanner.batch(at: pos, validate: true) else {
                throw LogError.corruptFile(path: seg.log.path, reason: "bad batch at \(pos) during compaction")
            }
            try body(h, bytes)
            pos += h.totalSize
        }
    }
}
