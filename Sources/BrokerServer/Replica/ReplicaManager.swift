import BrokerCore
import Dispatch
import Foundation
import Glibc
import Protocol
import Storage
import Synchronization
import Transport

/// One partition replica on this broker: its log and its role from the controller's LeaderAndIsr.
/// Every field is guarded by `lock`.
final class Partition: @unchecked Sendable {
    let tp: TopicPartition
    let lock = NSLock()
    /// nil when the log could not be opened at startup (served as KAFKA_STORAGE_ERROR).
    var log: PartitionLog?
    var openFailure: String?
    /// Set while this broker leads the partition.
    var leader: PartitionLeader?
    var leaderId: Int32 = -1
    var leaderEpoch: Int32 = -1
    var replicas: [Int32] = []
    /// A follower's high watermark: the leader's, capped at the local log end.
    var followerHW: Int64 = 0
    /// A follower that must look up this epoch's end on the leader (OffsetForLeaderEpoch) and
    /// truncate before fetching again: Kafka's "truncating" fetch state.
    var epochToAsk: Int32?
    var minInsyncReplicas = 1
    /// Set once StopReplica(delete) removed it; late callers holding a reference see an error.
    var deleted = false
    /// Active segment base at the last compaction: compact again only after a roll.
    var compactedAtSegment: Int64 = -1
    /// When a disk-full refusal was last logged (ms), so a full disk does not flood the log.
    let lastSpaceWarningMs = Atomic<Int64>(Int64.min)

    init(tp: TopicPartition, log: PartitionLog?, openFailure: String?, hw: Int64) {
        self.tp = tp
        self.log = log
        self.openFailure = openFailure
        followerHW = min(max(0, hw), log?.logEndOffset ?? 0)
    }

    var highWatermark: Int64 { leader?.highWatermark ?? followerHW }

    /// The log if it can serve; else the KAFKA_STORAGE_ERROR case.
    var onlineLog: PartitionLog? {
        guard let log, !log.isOffline, openFailure == nil else { return nil }
        return log
    }
}

/// Results of reading one partition for a Fetch.
struct PartitionRead {
    var error: ErrorCode = .none
    var highWatermark: Int64 = -1
    var logStartOffset: Int64 = -1
    var lastStableOffset: Int64 = -1
    /// Bytes to splice into the response with sendfile; nil when there is nothing to send.
    var region: FileRegion?
    var count: Int { region?.length ?? 0 }
}

/// The partitions this broker hosts and their replication roles. `lock` guards the partition map;
/// each partition's state and log are guarded by its own lock (taken after `lock`, never before),
/// so a slow log operation (compaction, fsync) holds up only its partition. Effects that touch
/// coordd or wake parked requests run after the locks are released.
public final class ReplicaManager: @unchecked Sendable {
    let brokerId: Int32
    let config: BrokerConfig
    let delayed = DelayedOperations()
    let logs: LogManager
    let lock = NSLock()
    var partitions: [TopicPartition: Partition] = [:]
    private var checkpointedHW: [PartitionName: Int64] = [:]
    /// Topic overrides read from `/config/topics/<t>`, refreshed on every LeaderAndIsr.
    var topicOverrides: [String: [String: String]] = [:]
    private let isrQueue = DispatchQueue(label: "isr-updates")
    private var maintenance: LogMaintenance?
    /// Set by `shutdown`: logs are closed, so late calls (a fetcher finishing its round) fail quietly.
    let closed = Atomic<Bool>(false)
    let logger: Logger
    /// Crash points and slow disk of the fault controls (BrokerAdmin+Faults).
    let faults: BrokerFaultHooks
    /// min.insync.replicas and log.cleaner.backoff.ms for topics without overrides: server.properties
    /// values until dynamic broker configs change them (applyBrokerConfig).
    let defaultMinInsyncReplicas: Atomic<Int>
    let cleanerBackoffMs: Atomic<UInt64>

