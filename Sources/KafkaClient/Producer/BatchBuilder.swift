import Protocol

/// Encodes records into a v2 record batch as they arrive, so closing a batch costs one header and
/// one CRC pass rather than a re-encode. Offsets and sequences are relative to the batch.
public struct BatchBuilder: Sendable {
    public private(set) var recordCount: Int32 = 0
    public private(set) var baseTimestamp: Int64 = -1
    public private(set) var maxTimestamp: Int64 = -1
    private var body: ByteWriter

    public init(capacity: Int = 1024) {
        body = ByteWriter(capacity: capacity)
    }

    /// Bytes of encoded records so far (uncompressed, header excluded).
    public var sizeInBytes: Int { body.count }
    /// Size of a closed, uncompressed batch: records plus the 61-byte header.
    public var estimatedBatchSize: Int { body.count + RecordBatchLayout.headerSize }

    /// What appending this record would add.
    public static func encodedSize(offsetDelta: Int64, timestampDelta: Int64, key: [UInt8]?, value: [UInt8]?,
                                   headers: [RecordHeader]) -> Int {
        let inner = innerSize(offsetDelta: offsetDelta, timestampDelta: timestampDelta, key: key, value: value, headers: headers)
        return varintSize(Int64(inner)) + inner
    }

    static func innerSize(offsetDelta: Int64, timestampDelta: Int64, key: [UInt8]?, value: [UInt8]?,
                          headers: [RecordHeader]) -> Int {
        var n = 1 + varintSize(timestampDelta) + varintSize(offsetDelta)
        n += bytesSize(key) + bytesSize(value)
        n += varintSize(Int64(headers.count))
        for h in headers {
            let k = h.key.utf8.count
            n += varintSize(Int64(k)) + k + bytesSize(h.value)
        }
        return n
    }

    @inline(__always) static func bytesSize(_ b: [UInt8]?) -> Int {
        guard let b else { return 1 }
        return varintSize(Int64(b.count)) + b.count
    }

    @inline(__always) public static func varintSize(_ v: Int64) -> Int {
        var u = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        var n = 1
        while u >= 0x80 { u >>= 7; n += 1 }
        return n
    }

    /// Appends one record; returns the bytes it took.
    @discardableResult
    public mutating func append(timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = []) -> Int {
        if recordCount == 0 { baseTimestamp = timestamp }
        maxTimestamp = Swift.max(maxTimestamp, timestamp)
        let start = body.count
        let tsDelta = timestamp &- baseTimestamp
        let offDelta = Int64(recordCount)
        let inner = Self.innerSize(offsetDelta: offDelta, timestampDelta: tsDelta, key: key, value: value, headers: headers)
        body.writeVarint(Int64(inner))
        body.writeInt8(0)
        body.writeVarint(tsDelta)
        body.writeVarint(offDelta)
        Self.writeBytes(key, &body)
        Self.writeBytes(value, &body)
        body.writeVarint(Int64(headers.count))
        for h in headers {
            let k = Array(h.key.utf8)
            body.writeVarint(Int64(k.count))
            body.writeBytes(k)
            Self.writeBytes(h.value, &body)
        }
        recordCount += 1
        return body.count - start
    }

    @inline(__always) private static func writeBytes(_ b: [UInt8]?, _ w: inout ByteWriter) {
        if let b {
            w.writeVarint(Int64(b.count))
            w.writeBytes(b)
        } else {
            w.writeVarint(-1)
        }
    }

    /// The finished batch: header, optional compression of the records section, CRC-32C.
    public func build(producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1,
                      compression: CompressionType = .none, transactional: Bool = false) throws -> [UInt8] {
        var records = body.bytes
        if compression != .none { records = try RecordCompression.compress(records, type: compression) }
        var w = ByteWriter(capacity: RecordBatchLayout.headerSize + records.count)
        w.writeInt64(0)  // baseOffset: the broker assigns it
        let lengthAt = w.reserveInt32()
        w.writeInt32(-1)  // partitionLeaderEpoch: the broker fills it in
        w.writeInt8(2)
        let crcAt = w.reserveInt32()
        // Attribute bit 4 marks a transactional batch (held back from read_committed until its marker).
        w.writeInt16(Int16(compression.rawValue) | (transactional ? 0x10 : 0))
        w.writeInt32(Swift.max(0, recordCount - 1))
        w.writeInt64(baseTimestamp)
        w.writeInt64(maxTimestamp)
        w.writeInt64(producerId)
        w.writeInt16(producerEpoch)
        w.writeInt32(baseSequence)
        w.writeInt32(recordCount)
        w.writeBytes(records)
        w.patchInt32(Int32(w.count - RecordBatchLayout.logOverhead), at: lengthAt)
        w.patchUInt32(CRC32C.checksum(w.bytes[RecordBatchLayout.attributes...]), at: crcAt)
        return w.bytes
    }
}
