/// Kafka's primitive encodings on top of the shared big-endian reader/writer.
/// `flexible` selects the compact (uvarint length + 1) forms used by flexible versions.

/// Errors raised when a value cannot be represented at the requested version.
public enum KafkaEncodeError: Error, Equatable, Sendable {
    case unsupportedVersion(apiKey: Int16, version: Int16)
    case nullNotAllowed(String)
    case tooLong(String, Int)
    /// A Fetch partition marked for splicing was encoded with the plain encoder.
    case splicedRecords
}

/// A 128-bit Kafka UUID (topic ids); all-zero is Kafka's "no id".
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }
    public static let zero = KafkaUUID(high: 0, low: 0)
    public var description: String {
        let h = String(high, radix: 16), l = String(low, radix: 16)
        return String(repeating: "0", count: 16 - h.count) + h + String(repeating: "0", count: 16 - l.count) + l
    }
}

/// One tagged field as it appears on the wire (used to carry fields we do not model).
public struct KafkaTaggedField: Equatable, Sendable {
    public var tag: UInt32
    public var data: [UInt8]
    public init(tag: UInt32, data: [UInt8]) { self.tag = tag; self.data = data }
}

extension ByteReader {
    /// A length or count prefix: int16/int32 for classic forms, uvarint+1 for compact ones.
    /// Returns -1 for null. Never returns a value larger than the bytes left, so callers can loop safely.
    @inline(__always)
    mutating func kafkaLength(flexible: Bool, wide: Bool, what: String) throws -> Int {
        let n: Int
        if flexible {
            let u = try readUVarint()
            guard u <= UInt64(Int32.max) + 1 else { throw DecodeError.invalidLength(Int(clamping: u)) }
            n = Int(u) - 1
        } else {
            n = wide ? Int(try readInt32()) : Int(try readInt16())
        }
        if n < -1 { throw DecodeError.invalidLength(n) }
        if n > remaining { throw DecodeError.truncated(needed: n, available: remaining) }
        return n
    }

    public mutating func readKafkaNullableString(flexible: Bool = false) throws -> String? {
        let n = try kafkaLength(flexible: flexible, wide: false, what: "string")
        if n < 0 { return nil }
        let raw = try readBytes(n)
        return String(decoding: raw, as: UTF8.self)
    }

    public mutating func readKafkaString(flexible: Bool = false) throws -> String {
        guard let s = try readKafkaNullableString(flexible: flexible) else {
            throw DecodeError.invalidValue("null string in non-nullable field")
        }
        return s
    }

    public mutating func readKafkaNullableBytes(flexible: Bool = false) throws -> [UInt8]? {
        let n = try kafkaLength(flexible: flexible, wide: true, what: "bytes")
        if n < 0 { return nil }
        return try readBytes(n)
    }

    /// The bytes as a slice of the buffer being read: no copy (the produce path's records).
    public mutating func readKafkaNullableBytesSlice(flexible: Bool = false) throws -> ArraySlice<UInt8>? {
        let n = try kafkaLength(flexible: flexible, wide: true, what: "bytes")
        if n < 0 { return nil }
        return try readSlice(n)
    }

    public mutating func readKafkaBytesSlice(flexible: Bool = false) throws -> ArraySlice<UInt8> {
        guard let b = try readKafkaNullableBytesSlice(flexible: flexible) else {
            throw DecodeError.invalidValue("null bytes in non-nullable field")
        }
        return b
    }

    public mutating func readKafkaBytes(flexible: Bool = false) throws -> [UInt8] {
        guard let b = try readKafkaNullableBytes(flexible: flexible) else {
            throw DecodeError.invalidValue("null bytes in non-nullable field")
        }
        return b
    }

    /// Reads an array; every element occupies at least one byte, so a count above the bytes left is refused.
    public mutating func readKafkaNullableArray<T>(flexible: Bool = false,
                                                   _ element: (inout ByteReader) throws -> T) throws -> [T]? {
        let n = try kafkaLength(flexible: flexible, wide: true, what: "array")
        if n < 0 { return nil }
        var out: [T] = []
        out.reserveCapacity(Swift.min(n, 1024))
        for _ in 0..<n { out.append(try element(&self)) }
        return out
    }

    public mutating func readKafkaArray<T>(flexible: Bool = false,
                                           _ element: (inout ByteReader) throws -> T) throws -> [T] {
        guard let a = try readKafkaNullableArray(flexible: flexible, element) else {
            throw DecodeError.invalidValue("null array in non-nullable field")
        }
        return a
    }

    public mutating func readKafkaInt32Array(flexible: Bool = false) throws -> [Int32] {
        try readKafkaArray(flexible: flexible) { try $0.readInt32() }
    }

    public mutating func readKafkaStringArray(flexible: Bool = false) throws -> [String] {
        try readKafkaArray(flexible: flexible) { try $0.readKafkaString(flexible: flexible) }
    }

    public mutating func readKafkaUUID() throws -> KafkaUUID {
        let h = try readUInt64()
        return KafkaUUID(high: h, low: try readUInt64())
    }

