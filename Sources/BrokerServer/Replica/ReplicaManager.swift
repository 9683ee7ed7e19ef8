import BrokerCore
import Dispatch
import Foundation
import Glibc
import Protocol
import Transport

/// One partition replica on this broker: its log and its role from the controller's LeaderAndIsr.
final class Partition {
    let tp: TopicPartition
    let log: LocalLog
    /// Set while this broker leads the partition.
    var leader: PartitionLeader?
    var leaderId: Int32 = -1
    var leaderEpoch: Int32 = -1
    var replicas: [Int32] = []
    /// A follower's high watermark: the leader's, capped at the local log end.
    var followerHW: Int64 = 0

    init(tp: TopicPartition, log: LocalLog, hw: Int64) {
        self.tp = tp
        self.log = log
        followerHW = min(max(0, hw), log.logEndOffset)
    }

    var highWatermark: Int64 { leader?.highWatermark ?? followerHW }
}

/// Results of reading one partition for a Fetch.
struct PartitionRead {
    var error: ErrorCode = .none
    var highWatermark: Int64 = -1
    var logStartOffset: Int64 = -1
    var log: LocalLog?
    var position = 0
    var count = 0
}

/// The partitions this broker hosts and their replication roles. One lock guards them all; effects
/// that touch coordd or wake parked requests run after it is released.
public final class ReplicaManager: @unchecked Sendable {
    let brokerId: Int32
    let config: BrokerConfig
    let logDir: String
    let delayed = DelayedOperations()
    let lock = NSLock()
    var partitions: [TopicPartition: Partition] = [:]
    private var checkpointedHW: [TopicPartition: Int64] = [:]
    private let isrQueue = DispatchQueue(label: "isr-updates")
    let logger: Logger

    /// Writes a partition state znode conditionally; returns its new version, nil if the write lost.
    var writeIsr: (@Sendable (TopicPartition, LeaderAndIsr, Int32) -> Int32?)?
    /// Creates an `/isr_change_notification` znode for these partitions.
    var notifyIsrChange: (@Sendable ([TopicPartition]) -> Void)?
    /// Set by the broker: starts or stops fetching a partition from a leader.
    var fetchers: ReplicaFetcherManager?
    /// Told (outside the lock) which partitions this broker began leading and which it no longer leads.
    var leadershipHooks: [@Sendable (_ led: [TopicPartition], _ notLed: [TopicPartition]) -> Void] = []

    static let hwFile = "replication-offset-checkpoint"

    init(brokerId: Int32, config: BrokerConfig, logger: Logger) throws {
        self.brokerId = brokerId
        self.config = config
        self.logDir = config.logDirs.first ?? "/tmp/kafka-logs"
        self.logger = logger
        try LocalLog.mkdirs(logDir)
        checkpointedHW = ReplicaManager.readCheckpoint(logDir + "/" + ReplicaManager.hwFile)
    }

