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
    /// Open and aborted transactions of the same partitions (the last stable offset). A lock of its
    /// own, taken after `lock` and never held across an append: read_committed fetches hold it while
    /// reading, and an append may wake parked fetches on its own thread.
    private let indexLock = NSLock()
    private var txnIndexes: [TopicPartition: PartitionTxnIndex] = [:]
    /// Led partitions whose index is not rebuilt yet (read_committed fetches wait).
    private var indexPending: Set<TopicPartition> = []
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
            for tp in led where !ProducerStates.internalTopics.contains(tp.topic) && tables[tp] == nil && rebuilding[tp] == nil {
                nextToken += 1
                rebuilding[tp] = nextToken
                start.append((tp, nextToken))
            }
            indexLock.withLock {
                for tp in notLed {
                    txnIndexes[tp] = nil
                    indexPending.remove(tp)
                }
                for (tp, _) in start {
                    txnIndexes[tp] = nil
                    indexPending.insert(tp)
                }
            }
        }
        for (tp, token) in start { rebuilder.async { [self] in rebuild(tp, token: token) } }
    }

    private func rebuild(_ tp: TopicPartition, token: UInt64) {
        guard lock.withLock({ rebuilding[tp] == token }) else { return }
        var batches: [(header: ProducerBatchHeader, firstOffset: Int64, lastOffset: Int64, timestampMs: Int64)] = []
        var index = PartitionTxnIndex()
        var markers: [(Int64, Int16)] = []
        let loadedAt = WallClock.millis()
        replicas.scanLocalLog(tp) { h, bytes in
            guard h.producerId >= 0 else { return }
            let control = h.isControl ? Self.controlType(bytes) : nil
            index.appended(producerId: h.producerId, isTransactional: h.isTransactional, control: control,
                           baseOffset: h.baseOffset, lastOffset: h.lastOffset, nowMs: loadedAt)
            if h.isControl {
                markers.append((h.producerId, h.producerEpoch))
                return
            }
            batches.append((ProducerBatchHeader(producerId: h.producerId, producerEpoch: h.producerEpoch, baseSequence: h.baseSequence,
                                                lastOffsetDelta: h.lastOffsetDelta),
                            h.baseOffset, h.lastOffset, h.maxTimestamp))
        }
        var table = ProducerStateTable.rebuild(from: batches)
        for (pid, epoch) in markers { table.markerAppended(producerId: pid, epoch: epoch) }
        let installed: Bool = lock.withLock {
            guard rebuilding[tp] == token else { return false }
            rebuilding[tp] = nil
            tables[tp] = table
            indexLock.withLock {
                txnIndexes[tp] = index
                indexPending.remove(tp)
            }
            return true
        }
        if installed && !table.entries.isEmpty { logger.info("rebuilt producer state of \(tp): \(table.entries.count) producers") }
    }

    /// Topics only the broker writes: no producer state, no transactions.
    static let internalTopics: Set<String> = [OffsetsTopicRecords.topic, TxnLogRecords.topic]

    /// The marker type of a control batch (its first record's key).
    static func controlType(_ batch: [UInt8]) -> ControlRecordType? {
        guard let (_, records) = try? RecordBatch.records(of: batch) else { return nil }
        return ControlRecordType(key: records.first?.key)
    }

    /// One produced batch's producer fields, and whether it belongs to a transaction.
    struct IncomingBatch {
        var header: ProducerBatchHeader
        var isTransactional: Bool
    }

    /// A produce request's records with their batch headers parsed once: for the producer state
    /// check and, when the batches cover every byte, for the log, which then does not parse them again.
    struct ProducedRecords {
        let records: ArraySlice<UInt8>
        /// The complete batches' headers; nil when the bytes do not split (the log's own validation
        /// then reports the corruption).
        let headers: [RecordBatchHeader]?
        let trailingBytes: Int

        init(_ records: ArraySlice<UInt8>) {
            self.records = records
            let split = records.withUnsafeBytes { try? RecordBatch.headers(of: $0) }
            headers = split?.headers
            trailingBytes = split?.trailingBytes ?? records.count
        }

        /// The producer fields of each batch; nil when no batch is idempotent.
        var idempotent: [IncomingBatch]? {
            guard let headers, headers.contains(where: { $0.producerId >= 0 }) else { return nil }
            return headers.map {
                IncomingBatch(header: ProducerBatchHeader(producerId: $0.producerId, producerEpoch: $0.producerEpoch,
                                                          baseSequence: $0.baseSequence, lastOffsetDelta: $0.lastOffsetDelta),
                              isTransactional: $0.isTransactional && !$0.isControl)
            }
        }

        /// The headers the log may take as parsed: only when they describe all of `records`.
        var forLog: [RecordBatchHeader]? { trailingBytes == 0 && headers?.isEmpty == false ? headers : nil }
    }

    /// Checks the batches, runs `append` when they are new, and records them with their offsets.
    func append(_ tp: TopicPartition, _ incoming: [IncomingBatch],
                _ append: () -> ReplicaManager.AppendResult) -> ReplicaManager.AppendResult {
        let batches = incoming.map(\.header)
        return lock.withLock {
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
            // A transaction's first batch opens it in the index before the append, at the log end (at
            // most its offset): a fetch woken by the append already stops below it.
            let opening = Set(incoming.filter(\.isTransactional).map(\.header.producerId))
            var opened: [Int64] = []
            if !opening.isEmpty, let leo = replicas.logEndOffset(tp) {
                indexLock.withLock {
                    var index = txnIndexes[tp] ?? PartitionTxnIndex()
                    let now = WallClock.millis()
                    opened = opening.filter { index.begin(producerId: $0, at: leo, nowMs: now) }
                    txnIndexes[tp] = index
                }
            }
            r = append()
            guard r.error == .none else {
                if !opened.isEmpty { indexLock.withLock { for pid in opened { txnIndexes[tp]?.forget(producerId: pid) } } }
                return r
            }
            var offset = r.baseOffset
            let now = WallClock.millis()
            for b in incoming {
                let last = offset + Int64(max(0, b.header.lastOffsetDelta))
                table.appended(b.header, firstOffset: offset, lastOffset: last, timestampMs: now)
                offset = last + 1
            }
            tables[tp] = table
            return r
        }
    }

    /// Appends a commit or abort marker for `producerId` on the leader: a control batch (attributes
    /// transactional + control) whose record key says which. The producer's epoch moves to the
    /// marker's, fencing older epochs; the partition's open transaction of that producer closes.
    func appendMarker(_ tp: TopicPartition, producerId: Int64, producerEpoch: Int16, commit: Bool,
                      coordinatorEpoch: Int32) -> ReplicaManager.AppendResult {
        lock.withLock {
            var r = ReplicaManager.AppendResult()
            let internalTopic = Self.internalTopics.contains(tp.topic)
            guard internalTopic || tables[tp] != nil else {
                r.error = .notLeaderOrFollower
                return r
            }
            let type: ControlRecordType = commit ? .commit : .abort
            var o = RecordBatchOptions()
            o.isTransactional = true
            o.isControl = true
            o.producerId = producerId
            o.producerEpoch = producerEpoch
            let now = WallClock.millis()
            guard let bytes = try? RecordBatch.build([Record(offset: 0, timestamp: now, key: type.recordKey(),
                                                              value: ControlRecordType.recordValue(coordinatorEpoch: coordinatorEpoch))],
                                                     options: o) else {
                r.error = .unknownServerError
                return r
            }
            r = replicas.appendToLeader(tp, records: bytes, acks: -1, knownTopic: true, allowControl: true)
            // The offsets topic keeps no producer state (its transactional offsets are applied on the marker).
            guard r.error == .none, !internalTopic, var table = tables[tp] else { return r }
            table.markerAppended(producerId: producerId, epoch: producerEpoch)
            tables[tp] = table
            // Closed only now: a fetch woken during the append still stopped below the transaction.
            indexLock.withLock {
                txnIndexes[tp]?.appended(producerId: producerId, isTransactional: true, control: type,
                                         baseOffset: r.baseOffset, lastOffset: r.baseOffset)
            }
            return r
        }
    }

    /// Aborts transactions open on a partition led here for longer than `maxAgeMs`: no coordinator
    /// is going to end them (a client wrote transactional batches without a transaction, or its
    /// coordinator lost it) and they would hold read_committed consumers back for ever.
    func abortHanging(nowMs: Int64, maxAgeMs: Int64) {
        let hanging: [(TopicPartition, Int64)] = indexLock.withLock {
            txnIndexes.flatMap { tp, ix in ix.hanging(openedBefore: nowMs - maxAgeMs).map { (tp, $0) } }
        }
        for (tp, pid) in hanging {
            let epoch = lock.withLock { tables[tp]?.entries[pid]?.epoch } ?? 0
            let r = appendMarker(tp, producerId: pid, producerEpoch: max(0, epoch), commit: false, coordinatorEpoch: -1)
            logger.info("aborted hanging transaction of producer \(pid) on \(tp) (open over \(maxAgeMs) ms): \(r.error)")
        }
    }

    /// Where the partition's oldest open transaction begins (nil: none, or not known here).
    func firstUnstableOffset(_ tp: TopicPartition) -> Int64? {
        indexLock.withLock { txnIndexes[tp]?.firstUnstableOffset }
    }

    /// What a read_committed fetch sees: `read` runs with the first unstable offset as its cap
    /// (nil: none open), under the index lock so no transaction opens below it meanwhile.
    /// Nil while the partition's index is being rebuilt.
    func readCommitted<T>(_ tp: TopicPartition, _ read: (_ cap: Int64?) -> T) -> (T, PartitionTxnIndex)? {
        indexLock.withLock {
            if let index = txnIndexes[tp] { return (read(index.firstUnstableOffset), index) }
            if indexPending.contains(tp) { return nil }
            return (read(nil), PartitionTxnIndex())
        }
    }
}

extension RequestHandler {
    /// The produce path's append: idempotent batches go through the producer state check; the
    /// internal offsets topic is refused, as Kafka does for clients.
    func appendIdempotent(_ tp: TopicPartition, records: ArraySlice<UInt8>, acks: Int16, knownTopic: Bool) -> ReplicaManager.AppendResult {
        // Only the coordinators write the internal topics (clients could corrupt their state).
        if ProducerStates.internalTopics.contains(tp.topic) {
            var r = ReplicaManager.AppendResult()
            r.error = .invalidTopicException
            r.message = "cannot append to internal topic \(tp.topic)"
            return r
        }
        let produced = ProducerStates.ProducedRecords(records)
        guard let batches = produced.idempotent else {
            return replicas.appendToLeader(tp, records: records, parsed: produced.forLog, acks: acks, knownTopic: knownTopic)
        }
        return producerStates.append(tp, batches) {
            replicas.appendToLeader(tp, records: records, parsed: produced.forLog, acks: acks, knownTopic: knownTopic)
        }
    }
}
