import Protocol

/// Which operation on which resource type each request needs, as Kafka's KafkaApis checks: the
/// one table the handlers consult (they only say which names a request carries).
public enum ApiAcls {
    /// Some APIs check the same resource type twice for different reasons (Metadata: DESCRIBE a
    /// topic, CREATE it when auto-creating; Fetch: a follower's CLUSTER_ACTION).
    public enum Purpose: Hashable, Sendable { case main, autoCreate, follower }

    public struct Key: Hashable, Sendable {
        public var api: KafkaAPI
        public var resource: AclResourceType
        public var purpose: Purpose
        public init(_ api: KafkaAPI, _ resource: AclResourceType, _ purpose: Purpose = .main) {
            self.api = api
            self.resource = resource
            self.purpose = purpose
        }
    }

    /// APIs anyone may call once authenticated (the handshake and version discovery).
    public static let unchecked: Set<KafkaAPI> = [.apiVersions, .saslHandshake, .saslAuthenticate, .describeCluster]

    public static let table: [Key: AclOperation] = [
        Key(.produce, .topic): .write,
        Key(.produce, .transactionalId): .write,
        Key(.fetch, .topic): .read,
        Key(.fetch, .cluster, .follower): .clusterAction,
        Key(.listOffsets, .topic): .describe,
        Key(.offsetForLeaderEpoch, .topic): .describe,
        Key(.offsetForLeaderEpoch, .cluster, .follower): .clusterAction,
        Key(.metadata, .topic): .describe,
        Key(.metadata, .topic, .autoCreate): .create,
        Key(.metadata, .cluster, .autoCreate): .create,
        Key(.createTopics, .cluster): .create,
        Key(.createTopics, .topic): .create,
        Key(.deleteTopics, .topic): .delete,
        Key(.createPartitions, .topic): .alter,
        Key(.describeConfigs, .topic): .describeConfigs,
        Key(.describeConfigs, .cluster): .describeConfigs,
        Key(.alterConfigs, .topic): .alterConfigs,
        Key(.alterConfigs, .cluster): .alterConfigs,
        Key(.incrementalAlterConfigs, .topic): .alterConfigs,
        Key(.incrementalAlterConfigs, .cluster): .alterConfigs,
        Key(.deleteRecords, .topic): .delete,
        Key(.describeLogDirs, .cluster): .describe,
        Key(.electLeaders, .cluster): .alter,
        Key(.initProducerId, .transactionalId): .write,
        Key(.initProducerId, .cluster): .idempotentWrite,
        Key(.initProducerId, .topic): .write,
        Key(.leaderAndIsr, .cluster): .clusterAction,
        Key(.controlledShutdown, .cluster): .clusterAction,
        Key(.stopReplica, .cluster): .clusterAction,
        Key(.updateMetadata, .cluster): .clusterAction,
        Key(.offsetCommit, .group): .read,
        Key(.offsetCommit, .topic): .read,
        Key(.offsetFetch, .group): .describe,
        Key(.offsetFetch, .topic): .describe,
        Key(.findCoordinator, .group): .describe,
        Key(.findCoordinator, .transactionalId): .describe,
        Key(.joinGroup, .group): .read,
        Key(.syncGroup, .group): .read,
        Key(.heartbeat, .group): .read,
        Key(.leaveGroup, .group): .read,
        Key(.describeGroups, .group): .describe,
        Key(.listGroups, .cluster): .describe,
        Key(.listGroups, .group): .describe,
        Key(.deleteGroups, .group): .delete,
        Key(.offsetDelete, .group): .delete,
        Key(.offsetDelete, .topic): .read,
        Key(.describeUserScramCredentials, .cluster): .describe,
        Key(.alterUserScramCredentials, .cluster): .alter,
        Key(.describeAcls, .cluster): .describe,
        Key(.createAcls, .cluster): .alter,
        Key(.deleteAcls, .cluster): .alter,
        Key(.addPartitionsToTxn, .transactionalId): .write,
        Key(.addPartitionsToTxn, .topic): .write,
        Key(.addOffsetsToTxn, .transactionalId): .write,
        Key(.addOffsetsToTxn, .group): .read,
        Key(.endTxn, .transactionalId): .write,
        Key(.writeTxnMarkers, .cluster): .clusterAction,
        Key(.txnOffsetCommit, .transactionalId): .write,
        Key(.txnOffsetCommit, .group): .read,
        Key(.txnOffsetCommit, .topic): .read,
        Key(.describeTransactions, .transactionalId): .describe,
        Key(.describeTransactions, .topic): .describe,
        Key(.listTransactions, .transactionalId): .describe,
    ]

    public static func operation(_ api: KafkaAPI, _ resource: AclResourceType, _ purpose: Purpose = .main) -> AclOperation? {
        table[Key(api, resource, purpose)]
    }

    /// The error Kafka answers when the check on this resource type fails.
    public static func deniedError(_ resource: AclResourceType) -> ErrorCode {
        switch resource {
        case .topic: return .topicAuthorizationFailed
        case .group: return .groupAuthorizationFailed
        case .transactionalId: return .transactionalIdAuthorizationFailed
        default: return .clusterAuthorizationFailed
        }
    }
}