    /// Opens (and recovers) every partition directory found in the log dir.
    func loadLogs() throws {
        guard let d = opendir(logDir) else { throw LogError.io("opendir \(logDir)", errno) }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix(".") { continue }
            names.append(name)
        }
        for name in names.sorted() {
            guard let dash = name.lastIndex(of: "-"), let p = Int32(name[name.index(after: dash)...]), p >= 0 else { continue }
            let topic = String(name[..<dash])
            guard !topic.isEmpty, !name.hasSuffix(".tmp") else { continue }
            var isDir = stat()
            guard stat(logDir + "/" + name, &isDir) == 0, (isDir.st_mode & S_IFMT) == S_IFDIR else { continue }
            let tp = TopicPartition(topic, p)
            let log = try LocalLog(dir: logDir + "/" + name)
            lock.withLock { partitions[tp] = Partition(tp: tp, log: log, hw: checkpointedHW[tp] ?? 0) }
        }
        logger.info("loaded \(names.count) partition logs from \(logDir)")
    }

    private func getOrCreate(_ tp: TopicPartition) throws -> Partition {
        if let p = partitions[tp] { return p }
        let log = try LocalLog(dir: logDir + "/" + tp.description)
        let p = Partition(tp: tp, log: log, hw: checkpointedHW[tp] ?? 0)
        partitions[tp] = p
        return p
    }

    private var nowMs: Int64 { Int64(MonotonicClock.millis()) }

    // MARK: - LeaderAndIsr / StopReplica

    func becomeLeaderOrFollower(_ req: Protocol.LeaderAndIsrRequest) -> LeaderAndIsrResponse {
        var errors: [LeaderAndIsrResponse.LeaderAndIsrPartitionError] = []
        var effects: [ReplicationEffect] = []
        var lostLeadership: [TopicPartition] = []
        var follow: [(TopicPartition, Int32, Int64)] = []
        var unfollow: [TopicPartition] = []
        var led: [TopicPartition] = [], notLed: [TopicPartition] = []
        let leaders = Dictionary(req.liveLeaders.map { ($0.brokerId, $0) }, uniquingKeysWith: { a, _ in a })
        lock.lock()
        for t in req.topicStates {
            for s in t.partitionStates {
                let tp = TopicPartition(t.topicName, s.partitionIndex)
                var code = ErrorCode.none
                do {
                    let p = try getOrCreate(tp)
                    if s.leaderEpoch < p.leaderEpoch {
                        code = .staleControllerEpoch
                    } else {
                        let info = PartitionStateInfo(topicPartition: tp, controllerEpoch: s.controllerEpoch, leader: s.leader,
                                                      leaderEpoch: s.leaderEpoch, isr: s.isr, zkVersion: s.partitionEpoch,
                                                      replicas: s.replicas, isNew: s.isNew)
                        p.replicas = s.replicas
                        if s.leader == brokerId {
                            if p.leader == nil || s.leaderEpoch > (p.leader?.leaderEpoch ?? -1) {
                                // With only this broker in the ISR everything in the log is committed (an
                                // unclean restart may have lost the checkpointed HW); else followers move it.
                                let hw = s.isr == [brokerId] ? p.log.logEndOffset : p.highWatermark
                                p.leader = PartitionLeader(topicPartition: tp, localBroker: brokerId, state: info,
                                                           logEndOffset: p.log.logEndOffset, highWatermark: hw, nowMs: nowMs,
                                                           config: ReplicationConfig(lagTimeMaxMs: config.replicaLagTimeMaxMs,
                                                                                     minInsyncReplicas: config.minInsyncReplicas))
                                effects.append(.highWatermarkAdvanced(tp, hw))
                            }
                            p.log.assignEpoch(s.leaderEpoch, start: p.log.logEndOffset)
                            unfollow.append(tp)
                            led.append(tp)
                        } else {
                            if p.leader != nil {
                                p.followerHW = p.leader?.highWatermark ?? p.followerHW
                                p.leader = nil
                                lostLeadership.append(tp)
                            }
                            notLed.append(tp)
                            // Drop what the new leader may not have: everything above our high watermark.
                            p.followerHW = min(p.followerHW, p.log.logEndOffset)
                            try p.log.truncate(to: p.followerHW)
                            if s.leader >= 0 { follow.append((tp, s.leader, p.log.logEndOffset)) } else { unfollow.append(tp) }
                        }
                        p.leaderId = s.leader
                        p.leaderEpoch = s.leaderEpoch
                    }
                } catch {
                    logger.error("LeaderAndIsr \(tp): \(error)")
                    code = .kafkaStorageError
                }
                errors.append(.init(topicName: tp.topic, partitionIndex: tp.partition, errorCode: code))
            }
        }
        lock.unlock()
        for tp in lostLeadership { delayed.failProduces(tp, error: .notLeaderOrFollower) }
        if let f = fetchers {
            for tp in unfollow { f.remove(tp) }
            for (tp, leader, offset) in follow {
                let ep = leaders[leader]
                f.add(tp, leader: leader, host: ep?.hostName, port: ep?.port, offset: offset)
            }
        }
        perform(effects)
        for h in leadershipHooks { h(led, notLed) }
        return LeaderAndIsrResponse(errorCode: .none, partitionErrors: errors)
    }

    func stopReplica(_ tp: TopicPartition, delete: Bool) -> ErrorCode {
        let p: Partition? = lock.withLock {
            guard let p = partitions[tp] else { return nil }
            p.leader = nil
            p.leaderId = -1
            if delete { partitions[tp] = nil; checkpointedHW[tp] = nil }
            return p
        }
        fetchers?.remove(tp)
        delayed.failProduces(tp, error: .notLeaderOrFollower)
        for h in leadershipHooks { h([], [tp]) }
        if delete, let p { p.log.deleteFiles() }
        return .none
    }

    // MARK: - Produce

    struct AppendResult {
        var error: ErrorCode = .none
        var baseOffset: Int64 = -1
        var logStartOffset: Int64 = -1
        var requiredOffset: Int64 = -1
        var message: String?
    }

    func appendToLeader(_ tp: TopicPartition, records: [UInt8], acks: Int16, knownTopic: Bool) -> AppendResult {
        var r = AppendResult()
        var effects: [ReplicationEffect] = []
        lock.withLock {
            guard let p = partitions[tp], var l = p.leader else {
                r.error = (partitions[tp] == nil && !knownTopic) ? .unknownTopicOrPartition : .notLeaderOrFollower
                return
            }
            let check = l.checkAppend(acks: acks)
            guard check == .noError else { r.error = ErrorCode(check.rawValue); return }
            do {
                let (first, last) = try p.log.append(records, leaderEpoch: l.leaderEpoch, now: WallClock.millis(),
                                                     maxBatchBytes: config.messageMaxBytes)
                r.baseOffset = first
                r.requiredOffset = last + 1
                r.logStartOffset = p.log.logStartOffset
                effects = l.appended(logEndOffset: p.log.logEndOffset)
                p.leader = l
            } catch LogError.corrupt(let why) {
                r.error = .corruptMessage
                r.message = why
            } catch LogError.tooLarge {
                r.error = .messageTooLarge
            } catch {
                logger.error("append \(tp): \(error)")
                r.error = .kafkaStorageError
            }
        }
        perform(effects)
        if r.error == .none { delayed.wakeFetches(tp) }
        return r
    }

    func ackStatus(_ tp: TopicPartition, requiredOffset: Int64) -> AckStatus {
        lock.withLock {
            guard let l = partitions[tp]?.leader else { return .done(.notLeaderOrFollower) }
            return l.ackStatus(requiredOffset: requiredOffset)
        }
    }

    // MARK: - Fetch

    /// Reads for a consumer (up to the HW) or a follower (up to the log end; records its progress).
    func read(_ tp: TopicPartition, offset: Int64, maxBytes: Int, replicaId: Int32, currentLeaderEpoch: Int32) -> PartitionRead {
        var out = PartitionRead()
        var effects: [ReplicationEffect] = []
        lock.withLock {
            guard let p = partitions[tp] else { out.error = .unknownTopicOrPartition; return }
            guard var l = p.leader else { out.error = .notLeaderOrFollower; return }
            let epochCheck = l.validateLeaderEpoch(currentLeaderEpoch)
            guard epochCheck == .noError else { out.error = ErrorCode(epochCheck.rawValue); return }
            let log = p.log
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
            let limit = replicaId >= 0 ? log.logEndOffset : l.highWatermark
            let region = log.read(from: offset, maxBytes: maxBytes, maxOffset: limit)
            out.log = log
            out.position = region.position
            out.count = region.count
        }
        perform(effects)
        return out
    }

    /// Bytes available to a reader at `offset` (for min.bytes without reading).
    func hasData(_ tp: TopicPartition, offset: Int64, replicaId: Int32) -> Bool {
        lock.withLock {
            guard let p = partitions[tp], let l = p.leader else { return true }  // errors answer at once
            let limit = replicaId >= 0 ? p.log.logEndOffset : l.highWatermark
            return offset < limit || offset < p.log.logStartOffset || offset > p.log.logEndOffset
        }
    }

    // MARK: - Offsets

    enum OffsetAnswer { case offset(Int64, Int64, Int32), error(ErrorCode) }

    func listOffset(_ tp: TopicPartition, timestamp: Int64, replicaId: Int32, isolation: Int8) -> OffsetAnswer {
        lock.withLock {
            guard let p = partitions[tp] else { return .error(.unknownTopicOrPartition) }
            guard let l = p.leader else { return .error(.notLeaderOrFollower) }
            let limit = replicaId >= 0 ? p.log.logEndOffset : l.highWatermark
            switch timestamp {
            case -2: return .offset(p.log.logStartOffset, -1, l.leaderEpoch)
            case -1: return .offset(limit, -1, l.leaderEpoch)
            default:
                if let o = p.log.offset(forTimestamp: timestamp), o < limit { return .offset(o, timestamp, l.leaderEpoch) }
                return .offset(-1, -1, l.leaderEpoch)
            }
        }
    }

    func endOffset(_ tp: TopicPartition, epoch: Int32, currentLeaderEpoch: Int32) -> (ErrorCode, Int32, Int64) {
        lock.withLock {
            guard let p = partitions[tp] else { return (.unknownTopicOrPartition, -1, -1) }
            guard let l = p.leader else { return (.notLeaderOrFollower, -1, -1) }
            let check = l.validateLeaderEpoch(currentLeaderEpoch)
            guard check == .noError else { return (ErrorCode(check.rawValue), -1, -1) }
            let (e, o) = p.log.endOffset(forEpoch: epoch)
            return (.none, e, o)
        }
    }

    // MARK: - Follower side

    struct FollowState { var offset: Int64; var logStart: Int64; var epoch: Int32 }

    func followState(_ tp: TopicPartition) -> FollowState? {
        lock.withLock {
            guard let p = partitions[tp], p.leader == nil else { return nil }
            return FollowState(offset: p.log.logEndOffset, logStart: p.log.logStartOffset, epoch: p.leaderEpoch)
        }
    }

    /// Appends what a follower fetched; returns the new log end offset.
    func appendAsFollower(_ tp: TopicPartition, records: [UInt8], leaderHW: Int64, leaderLogStart: Int64) throws -> Int64? {
        try lock.withLock {
            guard let p = partitions[tp], p.leader == nil else { return nil }
            if !records.isEmpty { _ = try p.log.appendAsFollower(records) }
            p.followerHW = max(p.followerHW, min(leaderHW, p.log.logEndOffset))
            return p.log.logEndOffset
        }
    }

    func resetFollower(_ tp: TopicPartition, to offset: Int64) throws {
        try lock.withLock {
            guard let p = partitions[tp], p.leader == nil else { return }
            if offset > p.log.logEndOffset || offset < p.log.logStartOffset {
                try p.log.truncateFullyAndStartAt(offset)
                p.followerHW = offset
            } else {
                try p.log.truncate(to: offset)
                p.followerHW = min(p.followerHW, offset)
            }
        }
    }

    // MARK: - Periodic work

    /// ISR shrink check (followers that fell behind for replica.lag.time.max.ms leave the ISR).
    func maybeShrinkIsrs() {
        var effects: [ReplicationEffect] = []
        lock.withLock {
            for p in partitions.values {
                guard var l = p.leader else { continue }
                effects += l.maybeShrinkIsr(nowMs: nowMs)
                p.leader = l
            }
        }
        perform(effects)
    }

    func checkpoint(flush: Bool) {
        let hw: [TopicPartition: Int64] = lock.withLock {
            var out = checkpointedHW
            for (tp, p) in partitions {
                if flush { p.log.flush() }
                out[tp] = p.highWatermark
            }
            return out
        }
        var s = "0\n\(hw.count)\n"
        for tp in hw.keys.sorted() { s += "\(tp.topic) \(tp.partition) \(hw[tp] ?? 0)\n" }
        LocalLog.writeFileAtomically(logDir + "/" + ReplicaManager.hwFile, s)
    }

    static func readCheckpoint(_ path: String) -> [TopicPartition: Int64] {
        guard let text = LocalLog.readSmallFile(path) else { return [:] }
        var out: [TopicPartition: Int64] = [:]
        for line in text.split(separator: "\n").dropFirst(2) {
            let parts = line.split(separator: " ")
            guard parts.count == 3, let p = Int32(parts[1]), let o = Int64(parts[2]) else { continue }
            out[TopicPartition(String(parts[0]), p)] = o
        }
        return out
    }

    /// (topic-partition, is leader, leader epoch, LEO, HW) for tests and logs.
    func describe() -> [(TopicPartition, Bool, Int64, Int64)] {
        lock.withLock { partitions.values.map { ($0.tp, $0.leader != nil, $0.log.logEndOffset, $0.highWatermark) } }
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
                    lock.withLock {
                        guard let p = partitions[tp], var l = p.leader else { return }
                        if let version { more = l.isrUpdateSucceeded(newZkVersion: version) } else { l.isrUpdateFailed() }
                        p.leader = l
                    }
                    perform(more)
                }
            }
        }
    }
}
