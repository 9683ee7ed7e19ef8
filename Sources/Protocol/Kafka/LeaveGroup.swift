/// LeaveGroup (key 13), versions 0–3, all non-flexible.
public struct LeaveGroupRequest: KafkaRequestMessage {
    public typealias Response = LeaveGroupResponse
    public static let api = KafkaAPI.leaveGroup
    public var groupId: String
    public var memberId: String
    public var members: [MemberIdentity]

    public init(groupId: String = "", memberId: String = "", members: [MemberIdentity] = []) {
        self.groupId = groupId
        self.memberId = memberId
        self.members = members
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> LeaveGroupRequest {
        try kafkaCheckDecode(api, version)
        var m = LeaveGroupRequest()
        m.groupId = try r.readKafkaString()
        if version <= 2 { m.memberId = try r.readKafkaString() }
        if version >= 3 { m.members = try r.readKafkaArray { r in try MemberIdentity.decode(from: &r, version: version) } }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaString(groupId)
        if version <= 2 { try w.writeKafkaString(memberId) }
        if version >= 3 {
            try w.writeKafkaArray(members) { w, e in try e.encode(into: &w, version: version) }
        }
    }

    public struct MemberIdentity: Equatable, Sendable {
        public var memberId: String
        public var groupInstanceId: String?

        public init(memberId: String = "", groupInstanceId: String? = nil) {
            self.memberId = memberId
            self.groupInstanceId = groupInstanceId
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> MemberIdentity {
            var m = MemberIdentity()
            if version >= 3 { m.memberId = try r.readKafkaString() }
            if version >= 3 { m.groupInstanceId = try r.readKafkaNullableString() }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            if version >= 3 { try w.writeKafkaString(memberId) }
            if version >= 3 { try w.writeKafkaNullableString(groupInstanceId) }
        }
    }
}

public struct LeaveGroupResponse: KafkaMessage {
    public static let api = KafkaAPI.leaveGroup
    public var throttleTimeMs: Int32
    public var errorCode: ErrorCode
    public var members: [MemberResponse]

    public init(throttleTimeMs: Int32 = 0, errorCode: ErrorCode = .none, members: [MemberResponse] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.members = members
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> LeaveGroupResponse {
        try kafkaCheckDecode(api, version)
        var m = LeaveGroupResponse()
        if version >= 1 { m.throttleTimeMs = try r.readInt32() }
        m.errorCode = try r.readErrorCode()
        if version >= 3 { m.members = try r.readKafkaArray { r in try MemberResponse.decode(from: &r, version: version) } }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 1 { w.writeInt32(throttleTimeMs) }
        w.writeErrorCode(errorCode)
        if version >= 3 {
            try w.writeKafkaArray(members) { w, e in try e.encode(into: &w, version: version) }
        }
    }

    public struct MemberResponse: Equatable, Sendable {
        public var memberId: String
        public var groupInstanceId: String?
        public var errorCode: ErrorCode

        public init(memberId: String = "", groupInstanceId: String? = nil, errorCode: ErrorCode = .none) {
            self.memberId = memberId
            self.groupInstanceId = groupInstanceId
            self.errorCode = errorCode
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> MemberResponse {
            var m = MemberResponse()
            if version >= 3 { m.memberId = try r.readKafkaString() }
            if version >= 3 { m.groupInstanceId = try r.readKafkaNullableString() }
            if version >= 3 { m.errorCode = try r.readErrorCode() }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            if version >= 3 { try w.writeKafkaString(memberId) }
            if version >= 3 { try w.writeKafkaNullableString(groupInstanceId) }
            if version >= 3 { w.writeErrorCode(errorCode) }
        }
    }
}
