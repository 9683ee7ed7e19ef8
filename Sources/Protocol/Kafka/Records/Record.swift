public struct RecordHeader: Equatable, Sendable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// One record of a v2 batch, with absolute offset and timestamp.
public struct Record: Equatable, Sendable {
    public var offset: Int64
    public var timestamp: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    /// Unused by Kafka today; kept for fidelity.
    public var attributes: Int8

    public init(offset: Int64 = 0, timestamp: Int64 = 0, key: [UInt8]?, value: [UInt8]?,
                headers: [RecordHeader] = [], attributes: Int8 = 0) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
        self.attributes = attributes
    }
}

/// Header fields for building a batch. Offsets of records are taken relative to `baseOffset`.
public struct RecordBatchOptions: Sendable {
    public var baseOffset: Int64 = 0
    public var partitionLeaderEpoch: Int32 = -1
    public var compression: CompressionType = .none
    public var timestampType: TimestampType = .createTime
    public var isTransactional = false
    public var isControl = false
    public var producerId: Int64 = -1
    public var producerEpoch: Int16 = -1
    public var baseSequence: Int32 = -1
    /// Defaults to the largest record offset delta; compaction keeps the original.
    public var lastOffsetDelta: Int32?
    /// Defaults to the smallest / largest record timestamp.
    public var baseTimestamp: Int64?
    public var maxTimestamp: Int64?

    public init(baseOffset: Int64 = 0, compression: CompressionType = .none) {
        self.baseOffset = baseOffset
        self.compression = compression
    }
}

extension RecordBatch {
    /// Builds a complete batch with a valid CRC.
    public static func build(_ records: [Record], options o: RecordBatchOptions = RecordBatchOptions()) throws -> [UInt8] {
        let baseTs = o.baseTimestamp ?? records.map(\.timestamp).min() ?? -1
        let maxTs = o.maxTimestamp ?? records.map(\.timestamp).max() ?? -1
        var body = ByteWriter(capacity: records.count * 32)
        var maxDelta: Int64 = 0
        for r in records {
            let delta = r.offset - o.baseOffset
            guard delta >= 0, delta <= Int64(Int32.max) else { throw RecordBatchError.invalidRecord("offset delta out of range") }
            maxDelta = max(maxDelta, delta)
            encodeRecord(r, offsetDelta: delta, baseTimestamp: baseTs, into: &body)
        }
        var recordsBytes = body.bytes
        if o.compression != .none {
            recordsBytes = try RecordCompression.compress(recordsBytes, type: o.compression)
        }
        var attrs = Int16(o.compression.rawValue)
        if o.timestampType == .logAppendTime { attrs |= 0x08 }
        if o.isTransactional { attrs |= 0x10 }
        if o.isControl { attrs |= 0x20 }

        var w = ByteWriter(capacity: RecordBatchLayout.headerSize + recordsBytes.count)
        w.writeInt64(o.baseOffset)
        let lengthAt = w.reserveInt32()
        w.writeInt32(o.partitionLeaderEpoch)
        w.writeInt8(2)
        let crcAt = w.reserveInt32()
        w.writeInt16(attrs)
        w.writeInt32(o.lastOffsetDelta ?? Int32(maxDelta))
        w.writeInt64(baseTs)
        w.writeInt64(maxTs)
        w.writeInt64(o.producerId)
        w.writeInt16(o.producerEpoch)
        w.writeInt32(o.baseSequence)
        w.writeInt32(Int32(records.count))
        w.writeBytes(recordsBytes)
        w.patchInt32(Int32(w.count - RecordBatchLayout.logOverhead), at: lengthAt)
        let crc = CRC32C.checksum(w.bytes[RecordBatchLayout.attributes...])
        w.patchUInt32(crc, at: crcAt)
        return w.bytes
    }

