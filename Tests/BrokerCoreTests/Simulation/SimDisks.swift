#if canImport(Glibc)
import Glibc
#endif
import Protocol
@testable import BrokerCore
@testable import Storage

/// A broker's storage as the cluster simulation sees it: one log per partition, a crash, and a
/// full disk. Two kinds: `ArrayDisk` (records in arrays that survive a kill, as if every append
/// were fsynced) and `PartitionLogDisk` (brokerd's real `PartitionLog`s in a `LogDirectory` on a
/// crash-dropping `MemoryFileSystem`).
protocol SimDisk: AnyObject {
    func log(_ tp: TopicPartition) -> any SimLog
    /// Writes are refused (ENOSPC) while full.
    func setFull(_ full: Bool)
    /// The process dies: whatever a power loss would lose is lost, and the logs are reopened
    /// through the recovery path. Returns the recovered high watermarks (nil: keep the old ones).
    func crashAndReopen(now: Int64) -> [TopicPartition: Int64]?
    /// Periodic checkpoints (recovery points, log starts, high watermarks).
    func checkpoint(highWatermarks: [TopicPartition: Int64])
    /// Problems found in the storage itself (I/O errors, a log that differs from what it served).
    var problems: [String] { get }
    func verify()
}

/// One partition's log on one broker. Offsets are record indexes; records carry the leader epoch
/// they were written in.
protocol SimLog: AnyObject {
    var leo: Int64 { get }
    /// The log's epoch cache in BrokerCore's form, as ReplicaManager builds it.
    var cache: LeaderEpochCache { get }
    /// The first `n` records (for the invariant checks).
    func records(prefix n: Int) -> [ClusterSim.Record]
    /// Leader append; false when the disk refused it.
    func appendAsLeader(_ records: [ClusterSim.Record], epoch: Int32, now: Int64) -> Bool
    /// Becoming leader: the new epoch starts at the log end.
    func becomeLeader(epoch: Int32)
    /// OffsetForLeaderEpoch, answered by this (leader) log.
    func endOffset(forEpoch epoch: Int32) -> (epoch: Int32, endOffset: Int64)
    /// Follower fetch of about `count` records from `leader`; false when nothing could be appended.
    func replicate(from leader: any SimLog, count: Int, now: Int64) -> Bool
    func truncate(to offset: Int64)
}

// MARK: - arrays

final class ArrayDisk: SimDisk {
    private var logs: [TopicPartition: ArrayLog] = [:]
    var full = false
    init() {}
    func log(_ tp: TopicPartition) -> any SimLog {
        if let l = logs[tp] { return l }
        let l = ArrayLog(disk: self)
        logs[tp] = l
        return l
    }
    func setFull(_ full: Bool) { self.full = full }
    func crashAndReopen(now: Int64) -> [TopicPartition: Int64]? { nil }
    func checkpoint(highWatermarks: [TopicPartition: Int64]) {}
    var problems: [String] { [] }
    func verify() {}
}

final class ArrayLog: SimLog {
    unowned let disk: ArrayDisk
    var log: [ClusterSim.Record] = []
    var cache = LeaderEpochCache()
    init(disk: ArrayDisk) { self.disk = disk }

    var leo: Int64 { Int64(log.count) }
    func records(prefix n: Int) -> [ClusterSim.Record] { Array(log.prefix(n)) }

    func appendAsLeader(_ records: [ClusterSim.Record], epoch: Int32, now: Int64) -> Bool {
        guard !disk.full else { return false }
        log += records
        return true
    }

    func becomeLeader(epoch: Int32) { cache.assign(epoch: epoch, startOffset: leo) }
    func endOffset(forEpoch epoch: Int32) -> (epoch: Int32, endOffset: Int64) { cache.endOffset(for: epoch, logEndOffset: leo) }

    func replicate(from leader: any SimLog, count: Int, now: Int64) -> Bool {
        guard !disk.full, let leader = leader as? ArrayLog else { return false }
        for _ in 0..<count where leo < leader.leo {
            let rec = leader.log[Int(leo)]
            if rec.epoch > cache.latestEpoch { cache.assign(epoch: rec.epoch, startOffset: leo) }
            log.append(rec)
        }
        return true
    }

    func truncate(to offset: Int64) {
        guard offset < leo else { return }
        log.removeLast(Int(leo - offset))
        cache.truncate(toEndOffset: offset)
    }
}

// MARK: - real partition logs

