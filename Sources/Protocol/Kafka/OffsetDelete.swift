/// OffsetDelete (key 47), versions 0–0, all non-flexible.
public struct OffsetDeleteRequest: KafkaRequestMessage {
    public typealias Response = OffsetDeleteResponse
    public static let api = KafkaAPI.offsetDelete
    public var groupId: String
    public var topics: [Topic]

    public init(groupId: String = "", topics: [Topic] = []) {
        self.groupId = groupId
        self.topics = topics
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> OffsetDeleteRequest {
        try kafkaCheckDecode(api, version)
        var m = OffsetDeleteRequest()
        m.groupId = try r.readKafkaString()
        m.topics = try r.readKafkaArray { r in try Topic.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaString(groupId)
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct Partition: Equatable, Sendable {
        public var partitionIndex: Int32

        public init(partitionIndex: Int32 = 0) {
            self.partitionIndex = partitionIndex
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> Partition {
            var m = Partition()
            m.partitionIndex = try r.readInt32()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(partitionIndex)
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

public struct OffsetDeleteResponse: KafkaMessage {
    public static let api = KafkaAPI.offsetDelete
    public var errorCode: ErrorCode
    public var throttleTimeMs: Int32
    public var topics: [Topic]

    public init(errorCode: ErrorCode = .none, throttleTimeMs: Int32 = 0, topics: [Topic] = []) {
        self.errorCode = errorCode
        self.throttleTimeMs = throttleTimeMs
        self.topics = topics
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> OffsetDeleteResponse {
        try kafkaCheckDecode(api, version)
        var m = OffsetDeleteResponse()
        m.errorCode = try r.readErrorCode()
        m.throttleTimeMs = try r.readInt32()
        m.topics = try r.readKafkaArray { r in try Topic.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeErrorCode(errorCode)
        w.writeInt32(throttleTimeMs)
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
