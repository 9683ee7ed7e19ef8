/// CreatePartitions (key 37), versions 0–1, all non-flexible.
public struct CreatePartitionsRequest: KafkaRequestMessage {
    public typealias Response = CreatePartitionsResponse
    public static let api = KafkaAPI.createPartitions
    public var topics: [CreatePartitionsTopic]
    public var timeoutMs: Int32
    public var validateOnly: Bool

    public init(topics: [CreatePartitionsTopic] = [], timeoutMs: Int32 = 0, validateOnly: Bool = false) {
        self.topics = topics
        self.timeoutMs = timeoutMs
        self.validateOnly = validateOnly
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> CreatePartitionsRequest {
        try kafkaCheckDecode(api, version)
        var m = CreatePartitionsRequest()
        m.topics = try r.readKafkaArray { r in try CreatePartitionsTopic.decode(from: &r, version: version) }
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

    public struct CreatePartitionsAssignment: Equatable, Sendable {
        public var brokerIds: [Int32]

        public init(brokerIds: [Int32] = []) {
            self.brokerIds = brokerIds
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> CreatePartitionsAssignment {
            var m = CreatePartitionsAssignment()
            m.brokerIds = try r.readKafkaInt32Array()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaInt32Array(brokerIds)
        }
    }

    public struct CreatePartitionsTopic: Equatable, Sendable {
        public var name: String
        public var count: Int32
        public var assignments: [CreatePartitionsAssignment]?

        public init(name: String = "", count: Int32 = 0, assignments: [CreatePartitionsAssignment]? = nil) {
            self.name = name
            self.count = count
            self.assignments = assignments
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> CreatePartitionsTopic {
            var m = CreatePartitionsTopic()
            m.name = try r.readKafkaString()
            m.count = try r.readInt32()
            m.assignments = try r.readKafkaNullableArray { r in try CreatePartitionsAssignment.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            w.writeInt32(count)
            try w.writeKafkaNullableArray(assignments) { w, e in try e.encode(into: &w, version: version) }
        }
    }
}

public struct CreatePartitionsResponse: KafkaMessage {
    public static let api = KafkaAPI.createPartitions
    public var throttleTimeMs: Int32
    public var results: [CreatePartitionsTopicResult]

    public init(throttleTimeMs: Int32 = 0, results: [CreatePartitionsTopicResult] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.results = results
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> CreatePartitionsResponse {
        try kafkaCheckDecode(api, version)
        var m = CreatePartitionsResponse()
        m.throttleTimeMs = try r.readInt32()
        m.results = try r.readKafkaArray { r in try CreatePartitionsTopicResult.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(throttleTimeMs)
        try w.writeKafkaArray(results) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct CreatePartitionsTopicResult: Equatable, Sendable {
        public var name: String
        public var errorCode: ErrorCode
        public var errorMessage: String?

        public init(name: String = "", errorCode: ErrorCode = .none, errorMessage: String? = nil) {
            self.name = name
            self.errorCode = errorCode
            self.errorMessage = errorMessage
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> CreatePartitionsTopicResult {
            var m = CreatePartitionsTopicResult()
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
