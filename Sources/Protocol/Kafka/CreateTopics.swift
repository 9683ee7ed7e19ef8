/// CreateTopics (key 19), versions 2–4, all non-flexible.
public struct CreateTopicsRequest: KafkaRequestMessage {
    public typealias Response = CreateTopicsResponse
    public static let api = KafkaAPI.createTopics
    public var topics: [CreatableTopic]
    public var timeoutMs: Int32
    public var validateOnly: Bool

    public init(topics: [CreatableTopic] = [], timeoutMs: Int32 = 60000, validateOnly: Bool = false) {
        self.topics = topics
        self.timeoutMs = timeoutMs
        self.validateOnly = validateOnly
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> CreateTopicsRequest {
        try kafkaCheckDecode(api, version)
        var m = CreateTopicsRequest()
        m.topics = try r.readKafkaArray { r in try CreatableTopic.decode(from: &r, version: version) }
        m.timeoutMs = try r.readInt32()
        m.validateOnly = try r.readBool()
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
        w.writeInt32(timeoutMs)
        w.writeBool(validateOnly)
    }

    public struct CreatableReplicaAssignment: Equatable, Sendable {
        public var partitionIndex: Int32
        public var brokerIds: [Int32]

        public init(partitionIndex: Int32 = 0, brokerIds: [Int32] = []) {
            self.partitionIndex = partitionIndex
            self.brokerIds = brokerIds
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> CreatableReplicaAssignment {
            var m = CreatableReplicaAssignment()
            m.partitionIndex = try r.readInt32()
            m.brokerIds = try r.readKafkaInt32Array()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(partitionIndex)
            try w.writeKafkaInt32Array(brokerIds)
        }
    }

    public struct CreatableTopicConfig: Equatable, Sendable {
        public var name: String
        public var value: String?

        public init(name: String = "", value: String? = nil) {
            self.name = name
            self.value = value
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> CreatableTopicConfig {
            var m = CreatableTopicConfig()
            m.name = try r.readKafkaString()
            m.value = try r.readKafkaNullableString()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            try w.writeKafkaNullableString(value)
        }
    }

    public struct CreatableTopic: Equatable, Sendable {
        public var name: String
        public var numPartitions: Int32
        public var replicationFactor: Int16
        public var assignments: [CreatableReplicaAssignment]
        public var configs: [CreatableTopicConfig]

        public init(
            name: String = "",
            numPartitions: Int32 = 0,
            replicationFactor: Int16 = 0,
            assignments: [CreatableReplicaAssignment] = [],
            configs: [CreatableTopicConfig] = []
        ) {
            self.name = name
            self.numPartitions = numPartitions
            self.replicationFactor = replicationFactor
            self.assignments = assignments
            self.configs = configs
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> CreatableTopic {
            var m = CreatableTopic()
            m.name = try r.readKafkaString()
            m.numPartitions = try r.readInt32()
            m.replicationFactor = try r.readInt16()
            m.assignments = try r.readKafkaArray { r in try CreatableReplicaAssignment.decode(from: &r, version: version) }
            m.configs = try r.readKafkaArray { r in try CreatableTopicConfig.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            w.writeInt32(numPartitions)
            w.writeInt16(replicationFactor)
            try w.writeKafkaArray(assignments) { w, e in try e.encode(into: &w, version: version) }
            try w.writeKafkaArray(configs) { w, e in try e.encode(into: &w, version: version) }
        }
    }
}

public struct CreateTopicsResponse: KafkaMessage {
    public static let api = KafkaAPI.createTopics
    public var throttleTimeMs: Int32
    public var topics: [CreatableTopicResult]

    public init(throttleTimeMs: Int32 = 0, topics: [CreatableTopicResult] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.topics = topics
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> CreateTopicsResponse {
        try kafkaCheckDecode(api, version)
        var m = CreateTopicsResponse()
        m.throttleTimeMs = try r.readInt32()
        m.topics = try r.readKafkaArray { r in try CreatableTopicResult.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(throttleTimeMs)
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct CreatableTopicResult: Equatable, Sendable {
        public var name: String
        public var errorCode: ErrorCode
        public var errorMessage: String?

        public init(name: String = "", errorCode: ErrorCode = .none, errorMessage: String? = nil) {
            self.name = name
            self.errorCode = errorCode
            self.errorMessage = errorMessage
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> CreatableTopicResult {
            var m = CreatableTopicResult()
            m.name = try r.readKafkaString()
            m.errorCode = try r.readErrorCode()
            m.errorMessage = try r.readKafkaNullableString()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            w.writeErrorCode(errorCode)
            try w.writeKafkaNullableString(errorMessage)
        }
    }
}
