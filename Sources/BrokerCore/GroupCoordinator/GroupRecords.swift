/// Durable group state, as records in `__consumer_offsets`. The runtime maps these to Kafka's
/// key/value byte layout; `GroupCoordinator.replay` turns them back into state. A nil value is a
/// tombstone.
public enum GroupRecord: Equatable, Sendable {
    case offsetCommit(OffsetCommitKey, OffsetCommitValue?)
    case groupMetadata(groupId: String, GroupMetadataValue?)

    public var groupId: String {
        switch self {
        case .offsetCommit(let k, _): return k.groupId
        case .groupMetadata(let g, _): return g
        }
    }
}

public struct OffsetCommitKey: Hashable, Sendable {
    public var groupId: String
    public var topicPartition: TopicPartition

    public init(groupId: String, topicPartition: TopicPartition) {
        self.groupId = groupId
        self.topicPartition = topicPartition
    }
}

public struct OffsetCommitValue: Equatable, Sendable {
    public var offset: Int64
    /// -1 when the client did not send one.
    public var leaderEpoch: Int32
    public var metadata: String
    public var commitTimestampMs: Int64
    /// Only set by old (v1) commits with an explicit retention.
    public var expireTimestampMs: Int64?

    public init(offset: Int64, leaderEpoch: Int32 = -1, metadata: String = "", commitTimestampMs: Int64, expireTimestampMs: Int64? = nil) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTimestampMs = commitTimestampMs
        self.expireTimestampMs = expireTimestampMs
    }
}

public struct GroupMemberRecord: Equatable, Sendable {
    public var memberId: String
    public var groupInstanceId: String?
    public var clientId: String
    public var clientHost: String
    public var rebalanceTimeoutMs: Int32
    public var sessionTimeoutMs: Int32
    /// The member's metadata for the group's chosen protocol.
    public var subscription: [UInt8]
    public var assignment: [UInt8]

    public init(memberId: String, groupInstanceId: String?, clientId: String, clientHost: String, rebalanceTimeoutMs: Int32,
                sessionTimeoutMs: Int32, subscription: [UInt8], assignment: [UInt8]) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.sessionTimeoutMs = sessionTimeoutMs
        self.subscription = subscription
        self.assignment = assignment
    }
}

public struct GroupMetadataValue: Equatable, Sendable {
    public var protocolType: String
    public var generation: Int32
    public var protocolName: String?
    public var leader: String?
    public var currentStateTimestampMs: Int64
    public var members: [GroupMemberRecord]

    public init(protocolType: String, generation: Int32, protocolName: String?, leader: String?,
                currentStateTimestampMs: Int64, members: [GroupMemberRecord]) {
        self.protocolType = protocolType
        self.generation = generation
        self.protocolName = protocolName
        self.leader = leader
        self.currentStateTimestampMs = currentStateTimestampMs
        self.members = members
    }
}

/// Records bound for one `__consumer_offsets` partition.
public struct RecordAppend: Equatable, Sendable {
    public var partition: Int32
    public var records: [GroupRecord]
}
