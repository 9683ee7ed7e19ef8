import Protocol

/// coordd's append-only transaction log: `log.<hex first zxid>` files under one directory.
/// File = 16-byte header (magic, version, reserved) + records; record = u32 payload length,
/// u32 CRC-32C over (zxid, payload), i64 zxid, payload. Appends are buffered; `sync` writes them
/// with one write and one fdatasync (group commit). Not thread-safe: one owner thread.
public final class TxnLog {
    public struct Options: Sendable {
        public var maxRecordsPerFile: Int
        public var maxBytesPerFile: Int
        public init(maxRecordsPerFile: Int = 100_000, maxBytesPerFile: Int = 64 << 20) {
            self.maxRecordsPerFile = maxRecordsPerFile
            self.maxBytesPerFile = maxBytesPerFile
        }
    }

    public struct Record: Sendable, Equatable {
        public var zxid: Int64
        public var bytes: [UInt8]
        public init(zxid: Int64, bytes: [UInt8]) {
            self.zxid = zxid
            self.bytes = bytes
        }
    }

    /// What recovery found and repaired.
    public struct RecoveryReport: Sendable, Equatable {
        public var files = 0
        public var records = 0
        /// Bytes cut from a torn or corrupt tail (0 after a clean shutdown).
        public var truncatedBytes = 0
        public var removedFiles = 0
    }

    static let magic: UInt32 = 0x434B_544C  // "CKTL"
    static let version: UInt32 = 1
    static let headerSize = 16
    static let recordOverhead = 16
    /// A length above this is corruption, not a record.
    static let maxRecordBytes = 256 << 20

    public let fs: any FileSystem
    public let directory: String
    public let options: Options
    public private(set) var lastZxid: Int64 = 0
    public private(set) var report = RecoveryReport()

    private var current: (any OpenFile)?
    private var currentPath: String?
    private var currentRecords = 0
    private var currentBytes = 0
    private var buffer: [UInt8] = []
    private var recovered = false

    public init(fs: any FileSystem, directory: String, options: Options = Options()) {
        self.fs = fs
        self.directory = directory
        self.options = options
    }

    public static func fileName(zxid: Int64) -> String { "log." + String(UInt64(bitPattern: zxid), radix: 16) }

    static func zxid(fromName name: String, prefix: String) -> Int64? {
        guard name.hasPrefix(prefix), let v = UInt64(name.dropFirst(prefix.count), radix: 16) else { return nil }
        return Int64(bitPattern: v)
    }

    private func path(_ name: String) -> String { directory + "/" + name }

    /// Log files sorted by first zxid.
    public func logFiles() throws -> [(zxid: Int64, name: String)] {
        try fs.list(directory).compactMap { n in Self.zxid(fromName: n, prefix: "log.").map { ($0, n) } }.sorted { $0.zxid < $1.zxid }
    }

    /// Reads every log file, cuts a torn or corrupt tail (and any file after it), and returns the
    /// records with zxid > `after` in order. Must be called once before appending.
    public func recover(after: Int64 = Int64.min) throws -> [Record] {
        try fs.makeDirectories(directory)
        var out: [Record] = []
        report = RecoveryReport()
        let files = try logFiles()
        var prevZxid = Int64.min
        var stopped = false
        for (i, f) in files.enumerated() {
            let p = path(f.name)
            if stopped {
                try fs.remove(p)
                report.removedFiles += 1
                continue
            }
            report.files += 1
            let data = try fs.read(p)
            let scan = Self.scan(data, previousZxid: prevZxid) { rec in
                if rec.zxid > after { out.append(rec) }
            }
            report.records += scan.count
            if let last = scan.lastZxid { prevZxid = last }
            // Only the end of the newest file can be torn by a crash (older files were synced
            // before the next began); a bad record with more after it is damage, and cutting
            // there would drop committed transactions, so recovery refuses, as ZooKeeper does.
            if scan.validEnd < data.count && !(i == files.count - 1 && Self.isTornTail(data, from: scan.validEnd)) {
                throw TxnLogCorruption(path: p, offset: scan.validEnd, lastGoodZxid: scan.lastZxid)
            }
            if scan.validEnd < data.count {
                report.truncatedBytes += data.count - scan.validEnd
                stopped = true
            }
            if scan.count == 0 {
                // Nothing valid: the file's name no longer describes its first record.
                try fs.remove(p)
                report.removedFiles += 1
                continue
            }
            if stopped {
                try fs.truncate(p, to: scan.validEnd)
            } else if i == files.count - 1 {
                currentPath = p
                currentRecords = scan.count
                currentBytes = data.count
            }
        }
        if stopped {
            currentPath = nil
            try fs.syncDirectory(directory)
        }
        lastZxid = prevZxid == Int64.min ? 0 : prevZxid
        if let cp = currentPath { current = try fs.openAppend(cp) }
        recovered = true
        return out
    }

