public struct GroupConfig: Sendable {
    public var minSessionTimeoutMs: Int32 = 6_000
    public var maxSessionTimeoutMs: Int32 = 1_800_000
    /// `group.initial.rebalance.delay.ms`: an empty group waits this long for more joiners.
    public var initialRebalanceDelayMs: Int32 = 3_000
    public var maxGroupSize = Int.max
    public var offsetsTopicPartitions: Int32 = 50
    public var maxOffsetMetadataBytes = 4_096
    /// How long a new member may take to rejoin before it is dropped (Kafka's NewMemberJoinTimeoutMs).
    public var newMemberJoinTimeoutMs: Int64 = 300_000

    public init() {}
}

public enum GroupState: String, CaseIterable, Sendable {
    case empty = "Empty"
    case preparingRebalance = "PreparingRebalance"
    case completingRebalance = "CompletingRebalance"
    case stable = "Stable"
    case dead = "Dead"
}

public struct GroupProtocol: Equatable, Sendable {
    public var name: String
    public var metadata: [UInt8]

    public init(name: String, metadata: [UInt8]) {
        self.name = name
        self.metadata = metadata
    }
}

/// Opaque handle the runtime uses to match a delayed response to its connection and request.
public typealias GroupRequestID = UInt64

public struct GroupMember: Equatable, Sendable {
    public var memberId: String
    public var groupInstanceId: String?
    public var clientId: String
    public var clientHost: String
    public var rebalanceTimeoutMs: Int32
    public var sessionTimeoutMs: Int32
    public var protocolType: String
    public var protocols: [GroupProtocol]
    public var assignment: [UInt8] = []
    // Volatile: not in records.
    public var awaitingJoin: GroupRequestID?
    public var awaitingSync: GroupRequestID?
    public var heartbeatDeadlineMs: Int64
    public var isNew = false

    func metadata(for protocolName: String?) -> [UInt8] {
        protocols.first { $0.name == protocolName }?.metadata ?? []
    }
}

public struct ConsumerGroup: Sendable {
    public let groupId: String
    public internal(set) var state: GroupState = .empty
    public internal(set) var protocolType: String?
    public internal(set) var protocolName: String?
    public internal(set) var generationId: Int32 = 0
    public internal(set) var leaderId: String?
    public internal(set) var members: [String: GroupMember] = [:]
    /// Join order: picks the leader and orders the leader's member list.
    public internal(set) var memberOrder: [String] = []
    /// Member ids handed out with MEMBER_ID_REQUIRED → when they lapse.
    public internal(set) var pendingMembers: [String: Int64] = [:]
    var joinDeadlineMs: Int64?
    var initialDelayLimitMs: Int64?
    var syncDeadlineMs: Int64?
    /// The generation whose assignment is being appended to the offsets topic.
    var storingGeneration: Int32?
    var stateTimestampMs: Int64 = 0

    init(groupId: String) { self.groupId = groupId }

    var orderedMembers: [GroupMember] { memberOrder.compactMap { members[$0] } }

    /// Protocols every member supports, in the first member's order.
    var candidateProtocols: [String] {
        guard let first = orderedMembers.first else { return [] }
        return first.protocols.map { $0.name }.filter { name in orderedMembers.allSatisfy { m in m.protocols.contains { $0.name == name } } }
    }

    func supports(protocolType: String, protocols: [GroupProtocol]) -> Bool {
        if members.isEmpty { return !protocolType.isEmpty && !protocols.isEmpty }
        guard self.protocolType == protocolType else { return false }
        let names = Set(protocols.map { $0.name })
        return candidateProtocols.contains { names.contains($0) }
    }

    /// Each member votes for its most preferred candidate; most votes wins, ties go to the
    /// earlier candidate so the choice is deterministic.
    func selectProtocol() -> String? {
        let candidates = candidateProtocols
        var votes: [String: Int] = [:]
        for m in orderedMembers {
            if let choice = m.protocols.first(where: { candidates.contains($0.name) }) { votes[choice.name, default: 0] += 1 }
        }
        var best: String?
        for c in candidates where best == nil || (votes[c] ?? 0) > (votes[best ?? ""] ?? 0) { best = c }
        return best
    }

    var maxRebalanceTimeoutMs: Int64 { Int64(members.values.map { $0.rebalanceTimeoutMs }.max() ?? 0) }

    func metadataValue() -> GroupMetadataValue {
        GroupMetadataValue(protocolType: protocolType ?? "", generation: generationId, protocolName: protocolName, leader: leaderId,
                           currentStateTimestampMs: stateTimestampMs, members: orderedMembers.map {
            GroupMemberRecord(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId, clientHost: $0.clientHost,
                              rebalanceTimeoutMs: $0.rebalanceTimeoutMs, sessionTimeoutMs: $0.sessionTimeoutMs,
                              subscription: $0.metadata(for: protocolName), assignment: $0.assignment)
        })
    }
}

// MARK: - Requests and responses (the runtime maps wire versions onto these)

