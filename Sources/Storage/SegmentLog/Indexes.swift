/// Sparse offset index of one segment: 8-byte entries (relative offset int32, position int32, both
/// big-endian), each pointing at the start of a batch whose last offset is the entry's offset.
///
/// Why pread/pwrite and an in-memory copy instead of mmap: an mmap'd file that is truncated or
/// deleted under us raises SIGBUS, which would crash the broker instead of throwing; the copy costs
/// 8 bytes per `index.interval.bytes` of log (2 MiB per GiB) and lookups never touch the disk.
/// New entries are written lazily (at flush/roll/close): recovery rebuilds the index of every
/// segment past the recovery point, so the file only has to be exact below it.
struct OffsetIndex {
    static let entrySize = 8
    let baseOffset: Int64
    var file: any OpenFile
    private(set) var relOffsets: [UInt32] = []
    private(set) var positions: [UInt32] = []
    private var persisted = 0

    init(file: any OpenFile, baseOffset: Int64) {
        self.file = file
        self.baseOffset = baseOffset
    }

    var count: Int { relOffsets.count }
    var lastOffset: Int64? { relOffsets.last.map { baseOffset + Int64($0) } }

    /// Loads and sanity-checks the file; nil means "rebuild me".
    static func load(file: any OpenFile, baseOffset: Int64, logSize: Int) throws -> OffsetIndex? {
        let bytes = try file.read(count: try file.size(), at: 0)
        guard bytes.count % entrySize == 0 else { return nil }
        var idx = OffsetIndex(file: file, baseOffset: baseOffset)
        let n = bytes.count / entrySize
        idx.relOffsets.reserveCapacity(n)
        idx.positions.reserveCapacity(n)
        for i in 0..<n {
            let p = i * entrySize
            let rel = be32(bytes, p), pos = be32(bytes, p + 4)
            if let lr = idx.relOffsets.last, let lp = idx.positions.last, rel <= lr || pos <= lp { return nil }
            guard rel <= UInt32(Int32.max), Int(pos) < logSize else { return nil }
            idx.relOffsets.append(rel)
            idx.positions.append(pos)
        }
        idx.persisted = n
        return idx
    }

    mutating func append(offset: Int64, position: Int) {
        guard offset >= baseOffset, offset - baseOffset <= Int64(Int32.max), position >= 0, position <= Int(Int32.max) else { return }
        let rel = UInt32(offset - baseOffset)
        if let last = relOffsets.last, rel <= last { return }
        relOffsets.append(rel)
        positions.append(UInt32(position))
    }

