/// DeleteTopics (key 20), versions 1–3, all non-flexible.
public struct DeleteTopicsRequest: KafkaRequestMessage {
    public typealias Response = DeleteTopicsResponse
    public static let api = KafkaAPI.deleteTopics
    public var topicNames: [String]
    public var timeoutMs: Int32

    public init(topicNames: [String] = [], timeoutMs: Int32 = 0) {
        self.topicNames = topicNames
        self.timeoutMs = timeoutMs
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> DeleteTopicsRequest {
        try kafkaCheckDecode(api, version)
        var m = DeleteTopicsRequest()
        m.topicNames = try r.readKafkaStringArray()
        m.timeoutMs = try r.readInt32()
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaStringArray(topicNames)
        w.writeInt32(timeoutMs)
    }
}

public struct DeleteTopicsResponse: KafkaMessage {
    public static let api = KafkaAPI.deleteTopics
    public var throttleTimeMs: Int32
    public var responses: [DeletableTopicResult]

    public init(throttleTimeMs: Int32 = 0, responses: [DeletableTopicResult] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.responses = responses
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> DeleteTopicsResponse {
        try kafkaCheckDecode(api, version)
        var m = DeleteTopicsResponse()
        m.throttleTimeMs = try r.readInt32()
        m.responses = try r.readKafkaArray { r in try DeletableTopicResult.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(throttleTimeMs)
        try w.writeKafkaArray(responses) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct DeletableTopicResult: Equatable, Sendable {
        public var name: String
        public var errorCode: ErrorCode

        public init(name: String = "", errorCode: ErrorCode = .none) {
            self.name = name
            self.errorCode = errorCode
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> DeletableTopicResult {
            var m = DeletableTopicResult()
            m.name = try r.readKafkaString()
            m.errorCode = try r.readErrorCode()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            w.writeErrorCode(errorCode)
        }
    }
}