    static func encodeRecord(_ r: Record, offsetDelta: Int64, baseTimestamp: Int64, into out: inout ByteWriter) {
        var w = ByteWriter(capacity: 16 + (r.key?.count ?? 0) + (r.value?.count ?? 0))
        w.writeInt8(r.attributes)
        w.writeVarint(r.timestamp &- baseTimestamp)
        w.writeVarint(offsetDelta)
        writeNullableBytes(r.key, &w)
        writeNullableBytes(r.value, &w)
        w.writeVarint(Int64(r.headers.count))
        for h in r.headers {
            let k = Array(h.key.utf8)
            w.writeVarint(Int64(k.count))
            w.writeBytes(k)
            writeNullableBytes(h.value, &w)
        }
        out.writeVarint(Int64(w.count))
        out.writeBytes(w.bytes)
    }

    private static func writeNullableBytes(_ b: [UInt8]?, _ w: inout ByteWriter) {
        if let b {
            w.writeVarint(Int64(b.count))
            w.writeBytes(b)
        } else {
            w.writeVarint(-1)
        }
    }

    /// Decodes the records of one complete batch (validating its CRC first, decompressing if needed).
    public static func records(of batch: [UInt8], maxDecompressedBytes: Int = 64 << 20) throws -> (header: RecordBatchHeader, records: [Record]) {
        let h = try validate(batch)
        guard let codec = h.compression else { throw RecordBatchError.unsupportedCompression(h.compressionCode) }
        var section = Array(batch[RecordBatchLayout.records..<h.totalSize])
        if codec != .none {
            section = try RecordCompression.decompress(section, type: codec, maxBytes: maxDecompressedBytes)
        }
        return (h, try decodeRecords(section, header: h))
    }

    /// Decodes exactly `header.recordsCount` records from an uncompressed records section.
    public static func decodeRecords(_ section: [UInt8], header h: RecordBatchHeader) throws -> [Record] {
        var r = ByteReader(section)
        var out: [Record] = []
        out.reserveCapacity(min(Int(h.recordsCount), section.count / 7))
        do {
            for _ in 0..<Int(h.recordsCount) {
                let len = try r.readVarint()
                guard len >= 0, len <= Int64(r.remaining) else { throw RecordBatchError.invalidRecord("record length \(len)") }
                var rr = try r.subReader(Int(len))
                let attrs = try rr.readInt8()
                let tsDelta = try rr.readVarint()
                let offDelta = try rr.readVarint()
                guard offDelta >= 0, offDelta <= Int64(Int32.max) else { throw RecordBatchError.invalidRecord("offset delta \(offDelta)") }
                let key = try readNullableBytes(&rr)
                let value = try readNullableBytes(&rr)
                let nHeaders = try rr.readVarint()
                guard nHeaders >= 0, nHeaders <= Int64(rr.remaining) else { throw RecordBatchError.invalidRecord("header count \(nHeaders)") }
                var headers: [RecordHeader] = []
                for _ in 0..<Int(nHeaders) {
                    guard let k = try readNullableBytes(&rr) else { throw RecordBatchError.invalidRecord("null header key") }
                    headers.append(RecordHeader(key: String(decoding: k, as: UTF8.self), value: try readNullableBytes(&rr)))
                }
                guard rr.isAtEnd else { throw RecordBatchError.invalidRecord("trailing bytes in record") }
                out.append(Record(offset: h.baseOffset &+ offDelta, timestamp: h.baseTimestamp &+ tsDelta,
                                  key: key, value: value, headers: headers, attributes: attrs))
            }
        } catch let e as DecodeError {
            throw RecordBatchError.invalidRecord("\(e)")
        }
        guard r.isAtEnd else { throw RecordBatchError.invalidRecord("trailing bytes after \(h.recordsCount) records") }
        return out
    }

    private static func readNullableBytes(_ r: inout ByteReader) throws -> [UInt8]? {
        let n = try r.readVarint()
        if n == -1 { return nil }
        guard n >= 0, n <= Int64(r.remaining) else { throw RecordBatchError.invalidRecord("length \(n)") }
        return try r.readBytes(Int(n))
    }
}
