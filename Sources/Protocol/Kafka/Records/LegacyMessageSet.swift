internal import CZlib

/// Kafka's pre-0.11 message sets (magic 0 and 1), as Produce v0–v2 may still carry them (a client
/// with `api.version.request=false`). The broker up-converts them to one v2 batch, as Kafka does
/// with message format v2 on disk. Layout of one message: offset int64, size int32, crc int32
/// (CRC-32 of the rest), magic int8, attributes int8 (low 3 bits: codec; bit 3: LogAppendTime),
/// timestamp int64 (magic 1 only), key bytes, value bytes. A compressed message's value is a
/// nested message set (one level deep).
public enum LegacyMessageSet {
    /// The magic byte of the first entry, if `bytes` is long enough to have one.
    public static func magic(of bytes: ArraySlice<UInt8>) -> Int8? {
        bytes.count > RecordBatchLayout.magic ? Int8(bitPattern: bytes[bytes.startIndex + RecordBatchLayout.magic]) : nil
    }

    public static func magic(of bytes: [UInt8]) -> Int8? { magic(of: bytes[...]) }

    /// The messages of a magic 0/1 set as v2 records with offsets 0, 1, …; magic 0 records get
    /// timestamp -1 (none). Throws on a bad CRC, a lying length, a nested wrapper or a codec
    /// these formats do not have (zstd).
    public static func records(of bytes: [UInt8], maxDecompressedBytes: Int = 64 << 20) throws -> (records: [Record], codec: CompressionType) {
        var out: [Record] = []
        var codec = CompressionType.none
        try forEachMessage(bytes) { m in
            if m.codec == .none {
                out.append(Record(offset: Int64(out.count), timestamp: m.timestamp, key: m.key, value: m.value))
                return
            }
            guard let inner = m.value else { throw RecordBatchError.invalidRecord("compressed message without a value") }
            codec = m.codec
            let set = try RecordCompression.decompress(inner, type: m.codec, maxBytes: maxDecompressedBytes)
            try forEachMessage(set) { im in
                guard im.codec == .none else { throw RecordBatchError.invalidRecord("nested compressed message") }
                // A wrapper stamped LogAppendTime carries the time for all its messages.
                let ts = m.logAppendTime ? m.timestamp : im.timestamp
                out.append(Record(offset: Int64(out.count), timestamp: ts, key: im.key, value: im.value))
            }
        }
        guard !out.isEmpty else { throw RecordBatchError.invalidRecord("empty message set") }
        return (out, codec)
    }

    /// One v2 batch holding the set's messages, compressed with the set's codec where brokerd can
    /// write it (else uncompressed), ready for the normal append path.
    public static func upConvert(_ bytes: [UInt8], maxDecompressedBytes: Int = 64 << 20) throws -> [UInt8] {
        let (recs, codec) = try records(of: bytes, maxDecompressedBytes: maxDecompressedBytes)
        let writable: CompressionType = codec == .zstd ? .none : codec
        return try RecordBatch.build(recs, options: RecordBatchOptions(baseOffset: 0, compression: writable))
    }

    struct Message {
        var codec: CompressionType
        var logAppendTime: Bool
        var timestamp: Int64
        var key: [UInt8]?
        var value: [UInt8]?
    }

    static func forEachMessage(_ bytes: [UInt8], _ body: (Message) throws -> Void) throws {
        var r = ByteReader(bytes)
        while !r.isAtEnd {
            _ = try r.readInt64()
            let size = try r.readInt32()
            // crc + magic + attributes + key length + value length is the smallest message.
            guard size >= 14, Int(size) <= r.remaining else { throw RecordBatchError.invalidBatchLength(Int(size)) }
            var m = try r.subReader(Int(size))
            let stored = try m.readUInt32()
            let rest = Array(bytes[m.offset..<m.end])
            let computed = rest.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            guard stored == computed else { throw RecordBatchError.crcMismatch(stored: stored, computed: computed) }
            let magic = try m.readInt8()
            guard magic == 0 || magic == 1 else { throw RecordBatchError.unsupportedMagic(magic) }
            let attrs = try m.readInt8()
            guard let codec = CompressionType(rawValue: attrs & 0x07), codec != .zstd else {
                throw RecordBatchError.unsupportedCompression(attrs & 0x07)
            }
            let ts = magic == 1 ? try m.readInt64() : -1
            let key = try readBytes(&m)
            let value = try readBytes(&m)
            try body(Message(codec: codec, logAppendTime: magic == 1 && attrs & 0x08 != 0, timestamp: ts, key: key, value: value))
        }
    }

    private static func readBytes(_ r: inout ByteReader) throws -> [UInt8]? {
        let n = try r.readInt32()
        if n < 0 { return nil }
        guard Int(n) <= r.remaining else { throw RecordBatchError.truncated(needed: Int(n), available: r.remaining) }
        return try r.readBytes(Int(n))
    }
}
