import Protocol

/// Everything the client can fail with. Broker error codes keep their Kafka names.
public enum KafkaError: Error, Equatable, Sendable, CustomStringConvertible {
    case broker(ErrorCode, String)
    case timeout(String)
    case network(String)
    case protocolViolation(String)
    case invalidArgument(String)
    case unknownTopic(String)
    case bufferExhausted
    case closed

    public var description: String {
        switch self {
        case .broker(let c, let ctx): ctx.isEmpty ? "\(c.name)" : "\(c.name): \(ctx)"
        case .timeout(let s): "timed out: \(s)"
        case .network(let s): "network error: \(s)"
        case .protocolViolation(let s): "protocol error: \(s)"
        case .invalidArgument(let s): "invalid argument: \(s)"
        case .unknownTopic(let t): "unknown topic \(t)"
        case .bufferExhausted: "producer buffer exhausted (buffer.memory full for max.block.ms)"
        case .closed: "client closed"
        }
    }

    /// Errors worth retrying (after a metadata refresh where relevant), as Kafka's RetriableException.
    public var isRetriable: Bool {
        switch self {
        case .broker(let c, _): c.isRetriable
        case .timeout, .network: true
        default: false
        }
    }
}

extension ErrorCode {
    /// Codes Kafka marks retriable (the ones a client meets in practice).
    public var isRetriable: Bool {
        switch self {
        case .corruptMessage, .unknownTopicOrPartition, .leaderNotAvailable, .notLeaderOrFollower,
             .requestTimedOut, .networkException, .coordinatorLoadInProgress, .coordinatorNotAvailable,
             .notCoordinator, .notEnoughReplicas, .notEnoughReplicasAfterAppend, .brokerNotAvailable,
             .replicaNotAvailable, .notController, .concurrentTransactions:
            true
        default:
            // 74 FENCED_LEADER_EPOCH, 75 UNKNOWN_LEADER_EPOCH, 89 KAFKA_STORAGE_ERROR? (56), 100 UNKNOWN_TOPIC_ID
            [56, 74, 75, 100].contains(rawValue)
        }
    }

    /// Codes after which the cached metadata is stale.
    public var invalidatesMetadata: Bool {
        self == .notLeaderOrFollower || self == .unknownTopicOrPartition || self == .leaderNotAvailable
            || self == .brokerNotAvailable || self == .replicaNotAvailable || [74, 75, 100].contains(rawValue)
    }

    /// Codes after which the group coordinator must be looked up again.
    public var invalidatesCoordinator: Bool {
        self == .notCoordinator || self == .coordinatorNotAvailable || self == .networkException
    }
}
