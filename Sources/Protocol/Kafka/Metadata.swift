/// Metadata (key 3), versions 0–8, all non-flexible.
public struct MetadataRequest: KafkaRequestMessage {
    public typealias Response = MetadataResponse
    public static let api = KafkaAPI.metadata
    public var topics: [Topic]?
    public var allowAutoTopicCreation: Bool
    public var includeClusterAuthorizedOperations: Bool
    public var includeTopicAuthorizedOperations: Bool

    public init(
        topics: [Topic]? = nil,
        allowAutoTopicCreation: Bool = true,
        includeClusterAuthorizedOperations: Bool = false,
        includeTopicAuthorizedOperations: Bool = false
    ) {
        self.topics = topics
        self.allowAutoTopicCreation = allowAutoTopicCreation
        self.includeClusterAuthorizedOperations = includeClusterAuthorizedOperations
        self.includeTopicAuthorizedOperations = includeTopicAuthorizedOperations
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> MetadataRequest {
        try kafkaCheckDecode(api, version)
        var m = MetadataRequest()
        if version >= 1 {
            m.topics = try r.readKafkaNullableArray { r in try Topic.decode(from: &r, version: version) }
        } else {
            // v0 has no null: an empty array means "all topics", which is nil from v1 on.
            let topics = try r.readKafkaArray { r in try Topic.decode(from: &r, version: version) }
            m.topics = topics.isEmpty ? nil : topics
        }
        if version >= 4 { m.allowAutoTopicCreation = try r.readBool() }
        if version >= 8 { m.includeClusterAuthorizedOperations = try r.readBool() }
        if version >= 8 { m.includeTopicAuthorizedOperations = try r.readBool() }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 1 {
            try w.writeKafkaNullableArray(topics) { w, e in try e.encode(into: &w, version: version) }
        } else {
            // v0 cannot ask for no topics; nil (all topics) is the empty array.
            try w.writeKafkaArray(topics ?? []) { w, e in try e.encode(into: &w, version: version) }
        }
        if version >= 4 { w.writeBool(allowAutoTopicCreation) }
        if version >= 8 { w.writeBool(includeClusterAuthorizedOperations) }
        if version >= 8 { w.writeBool(includeTopicAuthorizedOperations) }
    }

    public struct Topic: Equatable, Sendable {
        public var name: String

        public init(name: String = "") {
            self.name = name
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Topic {
            var m = Topic()
            m.name = try r.readKafkaString()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
        }
    }
}

public struct MetadataResponse: KafkaMessage {
    public static let api = KafkaAPI.metadata
    public var throttleTimeMs: Int32
    public var brokers: [Broker]
    public var clusterId: String?
    public var controllerId: Int32
    public var topics: [Topic]
    public var clusterAuthorizedOperations: Int32

    public init(
        throttleTimeMs: Int32 = 0,
        brokers: [Broker] = [],
        clusterId: String? = nil,
        controllerId: Int32 = -1,
        topics: [Topic] = [],
        clusterAuthorizedOperations: Int32 = -2147483648
    ) {
        self.throttleTimeMs = throttleTimeMs
        self.brokers = brokers
        self.clusterId = clusterId
        self.controllerId = controllerId
        self.topics = topics
        self.clusterAuthorizedOperations = clusterAuthorizedOperations
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> MetadataResponse {
        try kafkaCheckDecode(api, version)
        var m = MetadataResponse()
        if version >= 3 { m.throttleTimeMs = try r.readInt32() }
        m.brokers = try r.readKafkaArray { r in try Broker.decode(from: &r, version: version) }
        if version >= 2 { m.clusterId = try r.readKafkaNullableString() }
        if version >= 1 { m.controllerId = try r.readInt32() }
        m.topics = try r.readKafkaArray { r in try Topic.decode(from: &r, version: version) }
        if version >= 8 { m.clusterAuthorizedOperations = try r.readInt32() }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 3 { w.writeInt32(throttleTimeMs) }
        try w.writeKafkaArray(brokers) { w, e in try e.encode(into: &w, version: version) }
        if version >= 2 { try w.writeKafkaNullableString(clusterId) }
        if version >= 1 { w.writeInt32(controllerId) }
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
        if version >= 8 { w.writeInt32(clusterAuthorizedOperations) }
    }

    public struct Broker: Equatable, Sendable {
        public var nodeId: Int32
        public var host: String
        public var port: Int32
        public var rack: String?

        public init(nodeId: Int32 = 0, host: String = "", port: Int32 = 0, rack: String? = nil) {
            self.nodeId = nodeId
            self.host = host
            self.port = port
            self.rack = rack
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Broker {
            var m = Broker()
            m.nodeId = try r.readInt32()
            m.host = try r.readKafkaString()
            m.port = try r.readInt32()
            if version >= 1 { m.rack = try r.readKafkaNullableString() }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(nodeId)
            try w.writeKafkaString(host)
            w.writeInt32(port)
            if version >= 1 { try w.writeKafkaNullableString(rack) }
        }
    }

    public struct Partition: Equatable, Sendable {
        public var errorCode: ErrorCode
        public var partitionIndex: Int32
        public var leaderId: Int32
        public var leaderEpoch: Int32
        public var replicaNodes: [Int32]
        public var isrNodes: [Int32]
        public var offlineReplicas: [Int32]

        public init(
            errorCode: ErrorCode = .none,
            partitionIndex: Int32 = 0,
            leaderId: Int32 = 0,
            leaderEpoch: Int32 = -1,
            replicaNodes: [Int32] = [],
            isrNodes: [Int32] = [],
            offlineReplicas: [Int32] = []
        ) {
            self.errorCode = errorCode
            self.partitionIndex = partitionIndex
            self.leaderId = leaderId
            self.leaderEpoch = leaderEpoch
            self.replicaNodes = replicaNodes
            self.isrNodes = isrNodes
            self.offlineReplicas = offlineReplicas
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Partition {
            var m = Partition()
            m.errorCode = try r.readErrorCode()
            m.partitionIndex = try r.readInt32()
            m.leaderId = try r.readInt32()
            if version >= 7 { m.leaderEpoch = try r.readInt32() }
            m.replicaNodes = try r.readKafkaInt32Array()
            m.isrNodes = try r.readKafkaInt32Array()
            if version >= 5 { m.offlineReplicas = try r.readKafkaInt32Array() }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeErrorCode(errorCode)
            w.writeInt32(partitionIndex)
            w.writeInt32(leaderId)
            if version >= 7 { w.writeInt32(leaderEpoch) }
            try w.writeKafkaInt32Array(replicaNodes)
            try w.writeKafkaInt32Array(isrNodes)
            if version >= 5 { try w.writeKafkaInt32Array(offlineReplicas) }
        }
    }

    public struct Topic: Equatable, Sendable {
        public var errorCode: ErrorCode
        public var name: String
        public var isInternal: Bool
        public var partitions: [Partition]
        public var topicAuthorizedOperations: Int32

        public init(
            errorCode: ErrorCode = .none,
            name: String = "",
            isInternal: Bool = false,
            partitions: [Partition] = [],
            topicAuthorizedOperations: Int32 = -2147483648
        ) {
            self.errorCode = errorCode
            self.name = name
            self.isInternal = isInternal
            self.partitions = partitions
            self.topicAuthorizedOperations = topicAuthorizedOperations
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Topic {
            var m = Topic()
            m.errorCode = try r.readErrorCode()
            m.name = try r.readKafkaString()
            if version >= 1 { m.isInternal = try r.readBool() }
            m.partitions = try r.readKafkaArray { r in try Partition.decode(from: &r, version: version) }
            if version >= 8 { m.topicAuthorizedOperations = try r.readInt32() }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeErrorCode(errorCode)
            try w.writeKafkaString(name)
            if version >= 1 { w.writeBool(isInternal) }
            try w.writeKafkaArray(partitions) { w, e in try e.encode(into: &w, version: version) }
            if version >= 8 { w.writeInt32(topicAuthorizedOperations) }
        }
    }
}
