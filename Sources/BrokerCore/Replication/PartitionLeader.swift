public struct ReplicationConfig: Sendable {
    /// `replica.lag.time.max.ms`: a follower not caught up for this long leaves the ISR.
    public var lagTimeMaxMs: Int64 = 30_000
    /// `min.insync.replicas` for acks=all.
    public var minInsyncReplicas = 1

    public init(lagTimeMaxMs: Int64 = 30_000, minInsyncReplicas: Int = 1) {
        self.lagTimeMaxMs = lagTimeMaxMs
        self.minInsyncReplicas = minInsyncReplicas
    }
}

/// What the leader knows about one follower, from its fetches.
public struct FollowerReplicaState: Equatable, Sendable {
    /// -1 until the follower's first fetch under this leadership.
    public var logEndOffset: Int64 = -1
    public var lastCaughtUpTimeMs: Int64
    public var lastFetchTimeMs: Int64
    /// The leader's end offset when the previous fetch arrived.
    public var lastFetchLeaderLogEndOffset: Int64
}

public enum ReplicationEffect: Equatable, Sendable {
    /// Conditionally write the partition state znode (setData with expectedZkVersion), then
    /// report back with `isrUpdateSucceeded` / `isrUpdateFailed`.
    case updateIsr(TopicPartition, LeaderAndIsr, expectedZkVersion: Int32)
    /// Tell the controller (a sequential `/isr_change_notification/isr_change_` znode; batch them).
    case notifyIsrChange(TopicPartition)
    /// Delayed produces and fetches on this partition may now complete.
    case highWatermarkAdvanced(TopicPartition, Int64)
}

public enum AckStatus: Equatable, Sendable {
    case pending
    case done(KafkaError)
}

/// Leader-side state of one partition: ISR membership, follower progress and the high watermark.
/// Offsets are "next offset" style: a log end offset of 10 holds offsets 0...9, and HW 10 means
/// 0...9 are committed.
public struct PartitionLeader: Sendable {
    public let topicPartition: TopicPartition
    public let localBroker: BrokerID
    /// Changes live when the topic's min.insync.replicas is altered.
    public var config: ReplicationConfig
    public private(set) var replicas: [BrokerID]
    public private(set) var isr: [BrokerID]
    /// An ISR write in flight. Until it lands the HW is computed over the union (the "maximal
    /// ISR"): a shrink cannot advance the HW before ZooKeeper agrees, an expansion already counts.
    public private(set) var pendingIsr: [BrokerID]?
    public private(set) var leaderEpoch: Int32
    public private(set) var controllerEpoch: Int32
    public private(set) var zkVersion: Int32
    /// Log end offset when this leadership began; a follower must reach it to join the ISR.
    public private(set) var leaderEpochStartOffset: Int64
    public private(set) var logEndOffset: Int64
    public private(set) var highWatermark: Int64
    public private(set) var followers: [BrokerID: FollowerReplicaState] = [:]

    public init(topicPartition: TopicPartition, localBroker: BrokerID, state: PartitionStateInfo,
                logEndOffset: Int64, highWatermark: Int64, nowMs: Int64, config: ReplicationConfig = ReplicationConfig()) {
        self.topicPartition = topicPartition
        self.localBroker = localBroker
        self.config = config
        self.replicas = state.replicas
        self.isr = state.isr
        self.leaderEpoch = state.leaderEpoch
        self.controllerEpoch = state.controllerEpoch
        self.zkVersion = state.zkVersion
        self.leaderEpochStartOffset = logEndOffset
        self.logEndOffset = logEndOffset
        self.highWatermark = min(max(0, highWatermark), logEndOffset)
        resetFollowers(nowMs: nowMs)
    }

    /// A newer LeaderAndIsr keeping us leader (e.g. the controller shrank the ISR).
    public mutating func update(state: PartitionStateInfo, nowMs: Int64) -> KafkaError {
        guard state.leaderEpoch > leaderEpoch else { return .staleControllerEpoch }
        guard state.leader == localBroker else { return .notLeaderOrFollower }
        replicas = state.replicas
        isr = state.isr
        pendingIsr = nil
        leaderEpoch = state.leaderEpoch
        controllerEpoch = state.controllerEpoch
        zkVersion = state.zkVersion
        leaderEpochStartOffset = logEndOffset
        resetFollowers(nowMs: nowMs)
        return .noError
    }

    private mutating func resetFollowers(nowMs: Int64) {
        var next: [BrokerID: FollowerReplicaState] = [:]
        for r in replicas where r != localBroker {
            next[r] = FollowerReplicaState(logEndOffset: -1, lastCaughtUpTimeMs: isr.contains(r) ? nowMs : 0,
                                           lastFetchTimeMs: nowMs, lastFetchLeaderLogEndOffset: leaderEpochStartOffset)
        }
        followers = next
    }

    public var maximalIsr: [BrokerID] {
        guard let pending = pendingIsr else { return isr }
        return isr + pending.filter { !isr.contains($0) }
    }