    /// Writes a partition state znode conditionally; returns its new version, nil if the write lost.
    var writeIsr: (@Sendable (TopicPartition, LeaderAndIsr, Int32) -> Int32?)?
    /// Creates an `/isr_change_notification` znode for these partitions.
    var notifyIsrChange: (@Sendable ([TopicPartition]) -> Void)?
    /// Reads a topic's config overrides (`/config/topics/<t>`); nil when coordd cannot answer.
    var topicConfig: (@Sendable (String) -> [String: String]?)?
    /// Set by the broker: starts or stops fetching a partition from a leader.
    var fetchers: ReplicaFetcherManager?
    /// Told (outside the locks) which partitions this broker began leading and which it no longer leads.
    var leadershipHooks: [@Sendable (_ led: [TopicPartition], _ notLed: [TopicPartition]) -> Void] = []
    /// Metrics and timeline (Admin/BrokerObservability); set before serving.
    var observability: BrokerObservability?

    init(brokerId: Int32, config: BrokerConfig, logger: Logger) throws {
        self.brokerId = brokerId
        self.config = config
        self.logger = logger
        faults = BrokerFaultHooks { [logger] in logger.warn($0) }
        defaultMinInsyncReplicas = Atomic(config.minInsyncReplicas)
        cleanerBackoffMs = Atomic(Self.cleanerBackoff(config))
        logs = try LogManager(config: config, logger: logger)
    }

    private var nowMs: Int64 { Int64(MonotonicClock.millis()) }
    /// Record timestamps, retention and segment age are wall-clock times, as in Kafka.
    var wallMs: Int64 { WallClock.millis() }

    /// Opens (and recovers) every partition in every log dir, then starts retention, compaction
    /// and flushing in the background.
    func loadLogs() throws {
        let found = try logs.open(paths: config.logDirs, now: wallMs)
        let hws = logs.readHighWatermarks()
        lock.withLock {
            checkpointedHW = hws
            for (name, log, failure) in found {
                let tp = name.topicPartition
                partitions[tp] = Partition(tp: tp, log: log, openFailure: failure, hw: hws[name] ?? 0)
            }
        }
        logger.info("loaded \(found.count) partition logs from \(config.logDirs.joined(separator: ","))")
        let m = LogMaintenance(replicas: self, config: config)
        maintenance = m
        m.start()
    }

    func partition(_ tp: TopicPartition) -> Partition? { lock.withLock { partitions[tp] } }

    var allPartitions: [Partition] { lock.withLock { Array(partitions.values) } }

    private func getOrCreate(_ tp: TopicPartition, config cfg: LogConfig) throws -> Partition {
        if let p = partition(tp) { return p }
        let log = try logs.create(tp.logName, config: cfg, now: wallMs)
        return lock.withLock {
            if let p = partitions[tp] { return p }
            let p = Partition(tp: tp, log: log, openFailure: nil, hw: checkpointedHW[tp.logName] ?? 0)
            partitions[tp] = p
            return p
        }
    }

    /// Kafka error code for a log failure.
    static func errorCode(_ e: Error) -> ErrorCode {
        guard let le = e as? LogError else { return .unknownServerError }
        switch le {
        case .corruptRecord(let why):
            switch why {
            // A batch that parses but lies is refused for good (INVALID_RECORD is not retriable).
            case .invalidRecord, .invalidRecordAt, .recordsWithoutKey, .unsupportedMagic: return .invalidRecord
            case .unsupportedCompression: return .unsupportedCompressionType
            case .tooLarge: return .messageTooLarge
            case .truncated, .invalidBatchLength, .crcMismatch, .corruptCompressedData: return .corruptMessage
            }
        case .recordTooLarge: return .messageTooLarge
        case .offsetOutOfRange: return .offsetOutOfRange
        case .invalidArgument: return .unknownServerError
        case .io, .corruptFile, .segmentMissing, .offline: return .kafkaStorageError
        }
    }

    // MARK: - LeaderAndIsr / StopReplica

