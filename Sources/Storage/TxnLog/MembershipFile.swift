import Protocol

/// The newest committed ensemble configuration a server knows (`quorum.membership`): magic,
/// version, the reconfig's zxid, voter and observer ids, CRC-32C. Written when a reconfig
/// commits or is learned, so a restart without a newer snapshot still knows who votes (the
/// servers a reconfig removed may be gone for good). Replaced atomically.
public struct MembershipFile: Sendable {
    public struct Value: Sendable, Equatable {
        public var zxid: UInt64
        public var voters: [UInt64]
        public var observers: [UInt64]
        public init(zxid: UInt64, voters: [UInt64], observers: [UInt64]) {
            self.zxid = zxid
            self.voters = voters
            self.observers = observers
        }
    }

    static let magic: UInt32 = 0x434B_4D42  // "CKMB"
    static let version: UInt32 = 1
    static let maxMembers = 255
    public static let name = "quorum.membership"

    public let fs: any FileSystem
    public let directory: String

    public init(fs: any FileSystem, directory: String) {
        self.fs = fs
        self.directory = directory
    }

    var path: String { directory + "/" + Self.name }

    public static func encode(_ v: Value) -> [UInt8] {
        var w = ByteWriter(capacity: 32 + 8 * (v.voters.count + v.observers.count))
        w.writeUInt32(magic)
        w.writeUInt32(version)
        w.writeUInt64(v.zxid)
        for ids in [v.voters, v.observers] {
            w.writeUInt16(UInt16(truncatingIfNeeded: ids.count))
            for id in ids { w.writeUInt64(id) }
        }
        w.writeUInt32(CRC32C.checksum(w.bytes[...]))
        return w.bytes
    }

    public static func decode(_ data: [UInt8]) throws -> Value {
        var r = ByteReader(data)
        guard try r.readUInt32() == magic else { throw DecodeError.invalidValue("not a membership file") }
        let v = try r.readUInt32()
        guard v == version else { throw DecodeError.invalidValue("membership file version \(v)") }
        let zxid = try r.readUInt64()
        func ids() throws -> [UInt64] {
            let n = Int(try r.readUInt16())
            guard n <= maxMembers else { throw DecodeError.invalidValue("membership file lists \(n) servers") }
            return try (0..<n).map { _ in try r.readUInt64() }
        }
        let value = Value(zxid: zxid, voters: try ids(), observers: try ids())
        let body = data.count - 4
        let crc = try r.readUInt32()
        guard r.isAtEnd, body > 0, CRC32C.checksum(data[0..<body]) == crc else {
            throw DecodeError.invalidValue("membership file checksum mismatch")
        }
        return value
    }

    /// nil when no reconfig has been seen (the file does not exist).
    public func load() throws -> Value? {
        guard try fs.list(directory).contains(Self.name) else { return nil }
        return try Self.decode(try fs.read(path))
    }

    public func save(_ v: Value) throws {
        try fs.replaceAtomically(path, with: Self.encode(v), directory: directory)
    }
}
