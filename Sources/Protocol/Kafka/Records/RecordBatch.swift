/// Kafka record batch, magic v2. Byte positions of the fixed 61-byte header.
public enum RecordBatchLayout {
    public static let baseOffset = 0
    public static let batchLength = 8
    public static let partitionLeaderEpoch = 12
    public static let magic = 16
    public static let crc = 17
    public static let attributes = 21
    public static let lastOffsetDelta = 23
    public static let baseTimestamp = 27
    public static let maxTimestamp = 35
    public static let producerId = 43
    public static let producerEpoch = 51
    public static let baseSequence = 53
    public static let recordsCount = 57
    public static let records = 61
    public static let headerSize = 61
    /// baseOffset + batchLength: the bytes not counted by batchLength.
    public static let logOverhead = 12
    /// The smallest legal batchLength (a header with no records).
    public static let minBatchLength = headerSize - logOverhead
}

public enum CompressionType: Int8, Sendable, CaseIterable {
    case none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4
}

public enum TimestampType: Int8, Sendable {
    case createTime = 0, logAppendTime = 1
}

public enum RecordBatchError: Error, Equatable, Sendable {
    case truncated(needed: Int, available: Int)
    case invalidBatchLength(Int)
    case unsupportedMagic(Int8)
    case crcMismatch(stored: UInt32, computed: UInt32)
    case invalidRecord(String)
    /// Record `index` of the batch (0-based) does not parse or lies about its offset (KIP-467).
    case invalidRecordAt(index: Int, reason: String)
    /// Records (0-based indexes in the batch) without a key, for a compacted topic (KIP-467:
    /// each is reported, the rest of the batch fails with them).
    case recordsWithoutKey([Int])
    /// The broker maps this to UNSUPPORTED_COMPRESSION_TYPE (76).
    case unsupportedCompression(Int8)
    case corruptCompressedData(String)
    case tooLarge(Int)
}

/// The fixed header of one batch, parsed without touching its records (the hot path).
public struct RecordBatchHeader: Equatable, Sendable {
    public var baseOffset: Int64
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: Int16
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordsCount: Int32