/// brokerd's storage: a `LogDirectory` of `PartitionLog`s on a `MemoryFileSystem` (wrapped to
/// fail writes when full). `crashAndReopen` is `crash()` of that file system, dropping every
/// unsynced byte, then `LogDirectory.open`: the same recovery brokerd runs at start.
final class PartitionLogDisk: SimDisk {
    /// Deliberate bugs, to prove the simulation catches them.
    struct Bugs {
        /// Appends are never fsynced although acks=all records are acknowledged as if they were.
        var skipFsync = false
    }

    static let root = "/kafka-logs"
    let memory = MemoryFileSystem()
    let fs: FaultInjectingFileSystem
    let config: LogConfig
    private(set) var directory: LogDirectory?
    private var logs: [TopicPartition: PartitionLogSim] = [:]
    private(set) var problems: [String] = []
    var stats = (crashes: 0, segmentsRecovered: 0, bytesLost: 0)

    init(bugs: Bugs = Bugs()) {
        fs = FaultInjectingFileSystem(memory)
        var c = LogConfig()
        c.segmentBytes = 2048  // small segments: rolls, several files per log, recovery across them
        c.indexIntervalBytes = 256
        // brokerd with log.flush.interval.messages=1: every append is fsynced before it counts.
        c.flushMessages = bugs.skipFsync ? Int64.max : 1
        config = c
        directory = open(now: 0)
    }

    func problem(_ s: String) { if problems.count < 10 { problems.append(s) } }

    private func open(now: Int64) -> LogDirectory? {
        do {
            let d = try LogDirectory.open(fs: fs, path: Self.root, now: now, config: { [config] _ in config })
            for (tp, why) in d.failed { problem("\(tp) failed to reopen: \(why)") }
            return d
        } catch {
            problem("log dir failed to open: \(error)")
            return nil
        }
    }

    func log(_ tp: TopicPartition) -> any SimLog {
        if let l = logs[tp] { return l }
        let l = PartitionLogSim(disk: self, name: PartitionName(topic: tp.topic, partition: tp.partition))
        l.attach(now: 0)
        logs[tp] = l
        return l
    }

    func partitionLog(_ name: PartitionName, now: Int64) -> PartitionLog? {
        guard let directory else { return nil }
        do {
            return try directory.getOrCreate(name, config: config, now: now)
        } catch {
            problem("\(name): \(error)")
            return nil
        }
    }

    func setFull(_ full: Bool) { fs.setWriteFailure(full ? ENOSPC : nil) }

    func crashAndReopen(now: Int64) -> [TopicPartition: Int64]? {
        stats.crashes += 1
        let before = logs.mapValues(\.leo)
        memory.crash()
        fs.setWriteFailure(nil)
        directory = open(now: now)
        var hws: [TopicPartition: Int64] = [:]
        let checkpointed = (try? directory?.readHighWatermarks()) ?? [:]
        for (tp, l) in logs {
            l.attach(now: now)
            stats.bytesLost += Int(max(0, (before[tp] ?? 0) - l.leo))
            hws[tp] = min(checkpointed[PartitionName(topic: tp.topic, partition: tp.partition)] ?? 0, l.leo)
        }
        return hws
    }

    func checkpoint(highWatermarks: [TopicPartition: Int64]) {
        guard let directory else { return }
        do {
            try directory.checkpoint()
            var hw: [PartitionName: Int64] = [:]
            for (tp, v) in highWatermarks { hw[PartitionName(topic: tp.topic, partition: tp.partition)] = v }
            try directory.writeHighWatermarks(hw)
        } catch let e as LogError where e.isOutOfSpace {
            // A full disk postpones checkpoints, as in brokerd.
        } catch {
            problem("checkpoint: \(error)")
        }
    }

    /// Every log read back whole must be what the simulation believes it holds.
    func verify() {
        for (tp, l) in logs {
            guard let log = l.log else { continue }
            let onDisk = PartitionLogSim.decodeAll(log)
            if onDisk != l.mirror { problem("\(tp): log reads back \(onDisk.count) records, mirror has \(l.mirror.count)") }
        }
    }
}

/// One real `PartitionLog`, plus a mirror of its records rebuilt from the log at every reopen
/// (so the invariant checks do not decode the whole log at every step).
final class PartitionLogSim: SimLog {
    unowned let disk: PartitionLogDisk
    let name: PartitionName
    private(set) var log: PartitionLog?
    private(set) var mirror: [ClusterSim.Record] = []

