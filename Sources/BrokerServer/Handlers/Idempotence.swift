import BrokerCore
import Foundation
import Protocol
import Transport

/// Idempotent producers on the leader: every batch with a producer id is checked against the
/// partition's `ProducerStateTable` before it is appended (duplicates are answered with their
/// original offsets and not appended again) and recorded after. Tables exist only for partitions
/// this broker leads; they are rebuilt from the log when it becomes leader (also after a restart).
final class ProducerStates: @unchecked Sendable {
    private let replicas: ReplicaManager
    private let logger: Logger
    /// Held across check, append and record, so two batches of a partition cannot interleave.
    private let lock = NSLock()
    private var tables: [TopicPartition: ProducerStateTable] = [:]
    /// Partitions whose table is being rebuilt, with the token of that rebuild.
    private var rebuilding: [TopicPartition: UInt64] = [:]
    private var nextToken: UInt64 = 0
    /// Rebuilds read whole logs: off the LeaderAndIsr path, one at a time.
    private let rebuilder = DispatchQueue(label: "producer-state-rebuild")

    init(replicas: ReplicaManager, logger: Logger) {
        self.replicas = replicas
        self.logger = logger
    }

    /// The replica manager's hook. A follower's table would go stale (truncation, new leader), so it
    /// is dropped; a new leader's is rebuilt in the background. Until it exists, idempotent batches
    /// for that partition are refused with a retriable NOT_LEADER_OR_FOLLOWER, so the scan needs no lock.
    func leadershipChanged(led: [TopicPartition], notLed: [TopicPartition]) {
        var start: [(TopicPartition, UInt64)] = []
        lock.withLock {
            for tp in notLed {
                tables[tp] = nil
                rebuilding[tp] = nil
            }
            // The offsets topic never holds client batches (appends to it are refused).
            for tp in led where tp.topic != OffsetsTopicRecords.topic && tables[tp] == nil && rebuilding[tp] == nil {
                nextToken += 1
                rebuilding[tp] = nextToken
                start.append((tp, nextToken))
            }
        }
        for (tp, token) in start { rebuilder.async { [self] in rebuild(tp, token: token) } }
    }

    private func rebuild(_ tp: TopicPartition, token: UInt64) {
        guard lock.withLock({ rebuilding[tp] == token }) else { return }
        var batches: [(header: ProducerBatchHeader, firstOffset: Int64, lastOffset: Int64, timestampMs: Int64)] = []
        replicas.scanLocalLog(tp) { h, _ in
            guard h.producerId >= 0, !h.isControl else { return }
            batches.append((ProducerBatchHeader(producerId: h.producerId, producerEpoch: h.producerEpoch, baseSequence: h.baseSequence,
                                                lastOffsetDelta: h.lastOffsetDelta),
                            h.baseOffset, h.lastOffset, h.maxTimestamp))
        }
        let table = ProducerStateTable.rebuild(from: batches)
        let installed: Bool = lock.withLock {
            guard rebuilding[tp] == token else { return false }
            rebuilding[tp] = nil
            tables[tp] = table
            return true
        }
        if installed && !table.entries.isEmpty { logger.info("rebuilt producer state of \(tp): \(table.entries.count) producers") }
    }

    /// The producer fields of each batch in `records`; nil when no batch is idempotent (or the
    /// bytes do not split: the log's own validation then reports the corruption).
    static func idempotentHeaders(_ records: [UInt8]) -> [ProducerBatchHeader]? {
        guard let split = try? RecordBatch.split(records, validateCRC: false), !split.batches.isEmpty,
              split.batches.contains(where: { $0.header.producerId >= 0 }) else { return nil }
        return split.batches.map {
            ProducerBatchHeader(producerId: $0.header.producerId, producerEpoch: $0.header.producerEpoch,
                                baseSequence: $0.header.baseSequence, lastOffsetDelta: $0.header.lastOffsetDelta)
        }
    }

    /// Checks the batches, runs `append` when they are new, and records them with their offsets.
    func append(_ tp: TopicPartition, _ batches: [ProducerBatchHeader],
                _ append: () -> ReplicaManager.AppendResult) -> ReplicaManager.AppendResult {
        lock.withLock {
            var r = ReplicaManager.AppendResult()
            guard var table = tables[tp] else {
                r.error = .notLeaderOrFollower
                return r
            }
            var trial = table
            var duplicates: [(Int64, Int64)] = []
            for b in batches {
                switch trial.check(b) {
                case .append:
                    trial.appended(b, firstOffset: -1, lastOffset: -1, timestampMs: 0)
                case .duplicate(let first, let last):
                    duplicates.append((first, last))
                case .reject(let e):
                    r.error = ErrorCode(e.rawValue)
                    return r
                }
            }
            if let first = duplicates.first, let last = duplicates.last {
                guard duplicates.count == batches.count else {
                    r.error = .duplicateSequenceNumber
                    return r
                }
                // A retry of what is already in the log: answer as the first time (acks=all still
                // waits until those offsets are replicated).
                r.baseOffset = first.0
                r.requiredOffset = last.1 + 1
                return r
            }
            r = append()
            guard r.error == .none else { return r }
            var offset = r.baseOffset
            let now = WallClock.millis()
            for b in batches {
                let last = offset + Int64(max(0, b.lastOffsetDelta))
                table.appended(b, firstOffset: offset, lastOffset: last, timestampMs: now)
                offset = last + 1
            }
            tables[tp] = table
            return r
        }
    }
}

extension RequestHandler {
    /// The produce path's append: idempotent batches go through the producer state check; the
    /// internal offsets topic is refused, as Kafka does for clients.
    func appendIdempotent(_ tp: TopicPartition, records: [UInt8], acks: Int16, knownTopic: Bool) -> ReplicaManager.AppendResult {
        // Only the group coordinator writes the offsets topic (clients could corrupt group state).
        if tp.topic == OffsetsTopicRecords.topic {
            var r = ReplicaManager.AppendResult()
            r.error = .invalidTopicException
            r.message = "cannot append to internal topic \(tp.topic)"
            return r
        }
        guard let batches = ProducerStates.idempotentHeaders(records) else {
            return replicas.appendToLeader(tp, records: records, acks: acks, knownTopic: knownTopic)
        }
        return producerStates.append(tp, batches) {
            replicas.appendToLeader(tp, records: records, acks: acks, knownTopic: knownTopic)
        }
    }
}
