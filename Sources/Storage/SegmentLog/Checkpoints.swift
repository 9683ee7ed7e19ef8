/// A partition's identity and its directory name `<topic>-<partition>`.
public struct PartitionName: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var dirName: String { "\(topic)-\(partition)" }
    public var description: String { dirName }

    /// Parses `<topic>-<partition>`; topics may themselves contain '-'.
    public init?(dirName: String) {
        guard let dash = dirName.lastIndex(of: "-"), dash != dirName.startIndex,
              let p = Int32(dirName[dirName.index(after: dash)...]), p >= 0 else { return nil }
        self.init(topic: String(dirName[..<dash]), partition: p)
    }

    public static func < (a: PartitionName, b: PartitionName) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}

/// Kafka's offset checkpoint files (`recovery-point-offset-checkpoint`, `replication-offset-checkpoint`,
/// `log-start-offset-checkpoint`): a version line `0`, a count line, then `topic partition offset`.
public enum OffsetCheckpoint {
    public static func encode(_ entries: [PartitionName: Int64]) -> [UInt8] {
        var s = "0\n\(entries.count)\n"
        for (tp, off) in entries.sorted(by: { $0.key < $1.key }) { s += "\(tp.topic) \(tp.partition) \(off)\n" }
        return Array(s.utf8)
    }

    public static func decode(_ bytes: [UInt8], path: String = "checkpoint") throws -> [PartitionName: Int64] {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0).logTrimmed() }
        func bad(_ why: String) -> LogError { .corruptFile(path: path, reason: why) }
        guard lines.count >= 2, lines[0] == "0" else { throw bad("unknown version") }
        guard let n = Int(lines[1]), n >= 0, lines.count >= 2 + n else { throw bad("bad count") }
        var out: [PartitionName: Int64] = [:]
        for line in lines[2..<(2 + n)] {
            let f = line.split(separator: " ")
            guard f.count == 3, let p = Int32(f[1]), let o = Int64(f[2]) else { throw bad("bad line '\(line)'") }
            out[PartitionName(topic: String(f[0]), partition: p)] = o
        }
        guard lines[(2 + n)...].allSatisfy(\.isEmpty) else { throw bad("trailing lines") }
        return out
    }

    /// A missing file reads as empty (a fresh log dir).
    public static func read(fs: any FileSystem = PosixFileSystem(), _ path: String) throws -> [PartitionName: Int64] {
        guard fs.exists(path) else { return [:] }
        return try decode(try fs.read(path), path: path)
    }

    public static func write(fs: any FileSystem = PosixFileSystem(), _ path: String, _ entries: [PartitionName: Int64]) throws {
        try fs.replaceAtomically(path, with: encode(entries))
    }
}

/// (epoch, startOffset) pairs: the first offset each leader epoch wrote. Pure value; the log persists it
/// to `leader-epoch-checkpoint`. (Named apart from BrokerCore.LeaderEpochCache so both can be imported.)
public struct LogEpochCache: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public var epoch: Int32
        public var startOffset: Int64
        public init(epoch: Int32, startOffset: Int64) {
            self.epoch = epoch
            self.startOffset = startOffset
        }
    }

    public private(set) var entries: [Entry] = []

    public init(entries: [Entry] = []) { self.entries = entries }

    public var latestEpoch: Int32? { entries.last?.epoch }

    /// Records that `epoch` starts at `startOffset`. Older epochs are ignored; entries at or after
    /// `startOffset` with a smaller epoch are replaced (they were never committed). Returns whether
    /// anything changed.
    @discardableResult
    public mutating func assign(epoch: Int32, startOffset: Int64) -> Bool {
        guard epoch >= 0 else { return false }
        if let last = entries.last, epoch <= last.epoch { return false }
        entries.removeAll { $0.startOffset >= startOffset }
        entries.append(Entry(epoch: epoch, startOffset: startOffset))
        return true
    }

    /// OffsetForLeaderEpoch: the largest epoch <= `requested` and the offset where the next higher
    /// epoch starts (the log end for the latest epoch). (-1, -1) when unknown.
    public func endOffset(for requested: Int32, logEndOffset: Int64) -> (epoch: Int32, endOffset: Int64) {
        guard requested >= 0, let last = entries.last else { return (-1, -1) }
        if requested == last.epoch { return (requested, logEndOffset) }
        guard let higher = entries.firstIndex(where: { $0.epoch > requested }) else { return (-1, -1) }
        if higher == 0 { return (requested, entries[0].startOffset) }
        return (entries[higher - 1].epoch, entries[higher].startOffset)
    }

    /// The log was truncated to end at `endOffset`: epochs starting at or after it are gone.
    @discardableResult
    public mutating func truncateFromEnd(_ endOffset: Int64) -> Bool {
        let before = entries.count
        entries.removeAll { $0.startOffset >= endOffset }
        return entries.count != before
    }

    /// The log now starts at `startOffset`: drop epochs wholly before it, clamp the first.
    @discardableResult
    public mutating func truncateFromStart(_ startOffset: Int64) -> Bool {
        guard let keep = entries.lastIndex(where: { $0.startOffset <= startOffset }) else { return false }
        let old = entries
        entries.removeFirst(keep)
        entries[0].startOffset = startOffset
        return entries != old
    }

    public mutating func clear() { entries.removeAll() }

    /// `leader-epoch-checkpoint` text: `0`, count, then `epoch startOffset` lines.
    public func encode() -> [UInt8] {
        var s = "0\n\(entries.count)\n"
        for e in entries { s += "\(e.epoch) \(e.startOffset)\n" }
        return Array(s.utf8)
    }

    public static func decode(_ bytes: [UInt8], path: String = "leader-epoch-checkpoint") throws -> LogEpochCache {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0).logTrimmed() }
        func bad(_ why: String) -> LogError { .corruptFile(path: path, reason: why) }
        guard lines.count >= 2, lines[0] == "0" else { throw bad("unknown version") }
        guard let n = Int(lines[1]), n >= 0, lines.count >= 2 + n else { throw bad("bad count") }
        var c = LogEpochCache()
        for line in lines[2..<(2 + n)] {
            let f = line.split(separator: " ")
            guard f.count == 2, let e = Int32(f[0]), let o = Int64(f[1]), e >= 0 else { throw bad("bad line '\(line)'") }
            if let last = c.entries.last, e <= last.epoch || o < last.startOffset { throw bad("not monotonic") }
            c.entries.append(Entry(epoch: e, startOffset: o))
        }
        return c
    }
}