    /// What a crash mid-append leaves: a record cut short, one bad record running to the end of
    /// the file, or zeros (allocated but never written).
    static func isTornTail(_ data: [UInt8], from end: Int) -> Bool {
        let left = data.count - end
        if left < recordOverhead { return true }
        if data[end...].allSatisfy({ $0 == 0 }) { return true }
        let len = Int(data[end]) << 24 | Int(data[end + 1]) << 16 | Int(data[end + 2]) << 8 | Int(data[end + 3])
        return len > maxRecordBytes || recordOverhead + len >= left
    }

    struct Scan {
        var count = 0
        var validEnd = 0
        var lastZxid: Int64?
    }

    /// Walks records until the data ends or stops making sense.
    /// One log file's records as recovery would read them, for inspection tools: the records up to
    /// the first torn or corrupt one, and where that is (`validEnd` < the file size when it stopped
    /// early). nil when the file does not start with a txn log header.
    public static func inspect(_ data: [UInt8]) -> (records: [Record], validEnd: Int)? {
        guard data.count >= headerSize else { return nil }
        var records: [Record] = []
        let s = scan(data, previousZxid: Int64.min) { records.append($0) }
        return s.validEnd == 0 ? nil : (records, s.validEnd)
    }

    static func scan(_ data: [UInt8], previousZxid: Int64, _ each: (Record) -> Void) -> Scan {
        var s = Scan()
        var r = ByteReader(data)
        guard let m = try? r.readUInt32(), m == magic, let v = try? r.readUInt32(), v == version, (try? r.skip(8)) != nil else {
            return s
        }
        s.validEnd = headerSize
        var prev = previousZxid
        while r.remaining >= recordOverhead {
            let start = r.offset
            guard let len = try? r.readUInt32(), let crc = try? r.readUInt32() else { break }
            let n = Int(len)
            guard n <= maxRecordBytes, r.remaining >= 8 + n else { break }
            let body = data[(start + 8)..<(start + 16 + n)]
            guard CRC32C.checksum(body) == crc, let zxid = try? r.readInt64(), zxid > prev,
                  let payload = try? r.readBytes(n) else { break }
            prev = zxid
            each(Record(zxid: zxid, bytes: payload))
            s.count += 1
            s.validEnd = r.offset
            s.lastZxid = zxid
        }
        return s
    }

    /// Buffers one record; nothing is durable until `sync`.
    public func append(zxid: Int64, bytes: [UInt8]) throws {
        precondition(recovered, "TxnLog.recover must run before append")
        if zxid <= lastZxid { throw DecodeError.invalidValue("zxid \(zxid) not after \(lastZxid)") }
        if current == nil || currentRecords >= options.maxRecordsPerFile || currentBytes >= options.maxBytesPerFile {
            try roll(firstZxid: zxid)
        }
        let start = buffer.count
        var w = ByteWriter(capacity: Self.recordOverhead + bytes.count)
        w.writeUInt32(UInt32(bytes.count))
        w.writeUInt32(0)
        w.writeInt64(zxid)
        w.writeBytes(bytes)
        var rec = w.bytes
        let crc = CRC32C.checksum(rec[8...])
        rec[4] = UInt8(truncatingIfNeeded: crc >> 24)
        rec[5] = UInt8(truncatingIfNeeded: crc >> 16)
        rec[6] = UInt8(truncatingIfNeeded: crc >> 8)
        rec[7] = UInt8(truncatingIfNeeded: crc)
        buffer.append(contentsOf: rec)
        currentRecords += 1
        currentBytes += buffer.count - start
        lastZxid = zxid
    }

