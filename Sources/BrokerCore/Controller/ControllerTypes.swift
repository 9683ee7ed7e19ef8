import Protocol

/// A znode write the runtime performs against coordd. Parents of created paths are created as needed.
public enum ZkOp: Equatable, Sendable {
    case create(path: String, data: [UInt8], ephemeral: Bool = false, sequential: Bool = false)
    /// expectedVersion -1 means unconditional.
    case setData(path: String, data: [UInt8], expectedVersion: Int32)
    case delete(path: String, expectedVersion: Int32 = -1, recursive: Bool = false)

    public var path: String {
        switch self {
        case .create(let p, _, _, _), .setData(let p, _, _), .delete(let p, _, _): return p
        }
    }
}

/// Why a write the controller asked for did not happen.
public enum ZkWriteFailure: Equatable, Sendable {
    /// The `/controller_epoch` check in the multi failed: another controller took over.
    case controllerEpochChanged
    case badVersion
    case noNode
    case nodeExists
    case connectionLoss
}

/// A partition state znode as read: its payload and its data version.
public struct ZkPartitionState: Equatable, Sendable {
    public var leaderAndIsr: LeaderAndIsr
    public var zkVersion: Int32

    public init(_ leaderAndIsr: LeaderAndIsr, zkVersion: Int32) {
        self.leaderAndIsr = leaderAndIsr
        self.zkVersion = zkVersion
    }
}

/// One partition's state inside LeaderAndIsr and UpdateMetadata requests.
public struct PartitionStateInfo: Equatable, Sendable {
    public var topicPartition: TopicPartition
    public var controllerEpoch: Int32
    public var leader: BrokerID
    public var leaderEpoch: Int32
    public var isr: [BrokerID]
    public var zkVersion: Int32
    public var replicas: [BrokerID]
    public var offlineReplicas: [BrokerID]
    public var isNew: Bool

    public init(topicPartition: TopicPartition, controllerEpoch: Int32, leader: BrokerID, leaderEpoch: Int32,
                isr: [BrokerID], zkVersion: Int32, replicas: [BrokerID], offlineReplicas: [BrokerID] = [], isNew: Bool = false) {
        self.topicPartition = topicPartition
        self.controllerEpoch = controllerEpoch
        self.leader = leader
        self.leaderEpoch = leaderEpoch
        self.isr = isr
        self.zkVersion = zkVersion
        self.replicas = replicas
        self.offlineReplicas = offlineReplicas
        self.isNew = isNew
    }
}

public struct LeaderAndIsrRequest: Equatable, Sendable {
    public var controllerId: BrokerID
    public var controllerEpoch: Int32
    public var partitions: [PartitionStateInfo]
    /// Registrations of the leaders named in `partitions`, so followers know where to fetch.
    public var liveLeaders: [BrokerRegistration]
}

public struct UpdateMetadataRequest: Equatable, Sendable {
    public var controllerId: BrokerID
    public var controllerEpoch: Int32
    public var partitions: [PartitionStateInfo]
    public var liveBrokers: [BrokerRegistration]
    /// The ids of the topics named in `partitions` that have one (UpdateMetadata v7+).
    public var topicIds: [String: KafkaUUID] = [:]
}

public struct StopReplicaPartition: Equatable, Sendable {
    public var topicPartition: TopicPartition
    public var leaderEpoch: Int32
    public var deletePartition: Bool
}

public struct StopReplicaRequest: Equatable, Sendable {
    public var controllerId: BrokerID
    public var controllerEpoch: Int32
    public var partitions: [StopReplicaPartition]
}

/// What the runtime hands the controller once it won `/controller` and bumped `/controller_epoch`
/// (see `Controller.epochBump`), after reading the cluster's znodes.
public struct ControllerContext: Sendable {
    public var epoch: Int32
    public var epochZkVersion: Int32
    public var liveBrokers: [BrokerRegistration]
    public var topics: [String: TopicAssignment]
    public var partitionStates: [TopicPartition: ZkPartitionState]
    public var topicsToDelete: [String]

    public init(epoch: Int32, epochZkVersion: Int32, liveBrokers: [BrokerRegistration], topics: [String: TopicAssignment],
                partitionStates: [TopicPartition: ZkPartitionState], topicsToDelete: [String] = []) {
        self.epoch = epoch
        self.epochZkVersion = epochZkVersion
        self.liveBrokers = liveBrokers
        self.topics = topics
        self.partitionStates = partitionStates
        self.topicsToDelete = topicsToDelete
    }
}

public enum ControllerEvent: Sendable {
    case becameController(ControllerContext)
    /// The full child list of `/brokers/ids` with each registration.
    case brokersChanged([BrokerRegistration])
    /// The full set of topics under `/brokers/topics` with their assignments.
    case topicsChanged([String: TopicAssignment])
    /// Children of `/admin/delete_topics`.
    case topicDeletionRequested([String])
    /// Fresh reads the controller asked for with `.readPartitionStates` (nil: znode missing).
    case partitionStatesRead([TopicPartition: ZkPartitionState?])
    /// Leaders changed these ISRs; `notifications` are the sequential znodes to delete.
    case isrChangeNotification(notifications: [String], states: [TopicPartition: ZkPartitionState])
    case stopReplicaResponse(from: BrokerID, results: [TopicPartition: KafkaError])
    case controlledShutdown(BrokerID)
    /// The periodic auto.leader.rebalance check.
    case preferredLeaderCheck
    case zkWriteFailed(ZkOp, ZkWriteFailure)
}

public enum ControllerEffect: Equatable, Sendable {
    /// Run as multi(check(`/controller_epoch`, controllerEpochZkVersion), op) so a deposed controller
    /// cannot write; on failure feed `.zkWriteFailed` back.
    case zkWrite(ZkOp, controllerEpochZkVersion: Int32)
    case readPartitionStates([TopicPartition])
    case leaderAndIsr(to: BrokerID, LeaderAndIsrRequest)
    case updateMetadata(to: BrokerID, UpdateMetadataRequest)
    case stopReplica(to: BrokerID, StopReplicaRequest)
    case controlledShutdownResponse(to: BrokerID, error: KafkaError, remainingLeaders: [TopicPartition])
    /// Another controller holds a newer epoch: stop acting, wait for the `/controller` watch.
    case resign
    /// `unclean.leader.election.enable` made an out-of-sync replica leader: records only the
    /// last ISR held may be lost. The runtime counts and logs it (Kafka's UncleanLeaderElections).
    case uncleanLeaderElected(TopicPartition, leader: BrokerID, lastIsr: [BrokerID])
}

public struct ControllerConfig: Sendable {
    public var uncleanLeaderElection = false
    public var autoLeaderRebalance = true
    public var leaderImbalancePerBrokerPercentage = 10
    public var deleteTopicEnable = true

    public init() {}
}
