import BrokerCore
import Foundation
import Protocol
import Storage
import Synchronization

extension TopicPartition {
    var logName: PartitionName { PartitionName(topic: topic, partition: partition) }
}

extension PartitionName {
    var topicPartition: TopicPartition { TopicPartition(topic, partition) }
}

/// Kafka's LogManager: one `LogDirectory` per `log.dirs` entry, where new partitions go, and the
/// log settings (broker defaults from server.properties, per-topic overrides from
/// `/config/topics/<t>`). The logs themselves are guarded by their partition's lock in the
/// replica manager; this lock guards only the directories' partition maps.
final class LogManager: @unchecked Sendable {
    /// Broker-level defaults: server.properties, then dynamic broker configs (setDefaults).
    var defaults: LogConfig { defaultsBox.withLock { $0 } }
    private let defaultsBox: Mutex<LogConfig>
    let logger: Logger
    private let lock = NSLock()
    private var dirs: [LogDirectory] = []
    /// Index in `dirs` of the directory holding each partition.
    private var home: [PartitionName: Int] = [:]

    init(config: BrokerConfig, logger: Logger) throws {
        defaultsBox = Mutex(try LogManager.brokerDefaults(config))
        self.logger = logger
    }

    /// server.properties `log.*` keys become the default topic config.
    static func brokerDefaults(_ c: BrokerConfig) throws -> LogConfig {
        var p: [String: String] = [
            "segment.bytes": "\(c.logSegmentBytes)",
            "segment.ms": "\(c.logSegmentMs)",
            "retention.ms": "\(c.logRetentionMs)",
            "retention.bytes": "\(c.logRetentionBytes)",
            "index.interval.bytes": "\(c.logIndexIntervalBytes)",
            "cleanup.policy": c.logCleanupPolicy,
            "max.message.bytes": "\(c.messageMaxBytes)",
        ]
        if c.logFlushIntervalMessages != Int64.max { p["flush.messages"] = "\(c.logFlushIntervalMessages)" }
        if let ms = c.logFlushIntervalMs { p["flush.ms"] = "\(ms)" }
        let passThrough = ["log.cleaner.delete.retention.ms": "delete.retention.ms",
                           "log.message.timestamp.type": "message.timestamp.type",
                           "log.index.size.max.bytes": "segment.index.bytes"]
        for (brokerKey, topicKey) in passThrough { if let v = c.raw[brokerKey] { p[topicKey] = v } }
        do {
            return try LogConfig(properties: p)
        } catch {
            throw FatalBrokerError(description: "bad log configuration: \(error)", exitCode: 2)
        }
    }

    func setDefaults(_ c: LogConfig) { defaultsBox.withLock { $0 = c } }

    /// A topic's log settings: its overrides over the broker defaults. Bad overrides are logged
    /// and ignored (CreateTopics refuses them; a hand-written znode must not take the topic down).
    func config(overrides: [String: String]) -> LogConfig {
        let defaults = self.defaults
        guard !overrides.isEmpty else { return defaults }
        do {
            return try LogConfig(properties: overrides, base: defaults)
        } catch {
            logger.warn("ignoring topic config overrides \(overrides): \(error)")
            return defaults
        }
    }

    /// Why a topic config would be refused (CreateTopics answers INVALID_CONFIG), nil if fine.
    static func validate(topicConfig: [String: String]) -> String? {
        do {
            _ = try LogConfig(properties: topicConfig)
        } catch {
            return "\(error)"
        }
        if let v = topicConfig["min.insync.replicas"], (Int(v.trimmed) ?? 0) < 1 {
            return "min.insync.replicas=\(v) must be a positive integer"
        }
        return nil
    }