    func becomeLeaderOrFollower(_ req: Protocol.LeaderAndIsrRequest) -> LeaderAndIsrResponse {
        var errors: [LeaderAndIsrResponse.LeaderAndIsrPartitionError] = []
        var effects: [ReplicationEffect] = []
        var lostLeadership: [TopicPartition] = []
        var follow: [(TopicPartition, Int32)] = []
        var unfollow: [TopicPartition] = []
        var led: [TopicPartition] = [], notLed: [TopicPartition] = []
        let leaders = Dictionary(req.liveLeaders.map { ($0.brokerId, $0) }, uniquingKeysWith: { a, _ in a })
        // Topic configs come from coordd before any lock is taken.
        var overrides: [String: [String: String]] = [:]
        for t in req.topicStates {
            if let c = topicConfig?(t.topicName) { overrides[t.topicName] = c }
        }
        lock.withLock { for (t, c) in overrides { topicOverrides[t] = c } }
        for t in req.topicStates {
            let (logCfg, minIsr) = effectiveConfig(t.topicName, lock.withLock { topicOverrides[t.topicName] ?? [:] })
            for s in t.partitionStates {
                let tp = TopicPartition(t.topicName, s.partitionIndex)
                var code = ErrorCode.none
                do {
                    let p = try getOrCreate(tp, config: logCfg)
                    p.lock.lock()
                    defer { p.lock.unlock() }
                    if s.leaderEpoch < p.leaderEpoch {
                        code = .staleControllerEpoch
                    } else if let log = p.onlineLog {
                        log.updateConfig(logCfg)
                        p.minInsyncReplicas = minIsr
                        let newEpoch = s.leaderEpoch > p.leaderEpoch
                        p.replicas = s.replicas
                        if s.leader == brokerId {
                            if p.leader == nil || newEpoch {
                                let info = PartitionStateInfo(topicPartition: tp, controllerEpoch: s.controllerEpoch, leader: s.leader,
                                                              leaderEpoch: s.leaderEpoch, isr: s.isr, zkVersion: s.partitionEpoch,
                                                              replicas: s.replicas, isNew: s.isNew)
                                // With only this broker in the ISR everything in the log is committed (an
                                // unclean restart may have lost the checkpointed HW); else followers move it.
                                let hw = s.isr == [brokerId] ? log.logEndOffset : p.highWatermark
                                try log.assignEpoch(s.leaderEpoch)
                                p.leader = PartitionLeader(topicPartition: tp, localBroker: brokerId, state: info,
                                                           logEndOffset: log.logEndOffset, highWatermark: hw, nowMs: nowMs,
                                                           config: ReplicationConfig(lagTimeMaxMs: config.replicaLagTimeMaxMs,
                                                                                     minInsyncReplicas: minIsr))
                                effects.append(.highWatermarkAdvanced(tp, hw))
                            }
                            p.epochToAsk = nil
                            unfollow.append(tp)
                            led.append(tp)
                        } else {
                            if let l = p.leader {
                                p.followerHW = l.highWatermark
                                p.leader = nil
                                lostLeadership.append(tp)
                            }
                            notLed.append(tp)
                            p.followerHW = min(p.followerHW, log.logEndOffset)
                            if newEpoch || p.leaderId != s.leader {
                                // Kafka's rule: find where our log diverged from the new leader's by asking it
                                // where our latest epoch ends. Without epochs only the HW is known safe.
                                let cache = BrokerCore.LeaderEpochCache(entries: log.leaderEpochCache.entries.map { ($0.epoch, $0.startOffset) })
                                p.epochToAsk = FollowerLogic.epochToAsk(cache)
                                if p.epochToAsk == nil, p.followerHW < log.logEndOffset {
                                    logger.info("\(tp): no leader epochs; truncating to the high watermark \(p.followerHW)")
                                    try log.truncate(to: p.followerHW)
                                }
                            }
                            if s.leader >= 0 { follow.append((tp, s.leader)) } else { unfollow.append(tp) }
                        }
                        p.leaderId = s.leader
                        p.leaderEpoch = s.leaderEpoch
                    } else {
                        code = .kafkaStorageError
                    }
                } catch {
                    logger.error("LeaderAndIsr \(tp): \(error)")
                    code = ReplicaManager.errorCode(error) == .kafkaStorageError ? .kafkaStorageError : .unknownServerError
                }
                errors.append(.init(topicName: tp.topic, partitionIndex: tp.partition, errorCode: code))
            }
        }
        for tp in lostLeadership { delayed.failProduces(tp, error: .notLeaderOrFollower) }
        if let f = fetchers {
            for tp in unfollow { f.remove(tp) }
            for (tp, leader) in follow {
                let ep = leaders[leader]
                f.add(tp, leader: leader, host: ep?.hostName, port: ep?.port, offset: 0)
            }
        }
        perform(effects)
        for h in leadershipHooks { h(led, notLed) }
        return LeaderAndIsrResponse(errorCode: .none, partitionErrors: errors)
    }

