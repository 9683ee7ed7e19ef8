/// A broker's numeric id (`broker.id`).
public typealias BrokerID = Int32

/// Leader value meaning "no leader": the partition is offline.
public let noLeader: BrokerID = -1
/// Leader value the controller announces while a topic is being deleted.
public let leaderDuringDelete: BrokerID = -2

/// A topic name plus partition index; the key of almost everything a broker does.
public struct TopicPartition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        a.topic != b.topic ? a.topic < b.topic : a.partition < b.partition
    }

    public var description: String { "\(topic)-\(partition)" }
}

/// Kafka protocol error codes the broker core produces. Raw values are the wire codes.
public enum KafkaError: Int16, Error, Sendable, Equatable {
    case unknownServerError = -1
    /// Kafka's NONE, renamed so it cannot be mistaken for `Optional.none` in dictionaries.
    case noError = 0
    case offsetOutOfRange = 1
    case corruptMessage = 2
    case unknownTopicOrPartition = 3
    case leaderNotAvailable = 5
    case notLeaderOrFollower = 6
    case requestTimedOut = 7
    case brokerNotAvailable = 8
    case replicaNotAvailable = 9
    case messageTooLarge = 10
    case staleControllerEpoch = 11
    case offsetMetadataTooLarge = 12
    case coordinatorLoadInProgress = 14
    case coordinatorNotAvailable = 15
    case notCoordinator = 16
    case invalidTopic = 17
    case notEnoughReplicas = 19
    case notEnoughReplicasAfterAppend = 20
    case illegalGeneration = 22
    case inconsistentGroupProtocol = 23
    case invalidGroupId = 24
    case unknownMemberId = 25
    case invalidSessionTimeout = 26
    case rebalanceInProgress = 27
    case topicAlreadyExists = 36
    case invalidPartitions = 37
    case invalidReplicationFactor = 38
    case invalidReplicaAssignment = 39
    case notController = 41
    case invalidRequest = 42
    case outOfOrderSequenceNumber = 45
    case duplicateSequenceNumber = 46
    case invalidProducerEpoch = 47
    case unknownProducerId = 59
    case nonEmptyGroup = 68
    case groupIdNotFound = 69
    case fencedLeaderEpoch = 74
    case unknownLeaderEpoch = 75
    case staleBrokerEpoch = 77
    case memberIdRequired = 79
    case preferredLeaderNotAvailable = 80
    case groupMaxSizeReached = 81
    case fencedInstanceId = 82
    case electionNotNeeded = 84
    case groupSubscribedToTopic = 86
    case producerFenced = 90
}

/// Deadlines built from client-supplied timeouts must not trap on overflow.
@inline(__always)
func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
    let (r, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b > 0 ? Int64.max : Int64.min) : r
}
