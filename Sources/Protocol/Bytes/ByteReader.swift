/// Reasons a decoder refuses its input. Decoders never trust a length they have not checked.
public enum DecodeError: Error, Equatable, Sendable {
    case truncated(needed: Int, available: Int)
    case invalidLength(Int)
    case invalidValue(String)
    case unsupportedVersion(apiKey: Int16, version: Int16)
}

/// Reads big-endian integers from a byte array without copying until asked to.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset: Int
    public let end: Int

    public init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    public var remaining: Int { end - offset }
    public var isAtEnd: Bool { offset >= end }

    @inline(__always)
    mutating func need(_ n: Int) throws {
        if n < 0 { throw DecodeError.invalidLength(n) }
        if end - offset < n { throw DecodeError.truncated(needed: n, available: end - offset) }
    }

    public mutating func readUInt8() throws -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readInt8() throws -> Int8 { Int8(bitPattern: try readUInt8()) }
    public mutating func readBool() throws -> Bool { try readUInt8() != 0 }

    public mutating func readUInt16() throws -> UInt16 {
        try need(2)
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    public mutating func readInt16() throws -> Int16 { Int16(bitPattern: try readUInt16()) }

    public mutating func readUInt32() throws -> UInt32 {
        try need(4)
        defer { offset += 4 }
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(bytes[offset + i]) }
        return v
    }

    public mutating func readInt32() throws -> Int32 { Int32(bitPattern: try readUInt32()) }

    public mutating func readUInt64() throws -> UInt64 {
        try need(8)
        defer { offset += 8 }
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(bytes[offset + i]) }
        return v
    }

    public mutating func readInt64() throws -> Int64 { Int64(bitPattern: try readUInt64()) }
    public mutating func readFloat64() throws -> Double { Double(bitPattern: try readUInt64()) }

    public mutating func readBytes(_ n: Int) throws -> [UInt8] {
        try need(n)
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    /// `n` bytes as a slice sharing the reader's storage (no copy).
    public mutating func readSlice(_ n: Int) throws -> ArraySlice<UInt8> {
        try need(n)
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func skip(_ n: Int) throws {
        try need(n)
        offset += n
    }

    public mutating func readUVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try readUInt8()
            if shift >= 64 { throw DecodeError.invalidValue("varint too long") }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    public mutating func readVarint() throws -> Int64 {
        let u = try readUVarint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// A sub-reader over the next `n` bytes; the parent skips past them.
    public mutating func subReader(_ n: Int) throws -> ByteReader {
        try need(n)
        defer { offset += n }
        return ByteReader(bytes, offset: offset, end: offset + n)
    }

    public func peekInt32(at position: Int) -> Int32? {
        guard position >= 0, position + 4 <= end else { return nil }
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(bytes[position + i]) }
        return Int32(bitPattern: v)
    }
}