    func stopReplica(_ tp: TopicPartition, delete: Bool) -> ErrorCode {
        let p: Partition? = lock.withLock {
            if delete { checkpointedHW[tp.logName] = nil }
            return delete ? partitions.removeValue(forKey: tp) : partitions[tp]
        }
        fetchers?.remove(tp)
        delayed.failProduces(tp, error: .notLeaderOrFollower)
        for h in leadershipHooks { h([], [tp]) }
        guard let p else { return .none }
        var code = ErrorCode.none
        p.lock.withLock {
            p.leader = nil
            p.leaderId = -1
            p.epochToAsk = nil
            guard delete else { return }
            p.deleted = true
            p.log = nil
            do { try logs.delete(tp.logName) } catch {
                logger.error("deleting \(tp): \(error)")
                code = .kafkaStorageError
            }
        }
        return code
    }

    // MARK: - Produce

    struct AppendResult {
        var error: ErrorCode = .none
        var baseOffset: Int64 = -1
        var logStartOffset: Int64 = -1
        var logAppendTime: Int64 = -1
        var requiredOffset: Int64 = -1
        var message: String?
        /// KIP-467: the record of the batch that made it invalid.
        var recordErrors: [ProduceResponse.BatchIndexAndErrorMessage] = []
    }

    func appendToLeader(_ tp: TopicPartition, records: [UInt8], acks: Int16, knownTopic: Bool, allowControl: Bool = false) -> AppendResult {
        appendToLeader(tp, records: records[...], acks: acks, knownTopic: knownTopic, allowControl: allowControl)
    }

    /// The produce path's append: `records` is a slice of the request frame, written to the log
    /// without a copy; `parsed`, its batch headers when the caller already split it.
    func appendToLeader(_ tp: TopicPartition, records: ArraySlice<UInt8>, parsed: [RecordBatchHeader]? = nil, acks: Int16,
                        knownTopic: Bool, allowControl: Bool = false) -> AppendResult {
        var r = AppendResult()
        var effects: [ReplicationEffect] = []
        guard let p = partition(tp) else {
            r.error = knownTopic ? .notLeaderOrFollower : .unknownTopicOrPartition
            return r
        }
        p.lock.withLock {
            guard !p.deleted else { r.error = .notLeaderOrFollower; return }
            // An offline log answers KAFKA_STORAGE_ERROR whatever the role, as Kafka's offline partitions do.
            guard let log = p.onlineLog else { r.error = .kafkaStorageError; return }
            guard var l = p.leader else { r.error = .notLeaderOrFollower; return }
            let check = l.checkAppend(acks: acks)
            guard check == .noError else { r.error = ErrorCode(check.rawValue); return }
            do {
                faults.beforeDiskWrite()
                let info = try log.append(records, leaderEpoch: l.leaderEpoch, now: wallMs, allowControl: allowControl, parsed: parsed)
                faults.reached(.afterAppend)
                r.baseOffset = info.firstOffset
                r.requiredOffset = info.lastOffset + 1
                r.logStartOffset = info.logStartOffset
                r.logAppendTime = info.logAppendTime
                effects = l.appended(logEndOffset: log.logEndOffset)
                p.leader = l
            } catch {
                r.error = ReplicaManager.errorCode(error)
                if case LogError.corruptRecord(let why) = error {
                    r.message = "\(why)"
                    if case .invalidRecordAt(let i, let reason) = why {
                        r.recordErrors = [.init(batchIndex: Int32(clamping: i), batchIndexErrorMessage: reason)]
                    } else if case .recordsWithoutKey(let indexes) = why {
                        let reason = "Compacted topic cannot accept message without key in topic partition \(tp)."
                        r.recordErrors = indexes.map { .init(batchIndex: Int32(clamping: $0), batchIndexErrorMessage: reason) }
                        r.message = reason
                    }
                }
                noteFailure(p, "append", error)
            }
        }
        perform(effects)
        if r.error == .none { delayed.wakeFetches(tp); observability?.bytesIn(tp.topic, records.count) }
        return r
    }

    func ackStatus(_ tp: TopicPartition, requiredOffset: Int64) -> AckStatus {
        guard let p = partition(tp) else { return .done(.notLeaderOrFollower) }
        return p.lock.withLock {
            guard let l = p.leader else { return .done(.notLeaderOrFollower) }
            // BrokerCore has no storage error code; clients retry on this one and refresh metadata.
            if p.onlineLog == nil { return .done(.notLeaderOrFollower) }
            return l.ackStatus(requiredOffset: requiredOffset)
        }
    }

