/// OffsetCommit (key 8), versions 2–7, all non-flexible.
public struct OffsetCommitRequest: KafkaRequestMessage {
    public typealias Response = OffsetCommitResponse
    public static let api = KafkaAPI.offsetCommit
    public var groupId: String
    public var generationIdOrMemberEpoch: Int32
    public var memberId: String
    public var groupInstanceId: String?
    public var retentionTimeMs: Int64
    public var topics: [Topic]

    public init(
        groupId: String = "",
        generationIdOrMemberEpoch: Int32 = -1,
        memberId: String = "",
        groupInstanceId: String? = nil,
        retentionTimeMs: Int64 = -1,
        topics: [Topic] = []
    ) {
        self.groupId = groupId
        self.generationIdOrMemberEpoch = generationIdOrMemberEpoch
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.retentionTimeMs = retentionTimeMs
        self.topics = topics
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> OffsetCommitRequest {
        try kafkaCheckDecode(api, version)
        var m = OffsetCommitRequest()
        m.groupId = try r.readKafkaString()
        m.generationIdOrMemberEpoch = try r.readInt32()
        m.memberId = try r.readKafkaString()
        if version >= 7 { m.groupInstanceId = try r.readKafkaNullableString() }
        if version <= 4 { m.retentionTimeMs = try r.readInt64() }
        m.topics = try r.readKafkaArray { r in try Topic.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaString(groupId)
        w.writeInt32(generationIdOrMemberEpoch)
        try w.writeKafkaString(memberId)
        if version >= 7 { try w.writeKafkaNullableString(groupInstanceId) }
        if version <= 4 { w.writeInt64(retentionTimeMs) }
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct Partition: Equatable, Sendable {
        public var partitionIndex: Int32
        public var committedOffset: Int64
        public var committedLeaderEpoch: Int32
        public var committedMetadata: String?

        public init(
            partitionIndex: Int32 = 0,
            committedOffset: Int64 = 0,
            committedLeaderEpoch: Int32 = -1,
            committedMetadata: String? = nil
        ) {
            self.partitionIndex = partitionIndex
            self.committedOffset = committedOffset
            self.committedLeaderEpoch = committedLeaderEpoch
            self.committedMetadata = committedMetadata
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Partition {
            var m = Partition()
            m.partitionIndex = try r.readInt32()
            m.committedOffset = try r.readInt64()
            if version >= 6 { m.committedLeaderEpoch = try r.readInt32() }
            m.committedMetadata = try r.readKafkaNullableString()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(partitionIndex)
            w.writeInt64(committedOffset)
            if version >= 6 { w.writeInt32(committedLeaderEpoch) }
            try w.writeKafkaNullableString(committedMetadata)
        }
    }

    public struct Topic: Equatable, Sendable {
        public var name: String
        public var partitions: [Partition]

        public init(name: String = "", partitions: [Partition] = []) {
            self.name = name
            self.partitions = partitions
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Topic {
            var m = Topic()
            m.name = try r.readKafkaString()
            m.partitions = try r.readKafkaArray { r in try Partition.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            try w.writeKafkaArray(partitions) { w, e in try e.encode(into: &w, version: version) }
        }
    }
}

public struct OffsetCommitResponse: KafkaMessage {
    public static let api = KafkaAPI.offsetCommit
    public var throttleTimeMs: Int32
    public var topics: [Topic]

    public init(throttleTimeMs: Int32 = 0, topics: [Topic] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.topics = topics
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> OffsetCommitResponse {
        try kafkaCheckDecode(api, version)
        var m = OffsetCommitResponse()
        if version >= 3 { m.throttleTimeMs = try r.readInt32() }
        m.topics = try r.readKafkaArray { r in try Topic.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 3 { w.writeInt32(throttleTimeMs) }
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct Partition: Equatable, Sendable {
        public var partitionIndex: Int32
        public var errorCode: ErrorCode

        public init(partitionIndex: Int32 = 0, errorCode: ErrorCode = .none) {
            self.partitionIndex = partitionIndex
            self.errorCode = errorCode
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Partition {
            var m = Partition()
            m.partitionIndex = try r.readInt32()
            m.errorCode = try r.readErrorCode()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(partitionIndex)
            w.writeErrorCode(errorCode)
        }
    }

    public struct Topic: Equatable, Sendable {
        public var name: String
        public var partitions: [Partition]

        public init(name: String = "", partitions: [Partition] = []) {
            self.name = name
            self.partitions = partitions
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Topic {
            var m = Topic()
            m.name = try r.readKafkaString()
            m.partitions = try r.readKafkaArray { r in try Partition.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            try w.writeKafkaArray(partitions) { w, e in try e.encode(into: &w, version: version) }
        }
    }
}
