/// Appends big-endian integers and raw bytes to a growable buffer.
/// Jute and Kafka both use network byte order; their string and array forms live in their own files.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func writeUInt8(_ v: UInt8) { bytes.append(v) }
    public mutating func writeInt8(_ v: Int8) { bytes.append(UInt8(bitPattern: v)) }
    public mutating func writeBool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    public mutating func writeInt16(_ v: Int16) { writeUInt16(UInt16(bitPattern: v)) }
    public mutating func writeUInt16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    public mutating func writeInt32(_ v: Int32) { writeUInt32(UInt32(bitPattern: v)) }
    public mutating func writeUInt32(_ v: UInt32) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeInt64(_ v: Int64) { writeUInt64(UInt64(bitPattern: v)) }
    public mutating func writeUInt64(_ v: UInt64) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeFloat64(_ v: Double) { writeUInt64(v.bitPattern) }

    public mutating func writeBytes<C: Collection>(_ b: C) where C.Element == UInt8 {
        bytes.append(contentsOf: b)
    }

    /// Unsigned LEB128 varint (Kafka's compact lengths and tagged fields).
    public mutating func writeUVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Zig-zag signed varint (Kafka record fields).
    public mutating func writeVarint(_ v: Int64) {
        writeUVarint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    /// Reserves four bytes for a length to be filled in later with `patchInt32`.
    public mutating func reserveInt32() -> Int {
        let at = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0])
        return at
    }

    public mutating func patchInt32(_ v: Int32, at index: Int) {
        let u = UInt32(bitPattern: v)
        bytes[index] = UInt8(truncatingIfNeeded: u >> 24)
        bytes[index + 1] = UInt8(truncatingIfNeeded: u >> 16)
        bytes[index + 2] = UInt8(truncatingIfNeeded: u >> 8)
        bytes[index + 3] = UInt8(truncatingIfNeeded: u)
    }

    public mutating func patchUInt32(_ v: UInt32, at index: Int) {
        patchInt32(Int32(bitPattern: v), at: index)
    }

    /// Writes a 4-byte length prefix covering everything `body` appends.
    public mutating func withInt32LengthPrefix(_ body: (inout ByteWriter) throws -> Void) rethrows {
        let at = reserveInt32()
        try body(&self)
        patchInt32(Int32(bytes.count - at - 4), at: at)
    }
}
