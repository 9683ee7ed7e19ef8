/// StopReplica (key 5), versions 1–1, all non-flexible.
public struct StopReplicaRequest: KafkaRequestMessage {
    public typealias Response = StopReplicaResponse
    public static let api = KafkaAPI.stopReplica
    public var controllerId: Int32
    public var controllerEpoch: Int32
    public var brokerEpoch: Int64
    public var deletePartitions: Bool
    public var topics: [StopReplicaTopicV1]

    public init(
        controllerId: Int32 = 0,
        controllerEpoch: Int32 = 0,
        brokerEpoch: Int64 = -1,
        deletePartitions: Bool = false,
        topics: [StopReplicaTopicV1] = []
    ) {
        self.controllerId = controllerId
        self.controllerEpoch = controllerEpoch
        self.brokerEpoch = brokerEpoch
        self.deletePartitions = deletePartitions
        self.topics = topics
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> StopReplicaRequest {
        try kafkaCheckDecode(api, version)
        var m = StopReplicaRequest()
        m.controllerId = try r.readInt32()
        m.controllerEpoch = try r.readInt32()
        m.brokerEpoch = try r.readInt64()
        m.deletePartitions = try r.readBool()
        m.topics = try r.readKafkaArray { r in try StopReplicaTopicV1.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(controllerId)
        w.writeInt32(controllerEpoch)
        w.writeInt64(brokerEpoch)
        w.writeBool(deletePartitions)
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct StopReplicaTopicV1: Equatable, Sendable {
        public var name: String
        public var partitionIndexes: [Int32]

        public init(name: String = "", partitionIndexes: [Int32] = []) {
            self.name = name
            self.partitionIndexes = partitionIndexes
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> StopReplicaTopicV1 {
            var m = StopReplicaTopicV1()
            m.name = try r.readKafkaString()
            m.partitionIndexes = try r.readKafkaInt32Array()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            try w.writeKafkaInt32Array(partitionIndexes)
        }
    }
}

public struct StopReplicaResponse: KafkaMessage {
    public static let api = KafkaAPI.stopReplica
    public var errorCode: ErrorCode
    public var partitionErrors: [StopReplicaPartitionError]

    public init(errorCode: ErrorCode = .none, partitionErrors: [StopReplicaPartitionError] = []) {
        self.errorCode = errorCode
        self.partitionErrors = partitionErrors
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> StopReplicaResponse {
        try kafkaCheckDecode(api, version)
        var m = StopReplicaResponse()
        m.errorCode = try r.readErrorCode()
        m.partitionErrors = try r.readKafkaArray { r in try StopReplicaPartitionError.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeErrorCode(errorCode)
        try w.writeKafkaArray(partitionErrors) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct StopReplicaPartitionError: Equatable, Sendable {
        public var topicName: String
        public var partitionIndex: Int32
        public var errorCode: ErrorCode

        public init(topicName: String = "", partitionIndex: Int32 = 0, errorCode: ErrorCode = .none) {
            self.topicName = topicName
            self.partitionIndex = partitionIndex
            self.errorCode = errorCode
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> StopReplicaPartitionError {
            var m = StopReplicaPartitionError()
            m.topicName = try r.readKafkaString()
            m.partitionIndex = try r.readInt32()
            m.errorCode = try r.readErrorCode()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(topicName)
            w.writeInt32(partitionIndex)
            w.writeErrorCode(errorCode)
        }
    }
}