    public var totalSize: Int { Int(batchLength) + RecordBatchLayout.logOverhead }
    public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }
    public var nextOffset: Int64 { lastOffset &+ 1 }
    /// nil for the reserved codes 5-7.
    public var compression: CompressionType? { CompressionType(rawValue: Int8(attributes & 0x07)) }
    public var compressionCode: Int8 { Int8(attributes & 0x07) }
    public var timestampType: TimestampType { attributes & 0x08 != 0 ? .logAppendTime : .createTime }
    public var isTransactional: Bool { attributes & 0x10 != 0 }
    public var isControl: Bool { attributes & 0x20 != 0 }
    public var hasDeleteHorizon: Bool { attributes & 0x40 != 0 }

    /// Parses the 61-byte header at the start of `buf`, checking only what is needed to trust
    /// `totalSize`: magic 2 and a batchLength no smaller than the header.
    public static func parse(_ buf: UnsafeRawBufferPointer) throws -> RecordBatchHeader {
        let L = RecordBatchLayout.self
        guard buf.count >= L.headerSize else {
            throw RecordBatchError.truncated(needed: L.headerSize, available: buf.count)
        }
        let length = buf.int32(at: L.batchLength)
        guard length >= L.minBatchLength else { throw RecordBatchError.invalidBatchLength(Int(length)) }
        let magic = Int8(bitPattern: buf[L.magic])
        guard magic == 2 else { throw RecordBatchError.unsupportedMagic(magic) }
        let h = RecordBatchHeader(
            baseOffset: buf.int64(at: L.baseOffset), batchLength: length,
            partitionLeaderEpoch: buf.int32(at: L.partitionLeaderEpoch), magic: magic,
            crc: buf.uint32(at: L.crc), attributes: buf.int16(at: L.attributes),
            lastOffsetDelta: buf.int32(at: L.lastOffsetDelta), baseTimestamp: buf.int64(at: L.baseTimestamp),
            maxTimestamp: buf.int64(at: L.maxTimestamp), producerId: buf.int64(at: L.producerId),
            producerEpoch: buf.int16(at: L.producerEpoch), baseSequence: buf.int32(at: L.baseSequence),
            recordsCount: buf.int32(at: L.recordsCount))
        guard h.lastOffsetDelta >= 0 else { throw RecordBatchError.invalidRecord("negative lastOffsetDelta") }
        guard h.recordsCount >= 0 else { throw RecordBatchError.invalidRecord("negative record count") }
        return h
    }

    public static func parse(_ bytes: [UInt8], at offset: Int = 0) throws -> RecordBatchHeader {
        guard offset >= 0, offset <= bytes.count else { throw RecordBatchError.truncated(needed: offset, available: bytes.count) }
        return try bytes.withUnsafeBytes { try parse(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
    }
}

public enum RecordBatch {
    /// Validates the batch at the start of `buf`: header sane, the whole batch present, CRC-32C over
    /// attributes..end matches. Returns the header. Records are not decoded.
    public static func validate(_ buf: UnsafeRawBufferPointer, maxBatchBytes: Int = Int(Int32.max)) throws -> RecordBatchHeader {
        let h = try RecordBatchHeader.parse(buf)
        if h.totalSize > maxBatchBytes { throw RecordBatchError.tooLarge(h.totalSize) }
        try checkCRC(buf, header: h)
        return h
    }

    /// The CRC check of `validate` for a batch whose header `h` was parsed from the start of `buf`.
    public static func checkCRC(_ buf: UnsafeRawBufferPointer, header h: RecordBatchHeader) throws {
        guard buf.count >= h.totalSize else { throw RecordBatchError.truncated(needed: h.totalSize, available: buf.count) }
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buf[RecordBatchLayout.attributes..<h.totalSize]))
        guard computed == h.crc else { throw RecordBatchError.crcMismatch(stored: h.crc, computed: computed) }
    }

    public static func validate(_ bytes: [UInt8], at offset: Int = 0) throws -> RecordBatchHeader {
        guard offset >= 0, offset <= bytes.count else { throw RecordBatchError.truncated(needed: offset, available: bytes.count) }
        return try bytes.withUnsafeBytes { try validate(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
    }

    /// The headers of the complete batches at the start of `buf`, parsed once (no CRC, no
    /// records) as `split(validateCRC: false)` does, and how many bytes follow them (a partial
    /// batch). Throws on a complete batch whose header is malformed.
    public static func headers(of buf: UnsafeRawBufferPointer) throws -> (headers: [RecordBatchHeader], trailingBytes: Int) {
        var out: [RecordBatchHeader] = []
        var pos = 0
        while buf.count - pos >= RecordBatchLayout.logOverhead {
            let rest = UnsafeRawBufferPointer(rebasing: buf[pos...])
            let length = Int(rest.int32(at: RecordBatchLayout.batchLength))
            if length < RecordBatchLayout.minBatchLength { throw RecordBatchError.invalidBatchLength(length) }
            if length + RecordBatchLayout.logOverhead > rest.count { break }
            let h = try RecordBatchHeader.parse(rest)
            out.append(h)
            pos += h.totalSize
        }
        return (out, buf.count - pos)
    }

    /// Rewrites baseOffset in place; the CRC does not cover it.
    public static func setBaseOffset(_ value: Int64, in buf: UnsafeMutableRawBufferPointer) {
        guard buf.count >= 8 else { return }
        buf.storeBytes(of: UInt64(bitPattern: value).bigEndian, toByteOffset: RecordBatchLayout.baseOffset, as: UInt64.self)
    }

    /// Rewrites partitionLeaderEpoch in place; the CRC does not cover it.
    public static func setPartitionLeaderEpoch(_ value: Int32, in buf: UnsafeMutableRawBufferPointer) {
        guard buf.count >= 16 else { return }
        buf.storeBytes(of: UInt32(bitPattern: value).bigEndian, toByteOffset: RecordBatchLayout.partitionLeaderEpoch, as: UInt32.self)
    }

    /// Marks a batch LogAppendTime with `now` as its max timestamp; these fields are covered by
    /// the CRC, so it is recomputed (only for topics configured with LogAppendTime).
    public static func setLogAppendTime(_ now: Int64, in buf: UnsafeMutableRawBufferPointer) {
        let L = RecordBatchLayout.self
        guard buf.count >= L.headerSize else { return }
        let attrs = UInt16(bigEndian: buf.loadUnaligned(fromByteOffset: L.attributes, as: UInt16.self)) | 0x08
        buf.storeBytes(of: attrs.bigEndian, toByteOffset: L.attributes, as: UInt16.self)
        buf.storeBytes(of: UInt64(bitPattern: now).bigEndian, toByteOffset: L.maxTimestamp, as: UInt64.self)
        resealCRC(in: buf)
    }

    /// `setLogAppendTime` on a batch held in two pieces: its 61-byte `header` (rewritten) and the
    /// records after it (`body`, only read), as the log writes a leader's batch without copying it.
    public static func setLogAppendTime(_ now: Int64, inHeader header: UnsafeMutableRawBufferPointer, body: UnsafeRawBufferPointer) {
        let L = RecordBatchLayout.self
        guard header.count == L.headerSize else { return }
        let attrs = UInt16(bigEndian: header.loadUnaligned(fromByteOffset: L.attributes, as: UInt16.self)) | 0x08
        header.storeBytes(of: attrs.bigEndian, toByteOffset: L.attributes, as: UInt16.self)
        header.storeBytes(of: UInt64(bitPattern: now).bigEndian, toByteOffset: L.maxTimestamp, as: UInt64.self)
        let crc = CRC32C.update(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: header[L.attributes...])), body)
        header.storeBytes(of: crc.bigEndian, toByteOffset: L.crc, as: UInt32.self)
    }

    /// Recomputes the CRC over attributes..end after a change to the covered bytes.
    public static func resealCRC(in buf: UnsafeMutableRawBufferPointer) {
        let L = RecordBatchLayout.self
        guard buf.count >= L.headerSize else { return }
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buf[L.attributes...]))
        buf.storeBytes(of: crc.bigEndian, toByteOffset: L.crc, as: UInt32.self)
    }

    /// Iterates the complete batches in a buffer (e.g. a fetch response or a produce request's
    /// records). A partial batch at the end is not returned; `trailingBytes` says how many were left.
    public static func split(_ bytes: [UInt8], validateCRC: Bool = true) throws -> (batches: [(header: RecordBatchHeader, range: Range<Int>)], trailingBytes: Int) {
        var out: [(header: RecordBatchHeader, range: Range<Int>)] = []
        var it = BatchIterator(bytes, validateCRC: validateCRC)
        while let b = try it.next() { out.append(b) }
        return (out, bytes.count - it.position)
    }
}

