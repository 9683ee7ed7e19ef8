import Protocol

/// A partition as the metadata describes it.
public struct PartitionInfo: Sendable, Equatable {
    public var partition: Int32
    /// -1 when the partition has no leader right now.
    public var leader: Int32
    public var leaderEpoch: Int32
    public var replicas: [Int32]
    public var isr: [Int32]
    public var offlineReplicas: [Int32]
    public var error: ErrorCode
    public init(partition: Int32, leader: Int32, leaderEpoch: Int32 = -1, replicas: [Int32] = [], isr: [Int32] = [],
                offlineReplicas: [Int32] = [], error: ErrorCode = .none) {
        self.partition = partition; self.leader = leader; self.leaderEpoch = leaderEpoch
        self.replicas = replicas; self.isr = isr; self.offlineReplicas = offlineReplicas; self.error = error
    }
}

public struct TopicInfo: Sendable, Equatable {
    public var name: String
    public var isInternal: Bool
    /// Sorted by partition index.
    public var partitions: [PartitionInfo]
    public var error: ErrorCode
    public init(name: String, isInternal: Bool = false, partitions: [PartitionInfo], error: ErrorCode = .none) {
        self.name = name; self.isInternal = isInternal; self.partitions = partitions; self.error = error
    }
    public var partitionCount: Int32 { Int32(partitions.count) }
    public var replicationFactor: Int { partitions.first?.replicas.count ?? 0 }
    /// Partitions that currently have a leader (where sticky partitioning prefers to go).
    public var available: [Int32] { partitions.filter { $0.leader >= 0 }.map(\.partition) }
}

public struct BrokerInfo: Sendable, Equatable, Hashable {
    public var nodeId: Int32
    public var host: String
    public var port: Int
    public var rack: String?
    public init(nodeId: Int32, host: String, port: Int, rack: String? = nil) {
        self.nodeId = nodeId; self.host = host; self.port = port; self.rack = rack
    }
    public var address: HostPort { HostPort(host: host, port: port) }
}

/// The client's view of the cluster (a value: copied out to other threads as a snapshot).
public struct ClusterMetadata: Sendable, Equatable {
    public var brokers: [Int32: BrokerInfo] = [:]
    public var topics: [String: TopicInfo] = [:]
    public var controllerId: Int32 = -1
    public var clusterId: String?
    public var updatedAtMs: UInt64 = 0

    public init() {}

    public func leader(for tp: TopicPartition) -> Int32? {
        guard let t = topics[tp.topic], tp.partition >= 0, Int(tp.partition) < t.partitions.count else { return nil }
        let l = t.partitions[Int(tp.partition)].leader
        return l >= 0 && brokers[l] != nil ? l : nil
    }

    public func partitionCount(_ topic: String) -> Int32? { topics[topic]?.partitionCount }

    /// Folds a Metadata response in. With a topic list only those topics are replaced; topics the
    /// broker says do not exist are dropped.
    public mutating func apply(_ r: MetadataResponse, requestedTopics: [String]?, nowMs: UInt64) {
        brokers = Dictionary(r.brokers.map { ($0.nodeId, BrokerInfo(nodeId: $0.nodeId, host: $0.host, port: Int($0.port), rack: $0.rack)) },
                             uniquingKeysWith: { a, _ in a })
        controllerId = r.controllerId
        if r.clusterId != nil { clusterId = r.clusterId }
        if requestedTopics == nil { topics.removeAll() }
        for t in r.topics {
            if t.errorCode == .unknownTopicOrPartition || t.errorCode == .invalidTopicException {
                topics[t.name] = nil
                continue
            }
            if t.errorCode.isError && t.partitions.isEmpty {
                // LEADER_NOT_AVAILABLE while a topic is being created: keep what we knew.
                continue
            }
            let parts = t.partitions.sorted { $0.partitionIndex < $1.partitionIndex }.map {
                PartitionInfo(partition: $0.partitionIndex, leader: $0.leaderId, leaderEpoch: $0.leaderEpoch,
                              replicas: $0.replicaNodes, isr: $0.isrNodes, offlineReplicas: $0.offlineReplicas,
                              error: $0.errorCode)
            }
            // A dense index keeps `partitions[i].partition == i`; gaps would break lookups, so refuse them.
            guard parts.enumerated().allSatisfy({ Int($0.element.partition) == $0.offset }) else { continue }
            topics[t.name] = TopicInfo(name: t.name, isInternal: t.isInternal, partitions: parts, error: t.errorCode)
        }
        updatedAtMs = nowMs
    }
}