    /// Position of the batch of the largest indexed offset <= `offset`, or 0.
    func lookup(_ offset: Int64) -> Int {
        let target = offset - baseOffset
        guard target >= 0 else { return 0 }
        var lo = 0, hi = relOffsets.count  // first entry > target
        while lo < hi {
            let mid = (lo + hi) / 2
            if Int64(relOffsets[mid]) <= target { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? 0 : Int(positions[lo - 1])
    }

    /// Drops entries at or after log position `position` (the log was cut there).
    mutating func truncate(toPosition position: Int) throws {
        var n = positions.count
        while n > 0, Int(positions[n - 1]) >= position { n -= 1 }
        guard n < positions.count else { return }
        relOffsets.removeSubrange(n...)
        positions.removeSubrange(n...)
        if persisted > n {
            persisted = n
            try file.truncate(to: n * Self.entrySize)
        }
    }

    mutating func reset() throws {
        relOffsets.removeAll()
        positions.removeAll()
        persisted = 0
        try file.truncate(to: 0)
    }

    /// Writes entries not yet on disk (no fsync).
    mutating func writePending() throws {
        guard persisted < relOffsets.count else { return }
        var out = [UInt8]()
        out.reserveCapacity((relOffsets.count - persisted) * Self.entrySize)
        for i in persisted..<relOffsets.count {
            putBE32(&out, relOffsets[i])
            putBE32(&out, positions[i])
        }
        try file.write(out, at: persisted * Self.entrySize)
        persisted = relOffsets.count
    }
}

/// Time index: 12-byte entries (timestamp int64, relative offset int32). Each says "the largest
/// timestamp seen up to this offset"; timestamps and offsets only grow.
struct TimeIndex {
    static let entrySize = 12
    let baseOffset: Int64
    var file: any OpenFile
    private(set) var timestamps: [Int64] = []
    private(set) var relOffsets: [UInt32] = []
    private var persisted = 0

    init(file: any OpenFile, baseOffset: Int64) {
        self.file = file
        self.baseOffset = baseOffset
    }

    var count: Int { timestamps.count }
    var last: (timestamp: Int64, offset: Int64)? {
        guard let t = timestamps.last, let r = relOffsets.last else { return nil }
        return (t, baseOffset + Int64(r))
    }

    static func load(file: any OpenFile, baseOffset: Int64, maxOffset: Int64) throws -> TimeIndex? {
        let bytes = try file.read(count: try file.size(), at: 0)
        guard bytes.count % entrySize == 0 else { return nil }
        var idx = TimeIndex(file: file, baseOffset: baseOffset)
        for i in 0..<(bytes.count / entrySize) {
            let p = i * entrySize
            let ts = Int64(bitPattern: UInt64(be32(bytes, p)) << 32 | UInt64(be32(bytes, p + 4)))
            let rel = be32(bytes, p + 8)
            if let lt = idx.timestamps.last, let lr = idx.relOffsets.last, ts < lt || rel < lr { return nil }
            guard rel <= UInt32(Int32.max), baseOffset + Int64(rel) <= maxOffset else { return nil }
            idx.timestamps.append(ts)
            idx.relOffsets.append(rel)
        }
        idx.persisted = idx.timestamps.count
        return idx
    }

    mutating func append(timestamp: Int64, offset: Int64) {
        guard offset >= baseOffset, offset - baseOffset <= Int64(Int32.max) else { return }
        let rel = UInt32(offset - baseOffset)
        if let lt = timestamps.last, let lr = relOffsets.last, timestamp <= lt || rel < lr { return }
        timestamps.append(timestamp)
        relOffsets.append(rel)
    }

    /// Offset of the last entry whose timestamp is < `timestamp` (a safe place to start scanning).
    func offsetBefore(_ timestamp: Int64) -> Int64? {
        var lo = 0, hi = timestamps.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if timestamps[mid] < timestamp { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? nil : baseOffset + Int64(relOffsets[lo - 1])
    }

    /// Drops entries for offsets >= `offset`.
    mutating func truncate(toOffset offset: Int64) throws {
        var n = relOffsets.count
        while n > 0, baseOffset + Int64(relOffsets[n - 1]) >= offset { n -= 1 }
        guard n < relOffsets.count else { return }
        timestamps.removeSubrange(n...)
        relOffsets.removeSubrange(n...)
        if persisted > n {
            persisted = n
            try file.truncate(to: n * Self.entrySize)
        }
    }

    mutating func reset() throws {
        timestamps.removeAll()
        relOffsets.removeAll()
        persisted = 0
        try file.truncate(to: 0)
    }

    mutating func writePending() throws {
        guard persisted < timestamps.count else { return }
        var out = [UInt8]()
        for i in persisted..<timestamps.count {
            let t = UInt64(bitPattern: timestamps[i])
            putBE32(&out, UInt32(truncatingIfNeeded: t >> 32))
            putBE32(&out, UInt32(truncatingIfNeeded: t))
            putBE32(&out, relOffsets[i])
        }
        try file.write(out, at: persisted * Self.entrySize)
        persisted = timestamps.count
    }
}

@inline(__always) fileprivate func be32(_ b: [UInt8], _ p: Int) -> UInt32 {
    UInt32(b[p]) << 24 | UInt32(b[p + 1]) << 16 | UInt32(b[p + 2]) << 8 | UInt32(b[p + 3])
}

@inline(__always) fileprivate func putBE32(_ out: inout [UInt8], _ v: UInt32) {
    out.append(UInt8(v >> 24)); out.append(UInt8((v >> 16) & 0xff))
    out.append(UInt8((v >> 8) & 0xff)); out.append(UInt8(v & 0xff))
}
