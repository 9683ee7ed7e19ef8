import Protocol

/// Snapshots as `snapshot.<hex zxid>`: 28-byte header (magic, version, zxid, payload length,
/// CRC-32C of the payload) + payload. Written to a temp name, synced, then renamed into place,
/// so a crash leaves either the old set or the new file whole.
public struct SnapshotStore: Sendable {
    static let magic: UInt32 = 0x434B_5353  // "CKSS"
    static let version: UInt32 = 1
    static let headerSize = 28

    public let fs: any FileSystem
    public let directory: String

    public init(fs: any FileSystem, directory: String) {
        self.fs = fs
        self.directory = directory
    }

    public static func fileName(zxid: Int64) -> String { "snapshot." + String(UInt64(bitPattern: zxid), radix: 16) }

    public func snapshots() throws -> [(zxid: Int64, name: String)] {
        try fs.list(directory).compactMap { n in TxnLog.zxid(fromName: n, prefix: "snapshot.").map { ($0, n) } }.sorted { $0.zxid < $1.zxid }
    }

    public func write(zxid: Int64, payload: [UInt8]) throws {
        try fs.makeDirectories(directory)
        var w = ByteWriter(capacity: Self.headerSize + payload.count)
        w.writeUInt32(Self.magic)
        w.writeUInt32(Self.version)
        w.writeInt64(zxid)
        w.writeUInt64(UInt64(payload.count))
        w.writeUInt32(CRC32C.checksum(payload))
        w.writeBytes(payload)
        let final = directory + "/" + Self.fileName(zxid: zxid)
        let tmp = final + ".tmp"
        do {
            let f = try fs.create(tmp)
            try f.append(w.bytes)
            try f.sync()
        } catch {
            // A full disk must not stay full of a half snapshot; the previous ones are untouched.
            try? fs.remove(tmp)
            throw error
        }
        try fs.rename(tmp, to: final)
        try fs.syncDirectory(directory)
    }

    /// Decodes one snapshot file; nil when it is torn or corrupt.
    public static func decode(_ data: [UInt8], expectedZxid: Int64? = nil) -> (zxid: Int64, payload: [UInt8])? {
        var r = ByteReader(data)
        guard let m = try? r.readUInt32(), m == magic, let v = try? r.readUInt32(), v == version,
              let zxid = try? r.readInt64(), let len = try? r.readUInt64(), let crc = try? r.readUInt32(),
              len == UInt64(r.remaining) else { return nil }
        let payload = Array(data[headerSize...])
        guard CRC32C.checksum(payload) == crc else { return nil }
        if let e = expectedZxid, e != zxid { return nil }
        return (zxid, payload)
    }

    /// The newest snapshot that checks out; older ones are tried when newer ones are damaged.
    public func loadNewest() throws -> (zxid: Int64, payload: [UInt8])? {
        for s in try snapshots().reversed() {
            guard let data = try? fs.read(directory + "/" + s.name) else { continue }
            if let ok = Self.decode(data, expectedZxid: s.zxid) { return ok }
        }
        return nil
    }

    /// Keeps the newest `keep` snapshots and removes leftovers of interrupted writes.
    public func purge(keep: Int) throws {
        let all = try snapshots()
        for s in all.dropLast(max(1, keep)) { try fs.remove(directory + "/" + s.name) }
        for n in try fs.list(directory) where n.hasPrefix("snapshot.") && n.hasSuffix(".tmp") {
            try fs.remove(directory + "/" + n)
        }
    }
}
