/// OffsetFetch (key 9), versions 1–5, all non-flexible.
public struct OffsetFetchRequest: KafkaRequestMessage {
    public typealias Response = OffsetFetchResponse
    public static let api = KafkaAPI.offsetFetch
    public var groupId: String
    public var topics: [Topic]?

    public init(groupId: String = "", topics: [Topic]? = nil) {
        self.groupId = groupId
        self.topics = topics
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> OffsetFetchRequest {
        try kafkaCheckDecode(api, version)
        var m = OffsetFetchRequest()
        m.groupId = try r.readKafkaString()
        if version >= 2 {
            m.topics = try r.readKafkaNullableArray { r in try Topic.decode(from: &r, version: version) }
        } else {
            m.topics = try r.readKafkaArray { r in try Topic.decode(from: &r, version: version) }
        }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaString(groupId)
        if version >= 2 {
            try w.writeKafkaNullableArray(topics) { w, e in try e.encode(into: &w, version: version) }
        } else {
            try w.writeKafkaArray(try kafkaRequire(topics, "topics")) { w, e in try e.encode(into: &w, version: version) }
        }
    }

    public struct Topic: Equatable, Sendable {
        public var name: String
        public var partitionIndexes: [Int32]

        public init(name: String = "", partitionIndexes: [Int32] = []) {
            self.name = name
            self.partitionIndexes = partitionIndexes
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Topic {
            var m = Topic()
            m.name = try r.readKafkaString()
            m.partitionIndexes = try r.readKafkaInt32Array()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            try w.writeKafkaInt32Array(partitionIndexes)
        }
    }
}

public struct OffsetFetchResponse: KafkaMessage {
    public static let api = KafkaAPI.offsetFetch
    public var throttleTimeMs: Int32
    public var topics: [Topic]
    public var errorCode: ErrorCode

    public init(throttleTimeMs: Int32 = 0, topics: [Topic] = [], errorCode: ErrorCode = .none) {
        self.throttleTimeMs = throttleTimeMs
        self.topics = topics
        self.errorCode = errorCode
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> OffsetFetchResponse {
        try kafkaCheckDecode(api, version)
        var m = OffsetFetchResponse()
        if version >= 3 { m.throttleTimeMs = try r.readInt32() }
        m.topics = try r.readKafkaArray { r in try Topic.decode(from: &r, version: version) }
        if version >= 2 { m.errorCode = try r.readErrorCode() }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 3 { w.writeInt32(throttleTimeMs) }
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
        if version >= 2 { w.writeErrorCode(errorCode) }
    }

    public struct Partition: Equatable, Sendable {
        public var partitionIndex: Int32
        public var committedOffset: Int64
        public var committedLeaderEpoch: Int32
        public var metadata: String?
        public var errorCode: ErrorCode

        public init(
            partitionIndex: Int32 = 0,
            committedOffset: Int64 = 0,
            committedLeaderEpoch: Int32 = -1,
            metadata: String? = nil,
            errorCode: ErrorCode = .none
        ) {
            self.partitionIndex = partitionIndex
            self.committedOffset = committedOffset
            self.committedLeaderEpoch = committedLeaderEpoch
            self.metadata = metadata
            self.errorCode = errorCode
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Partition {
            var m = Partition()
            m.partitionIndex = try r.readInt32()
            m.committedOffset = try r.readInt64()
            if version >= 5 { m.committedLeaderEpoch = try r.readInt32() }
            m.metadata = try r.readKafkaNullableString()
            m.errorCode = try r.readErrorCode()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(partitionIndex)
            w.writeInt64(committedOffset)
            if version >= 5 { w.writeInt32(committedLeaderEpoch) }
            try w.writeKafkaNullableString(metadata)
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
