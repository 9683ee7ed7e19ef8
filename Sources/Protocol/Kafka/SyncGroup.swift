/// SyncGroup (key 14), versions 0–3, all non-flexible.
public struct SyncGroupRequest: KafkaRequestMessage {
    public typealias Response = SyncGroupResponse
    public static let api = KafkaAPI.syncGroup
    public var groupId: String
    public var generationId: Int32
    public var memberId: String
    public var groupInstanceId: String?
    public var assignments: [Assignment]

    public init(
        groupId: String = "",
        generationId: Int32 = 0,
        memberId: String = "",
        groupInstanceId: String? = nil,
        assignments: [Assignment] = []
    ) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.assignments = assignments
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> SyncGroupRequest {
        try kafkaCheckDecode(api, version)
        var m = SyncGroupRequest()
        m.groupId = try r.readKafkaString()
        m.generationId = try r.readInt32()
        m.memberId = try r.readKafkaString()
        if version >= 3 { m.groupInstanceId = try r.readKafkaNullableString() }
        m.assignments = try r.readKafkaArray { r in try Assignment.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaString(groupId)
        w.writeInt32(generationId)
        try w.writeKafkaString(memberId)
        if version >= 3 { try w.writeKafkaNullableString(groupInstanceId) }
        try w.writeKafkaArray(assignments) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct Assignment: Equatable, Sendable {
        public var memberId: String
        public var assignment: [UInt8]

        public init(memberId: String = "", assignment: [UInt8] = []) {
            self.memberId = memberId
            self.assignment = assignment
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Assignment {
            var m = Assignment()
            m.memberId = try r.readKafkaString()
            m.assignment = try r.readKafkaBytes()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(memberId)
            try w.writeKafkaBytes(assignment)
        }
    }
}

public struct SyncGroupResponse: KafkaMessage {
    public static let api = KafkaAPI.syncGroup
    public var throttleTimeMs: Int32
    public var errorCode: ErrorCode
    public var assignment: [UInt8]

    public init(throttleTimeMs: Int32 = 0, errorCode: ErrorCode = .none, assignment: [UInt8] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.assignment = assignment
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> SyncGroupResponse {
        try kafkaCheckDecode(api, version)
        var m = SyncGroupResponse()
        if version >= 1 { m.throttleTimeMs = try r.readInt32() }
        m.errorCode = try r.readErrorCode()
        m.assignment = try r.readKafkaBytes()
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 1 { w.writeInt32(throttleTimeMs) }
        w.writeErrorCode(errorCode)
        try w.writeKafkaBytes(assignment)
    }
}
