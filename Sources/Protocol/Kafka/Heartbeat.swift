/// Heartbeat (key 12), versions 0–3, all non-flexible.
public struct HeartbeatRequest: KafkaRequestMessage {
    public typealias Response = HeartbeatResponse
    public static let api = KafkaAPI.heartbeat
    public var groupId: String
    public var generationId: Int32
    public var memberId: String
    public var groupInstanceId: String?

    public init(
        groupId: String = "",
        generationId: Int32 = 0,
        memberId: String = "",
        groupInstanceId: String? = nil
    ) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> HeartbeatRequest {
        try kafkaCheckDecode(api, version)
        var m = HeartbeatRequest()
        m.groupId = try r.readKafkaString()
        m.generationId = try r.readInt32()
        m.memberId = try r.readKafkaString()
        if version >= 3 { m.groupInstanceId = try r.readKafkaNullableString() }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaString(groupId)
        w.writeInt32(generationId)
        try w.writeKafkaString(memberId)
        if version >= 3 { try w.writeKafkaNullableString(groupInstanceId) }
    }
}

public struct HeartbeatResponse: KafkaMessage {
    public static let api = KafkaAPI.heartbeat
    public var throttleTimeMs: Int32
    public var errorCode: ErrorCode

    public init(throttleTimeMs: Int32 = 0, errorCode: ErrorCode = .none) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> HeartbeatResponse {
        try kafkaCheckDecode(api, version)
        var m = HeartbeatResponse()
        if version >= 1 { m.throttleTimeMs = try r.readInt32() }
        m.errorCode = try r.readErrorCode()
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 1 { w.writeInt32(throttleTimeMs) }
        w.writeErrorCode(errorCode)
    }
}
