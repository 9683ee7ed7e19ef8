import Protocol

/// What `PartitionLog.append` checks of the batches it is given before anything is written.
struct AppendValidation {
    let config: LogConfig
    /// A leader checks everything; a follower takes what its leader accepted.
    let asLeader: Bool
    /// The broker's own transaction markers (clients may not write control batches).
    let allowControl: Bool

    /// Bound on a compressed batch's records once inflated, so a small batch cannot exhaust memory.
    var maxDecompressedBytes: Int { max(64 << 20, config.maxMessageBytes.multipliedReportingOverflow(by: 4).partialValue) }

    /// Checks every batch in `bytes` and returns the headers and the bytes they cover. A leader
    /// checks everything (its one walk over the records); a follower takes what its leader accepted
    /// and stops at a partial last batch. With `parsed` (the same bytes split by the caller) the
    /// headers are taken as they are and only the CRC, size and records are checked.
    func headers(of bytes: UnsafeRawBufferPointer, parsed: [RecordBatchHeader]?) throws -> ([RecordBatchHeader], Int) {
        var headers: [RecordBatchHeader] = []
        var pos = 0
        do {
            if let parsed {
                headers = parsed
                for h in parsed {
                    // They come from these bytes; a mismatch must not read past them.
                    guard h.totalSize <= bytes.count - pos else {
                        throw RecordBatchError.truncated(needed: h.totalSize, available: bytes.count - pos)
                    }
                    let batch = UnsafeRawBufferPointer(rebasing: bytes[pos..<pos + h.totalSize])
                    try RecordBatch.checkCRC(batch, header: h)
                    try checkAsLeader(batch, h)
                    pos += h.totalSize
                }
            } else {
                while bytes.count - pos >= RecordBatchLayout.logOverhead {
                    let rest = UnsafeRawBufferPointer(rebasing: bytes[pos...])
                    let length = Int(Int32(bigEndian: rest.loadUnaligned(fromByteOffset: RecordBatchLayout.batchLength, as: Int32.self)))
                    if !asLeader, length + RecordBatchLayout.logOverhead > rest.count, length >= 0 { break }
                    let h = try RecordBatch.validate(rest)
                    try checkAsLeader(UnsafeRawBufferPointer(rebasing: rest[0..<h.totalSize]), h)
                    headers.append(h)
                    pos += h.totalSize
                }
            }
        } catch let e as RecordBatchError {
            throw LogError.corruptRecord(e)
        }
        if asLeader && pos != bytes.count {
            throw LogError.corruptRecord(.truncated(needed: bytes.count - pos + 1, available: bytes.count - pos))
        }
        if headers.isEmpty && asLeader {
            throw LogError.corruptRecord(.truncated(needed: RecordBatchLayout.headerSize, available: bytes.count))
        }
        return (headers, pos)
    }

    /// The leader's checks of one CRC-valid batch: its size, then its records (a batch whose CRC is
    /// valid can still lie about them). Followers take what their leader accepted.
    private func checkAsLeader(_ batch: UnsafeRawBufferPointer, _ h: RecordBatchHeader) throws {
        guard asLeader else { return }
        if h.totalSize > config.maxMessageBytes { throw LogError.recordTooLarge(h.totalSize) }
        try RecordBatch.validateRecords(batch, header: h, maxDecompressedBytes: maxDecompressedBytes, allowControl: allowControl,
                                        requireKeys: config.cleanupCompact && !h.isControl)
    }
}