    /// Opens every log dir, recovering its partitions. A directory that cannot be opened is left
    /// out (new partitions go to the others); none usable is fatal. Returns the partitions found,
    /// with a nil log for those that could not be opened.
    func open(paths: [String], now: Int64) throws -> [(PartitionName, PartitionLog?, failure: String?)] {
        var found: [(PartitionName, PartitionLog?, failure: String?)] = []
        try lock.withLock {
            for path in paths {
                let d: LogDirectory
                do {
                    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                    d = try LogDirectory.open(path: path, now: now, config: { [defaults] _ in defaults })
                } catch LogError.io(let op, let file, let e) where e == EMFILE || e == ENFILE {
                    var rl = rlimit()
                    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl)
                    throw FatalBrokerError(description: "out of file descriptors loading \(path) (\(op) \(file)): each partition log keeps "
                                           + "about 3 files open per segment and the open-file limit is \(rl.rlim_cur); raise it (ulimit -n, "
                                           + "LimitNOFILE= in systemd) as Kafka's operations guide advises", exitCode: 1)
                } catch {
                    logger.error("log dir \(path) is unusable and left out: \(error)")
                    continue
                }
                let index = dirs.count
                dirs.append(d)
                for (tp, log) in d.logs.sorted(by: { $0.key < $1.key }) {
                    if let other = home[tp] {
                        logger.error("\(tp) is in both \(dirs[other].path) and \(path); serving the first")
                        continue
                    }
                    home[tp] = index
                    found.append((tp, log, nil))
                }
                for (tp, why) in d.failed.sorted(by: { $0.key < $1.key }) where home[tp] == nil {
                    logger.error("\(tp) in \(path) cannot be opened and is offline: \(why)")
                    home[tp] = index
                    found.append((tp, nil, why))
                }
            }
            if dirs.isEmpty {
                throw FatalBrokerError(description: "none of log.dirs \(paths) is usable", exitCode: 1)
            }
        }
        return found
    }

    /// A new empty log in the directory holding the fewest partitions (Kafka's placement).
    func create(_ tp: PartitionName, config: LogConfig, now: Int64) throws -> PartitionLog {
        try lock.withLock {
            if let i = home[tp], let l = dirs[i].log(tp) { return l }
            var counts = [Int](repeating: 0, count: dirs.count)
            for i in home.values { counts[i] += 1 }
            guard let i = counts.indices.min(by: { counts[$0] < counts[$1] }) else {
                throw LogError.invalidArgument("no log directory")
            }
            let l = try dirs[i].getOrCreate(tp, config: config, now: now)
            home[tp] = i
            return l
        }
    }

    func delete(_ tp: PartitionName) throws {
        try lock.withLock {
            guard let i = home.removeValue(forKey: tp) else { return }
            try dirs[i].delete(tp)
        }
    }

    /// Every directory's `replication-offset-checkpoint`.
    func readHighWatermarks() -> [PartitionName: Int64] {
        lock.withLock {
            var out: [PartitionName: Int64] = [:]
            for d in dirs {
                do {
                    for (tp, hw) in try d.readHighWatermarks() where out[tp] == nil { out[tp] = hw }
                } catch {
                    logger.warn("\(d.path)/\(LogDirectory.highWatermarkFile) unreadable; high watermarks there start at 0: \(error)")
                }
            }
            return out
        }
    }

    struct CheckpointValues {
        var recoveryPoints: [PartitionName: Int64] = [:]
        var logStartOffsets: [PartitionName: Int64] = [:]
        var highWatermarks: [PartitionName: Int64] = [:]
    }

    /// Writes the three checkpoint files of every directory from values read under the
    /// partitions' locks; each directory gets the partitions it holds.
    func checkpoint(_ v: CheckpointValues) {
        lock.withLock {
            for (i, d) in dirs.enumerated() {
                let mine = Set(home.filter { $0.value == i }.keys)
                do {
                    try d.checkpoint(recoveryPoints: v.recoveryPoints.filter { mine.contains($0.key) },
                                     logStartOffsets: v.logStartOffsets.filter { mine.contains($0.key) })
                    try d.writeHighWatermarks(v.highWatermarks.filter { mine.contains($0.key) })
                } catch {
                    logger.error("checkpointing \(d.path): \(error)")
                }
            }
        }
    }

    /// The directories in use (log.dirs entries that could not be opened are left out).
    var directoryPaths: [String] { lock.withLock { dirs.map(\.path) } }

    func directory(of tp: PartitionName) -> String? {
        lock.withLock { home[tp].map { dirs[$0].path } }
    }
}