    // MARK: - Fetch

    /// Reads for a consumer (up to the HW) or a follower (up to the log end; records its progress).
    /// `cap` bounds a consumer's read further (read_committed: the first unstable offset).
    func read(_ tp: TopicPartition, offset: Int64, maxBytes: Int, replicaId: Int32, currentLeaderEpoch: Int32,
              cap: Int64? = nil) -> PartitionRead {
        var out = PartitionRead()
        var effects: [ReplicationEffect] = []
        guard let p = partition(tp) else { out.error = .unknownTopicOrPartition; return out }
        p.lock.withLock {
            guard !p.deleted else { out.error = .unknownTopicOrPartition; return }
            guard let log = p.onlineLog else { out.error = .kafkaStorageError; return }
            guard var l = p.leader else { out.error = .notLeaderOrFollower; return }
            let epochCheck = l.validateLeaderEpoch(currentLeaderEpoch)
            guard epochCheck == .noError else { out.error = ErrorCode(epochCheck.rawValue); return }
            if replicaId >= 0 {
                let (err, e) = l.followerFetched(replicaId, fetchOffset: offset, nowMs: nowMs)
                p.leader = l
                effects = e
                if err != .noError && err != .offsetOutOfRange { out.error = ErrorCode(err.rawValue); return }
            }
            out.highWatermark = l.highWatermark
            out.logStartOffset = log.logStartOffset
            if offset < log.logStartOffset || offset > log.logEndOffset {
                out.error = .offsetOutOfRange
                return
            }
            let limit = replicaId >= 0 ? log.logEndOffset : min(l.highWatermark, cap ?? Int64.max)
            out.lastStableOffset = limit
            do {
                out.region = try log.read(from: offset, maxBytes: maxBytes, maxOffset: limit).region
            } catch {
                out.error = ReplicaManager.errorCode(error)
                noteFailure(p, "read at \(offset)", error)
            }
        }
        perform(effects)
        if out.count > 0 { observability?.bytesOut(tp.topic, out.count, replication: replicaId >= 0) }
        return out
    }

    // MARK: - Offsets

    enum OffsetAnswer { case offset(Int64, Int64, Int32), error(ErrorCode) }

    func listOffset(_ tp: TopicPartition, timestamp: Int64, replicaId: Int32, isolation: Int8) -> OffsetAnswer {
        guard let p = partition(tp) else { return .error(.unknownTopicOrPartition) }
        return p.lock.withLock {
            guard !p.deleted else { return .error(.unknownTopicOrPartition) }
            guard let log = p.onlineLog else { return .error(.kafkaStorageError) }
            guard let l = p.leader else { return .error(.notLeaderOrFollower) }
            let limit = replicaId >= 0 ? log.logEndOffset : l.highWatermark
            switch timestamp {
            case -2: return .offset(log.logStartOffset, -1, l.leaderEpoch)
            case -1: return .offset(limit, -1, l.leaderEpoch)
            case -3:
                // MAX_TIMESTAMP: the batch with the largest timestamp, if it is visible.
                let (ts, o) = log.maxTimestampAndOffset
                return o >= 0 && o < limit ? .offset(o, ts, l.leaderEpoch) : .offset(-1, -1, l.leaderEpoch)
            default:
                do {
                    if let o = try log.offset(forTimestamp: timestamp), o < limit { return .offset(o, timestamp, l.leaderEpoch) }
                    return .offset(-1, -1, l.leaderEpoch)
                } catch {
                    noteFailure(p, "offset lookup", error)
                    return .error(ReplicaManager.errorCode(error))
                }
            }
        }
    }

    /// OffsetForLeaderEpoch on the leader: the largest epoch <= `epoch` and where it ends.
    func endOffset(_ tp: TopicPartition, epoch: Int32, currentLeaderEpoch: Int32) -> (ErrorCode, Int32, Int64) {
        guard let p = partition(tp) else { return (.unknownTopicOrPartition, -1, -1) }
        return p.lock.withLock {
            guard !p.deleted else { return (.unknownTopicOrPartition, -1, -1) }
            guard let log = p.onlineLog else { return (.kafkaStorageError, -1, -1) }
            guard let l = p.leader else { return (.notLeaderOrFollower, -1, -1) }
            let check = l.validateLeaderEpoch(currentLeaderEpoch)
            guard check == .noError else { return (ErrorCode(check.rawValue), -1, -1) }
            let (e, o) = log.endOffset(forEpoch: epoch)
            return (.none, e, o)
        }
    }