    /// Writes buffered records and makes them durable.
    public func sync() throws {
        guard let f = current else { return }
        if !buffer.isEmpty {
            try f.append(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
        try f.syncData()
    }

    private func roll(firstZxid: Int64) throws {
        if current != nil { try sync() }
        current = nil
        let p = path(Self.fileName(zxid: firstZxid))
        let f = try fs.create(p)
        var w = ByteWriter(capacity: Self.headerSize)
        w.writeUInt32(Self.magic)
        w.writeUInt32(Self.version)
        w.writeInt64(0)
        buffer.append(contentsOf: w.bytes)
        current = f
        currentPath = p
        currentRecords = 0
        currentBytes = Self.headerSize
        try fs.syncDirectory(directory)
    }

    /// Drops every record with zxid > `zxid` (a follower discarding an uncommitted tail).
    public func truncate(after zxid: Int64) throws {
        try sync()
        current = nil
        currentPath = nil
        var last: Int64 = 0
        for f in try logFiles() {
            let p = path(f.name)
            if f.zxid > zxid {
                try fs.remove(p)
                continue
            }
            let data = try fs.read(p)
            var cut: Int?
            var keptEnd = Self.headerSize
            _ = Self.scan(data, previousZxid: Int64.min) { rec in
                if cut != nil { return }
                if rec.zxid > zxid { cut = keptEnd; return }
                last = rec.zxid
                keptEnd += Self.recordOverhead + rec.bytes.count
            }
            if keptEnd < data.count { try fs.truncate(p, to: keptEnd) }
            currentPath = p
            currentRecords = 0
            currentBytes = keptEnd
        }
        try fs.syncDirectory(directory)
        lastZxid = max(last, min(zxid, lastZxid))
        if let cp = currentPath { current = try fs.openAppend(cp) }
    }

    /// Deletes whole files that only hold records at or below `zxid` (after a snapshot covers them).
    public func purge(upTo zxid: Int64) throws {
        let files = try logFiles()
        for (i, f) in files.enumerated() where i + 1 < files.count {
            if files[i + 1].zxid <= zxid + 1 && path(f.name) != currentPath { try fs.remove(path(f.name)) }
        }
    }

    public func close() {
        try? sync()
        current = nil
    }
}

extension TxnLog {
    /// Drops every log file: the state up to `base` now lives in a snapshot installed from a
    /// leader, and the next append continues after it.
    public func reset(base: Int64) throws {
        buffer.removeAll(keepingCapacity: true)
        current = nil
        currentPath = nil
        currentRecords = 0
        currentBytes = 0
        for f in try logFiles() { try fs.remove(path(f.name)) }
        try fs.syncDirectory(directory)
        lastZxid = base
        recovered = true
    }
}

/// A txn log damaged before its end: recovery refuses rather than cut committed transactions.
public struct TxnLogCorruption: Error, CustomStringConvertible, Sendable, Equatable {
    public let path: String
    public let offset: Int
    public let lastGoodZxid: Int64?

    public var description: String {
        let after = lastGoodZxid.map { " after zxid 0x" + String(UInt64(bitPattern: $0), radix: 16) } ?? ""
        return "txn log \(path) is corrupt at offset \(offset)\(after) (bad record with data after it); "
            + "refusing to start: restore the file, or remove this server's data so it resyncs from the ensemble"
    }
}
