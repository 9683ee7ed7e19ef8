/// The znode paths of Kafka's ZooKeeper layout, in one place.
public enum ZkPaths {
    public static let brokerIds = "/brokers/ids"
    public static let brokerTopics = "/brokers/topics"
    public static let brokerSeqId = "/brokers/seqid"
    public static let controller = "/controller"
    public static let controllerEpoch = "/controller_epoch"
    public static let deleteTopics = "/admin/delete_topics"
    public static let configTopics = "/config/topics"
    public static let configChanges = "/config/changes"
    public static let configBrokers = "/config/brokers"
    public static let isrChangeNotification = "/isr_change_notification"
    public static let clusterId = "/cluster/id"
    public static let latestProducerIdBlock = "/latest_producer_id_block"

    /// Persistent parents a fresh cluster needs before brokers register (Kafka creates these at startup).
    public static let persistentParents = [
        "/brokers", brokerIds, brokerTopics, brokerSeqId, "/admin", deleteTopics, "/config", configTopics,
        "/config/clients", "/config/users", configBrokers, configChanges,
        isrChangeNotification, "/cluster", "/latest_producer_id_block",
    ]

    public static func broker(_ id: BrokerID) -> String { "\(brokerIds)/\(id)" }
    public static func topic(_ topic: String) -> String { "\(brokerTopics)/\(topic)" }
    public static func partitions(_ topic: String) -> String { "\(brokerTopics)/\(topic)/partitions" }
    public static func partition(_ tp: TopicPartition) -> String { "\(partitions(tp.topic))/\(tp.partition)" }
    public static func partitionState(_ tp: TopicPartition) -> String { "\(partition(tp))/state" }
    public static func deleteTopic(_ topic: String) -> String { "\(deleteTopics)/\(topic)" }
    public static func topicConfig(_ topic: String) -> String { "\(configTopics)/\(topic)" }
    /// A broker's dynamic configs: "<id>" or "<default>" (the cluster-wide default).
    public static func brokerConfig(_ entity: String) -> String { "\(configBrokers)/\(entity)" }
    /// Prefix for sequential creates; coordd appends the 10-digit counter.
    public static let configChangePrefix = "\(configChanges)/config_change_"
    public static let isrChangePrefix = "\(isrChangeNotification)/isr_change_"

    /// Parses "/brokers/topics/t/partitions/3/state" back into its partition.
    public static func parsePartitionStatePath(_ path: String) -> TopicPartition? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 7, parts[0].isEmpty, parts[1] == "brokers", parts[2] == "topics",
              parts[4] == "partitions", parts[6] == "state", let p = Int32(parts[5]), p >= 0 else { return nil }
        return TopicPartition(String(parts[3]), p)
    }
}