    // MARK: - Periodic work

    /// ISR shrink check (followers that fell behind for replica.lag.time.max.ms leave the ISR).
    func maybeShrinkIsrs() {
        var effects: [ReplicationEffect] = []
        for p in allPartitions {
            p.lock.withLock {
                guard var l = p.leader else { return }
                effects += l.maybeShrinkIsr(nowMs: nowMs)
                p.leader = l
            }
        }
        perform(effects)
    }

    /// Writes every log dir's checkpoints (recovery points, log starts, high watermarks); with
    /// `flush`, first applies `flush.ms` to every log.
    func checkpoint(flush: Bool) {
        var v = LogManager.CheckpointValues()
        let carried = lock.withLock { checkpointedHW }
        let now = wallMs
        for p in allPartitions {
            p.lock.withLock {
                let name = p.tp.logName
                guard !p.deleted else { return }
                if let log = p.log, p.openFailure == nil {
                    if flush, !log.isOffline {
                        do { try log.maybeFlush(now: now) } catch { noteFailure(p, "flush", error) }
                    }
                    // An offline log's recovery point is still a safe lower bound.
                    v.recoveryPoints[name] = log.recoveryPoint
                    v.logStartOffsets[name] = log.logStartOffset
                    v.highWatermarks[name] = min(p.highWatermark, log.logEndOffset)
                } else {
                    v.highWatermarks[name] = carried[name] ?? p.followerHW
                }
            }
        }
        logs.checkpoint(v)
    }

    /// Clean shutdown: stops background work, flushes and closes every log, then checkpoints so
    /// the next start trusts every segment and recovers nothing.
    func shutdown() {
        maintenance?.stop()
        closed.store(true, ordering: .relaxed)
        var v = LogManager.CheckpointValues()
        let carried = lock.withLock { checkpointedHW }
        for p in allPartitions {
            p.lock.withLock {
                let name = p.tp.logName
                guard !p.deleted else { return }
                guard let log = p.log, p.openFailure == nil else {
                    v.highWatermarks[name] = carried[name] ?? p.followerHW
                    return
                }
                v.highWatermarks[name] = min(p.highWatermark, log.logEndOffset)
                if !log.isOffline {
                    do { try log.close() } catch { noteFailure(p, "close", error) }
                }
                v.recoveryPoints[name] = log.recoveryPoint
                v.logStartOffsets[name] = log.logStartOffset
            }
        }
        logs.checkpoint(v)
    }

    /// (topic-partition, is leader, LEO, HW) for tests and logs.
    func describe() -> [(TopicPartition, Bool, Int64, Int64)] {
        allPartitions.map { p in p.lock.withLock { (p.tp, p.leader != nil, p.log?.logEndOffset ?? -1, p.highWatermark) } }
    }

    // MARK: - Effects

    func perform(_ effects: [ReplicationEffect]) {
        for e in effects {
            switch e {
            case .highWatermarkAdvanced(let tp, _):
                delayed.checkProduces(tp) { self.ackStatus($0, requiredOffset: $1) }
                delayed.wakeFetches(tp)
            case .notifyIsrChange(let tp):
                if let n = notifyIsrChange { isrQueue.async { n([tp]) } }
            case .updateIsr(let tp, let state, let expected):
                guard let w = writeIsr else { continue }
                isrQueue.async { [self] in
                    let version = w(tp, state, expected)
                    var more: [ReplicationEffect] = []
                    var before: [Int32]?
                    if let p = partition(tp) {
                        p.lock.withLock {
                            guard var l = p.leader else { return }
                            before = l.isr
                            if let version { more = l.isrUpdateSucceeded(newZkVersion: version) } else { l.isrUpdateFailed() }
                            p.leader = l
                        }
                    }
                    if version != nil, let before { observability?.isrChanged(tp, from: before, to: state) }
                    perform(more)
                }
            }
        }
    }
}