public struct JoinGroupRequest: Sendable {
    public var groupId: String
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    public var memberId: String
    public var groupInstanceId: String?
    public var protocolType: String
    public var protocols: [GroupProtocol]
    public var clientId: String
    public var clientHost: String
    /// v4+ makes a first-time joiner come back with the member id it is given.
    public var apiVersion: Int16

    public init(groupId: String, sessionTimeoutMs: Int32, rebalanceTimeoutMs: Int32, memberId: String = "", groupInstanceId: String? = nil,
                protocolType: String, protocols: [GroupProtocol], clientId: String, clientHost: String, apiVersion: Int16) {
        self.groupId = groupId
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.protocolType = protocolType
        self.protocols = protocols
        self.clientId = clientId
        self.clientHost = clientHost
        self.apiVersion = apiVersion
    }
}

public struct JoinGroupMember: Equatable, Sendable {
    public var memberId: String
    public var groupInstanceId: String?
    public var metadata: [UInt8]
}

public struct JoinGroupResponse: Equatable, Sendable {
    public var error: KafkaError
    public var generationId: Int32
    public var protocolType: String?
    public var protocolName: String?
    public var leaderId: String
    public var memberId: String
    /// Filled for the leader only.
    public var members: [JoinGroupMember]
    /// KIP-814 (JoinGroup v9+): a returning static leader gets the members but must not assign again.
    public var skipAssignment = false

    static func failure(_ e: KafkaError, memberId: String) -> JoinGroupResponse {
        JoinGroupResponse(error: e, generationId: -1, protocolType: nil, protocolName: nil, leaderId: "", memberId: memberId, members: [])
    }
}

public struct SyncGroupRequest: Sendable {
    public var groupId: String
    public var generationId: Int32
    public var memberId: String
    public var groupInstanceId: String?
    public var protocolType: String?
    public var protocolName: String?
    public var assignments: [String: [UInt8]]

    public init(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String? = nil, protocolType: String? = nil,
                protocolName: String? = nil, assignments: [String: [UInt8]] = [:]) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.assignments = assignments
    }
}

public struct SyncGroupResponse: Equatable, Sendable {
    public var error: KafkaError
    public var protocolType: String?
    public var protocolName: String?
    public var assignment: [UInt8]
}

public struct LeaveGroupMember: Equatable, Sendable {
    public var memberId: String
    public var groupInstanceId: String?
    public var error: KafkaError

    public init(memberId: String, groupInstanceId: String? = nil, error: KafkaError = .noError) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.error = error
    }
}

public struct LeaveGroupResponse: Equatable, Sendable {
    public var error: KafkaError
    /// v3+ reports each member; v0–2 answer with the single member's error as the top-level error.
    public var members: [LeaveGroupMember]
}

public struct OffsetCommitPartition: Equatable, Sendable {
    public var offset: Int64
    public var leaderEpoch: Int32
    public var metadata: String?

    public init(offset: Int64, leaderEpoch: Int32 = -1, metadata: String? = nil) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
    }
}

public struct OffsetCommitRequest: Sendable {
    public var groupId: String
    public var generationId: Int32
    public var memberId: String
    public var groupInstanceId: String?
    /// v1's explicit retention, -1 for the broker default.
    public var retentionTimeMs: Int64
    public var offsets: [TopicPartition: OffsetCommitPartition]

    public init(groupId: String, generationId: Int32 = -1, memberId: String = "", groupInstanceId: String? = nil,
                retentionTimeMs: Int64 = -1, offsets: [TopicPartition: OffsetCommitPartition]) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.retentionTimeMs = retentionTimeMs
        self.offsets = offsets
    }
}

public struct OffsetFetchPartition: Equatable, Sendable {
    public var offset: Int64
    public var leaderEpoch: Int32
    public var metadata: String
    public var error: KafkaError
}

public struct GroupMemberDescription: Equatable, Sendable {
    public var memberId: String
    public var groupInstanceId: String?
    public var clientId: String
    public var clientHost: String
    public var metadata: [UInt8]
    public var assignment: [UInt8]
}

public struct GroupDescription: Equatable, Sendable {
    public var error: KafkaError
    public var groupId: String
    public var state: String
    public var protocolType: String
    public var protocolName: String
    public var members: [GroupMemberDescription]
}

public struct GroupListing: Equatable, Sendable {
    public var groupId: String
    public var protocolType: String
    public var state: String
}

public enum GroupResponse: Equatable, Sendable {
    case join(JoinGroupResponse)
    case sync(SyncGroupResponse)
    case heartbeat(KafkaError)
    case leave(LeaveGroupResponse)
    case offsetCommit([TopicPartition: KafkaError])
    case offsetDelete(KafkaError, [TopicPartition: KafkaError])
    case deleteGroups([String: KafkaError])
}

public struct PendingResponse: Equatable, Sendable {
    public var requestId: GroupRequestID
    public var response: GroupResponse
}

public enum GroupEffect: Equatable, Sendable {
    case respond(PendingResponse)
    /// Append the records (acks=all to the offsets topic), and only then send `then`.
    case append([RecordAppend], then: [PendingResponse])
    /// Append the group's new assignment (acks=all), then report the outcome to `groupStored`.
    case storeGroup(RecordAppend, groupId: String, generation: Int32)
}
