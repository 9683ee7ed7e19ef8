import BrokerCore
import Protocol

/// DeleteRecords on the leader: the log start offset moves (whole segments below it go), the
/// checkpoint is written at once so a restart keeps it, and followers move theirs when a fetch
/// answer carries the leader's log start offset.
extension ReplicaManager {
    /// The new low watermark, or the partition's error. `offset` -1 means the high watermark.
    func deleteRecords(_ tp: TopicPartition, before offset: Int64) -> (ErrorCode, Int64) {
        guard let p = partition(tp), !p.deleted else { return (.unknownTopicOrPartition, -1) }
        let result: (ErrorCode, Int64) = p.lock.withLock {
            guard p.leader != nil else { return (.notLeaderOrFollower, -1) }
            guard let log = p.onlineLog else { return (.kafkaStorageError, -1) }
            let hw = p.highWatermark
            let target = offset == -1 ? hw : offset
            // Kafka: only committed records can be deleted; below the start is a no-op.
            guard target >= 0, target <= hw else { return (.offsetOutOfRange, log.logStartOffset) }
            do {
                try log.advanceLogStartOffset(to: target)
            } catch {
                return (Self.errorCode(error), log.logStartOffset)
            }
            return (.none, log.logStartOffset)
        }
        if result.0 == .none {
            checkpoint(flush: false)
            logger.info("\(tp): records before \(result.1) deleted (DeleteRecords)")
        }
        return result
    }
}

/// DescribeLogDirs: each log dir with the partitions in it, their size and how far their log end
/// is behind the high watermark.
extension ReplicaManager {
    struct LogDirEntry {
        var path: String
        var online: Bool
        var partitions: [(TopicPartition, size: Int64, offsetLag: Int64)]
    }

    func describeLogDirs(wanted: Set<TopicPartition>?) -> [LogDirEntry] {
        let online = logs.directoryPaths
        var entries = online.map { LogDirEntry(path: $0, online: true, partitions: []) }
        // log.dirs entries that could not be opened answer KAFKA_STORAGE_ERROR.
        for path in config.logDirs where !online.contains(path) { entries.append(LogDirEntry(path: path, online: false, partitions: [])) }
        for p in allPartitions.sorted(by: { ($0.tp.topic, $0.tp.partition) < ($1.tp.topic, $1.tp.partition) }) {
            if let wanted, !wanted.contains(p.tp) { continue }
            guard let dir = logs.directory(of: p.tp.logName), let i = entries.firstIndex(where: { $0.path == dir }) else { continue }
            let row: (TopicPartition, size: Int64, offsetLag: Int64)? = p.lock.withLock {
                guard !p.deleted, let log = p.onlineLog else { return nil }
                return (p.tp, Int64(log.size), max(0, p.highWatermark - log.logEndOffset))
            }
            if let row { entries[i].partitions.append(row) }
        }
        return entries
    }
}
