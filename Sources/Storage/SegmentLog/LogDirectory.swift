import Glibc
/// A Kafka `log.dirs` entry: one directory per partition plus the checkpoint files.
/// Not thread-safe, like the logs it holds.
public final class LogDirectory {
    public let path: String
    public let fs: any FileSystem
    public private(set) var logs: [PartitionName: PartitionLog] = [:]
    /// Partitions whose directory could not be opened, with the reason (KAFKA_STORAGE_ERROR).
    public private(set) var failed: [PartitionName: String] = [:]
    /// Checkpointed values of failed partitions, carried over so they are not forgotten.
    private var carried: [PartitionName: (recovery: Int64?, start: Int64?)] = [:]

    public static let recoveryPointFile = "recovery-point-offset-checkpoint"
    public static let highWatermarkFile = "replication-offset-checkpoint"
    public static let logStartFile = "log-start-offset-checkpoint"

    private init(fs: any FileSystem, path: String) {
        self.fs = fs
        self.path = path
    }

    /// Opens every `<topic>-<partition>` directory, recovering from the checkpointed recovery points.
    /// `config` gives each partition's settings (topic overrides); the default applies otherwise.
    public static func open(fs: any FileSystem = PosixFileSystem(), path: String, now: Int64,
                            config: (PartitionName) -> LogConfig = { _ in LogConfig() }) throws -> LogDirectory {
        try fs.makeDirectory(path)
        let d = LogDirectory(fs: fs, path: path)
        let recovery = try OffsetCheckpoint.read(fs: fs, "\(path)/\(recoveryPointFile)")
        let starts = try OffsetCheckpoint.read(fs: fs, "\(path)/\(logStartFile)")
        for name in try fs.list(path) {
            guard let tp = PartitionName(dirName: name), fs.isDirectory("\(path)/\(name)") else { continue }
            do {
                d.logs[tp] = try PartitionLog.open(fs: fs, dir: "\(path)/\(name)", config: config(tp), recoveryPoint: recovery[tp] ?? 0,
                                                   logStartOffset: starts[tp] ?? 0, now: now)
            } catch {
                // Out of file descriptors is the process's limit, not this partition's fault.
                if case LogError.io(_, _, let e) = error, e == EMFILE || e == ENFILE { throw error }
                // One bad partition must not keep the others from being served.
                d.failed[tp] = "\(error)"
                d.carried[tp] = (recovery[tp], starts[tp])
            }
        }
        return d
    }

    public func log(_ tp: PartitionName) -> PartitionLog? { logs[tp] }

    /// The existing log, or a new empty one.
    public func getOrCreate(_ tp: PartitionName, config: LogConfig, now: Int64) throws -> PartitionLog {
        if let l = logs[tp] { return l }
        if let why = failed[tp] { throw LogError.offline(why) }
        let l = try PartitionLog.open(fs: fs, dir: "\(path)/\(tp.dirName)", config: config, now: now)
        try fs.syncDirectory(path)
        logs[tp] = l
        return l
    }

    public func delete(_ tp: PartitionName) throws {
        if let l = logs.removeValue(forKey: tp) {
            try l.delete()
        } else if failed.removeValue(forKey: tp) != nil {
            carried[tp] = nil
            try fs.removeTree("\(path)/\(tp.dirName)")
        } else {
            return
        }
        try fs.syncDirectory(path)
    }

    /// Writes `recovery-point-offset-checkpoint` and `log-start-offset-checkpoint`. An offline log's
    /// recovery point is still a safe lower bound (it only moves after a successful fsync).
    public func checkpoint() throws {
        try checkpoint(recoveryPoints: logs.mapValues(\.recoveryPoint), logStartOffsets: logs.mapValues(\.logStartOffset))
    }

    /// The same files from values the caller read itself: an owner that guards each log with its
    /// own lock reads them under those locks instead of touching every log here. Failed partitions
    /// keep their carried values; entries for partitions this directory does not hold are ignored.
    public func checkpoint(recoveryPoints: [PartitionName: Int64], logStartOffsets: [PartitionName: Int64]) throws {
        var rp: [PartitionName: Int64] = [:]
        var ls: [PartitionName: Int64] = [:]
        for (tp, c) in carried {
            rp[tp] = c.recovery
            ls[tp] = c.start
        }
        for tp in logs.keys {
            rp[tp] = recoveryPoints[tp] ?? rp[tp]
            ls[tp] = logStartOffsets[tp] ?? ls[tp]
        }
        try OffsetCheckpoint.write(fs: fs, "\(path)/\(Self.recoveryPointFile)", rp)
        try OffsetCheckpoint.write(fs: fs, "\(path)/\(Self.logStartFile)", ls)
    }

    /// One pass of the background work for every online log: the flush.ms policy, retention, and
    /// compaction for compacted topics. Errors are collected per partition (those logs go offline).
    @discardableResult
    public func runMaintenance(now: Int64) -> [PartitionName: Error] {
        var errors: [PartitionName: Error] = [:]
        for (tp, l) in logs where !l.isOffline {
            do {
                try l.maybeFlush(now: now)
                try l.deleteOldSegments(now: now)
                if l.config.cleanupCompact { _ = try l.compact(now: now) }
            } catch {
                errors[tp] = error
            }
        }
        return errors
    }

    /// High watermarks live with the replica manager; it stores and loads them here.
    public func writeHighWatermarks(_ hw: [PartitionName: Int64]) throws {
        try OffsetCheckpoint.write(fs: fs, "\(path)/\(Self.highWatermarkFile)", hw)
    }

    public func readHighWatermarks() throws -> [PartitionName: Int64] {
        try OffsetCheckpoint.read(fs: fs, "\(path)/\(Self.highWatermarkFile)")
    }

    /// Flushes and closes every log, then checkpoints, so the next open scans nothing.
    public func close() throws {
        var firstError: Error?
        for l in logs.values {
            do { try l.close() } catch { firstError = firstError ?? error }
        }
        try checkpoint()
        if let firstError { throw firstError }
    }
}
