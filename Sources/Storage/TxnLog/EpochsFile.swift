import Protocol

/// The quorum's promised/acknowledged epochs as one small file (`quorum.epochs`): magic, version,
/// acceptedEpoch, acceptedLeader, currentEpoch, CRC-32C. Replaced atomically (temp, fsync, rename,
/// directory fsync) so a crash leaves the old or the new value, never a mix.
public struct EpochsFile: Sendable {
    public struct Value: Sendable, Equatable {
        public var acceptedEpoch: UInt32
        public var acceptedLeader: UInt64
        public var currentEpoch: UInt32
        public init(acceptedEpoch: UInt32 = 0, acceptedLeader: UInt64 = 0, currentEpoch: UInt32 = 0) {
            self.acceptedEpoch = acceptedEpoch
            self.acceptedLeader = acceptedLeader
            self.currentEpoch = currentEpoch
        }
    }

    static let magic: UInt32 = 0x434B_4550  // "CKEP"
    static let version: UInt32 = 1
    public static let name = "quorum.epochs"

    public let fs: any FileSystem
    public let directory: String

    public init(fs: any FileSystem, directory: String) {
        self.fs = fs
        self.directory = directory
    }

    var path: String { directory + "/" + Self.name }

    public static func encode(_ v: Value) -> [UInt8] {
        var w = ByteWriter(capacity: 32)
        w.writeUInt32(magic)
        w.writeUInt32(version)
        w.writeUInt32(v.acceptedEpoch)
        w.writeUInt64(v.acceptedLeader)
        w.writeUInt32(v.currentEpoch)
        let crc = CRC32C.checksum(w.bytes[...])
        w.writeUInt32(crc)
        return w.bytes
    }

    public static func decode(_ data: [UInt8]) throws -> Value {
        var r = ByteReader(data)
        guard try r.readUInt32() == magic else { throw DecodeError.invalidValue("not an epochs file") }
        let v = try r.readUInt32()
        guard v == version else { throw DecodeError.invalidValue("epochs file version \(v)") }
        let value = Value(acceptedEpoch: try r.readUInt32(), acceptedLeader: try r.readUInt64(), currentEpoch: try r.readUInt32())
        let body = data.count - 4
        let crc = try r.readUInt32()
        guard r.isAtEnd, body > 0, CRC32C.checksum(data[0..<body]) == crc else {
            throw DecodeError.invalidValue("epochs file checksum mismatch")
        }
        return value
    }

    /// The saved epochs; zeros when the file does not exist yet (a fresh server).
    public func load() throws -> Value {
        guard try fs.list(directory).contains(Self.name) else { return Value() }
        return try Self.decode(try fs.read(path))
    }

    public func save(_ v: Value) throws {
        try fs.replaceAtomically(path, with: Self.encode(v), directory: directory)
    }
}
