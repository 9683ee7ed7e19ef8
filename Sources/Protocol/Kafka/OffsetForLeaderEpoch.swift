/// OffsetForLeaderEpoch (key 23), versions 2–3, all non-flexible.
public struct OffsetForLeaderEpochRequest: KafkaRequestMessage {
    public typealias Response = OffsetForLeaderEpochResponse
    public static let api = KafkaAPI.offsetForLeaderEpoch
    public var replicaId: Int32
    public var topics: [OffsetForLeaderTopic]

    public init(replicaId: Int32 = -2, topics: [OffsetForLeaderTopic] = []) {
        self.replicaId = replicaId
        self.topics = topics
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> OffsetForLeaderEpochRequest {
        try kafkaCheckDecode(api, version)
        var m = OffsetForLeaderEpochRequest()
        if version >= 3 { m.replicaId = try r.readInt32() }
        m.topics = try r.readKafkaArray { r in try OffsetForLeaderTopic.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 3 { w.writeInt32(replicaId) }
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct OffsetForLeaderPartition: Equatable, Sendable {
        public var partition: Int32
        public var currentLeaderEpoch: Int32
        public var leaderEpoch: Int32

        public init(partition: Int32 = 0, currentLeaderEpoch: Int32 = -1, leaderEpoch: Int32 = 0) {
            self.partition = partition
            self.currentLeaderEpoch = currentLeaderEpoch
            self.leaderEpoch = leaderEpoch
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> OffsetForLeaderPartition {
            var m = OffsetForLeaderPartition()
            m.partition = try r.readInt32()
            m.currentLeaderEpoch = try r.readInt32()
            m.leaderEpoch = try r.readInt32()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(partition)
            w.writeInt32(currentLeaderEpoch)
            w.writeInt32(leaderEpoch)
        }
    }

    public struct OffsetForLeaderTopic: Equatable, Sendable {
        public var topic: String
        public var partitions: [OffsetForLeaderPartition]

        public init(topic: String = "", partitions: [OffsetForLeaderPartition] = []) {
            self.topic = topic
            self.partitions = partitions
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> OffsetForLeaderTopic {
            var m = OffsetForLeaderTopic()
            m.topic = try r.readKafkaString()
            m.partitions = try r.readKafkaArray { r in try OffsetForLeaderPartition.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(topic)
            try w.writeKafkaArray(partitions) { w, e in try e.encode(into: &w, version: version) }
        }
    }
}

public struct OffsetForLeaderEpochResponse: KafkaMessage {
    public static let api = KafkaAPI.offsetForLeaderEpoch
    public var throttleTimeMs: Int32
    public var topics: [OffsetForLeaderTopicResult]

    public init(throttleTimeMs: Int32 = 0, topics: [OffsetForLeaderTopicResult] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.topics = topics
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> OffsetForLeaderEpochResponse {
        try kafkaCheckDecode(api, version)
        var m = OffsetForLeaderEpochResponse()
        m.throttleTimeMs = try r.readInt32()
        m.topics = try r.readKafkaArray { r in try OffsetForLeaderTopicResult.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(throttleTimeMs)
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct EpochEndOffset: Equatable, Sendable {
        public var errorCode: ErrorCode
        public var partition: Int32
        public var leaderEpoch: Int32
        public var endOffset: Int64

        public init(
            errorCode: ErrorCode = .none,
            partition: Int32 = 0,
            leaderEpoch: Int32 = -1,
            endOffset: Int64 = -1
        ) {
            self.errorCode = errorCode
            self.partition = partition
            self.leaderEpoch = leaderEpoch
            self.endOffset = endOffset
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> EpochEndOffset {
            var m = EpochEndOffset()
            m.errorCode = try r.readErrorCode()
            m.partition = try r.readInt32()
            m.leaderEpoch = try r.readInt32()
            m.endOffset = try r.readInt64()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeErrorCode(errorCode)
            w.writeInt32(partition)
            w.writeInt32(leaderEpoch)
            w.writeInt64(endOffset)
        }
    }

    public struct OffsetForLeaderTopicResult: Equatable, Sendable {
        public var topic: String
        public var partitions: [EpochEndOffset]

        public init(topic: String = "", partitions: [EpochEndOffset] = []) {
            self.topic = topic
            self.partitions = partitions
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> OffsetForLeaderTopicResult {
            var m = OffsetForLeaderTopicResult()
            m.topic = try r.readKafkaString()
            m.partitions = try r.readKafkaArray { r in try EpochEndOffset.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(topic)
            try w.writeKafkaArray(partitions) { w, e in try e.encode(into: &w, version: version) }
        }
    }
}
