import BrokerCore
import Protocol
import Synchronization

/// What this broker knows about the cluster, from the controller's UpdateMetadata requests:
/// live brokers, the controller, and every partition's leader/ISR. Metadata answers come from here.
public final class MetadataCache: Sendable {
    public struct BrokerInfo: Equatable, Sendable {
        public var id: Int32
        public var host: String
        public var port: Int32
        public var rack: String?
        /// Every advertised listener by name; `host`/`port` are the first (the inter-broker listener).
        public var endpoints: [String: BrokerEndpoint] = [:]

        /// Where a client on `listener` reaches this broker (nil: not on that listener).
        public func endpoint(listener: String) -> (host: String, port: Int32)? {
            if endpoints.isEmpty { return (host, port) }
            return endpoints[listener].map { ($0.host, $0.port) }
        }
    }

    public struct PartitionInfo: Equatable, Sendable {
        public var leader: Int32
        public var leaderEpoch: Int32
        public var isr: [Int32]
        public var replicas: [Int32]
        public var offline: [Int32]
        public var zkVersion: Int32
        public var controllerEpoch: Int32
    }

    struct State {
        var brokers: [Int32: BrokerInfo] = [:]
        var controllerId: Int32 = -1
        var controllerEpoch: Int32 = -1
        var topics: [String: [Int32: PartitionInfo]] = [:]
        var topicIds: [String: KafkaUUID] = [:]
        var topicNamesById: [KafkaUUID: String] = [:]
        var version: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var brokers: [BrokerInfo] { state.withLock { $0.brokers.values.sorted { $0.id < $1.id } } }
    public var controllerId: Int32 { state.withLock { $0.controllerId } }
    public var controllerEpoch: Int32 { state.withLock { $0.controllerEpoch } }
    public var topicNames: [String] { state.withLock { $0.topics.keys.sorted() } }

    public func broker(_ id: Int32) -> BrokerInfo? { state.withLock { $0.brokers[id] } }
    public func partitions(of topic: String) -> [Int32: PartitionInfo]? { state.withLock { $0.topics[topic] } }
    public func partition(_ tp: TopicPartition) -> PartitionInfo? { state.withLock { $0.topics[tp.topic]?[tp.partition] } }
    /// The topic's id (zero when the controller has not announced one).
    public func topicId(of topic: String) -> KafkaUUID { state.withLock { $0.topicIds[topic] ?? .zero } }
    public func topicName(id: KafkaUUID) -> String? { state.withLock { $0.topicNamesById[id] } }

    /// Applies UpdateMetadata; refuses requests from an older controller epoch.
    public func update(_ req: Protocol.UpdateMetadataRequest) -> ErrorCode {
        state.withLock { s in
            if req.controllerEpoch < s.controllerEpoch { return .staleControllerEpoch }
            s.controllerEpoch = req.controllerEpoch
            s.controllerId = req.controllerId
            var brokers: [Int32: BrokerInfo] = [:]
            for b in req.liveBrokers {
                // The registration lists the inter-broker listener first (see CoordSession).
                let ep = b.endpoints.first
                var eps: [String: BrokerEndpoint] = [:]
                for e in b.endpoints { eps[e.listener] = BrokerEndpoint(listener: e.listener, host: e.host, port: e.port) }
                brokers[b.id] = BrokerInfo(id: b.id, host: ep?.host ?? "", port: ep?.port ?? -1, rack: b.rack, endpoints: eps)
            }
            s.brokers = brokers
            for t in req.topicStates {
                if t.topicId != .zero, s.topicIds[t.topicName] != t.topicId {
                    if let old = s.topicIds[t.topicName] { s.topicNamesById[old] = nil }
                    s.topicIds[t.topicName] = t.topicId
                    s.topicNamesById[t.topicId] = t.topicName
                }
                for p in t.partitionStates {
                    if p.leader == leaderDuringDelete {
                        s.topics[t.topicName]?[p.partitionIndex] = nil
                        if s.topics[t.topicName]?.isEmpty == true {
                            s.topics[t.topicName] = nil
                            if let id = s.topicIds.removeValue(forKey: t.topicName) { s.topicNamesById[id] = nil }
                        }
                        continue
                    }
                    s.topics[t.topicName, default: [:]][p.partitionIndex] = PartitionInfo(
                        leader: p.leader, leaderEpoch: p.leaderEpoch, isr: p.isr, replicas: p.replicas,
                        offline: p.offlineReplicas, zkVersion: p.zkVersion, controllerEpoch: p.controllerEpoch)
                }
            }
            s.version &+= 1
            return .none
        }
    }
}
