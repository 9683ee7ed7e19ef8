/// ListGroups (key 16), versions 0–2, all non-flexible.
public struct ListGroupsRequest: KafkaRequestMessage {
    public typealias Response = ListGroupsResponse
    public static let api = KafkaAPI.listGroups

    public init() {
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> ListGroupsRequest {
        try kafkaCheckDecode(api, version)
        return ListGroupsRequest()
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
    }
}

public struct ListGroupsResponse: KafkaMessage {
    public static let api = KafkaAPI.listGroups
    public var throttleTimeMs: Int32
    public var errorCode: ErrorCode
    public var groups: [ListedGroup]

    public init(throttleTimeMs: Int32 = 0, errorCode: ErrorCode = .none, groups: [ListedGroup] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.groups = groups
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> ListGroupsResponse {
        try kafkaCheckDecode(api, version)
        var m = ListGroupsResponse()
        if version >= 1 { m.throttleTimeMs = try r.readInt32() }
        m.errorCode = try r.readErrorCode()
        m.groups = try r.readKafkaArray { r in try ListedGroup.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 1 { w.writeInt32(throttleTimeMs) }
        w.writeErrorCode(errorCode)
        try w.writeKafkaArray(groups) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct ListedGroup: Equatable, Sendable {
        public var groupId: String
        public var protocolType: String

        public init(groupId: String = "", protocolType: String = "") {
            self.groupId = groupId
            self.protocolType = protocolType
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> ListedGroup {
            var m = ListedGroup()
            m.groupId = try r.readKafkaString()
            m.protocolType = try r.readKafkaString()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(groupId)
            try w.writeKafkaString(protocolType)
        }
    }
}
