/// The Kafka APIs this project speaks, with the version ranges the broker implements and advertises.
/// Ranges follow /work/shared/design/kafka-client-api-versions.md; only ApiVersions v3 is flexible.
public enum KafkaAPI: Int16, CaseIterable, Sendable {
    case produce = 0
    case fetch = 1
    case listOffsets = 2
    case metadata = 3
    case leaderAndIsr = 4
    case stopReplica = 5
    case updateMetadata = 6
    case offsetCommit = 8
    case offsetFetch = 9
    case findCoordinator = 10
    case joinGroup = 11
    case heartbeat = 12
    case leaveGroup = 13
    case syncGroup = 14
    case describeGroups = 15
    case listGroups = 16
    case apiVersions = 18
    case createTopics = 19
    case deleteTopics = 20
    case initProducerId = 22
    case offsetForLeaderEpoch = 23
    case describeConfigs = 32
    case createPartitions = 37
    case deleteGroups = 42
    case offsetDelete = 47

    /// Versions our codecs implement exactly. The controller APIs are pinned to one version each.
    public var supportedVersions: ClosedRange<Int16> {
        switch self {
        case .produce: 3...8
        case .fetch: 4...11
        case .listOffsets: 1...5
        case .metadata: 0...8
        case .leaderAndIsr: 2...2
        case .stopReplica: 1...1
        case .updateMetadata: 5...5
        case .offsetCommit: 2...7
        case .offsetFetch: 1...5
        case .findCoordinator: 0...2
        case .joinGroup: 2...5
        case .heartbeat: 0...3
        case .leaveGroup: 0...3
        case .syncGroup: 0...3
        case .describeGroups: 0...4
        case .listGroups: 0...2
        case .apiVersions: 0...3
        case .createTopics: 2...4
        case .deleteTopics: 1...3
        case .initProducerId: 0...1
        case .offsetForLeaderEpoch: 2...3
        case .describeConfigs: 1...3
        case .createPartitions: 0...1
        case .deleteGroups: 0...1
        case .offsetDelete: 0...0
        }
    }

    /// Kafka's first flexible version of this API (from the message JSON), whether or not we support it.
    /// It decides header versions even for requests we then reject.
    public var firstFlexibleVersion: Int16 {
        switch self {
        case .produce: 9
        case .fetch: 12
        case .listOffsets: 6
        case .metadata: 9
        case .leaderAndIsr: 4
        case .stopReplica: 2
        case .updateMetadata: 6
        case .offsetCommit: 8
        case .offsetFetch: 6
        case .findCoordinator: 3
        case .joinGroup: 6
        case .heartbeat: 4
        case .leaveGroup: 4
        case .syncGroup: 4
        case .describeGroups: 5
        case .listGroups: 3
        case .apiVersions: 3
        case .createTopics: 5
        case .deleteTopics: 4
        case .initProducerId: 2
        case .offsetForLeaderEpoch: 4
        case .describeConfigs: 4
        case .createPartitions: 2
        case .deleteGroups: 2
        case .offsetDelete: Int16.max
        }
    }

    /// Inter-broker APIs that clients never send; the broker may leave them out of what it advertises.
    public var isInterBroker: Bool {
        self == .leaderAndIsr || self == .stopReplica || self == .updateMetadata
    }

    public func isSupported(_ version: Int16) -> Bool { supportedVersions.contains(version) }
    public func isFlexible(_ version: Int16) -> Bool { version >= firstFlexibleVersion }

    /// Request header v2 for flexible versions, else v1 (v0 only exists for ControlledShutdown v0).
    public func requestHeaderVersion(_ version: Int16) -> Int16 { isFlexible(version) ? 2 : 1 }

    /// Response header v1 for flexible versions, except ApiVersions, whose response header is always v0
    /// so that a client can read it before knowing what the broker supports.
    public func responseHeaderVersion(_ version: Int16) -> Int16 {
        if self == .apiVersions { return 0 }
        return isFlexible(version) ? 1 : 0
    }

    public var name: String {
        switch self {
        case .produce: "Produce"
        case .fetch: "Fetch"
        case .listOffsets: "ListOffsets"
        case .metadata: "Metadata"
        case .leaderAndIsr: "LeaderAndIsr"
        case .stopReplica: "StopReplica"
        case .updateMetadata: "UpdateMetadata"
        case .offsetCommit: "OffsetCommit"
        case .offsetFetch: "OffsetFetch"
        case .findCoordinator: "FindCoordinator"
        case .joinGroup: "JoinGroup"
        case .heartbeat: "Heartbeat"
        case .leaveGroup: "LeaveGroup"
        case .syncGroup: "SyncGroup"
        case .describeGroups: "DescribeGroups"
        case .listGroups: "ListGroups"
        case .apiVersions: "ApiVersions"
        case .createTopics: "CreateTopics"
        case .deleteTopics: "DeleteTopics"
        case .initProducerId: "InitProducerId"
        case .offsetForLeaderEpoch: "OffsetForLeaderEpoch"
        case .describeConfigs: "DescribeConfigs"
        case .createPartitions: "CreatePartitions"
        case .deleteGroups: "DeleteGroups"
        case .offsetDelete: "OffsetDelete"
        }
    }
}

/// A typed Kafka request or response body. Codecs throw for versions outside `api.supportedVersions`.
public protocol KafkaMessage: Sendable, Equatable {
    static var api: KafkaAPI { get }
    static func decode(from reader: inout ByteReader, version: Int16) throws -> Self
    func encode(into writer: inout ByteWriter, version: Int16) throws
}

extension KafkaMessage {
    /// Encodes just the body (no header, no frame length).
    public func encoded(version: Int16) throws -> [UInt8] {
        var w = ByteWriter()
        try encode(into: &w, version: version)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8], version: Int16) throws -> Self {
        var r = ByteReader(bytes)
        return try decode(from: &r, version: version)
    }
}

/// A request body, tied to the type of its answer.
public protocol KafkaRequestMessage: KafkaMessage {
    associatedtype Response: KafkaMessage
}
