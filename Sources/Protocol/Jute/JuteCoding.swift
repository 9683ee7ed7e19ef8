/// Jute primitives (ZooKeeper's record encoding): big-endian ints, 1-byte bools, and
/// int32-length-prefixed strings, buffers and vectors where a length of -1 means null.
public protocol JuteRecord: Sendable {
    init(jute r: inout ByteReader) throws
    func write(jute w: inout ByteWriter)
}

extension JuteRecord {
    /// Decodes one record from `bytes`; trailing bytes are allowed (newer clients append fields).
    public static func decode(_ bytes: [UInt8]) throws -> Self {
        var r = ByteReader(bytes)
        return try Self(jute: &r)
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        write(jute: &w)
        return w.bytes
    }
}

extension ByteReader {
    /// A Jute length: -1 is null; anything else negative, or longer than what is left, is refused.
    @inline(__always)
    mutating func readJuteLength(elementSize: Int) throws -> Int? {
        let n = Int(try readInt32())
        if n == -1 { return nil }
        if n < 0 { throw DecodeError.invalidLength(n) }
        if n > remaining / max(1, elementSize) { throw DecodeError.truncated(needed: n * elementSize, available: remaining) }
        return n
    }

    /// ustring; null decodes as nil.
    public mutating func readJuteStringOrNil() throws -> String? {
        guard let n = try readJuteLength(elementSize: 1) else { return nil }
        let start = offset
        try skip(n)
        return String(decoding: bytes[start..<(start + n)], as: UTF8.self)
    }

    /// ustring where null is treated as empty (paths are never null on the wire in practice).
    public mutating func readJuteString() throws -> String {
        try readJuteStringOrNil() ?? ""
    }

    public mutating func readJuteBufferOrNil() throws -> [UInt8]? {
        guard let n = try readJuteLength(elementSize: 1) else { return nil }
        return try readBytes(n)
    }

    public mutating func readJuteBuffer() throws -> [UInt8] {
        try readJuteBufferOrNil() ?? []
    }

    /// vector<T>; each element needs at least `minElementSize` bytes, which bounds the count.
    public mutating func readJuteVector<T>(minElementSize: Int = 1, _ element: (inout ByteReader) throws -> T) throws -> [T]? {
        guard let n = try readJuteLength(elementSize: minElementSize) else { return nil }
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try element(&self)) }
        return out
    }

    public mutating func readJuteStrings() throws -> [String] {
        try readJuteVector(minElementSize: 4) { try $0.readJuteString() } ?? []
    }
}

extension ByteWriter {
    public mutating func writeJuteString(_ s: String?) {
        guard var str = s else { writeInt32(-1); return }
        str.withUTF8 { u in
            writeInt32(Int32(u.count))
            writeBytes(u)
        }
    }

    public mutating func writeJuteBuffer(_ b: [UInt8]?) {
        guard let b else { writeInt32(-1); return }
        writeInt32(Int32(b.count))
        writeBytes(b)
    }

    public mutating func writeJuteStrings(_ v: [String]?) {
        guard let v else { writeInt32(-1); return }
        writeInt32(Int32(v.count))
        for s in v { writeJuteString(s) }
    }

    public mutating func writeJuteRecords<T: JuteRecord>(_ v: [T]?) {
        guard let v else { writeInt32(-1); return }
        writeInt32(Int32(v.count))
        for x in v { x.write(jute: &self) }
    }

    /// Appends a 4-byte frame length and the body built by `body` (client protocol framing).
    public static func juteFrame(_ body: (inout ByteWriter) -> Void) -> [UInt8] {
        var w = ByteWriter(capacity: 128)
        w.withInt32LengthPrefix(body)
        return w.bytes
    }
}
