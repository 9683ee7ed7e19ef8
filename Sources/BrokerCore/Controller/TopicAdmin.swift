import Protocol

/// The znode writes behind the admin APIs. In ZooKeeper mode any broker serves CreateTopics,
/// CreatePartitions, DeleteTopics and AlterConfigs by writing znodes; the controller reacts to them.
public enum TopicAdmin {
    /// Config first, then the assignment, so the controller never sees a topic without its config.
    public static func createTopic(name: String, assignment: [Int32: [BrokerID]], config: [String: String] = [:],
                                   topicId: KafkaUUID? = nil, existing: Set<String>) throws(KafkaError) -> [ZkOp] {
        guard ReplicaAssignment.validateTopicName(name) else { throw .invalidTopic }
        guard !existing.contains(name) else { throw .topicAlreadyExists }
        try validate(assignment, firstPartition: 0)
        return [.create(path: ZkPaths.topicConfig(name), data: TopicConfigPayload(config: config).encoded()),
                .create(path: ZkPaths.topic(name), data: TopicAssignment(partitions: assignment, topicId: topicId).encoded())]
    }

    /// Adds partitions to a topic; conditional on the version of the assignment that was read.
    public static func createPartitions(topic: String, current: TopicAssignment, zkVersion: Int32,
                                        added: [Int32: [BrokerID]]) throws(KafkaError) -> ZkOp {
        guard !added.isEmpty else { throw .invalidPartitions }
        try validate(added, firstPartition: Int32(current.partitions.count))
        var next = current
        for (p, r) in added { next.partitions[p] = r }
        return .setData(path: ZkPaths.topic(topic), data: next.encoded(), expectedVersion: zkVersion)
    }

    public static func deleteTopic(_ name: String) -> ZkOp {
        .create(path: ZkPaths.deleteTopic(name), data: [])
    }

    /// Overwrites the topic's config and announces it with a sequential change notification.
    public static func alterTopicConfig(topic: String, config: [String: String], configZkVersion: Int32?) -> [ZkOp] {
        let data = TopicConfigPayload(config: config).encoded()
        let write: ZkOp = configZkVersion.map { .setData(path: ZkPaths.topicConfig(topic), data: data, expectedVersion: $0) }
            ?? .create(path: ZkPaths.topicConfig(topic), data: data)
        return [write, .create(path: ZkPaths.configChangePrefix, data: ConfigChangePayload.encode(entityPath: "topics/\(topic)"),
                               sequential: true)]
    }

    /// Partitions must be numbered contiguously from `firstPartition`, each with distinct replicas.
    static func validate(_ assignment: [Int32: [BrokerID]], firstPartition: Int32) throws(KafkaError) {
        guard !assignment.isEmpty else { throw .invalidPartitions }
        let expected = Set((0..<assignment.count).map { firstPartition + Int32($0) })
        guard Set(assignment.keys) == expected else { throw .invalidReplicaAssignment }
        let rf = assignment.values.first?.count ?? 0
        for r in assignment.values {
            guard !r.isEmpty, Set(r).count == r.count, r.allSatisfy({ $0 >= 0 }) else { throw .invalidReplicaAssignment }
            if r.count != rf { throw .invalidReplicaAssignment }
        }
    }
}
