/// JoinGroup (key 11), versions 2–5, all non-flexible.
public struct JoinGroupRequest: KafkaRequestMessage {
    public typealias Response = JoinGroupResponse
    public static let api = KafkaAPI.joinGroup
    public var groupId: String
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    public var memberId: String
    public var groupInstanceId: String?
    public var protocolType: String
    public var protocols: [GroupProtocol]

    public init(
        groupId: String = "",
        sessionTimeoutMs: Int32 = 0,
        rebalanceTimeoutMs: Int32 = -1,
        memberId: String = "",
        groupInstanceId: String? = nil,
        protocolType: String = "",
        protocols: [GroupProtocol] = []
    ) {
        self.groupId = groupId
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.protocolType = protocolType
        self.protocols = protocols
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> JoinGroupRequest {
        try kafkaCheckDecode(api, version)
        var m = JoinGroupRequest()
        m.groupId = try r.readKafkaString()
        m.sessionTimeoutMs = try r.readInt32()
        m.rebalanceTimeoutMs = try r.readInt32()
        m.memberId = try r.readKafkaString()
        if version >= 5 { m.groupInstanceId = try r.readKafkaNullableString() }
        m.protocolType = try r.readKafkaString()
        m.protocols = try r.readKafkaArray { r in try GroupProtocol.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaString(groupId)
        w.writeInt32(sessionTimeoutMs)
        w.writeInt32(rebalanceTimeoutMs)
        try w.writeKafkaString(memberId)
        if version >= 5 { try w.writeKafkaNullableString(groupInstanceId) }
        try w.writeKafkaString(protocolType)
        try w.writeKafkaArray(protocols) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct GroupProtocol: Equatable, Sendable {
        public var name: String
        public var metadata: [UInt8]

        public init(name: String = "", metadata: [UInt8] = []) {
            self.name = name
            self.metadata = metadata
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> GroupProtocol {
            var m = GroupProtocol()
            m.name = try r.readKafkaString()
            m.metadata = try r.readKafkaBytes()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            try w.writeKafkaBytes(metadata)
        }
    }
}

public struct JoinGroupResponse: KafkaMessage {
    public static let api = KafkaAPI.joinGroup
    public var throttleTimeMs: Int32
    public var errorCode: ErrorCode
    public var generationId: Int32
    public var protocolName: String
    public var leader: String
    public var memberId: String
    public var members: [Member]

    public init(
        throttleTimeMs: Int32 = 0,
        errorCode: ErrorCode = .none,
        generationId: Int32 = -1,
        protocolName: String = "",
        leader: String = "",
        memberId: String = "",
        members: [Member] = []
    ) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.generationId = generationId
        self.protocolName = protocolName
        self.leader = leader
        self.memberId = memberId
        self.members = members
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> JoinGroupResponse {
        try kafkaCheckDecode(api, version)
        var m = JoinGroupResponse()
        m.throttleTimeMs = try r.readInt32()
        m.errorCode = try r.readErrorCode()
        m.generationId = try r.readInt32()
        m.protocolName = try r.readKafkaString()
        m.leader = try r.readKafkaString()
        m.memberId = try r.readKafkaString()
        m.members = try r.readKafkaArray { r in try Member.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(throttleTimeMs)
        w.writeErrorCode(errorCode)
        w.writeInt32(generationId)
        try w.writeKafkaString(protocolName)
        try w.writeKafkaString(leader)
        try w.writeKafkaString(memberId)
        try w.writeKafkaArray(members) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct Member: Equatable, Sendable {
        public var memberId: String
        public var groupInstanceId: String?
        public var metadata: [UInt8]

        public init(memberId: String = "", groupInstanceId: String? = nil, metadata: [UInt8] = []) {
            self.memberId = memberId
            self.groupInstanceId = groupInstanceId
            self.metadata = metadata
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Member {
            var m = Member()
            m.memberId = try r.readKafkaString()
            if version >= 5 { m.groupInstanceId = try r.readKafkaNullableString() }
            m.metadata = try r.readKafkaBytes()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(memberId)
            if version >= 5 { try w.writeKafkaNullableString(groupInstanceId) }
            try w.writeKafkaBytes(metadata)
        }
    }
}
