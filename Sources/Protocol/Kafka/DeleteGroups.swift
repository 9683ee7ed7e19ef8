/// DeleteGroups (key 42), versions 0–1, all non-flexible.
public struct DeleteGroupsRequest: KafkaRequestMessage {
    public typealias Response = DeleteGroupsResponse
    public static let api = KafkaAPI.deleteGroups
    public var groupsNames: [String]

    public init(groupsNames: [String] = []) {
        self.groupsNames = groupsNames
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> DeleteGroupsRequest {
        try kafkaCheckDecode(api, version)
        var m = DeleteGroupsRequest()
        m.groupsNames = try r.readKafkaStringArray()
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaStringArray(groupsNames)
    }
}

public struct DeleteGroupsResponse: KafkaMessage {
    public static let api = KafkaAPI.deleteGroups
    public var throttleTimeMs: Int32
    public var results: [DeletableGroupResult]

    public init(throttleTimeMs: Int32 = 0, results: [DeletableGroupResult] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.results = results
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> DeleteGroupsResponse {
        try kafkaCheckDecode(api, version)
        var m = DeleteGroupsResponse()
        m.throttleTimeMs = try r.readInt32()
        m.results = try r.readKafkaArray { r in try DeletableGroupResult.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(throttleTimeMs)
        try w.writeKafkaArray(results) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct DeletableGroupResult: Equatable, Sendable {
        public var groupId: String
        public var errorCode: ErrorCode

        public init(groupId: String = "", errorCode: ErrorCode = .none) {
            self.groupId = groupId
            self.errorCode = errorCode
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> DeletableGroupResult {
            var m = DeletableGroupResult()
            m.groupId = try r.readKafkaString()
            m.errorCode = try r.readErrorCode()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(groupId)
            w.writeErrorCode(errorCode)
        }
    }
}