/// Walks batches in a byte array. Throws on a malformed complete batch; stops (returns nil) at a
/// partial last batch, which fetch responses are allowed to contain.
public struct BatchIterator {
    public let bytes: [UInt8]
    public private(set) var position: Int
    public let validateCRC: Bool

    public init(_ bytes: [UInt8], validateCRC: Bool = true) {
        self.bytes = bytes
        self.position = 0
        self.validateCRC = validateCRC
    }

    public mutating func next() throws -> (header: RecordBatchHeader, range: Range<Int>)? {
        let remaining = bytes.count - position
        guard remaining >= RecordBatchLayout.logOverhead else { return nil }
        let start = position
        let (header, total) = try bytes.withUnsafeBytes { raw -> (RecordBatchHeader?, Int) in
            let buf = UnsafeRawBufferPointer(rebasing: raw[start...])
            let length = Int(buf.int32(at: RecordBatchLayout.batchLength))
            if length < RecordBatchLayout.minBatchLength { throw RecordBatchError.invalidBatchLength(length) }
            let total = length + RecordBatchLayout.logOverhead
            if total > remaining { return (nil, total) }
            let h = validateCRC ? try RecordBatch.validate(buf) : try RecordBatchHeader.parse(buf)
            return (h, total)
        }
        guard let header else { return nil }
        position = start + total
        return (header, start..<start + total)
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always) func int64(at i: Int) -> Int64 { Int64(bigEndian: loadUnaligned(fromByteOffset: i, as: Int64.self)) }
    @inline(__always) func int32(at i: Int) -> Int32 { Int32(bigEndian: loadUnaligned(fromByteOffset: i, as: Int32.self)) }
    @inline(__always) func uint32(at i: Int) -> UInt32 { UInt32(bigEndian: loadUnaligned(fromByteOffset: i, as: UInt32.self)) }
    @inline(__always) func int16(at i: Int) -> Int16 { Int16(bigEndian: loadUnaligned(fromByteOffset: i, as: Int16.self)) }
}