    /// Reads a tagged-field section. `handle` gets each field's tag and a reader over exactly its bytes
    /// and returns false for tags it does not know; those are skipped (and returned) so newer peers work.
    @discardableResult
    public mutating func readKafkaTaggedFields(
        _ handle: (UInt32, inout ByteReader) throws -> Bool = { _, _ in false }
    ) throws -> [KafkaTaggedField] {
        let count = try readUVarint()
        guard count <= UInt64(remaining) else { throw DecodeError.invalidLength(Int(clamping: count)) }
        var unknown: [KafkaTaggedField] = []
        for _ in 0..<Int(count) {
            let tag = try readUVarint()
            guard tag <= UInt64(UInt32.max) else { throw DecodeError.invalidValue("tag too large") }
            let size = try readUVarint()
            guard size <= UInt64(remaining) else {
                throw DecodeError.truncated(needed: Int(clamping: size), available: remaining)
            }
            var sub = try subReader(Int(size))
            let start = sub.offset
            if try !handle(UInt32(tag), &sub) {
                unknown.append(KafkaTaggedField(tag: UInt32(tag), data: Array(sub.bytes[start..<sub.end])))
            }
        }
        return unknown
    }
}

extension ByteWriter {
    mutating func writeKafkaLength(_ n: Int, flexible: Bool, wide: Bool, what: String) throws {
        if flexible {
            writeUVarint(UInt64(n + 1))
        } else if wide {
            guard n <= Int(Int32.max) else { throw KafkaEncodeError.tooLong(what, n) }
            writeInt32(Int32(n))
        } else {
            guard n <= Int(Int16.max) else { throw KafkaEncodeError.tooLong(what, n) }
            writeInt16(Int16(n))
        }
    }

    public mutating func writeKafkaNullableString(_ s: String?, flexible: Bool = false) throws {
        guard let s else { return try writeKafkaLength(-1, flexible: flexible, wide: false, what: "string") }
        let utf8 = s.utf8
        try writeKafkaLength(utf8.count, flexible: flexible, wide: false, what: "string")
        writeBytes(utf8)
    }

    public mutating func writeKafkaString(_ s: String, flexible: Bool = false) throws {
        try writeKafkaNullableString(s, flexible: flexible)
    }

    public mutating func writeKafkaNullableBytes(_ b: [UInt8]?, flexible: Bool = false) throws {
        guard let b else { return try writeKafkaLength(-1, flexible: flexible, wide: true, what: "bytes") }
        try writeKafkaLength(b.count, flexible: flexible, wide: true, what: "bytes")
        writeBytes(b)
    }

    public mutating func writeKafkaNullableBytesSlice(_ b: ArraySlice<UInt8>?, flexible: Bool = false) throws {
        guard let b else { return try writeKafkaLength(-1, flexible: flexible, wide: true, what: "bytes") }
        try writeKafkaLength(b.count, flexible: flexible, wide: true, what: "bytes")
        writeBytes(b)
    }

    public mutating func writeKafkaBytesSlice(_ b: ArraySlice<UInt8>, flexible: Bool = false) throws {
        try writeKafkaNullableBytesSlice(b, flexible: flexible)
    }

    public mutating func writeKafkaBytes(_ b: [UInt8], flexible: Bool = false) throws {
        try writeKafkaNullableBytes(b, flexible: flexible)
    }

    public mutating func writeKafkaNullableArray<T>(_ a: [T]?, flexible: Bool = false,
                                                    _ element: (inout ByteWriter, T) throws -> Void) throws {
        guard let a else { return try writeKafkaLength(-1, flexible: flexible, wide: true, what: "array") }
        try writeKafkaLength(a.count, flexible: flexible, wide: true, what: "array")
        for e in a { try element(&self, e) }
    }

    public mutating func writeKafkaArray<T>(_ a: [T], flexible: Bool = false,
                                            _ element: (inout ByteWriter, T) throws -> Void) throws {
        try writeKafkaNullableArray(a, flexible: flexible, element)
    }

    public mutating func writeKafkaInt32Array(_ a: [Int32], flexible: Bool = false) throws {
        try writeKafkaArray(a, flexible: flexible) { $0.writeInt32($1) }
    }

    public mutating func writeKafkaStringArray(_ a: [String], flexible: Bool = false) throws {
        try writeKafkaArray(a, flexible: flexible) { try $0.writeKafkaString($1, flexible: flexible) }
    }

    public mutating func writeKafkaUUID(_ u: KafkaUUID) {
        writeUInt64(u.high)
        writeUInt64(u.low)
    }

    /// Writes a tagged-field section; fields must be sorted by tag, as Kafka requires.
    public mutating func writeKafkaTaggedFields(_ fields: [KafkaTaggedField] = []) {
        writeUVarint(UInt64(fields.count))
        for f in fields.sorted(by: { $0.tag < $1.tag }) {
            writeUVarint(UInt64(f.tag))
            writeUVarint(UInt64(f.data.count))
            writeBytes(f.data)
        }
    }
}

/// Version gate shared by all codecs: the schema's full range, wider than what the broker advertises.
@inline(__always)
func kafkaCheckDecode(_ api: KafkaAPI, _ version: Int16) throws {
    guard api.validVersions.contains(version) else {
        throw DecodeError.unsupportedVersion(apiKey: api.rawValue, version: version)
    }
}

@inline(__always)
func kafkaCheckEncode(_ api: KafkaAPI, _ version: Int16) throws {
    guard api.validVersions.contains(version) else {
        throw KafkaEncodeError.unsupportedVersion(apiKey: api.rawValue, version: version)
    }
}

/// Non-nullable in this version: refuse nil instead of silently writing something else.
@inline(__always)
func kafkaRequire<T>(_ v: T?, _ field: String) throws -> T {
    guard let v else { throw KafkaEncodeError.nullNotAllowed(field) }
    return v
}