    /// Kafka's fencing rule for requests that carry the leader epoch the client believes in
    /// (-1: the client does not check).
    public func validateLeaderEpoch(_ requested: Int32) -> KafkaError {
        LeaderEpochCheck.validate(requested: requested, current: leaderEpoch)
    }

    // MARK: - Produce

    /// Refuses acks=all appends when the ISR is below min.insync.replicas.
    public func checkAppend(acks: Int16) -> KafkaError {
        acks == -1 && isr.count < config.minInsyncReplicas ? .notEnoughReplicas : .noError
    }

    /// The local log grew (an append was written).
    public mutating func appended(logEndOffset newEnd: Int64) -> [ReplicationEffect] {
        guard newEnd > logEndOffset else { return [] }
        logEndOffset = newEnd
        return maybeAdvanceHighWatermark()
    }

    /// Whether an acks=all produce whose last record is at `requiredOffset - 1` is done.
    public func ackStatus(requiredOffset: Int64) -> AckStatus {
        guard highWatermark >= requiredOffset else { return .pending }
        return .done(isr.count < config.minInsyncReplicas ? .notEnoughReplicasAfterAppend : .noError)
    }

    // MARK: - Followers

    /// A follower fetched from `fetchOffset` (its log end offset). Returns NOT_LEADER_OR_FOLLOWER
    /// for a broker that is not a replica.
    public mutating func followerFetched(_ replica: BrokerID, fetchOffset: Int64, nowMs: Int64) -> (KafkaError, [ReplicationEffect]) {
        guard var f = followers[replica] else { return (.notLeaderOrFollower, []) }
        guard fetchOffset >= 0, fetchOffset <= logEndOffset else { return (.offsetOutOfRange, []) }
        if fetchOffset >= logEndOffset {
            f.lastCaughtUpTimeMs = max(f.lastCaughtUpTimeMs, nowMs)
        } else if fetchOffset >= f.lastFetchLeaderLogEndOffset {
            // Caught up to where the leader was at the previous fetch: caught up as of that time.
            f.lastCaughtUpTimeMs = max(f.lastCaughtUpTimeMs, f.lastFetchTimeMs)
        }
        f.logEndOffset = fetchOffset
        f.lastFetchLeaderLogEndOffset = logEndOffset
        f.lastFetchTimeMs = nowMs
        followers[replica] = f
        var effects: [ReplicationEffect] = []
        if pendingIsr == nil, !isr.contains(replica), fetchOffset >= highWatermark, fetchOffset >= leaderEpochStartOffset {
            effects += proposeIsr(isr + [replica])
        }
        effects += maybeAdvanceHighWatermark()
        return (.noError, effects)
    }

    /// The periodic ISR check: followers that have not caught up within the lag time leave.
    public mutating func maybeShrinkIsr(nowMs: Int64) -> [ReplicationEffect] {
        guard pendingIsr == nil else { return [] }
        let lagging = isr.filter { r in
            guard r != localBroker, let f = followers[r] else { return false }
            return nowMs - f.lastCaughtUpTimeMs > config.lagTimeMaxMs
        }
        guard !lagging.isEmpty else { return [] }
        return proposeIsr(isr.filter { !lagging.contains($0) })
    }

    private mutating func proposeIsr(_ next: [BrokerID]) -> [ReplicationEffect] {
        pendingIsr = next
        let state = LeaderAndIsr(leader: localBroker, leaderEpoch: leaderEpoch, isr: next, controllerEpoch: controllerEpoch)
        return [.updateIsr(topicPartition, state, expectedZkVersion: zkVersion)]
    }

    public mutating func isrUpdateSucceeded(newZkVersion: Int32) -> [ReplicationEffect] {
        guard let next = pendingIsr else { return [] }
        isr = next
        pendingIsr = nil
        zkVersion = newZkVersion
        return [.notifyIsrChange(topicPartition)] + maybeAdvanceHighWatermark()
    }

    /// The conditional write lost (the controller changed the state): keep the old ISR and wait
    /// for the controller's LeaderAndIsr, as ZooKeeper-mode Kafka does.
    public mutating func isrUpdateFailed() {
        pendingIsr = nil
    }

    private mutating func maybeAdvanceHighWatermark() -> [ReplicationEffect] {
        var candidate = logEndOffset
        for r in maximalIsr where r != localBroker {
            candidate = min(candidate, followers[r]?.logEndOffset ?? -1)
        }
        guard candidate > highWatermark else { return [] }
        highWatermark = candidate
        return [.highWatermarkAdvanced(topicPartition, candidate)]
    }
}

public enum LeaderEpochCheck {
    /// Stale epochs are fenced; newer ones mean this broker has not heard of them yet.
    public static func validate(requested: Int32, current: Int32) -> KafkaError {
        if requested < 0 { return .noError }
        if requested < current { return .fencedLeaderEpoch }
        if requested > current { return .unknownLeaderEpoch }
        return .noError
    }
}