    init(disk: PartitionLogDisk, name: PartitionName) {
        self.disk = disk
        self.name = name
    }

    func attach(now: Int64) {
        log = disk.partitionLog(name, now: now)
        mirror = log.map(Self.decodeAll) ?? []
    }

    static func decodeAll(_ log: PartitionLog) -> [ClusterSim.Record] {
        var out: [ClusterSim.Record] = []
        var next = log.logStartOffset
        while next < log.logEndOffset, let bytes = try? log.readBytes(from: next, maxBytes: 1 << 20), !bytes.isEmpty {
            let recs = decode(bytes, from: next)
            guard let last = recs.last else { break }
            out += recs.map(\.record)
            next = last.offset + 1
        }
        return out
    }

    /// Records at or after `from` in whole batches of `bytes`.
    static func decode(_ bytes: [UInt8], from: Int64) -> [(offset: Int64, record: ClusterSim.Record)] {
        guard let (batches, _) = try? RecordBatch.split(bytes) else { return [] }
        var out: [(Int64, ClusterSim.Record)] = []
        for b in batches {
            guard let recs = try? RecordBatch.records(of: Array(bytes[b.range])).records else { return out }
            for r in recs where r.offset >= from {
                let id = r.value.map { v in v.reduce(0) { $0 << 8 | Int($1) } } ?? -1
                out.append((r.offset, ClusterSim.Record(id: id, epoch: b.header.partitionLeaderEpoch)))
            }
        }
        return out
    }

    var leo: Int64 { log?.logEndOffset ?? 0 }

    var cache: LeaderEpochCache {
        LeaderEpochCache(entries: (log?.leaderEpochCache.entries ?? []).map { ($0.epoch, $0.startOffset) })
    }

    func records(prefix n: Int) -> [ClusterSim.Record] { Array(mirror.prefix(n)) }

    /// Runs a storage call; out of space is a refusal, anything else a problem.
    private func attempt(_ what: String, _ body: (PartitionLog) throws -> Void) -> Bool {
        guard let log else { return false }
        do {
            try body(log)
            return true
        } catch let e as LogError where e.isOutOfSpace {
            return false
        } catch {
            disk.problem("\(name) \(what): \(error)")
            return false
        }
    }

    func appendAsLeader(_ records: [ClusterSim.Record], epoch: Int32, now: Int64) -> Bool {
        let recs = records.enumerated().map { i, r in
            Protocol.Record(offset: Int64(i), timestamp: now, key: nil, value: (0..<8).map { UInt8(truncatingIfNeeded: r.id >> (56 - 8 * $0)) })
        }
        guard let batch = try? RecordBatch.build(recs, options: RecordBatchOptions()) else { return false }
        let start = leo
        let ok = attempt("leader append") { log in
            let info = try log.append(batch, leaderEpoch: epoch, now: now)
            if info.firstOffset != start { disk.problem("\(name): append at \(info.firstOffset), log end was \(start)") }
        }
        if ok { mirror += records }
        return ok
    }

    func becomeLeader(epoch: Int32) {
        _ = attempt("assign epoch") { try $0.assignEpoch(epoch) }
    }

    func endOffset(forEpoch epoch: Int32) -> (epoch: Int32, endOffset: Int64) {
        log?.endOffset(forEpoch: epoch) ?? (-1, -1)
    }

    func replicate(from leader: any SimLog, count: Int, now: Int64) -> Bool {
        guard let source = (leader as? PartitionLogSim)?.log else { return false }
        var taken = 0
        while taken < count, leo < source.logEndOffset {
            let from = leo
            guard let bytes = try? source.readBytes(from: from, maxBytes: 1), !bytes.isEmpty else { break }
            let ok = attempt("follower append") { _ = try $0.appendAsFollower(bytes, now: now) }
            guard ok else { return taken > 0 }
            let got = Self.decode(bytes, from: from)
            if got.first?.offset != from || leo != from + Int64(got.count) {
                disk.problem("\(name): follower append from \(from) gave \(got.count) records, log end \(leo)")
                return false
            }
            mirror += got.map(\.record)
            taken += got.count
        }
        return true
    }

    func truncate(to offset: Int64) {
        _ = attempt("truncate") { try $0.truncate(to: offset) }
        if mirror.count > Int(leo) { mirror.removeSubrange(Int(leo)...) }
    }
}
