/// DescribeGroups (key 15), versions 0–4, all non-flexible.
public struct DescribeGroupsRequest: KafkaRequestMessage {
    public typealias Response = DescribeGroupsResponse
    public static let api = KafkaAPI.describeGroups
    public var groups: [String]
    public var includeAuthorizedOperations: Bool

    public init(groups: [String] = [], includeAuthorizedOperations: Bool = false) {
        self.groups = groups
        self.includeAuthorizedOperations = includeAuthorizedOperations
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> DescribeGroupsRequest {
        try kafkaCheckDecode(api, version)
        var m = DescribeGroupsRequest()
        m.groups = try r.readKafkaStringArray()
        if version >= 3 { m.includeAuthorizedOperations = try r.readBool() }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaStringArray(groups)
        if version >= 3 { w.writeBool(includeAuthorizedOperations) }
    }
}

public struct DescribeGroupsResponse: KafkaMessage {
    public static let api = KafkaAPI.describeGroups
    public var throttleTimeMs: Int32
    public var groups: [DescribedGroup]

    public init(throttleTimeMs: Int32 = 0, groups: [DescribedGroup] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.groups = groups
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> DescribeGroupsResponse {
        try kafkaCheckDecode(api, version)
        var m = DescribeGroupsResponse()
        if version >= 1 { m.throttleTimeMs = try r.readInt32() }
        m.groups = try r.readKafkaArray { r in try DescribedGroup.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 1 { w.writeInt32(throttleTimeMs) }
        try w.writeKafkaArray(groups) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct DescribedGroupMember: Equatable, Sendable {
        public var memberId: String
        public var groupInstanceId: String?
        public var clientId: String
        public var clientHost: String
        public var memberMetadata: [UInt8]
        public var memberAssignment: [UInt8]

        public init(
            memberId: String = "",
            groupInstanceId: String? = nil,
            clientId: String = "",
            clientHost: String = "",
            memberMetadata: [UInt8] = [],
            memberAssignment: [UInt8] = []
        ) {
            self.memberId = memberId
            self.groupInstanceId = groupInstanceId
            self.clientId = clientId
            self.clientHost = clientHost
            self.memberMetadata = memberMetadata
            self.memberAssignment = memberAssignment
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> DescribedGroupMember {
            var m = DescribedGroupMember()
            m.memberId = try r.readKafkaString()
            if version >= 4 { m.groupInstanceId = try r.readKafkaNullableString() }
            m.clientId = try r.readKafkaString()
            m.clientHost = try r.readKafkaString()
            m.memberMetadata = try r.readKafkaBytes()
            m.memberAssignment = try r.readKafkaBytes()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(memberId)
            if version >= 4 { try w.writeKafkaNullableString(groupInstanceId) }
            try w.writeKafkaString(clientId)
            try w.writeKafkaString(clientHost)
            try w.writeKafkaBytes(memberMetadata)
            try w.writeKafkaBytes(memberAssignment)
        }
    }

    public struct DescribedGroup: Equatable, Sendable {
        public var errorCode: ErrorCode
        public var groupId: String
        public var groupState: String
        public var protocolType: String
        public var protocolData: String
        public var members: [DescribedGroupMember]
        public var authorizedOperations: Int32

        public init(
            errorCode: ErrorCode = .none,
            groupId: String = "",
            groupState: String = "",
            protocolType: String = "",
            protocolData: String = "",
            members: [DescribedGroupMember] = [],
            authorizedOperations: Int32 = -2147483648
        ) {
            self.errorCode = errorCode
            self.groupId = groupId
            self.groupState = groupState
            self.protocolType = protocolType
            self.protocolData = protocolData
            self.members = members
            self.authorizedOperations = authorizedOperations
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> DescribedGroup {
            var m = DescribedGroup()
            m.errorCode = try r.readErrorCode()
            m.groupId = try r.readKafkaString()
            m.groupState = try r.readKafkaString()
            m.protocolType = try r.readKafkaString()
            m.protocolData = try r.readKafkaString()
            m.members = try r.readKafkaArray { r in try DescribedGroupMember.decode(from: &r, version: version) }
            if version >= 3 { m.authorizedOperations = try r.readInt32() }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeErrorCode(errorCode)
            try w.writeKafkaString(groupId)
            try w.writeKafkaString(groupState)
            try w.writeKafkaString(protocolType)
            try w.writeKafkaString(protocolData)
            try w.writeKafkaArray(members) { w, e in try e.encode(into: &w, version: version) }
            if version >= 3 { w.writeInt32(authorizedOperations) }
        }
    }
}
