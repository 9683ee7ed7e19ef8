/// What a leader checks in a client's batch before appending it (Kafka's LogValidator rules): the
/// header's counts and offsets agree with the records that actually parse, every record consumes
/// exactly its length, compressed sections decompress within a bound, no control batches.
/// A batch with a valid CRC can still lie; once appended, readers of the log break on it.
extension RecordBatch {
    /// `batch` is one complete batch whose CRC was already checked and whose header is `h`.
    /// Walks the records once without materialising them. Throws `RecordBatchError`:
    /// `.invalidRecordAt` names the first bad record (KIP-467), `.invalidRecord` a batch-level lie.
    public static func validateRecords(_ batch: UnsafeRawBufferPointer, header h: RecordBatchHeader,
                                       maxDecompressedBytes: Int, allowControl: Bool = false,
                                       requireKeys: Bool = false) throws {
        if h.isControl && !allowControl { throw RecordBatchError.invalidRecord("clients may not write control batches") }
        guard h.recordsCount > 0 else { throw RecordBatchError.invalidRecord("batch has no records") }
        guard Int64(h.lastOffsetDelta) == Int64(h.recordsCount) - 1 else {
            throw RecordBatchError.invalidRecord("lastOffsetDelta \(h.lastOffsetDelta) does not match record count \(h.recordsCount)")
        }
        // Transaction markers (the broker's own control batches) carry no sequence.
        if h.producerId >= 0 && h.baseSequence < 0 && !h.isControl {
            throw RecordBatchError.invalidRecord("producer id \(h.producerId) with invalid sequence \(h.baseSequence)")
        }
        guard let codec = h.compression else { throw RecordBatchError.unsupportedCompression(h.compressionCode) }
        let section = UnsafeRawBufferPointer(rebasing: batch[RecordBatchLayout.records..<h.totalSize])
        if codec == .none {
            try walkRecords(section, count: Int(h.recordsCount), requireKeys: requireKeys)
        } else {
            let plain = try RecordCompression.decompress(Array(section), type: codec, maxBytes: maxDecompressedBytes)
            try plain.withUnsafeBytes { try walkRecords($0, count: Int(h.recordsCount), requireKeys: requireKeys) }
        }
    }

    /// Checks `count` records laid end to end in `section` with offset deltas 0, 1, 2, ...
    /// `requireKeys`: a compacted topic cannot keep a record without a key.
    static func walkRecords(_ section: UnsafeRawBufferPointer, count: Int, requireKeys: Bool) throws {
        var c = RawCursor(section)
        var index = 0
        while index < count {
            guard !c.isAtEnd else {
                throw RecordBatchError.invalidRecord("record count \(count) but only \(index) records present")
            }
            do {
                let len = try c.varint()
                guard len >= 6, len <= Int64(c.remaining) else { throw RawCursor.Bad("record length \(len)") }
                var r = RawCursor(UnsafeRawBufferPointer(rebasing: section[c.position..<c.position + Int(len)]))
                c.position += Int(len)
                _ = try r.byte()                            // attributes (unused)
                _ = try r.varint()                          // timestamp delta
                let delta = try r.varint()
                guard delta == Int64(index) else { throw RawCursor.Bad("offset delta \(delta), expected \(index)") }
                let keyLength = try r.varint()
                if keyLength == -1 {
                    if requireKeys { throw RawCursor.Bad("compacted topic requires a key") }
                } else {
                    try r.skip(keyLength)
                }
                try r.skipNullableBytes()                   // value
                let headers = try r.varint()
                guard headers >= 0, headers <= Int64(r.remaining) else { throw RawCursor.Bad("header count \(headers)") }
                for _ in 0..<Int(headers) {
                    let k = try r.varint()
                    guard k >= 0 else { throw RawCursor.Bad("null header key") }
                    try r.skip(k)
                    try r.skipNullableBytes()
                }
                guard r.isAtEnd else { throw RawCursor.Bad("\(r.remaining) bytes left inside record") }
            } catch let e as RawCursor.Bad {
                throw RecordBatchError.invalidRecordAt(index: index, reason: e.why)
            }
            index += 1
        }
        guard c.isAtEnd else { throw RecordBatchError.invalidRecord("\(c.remaining) bytes after the last of \(count) records") }
    }
}

/// A bounds-checked forward reader over raw bytes, for the validation walk (no copies).
struct RawCursor {
    struct Bad: Error { let why: String; init(_ w: String) { why = w } }
    let buf: UnsafeRawBufferPointer
    var position = 0

    init(_ buf: UnsafeRawBufferPointer) { self.buf = buf }
    var remaining: Int { buf.count - position }
    var isAtEnd: Bool { position >= buf.count }

    mutating func byte() throws -> UInt8 {
        guard position < buf.count else { throw Bad("truncated record") }
        defer { position += 1 }
        return buf[position]
    }

    /// Zig-zag varint of at most 10 bytes (Kafka's varlong; varints are a subset).
    mutating func varint() throws -> Int64 {
        var u: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw Bad("varint too long") }
            u |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    mutating func skip(_ n: Int64) throws {
        guard n >= 0, n <= Int64(remaining) else { throw Bad("length \(n) beyond record") }
        position += Int(n)
    }

    mutating func skipNullableBytes() throws {
        let n = try varint()
        if n == -1 { return }
        try skip(n)
    }
}
