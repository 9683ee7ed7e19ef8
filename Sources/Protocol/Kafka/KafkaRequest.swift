/// Any request body we implement, decoded from a parsed frame, so the broker can switch on one value.
public enum KafkaRequest: Sendable, Equatable {
    case produce(ProduceRequest)
    case fetch(FetchRequest)
    case listOffsets(ListOffsetsRequest)
    case metadata(MetadataRequest)
    case leaderAndIsr(LeaderAndIsrRequest)
    case stopReplica(StopReplicaRequest)
    case updateMetadata(UpdateMetadataRequest)
    case offsetCommit(OffsetCommitRequest)
    case offsetFetch(OffsetFetchRequest)
    case findCoordinator(FindCoordinatorRequest)
    case joinGroup(JoinGroupRequest)
    case heartbeat(HeartbeatRequest)
    case leaveGroup(LeaveGroupRequest)
    case syncGroup(SyncGroupRequest)
    case describeGroups(DescribeGroupsRequest)
    case listGroups(ListGroupsRequest)
    case apiVersions(ApiVersionsRequest)
    case createTopics(CreateTopicsRequest)
    case deleteTopics(DeleteTopicsRequest)
    case initProducerId(InitProducerIdRequest)
    case offsetForLeaderEpoch(OffsetForLeaderEpochRequest)
    case describeConfigs(DescribeConfigsRequest)
    case createPartitions(CreatePartitionsRequest)
    case deleteGroups(DeleteGroupsRequest)
    case offsetDelete(OffsetDeleteRequest)

    public static func decode(_ frame: KafkaRequestFrame) throws -> KafkaRequest {
        var r = frame.body
        let v = frame.header.apiVersion
        switch frame.api {
        case .produce: return .produce(try ProduceRequest.decode(from: &r, version: v))
        case .fetch: return .fetch(try FetchRequest.decode(from: &r, version: v))
        case .listOffsets: return .listOffsets(try ListOffsetsRequest.decode(from: &r, version: v))
        case .metadata: return .metadata(try MetadataRequest.decode(from: &r, version: v))
        case .leaderAndIsr: return .leaderAndIsr(try LeaderAndIsrRequest.decode(from: &r, version: v))
        case .stopReplica: return .stopReplica(try StopReplicaRequest.decode(from: &r, version: v))
        case .updateMetadata: return .updateMetadata(try UpdateMetadataRequest.decode(from: &r, version: v))
        case .offsetCommit: return .offsetCommit(try OffsetCommitRequest.decode(from: &r, version: v))
        case .offsetFetch: return .offsetFetch(try OffsetFetchRequest.decode(from: &r, version: v))
        case .findCoordinator: return .findCoordinator(try FindCoordinatorRequest.decode(from: &r, version: v))
        case .joinGroup: return .joinGroup(try JoinGroupRequest.decode(from: &r, version: v))
        case .heartbeat: return .heartbeat(try HeartbeatRequest.decode(from: &r, version: v))
        case .leaveGroup: return .leaveGroup(try LeaveGroupRequest.decode(from: &r, version: v))
        case .syncGroup: return .syncGroup(try SyncGroupRequest.decode(from: &r, version: v))
        case .describeGroups: return .describeGroups(try DescribeGroupsRequest.decode(from: &r, version: v))
        case .listGroups: return .listGroups(try ListGroupsRequest.decode(from: &r, version: v))
        case .apiVersions: return .apiVersions(try ApiVersionsRequest.decode(from: &r, version: v))
        case .createTopics: return .createTopics(try CreateTopicsRequest.decode(from: &r, version: v))
        case .deleteTopics: return .deleteTopics(try DeleteTopicsRequest.decode(from: &r, version: v))
        case .initProducerId: return .initProducerId(try InitProducerIdRequest.decode(from: &r, version: v))
        case .offsetForLeaderEpoch: return .offsetForLeaderEpoch(try OffsetForLeaderEpochRequest.decode(from: &r, version: v))
        case .describeConfigs: return .describeConfigs(try DescribeConfigsRequest.decode(from: &r, version: v))
        case .createPartitions: return .createPartitions(try CreatePartitionsRequest.decode(from: &r, version: v))
        case .deleteGroups: return .deleteGroups(try DeleteGroupsRequest.decode(from: &r, version: v))
        case .offsetDelete: return .offsetDelete(try OffsetDeleteRequest.decode(from: &r, version: v))
        }
    }

    public var api: KafkaAPI {
        switch self {
        case .produce: .produce
        case .fetch: .fetch
        case .listOffsets: .listOffsets
        case .metadata: .metadata
        case .leaderAndIsr: .leaderAndIsr
        case .stopReplica: .stopReplica
        case .updateMetadata: .updateMetadata
        case .offsetCommit: .offsetCommit
        case .offsetFetch: .offsetFetch
        case .findCoordinator: .findCoordinator
        case .joinGroup: .joinGroup
        case .heartbeat: .heartbeat
        case .leaveGroup: .leaveGroup
        case .syncGroup: .syncGroup
        case .describeGroups: .describeGroups
        case .listGroups: .listGroups
        case .apiVersions: .apiVersions
        case .createTopics: .createTopics
        case .deleteTopics: .deleteTopics
        case .initProducerId: .initProducerId
        case .offsetForLeaderEpoch: .offsetForLeaderEpoch
        case .describeConfigs: .describeConfigs
        case .createPartitions: .createPartitions
        case .deleteGroups: .deleteGroups
        case .offsetDelete: .offsetDelete
        }
    }
}
