/// ListOffsets (key 2), versions 1–5, all non-flexible.
public struct ListOffsetsRequest: KafkaRequestMessage {
    public typealias Response = ListOffsetsResponse
    public static let api = KafkaAPI.listOffsets
    public var replicaId: Int32
    public var isolationLevel: Int8
    public var topics: [ListOffsetsTopic]

    public init(replicaId: Int32 = 0, isolationLevel: Int8 = 0, topics: [ListOffsetsTopic] = []) {
        self.replicaId = replicaId
        self.isolationLevel = isolationLevel
        self.topics = topics
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> ListOffsetsRequest {
        try kafkaCheckDecode(api, version)
        var m = ListOffsetsRequest()
        m.replicaId = try r.readInt32()
        if version >= 2 { m.isolationLevel = try r.readInt8() }
        m.topics = try r.readKafkaArray { r in try ListOffsetsTopic.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(replicaId)
        if version >= 2 { w.writeInt8(isolationLevel) }
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct ListOffsetsPartition: Equatable, Sendable {
        public var partitionIndex: Int32
        public var currentLeaderEpoch: Int32
        public var timestamp: Int64

        public init(partitionIndex: Int32 = 0, currentLeaderEpoch: Int32 = -1, timestamp: Int64 = 0) {
            self.partitionIndex = partitionIndex
            self.currentLeaderEpoch = currentLeaderEpoch
            self.timestamp = timestamp
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> ListOffsetsPartition {
            var m = ListOffsetsPartition()
            m.partitionIndex = try r.readInt32()
            if version >= 4 { m.currentLeaderEpoch = try r.readInt32() }
            m.timestamp = try r.readInt64()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(partitionIndex)
            if version >= 4 { w.writeInt32(currentLeaderEpoch) }
            w.writeInt64(timestamp)
        }
    }

    public struct ListOffsetsTopic: Equatable, Sendable {
        public var name: String
        public var partitions: [ListOffsetsPartition]

        public init(name: String = "", partitions: [ListOffsetsPartition] = []) {
            self.name = name
            self.partitions = partitions
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> ListOffsetsTopic {
            var m = ListOffsetsTopic()
            m.name = try r.readKafkaString()
            m.partitions = try r.readKafkaArray { r in try ListOffsetsPartition.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            try w.writeKafkaArray(partitions) { w, e in try e.encode(into: &w, version: version) }
        }
    }
}

public struct ListOffsetsResponse: KafkaMessage {
    public static let api = KafkaAPI.listOffsets
    public var throttleTimeMs: Int32
    public var topics: [ListOffsetsTopicResponse]

    public init(throttleTimeMs: Int32 = 0, topics: [ListOffsetsTopicResponse] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.topics = topics
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> ListOffsetsResponse {
        try kafkaCheckDecode(api, version)
        var m = ListOffsetsResponse()
        if version >= 2 { m.throttleTimeMs = try r.readInt32() }
        m.topics = try r.readKafkaArray { r in try ListOffsetsTopicResponse.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 2 { w.writeInt32(throttleTimeMs) }
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct ListOffsetsPartitionResponse: Equatable, Sendable {
        public var partitionIndex: Int32
        public var errorCode: ErrorCode
        public var timestamp: Int64
        public var offset: Int64
        public var leaderEpoch: Int32

        public init(
            partitionIndex: Int32 = 0,
            errorCode: ErrorCode = .none,
            timestamp: Int64 = -1,
            offset: Int64 = -1,
            leaderEpoch: Int32 = -1
        ) {
            self.partitionIndex = partitionIndex
            self.errorCode = errorCode
            self.timestamp = timestamp
            self.offset = offset
            self.leaderEpoch = leaderEpoch
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> ListOffsetsPartitionResponse {
            var m = ListOffsetsPartitionResponse()
            m.partitionIndex = try r.readInt32()
            m.errorCode = try r.readErrorCode()
            m.timestamp = try r.readInt64()
            m.offset = try r.readInt64()
            if version >= 4 { m.leaderEpoch = try r.readInt32() }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(partitionIndex)
            w.writeErrorCode(errorCode)
            w.writeInt64(timestamp)
            w.writeInt64(offset)
            if version >= 4 { w.writeInt32(leaderEpoch) }
        }
    }

    public struct ListOffsetsTopicResponse: Equatable, Sendable {
        public var name: String
        public var partitions: [ListOffsetsPartitionResponse]

        public init(name: String = "", partitions: [ListOffsetsPartitionResponse] = []) {
            self.name = name
            self.partitions = partitions
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> ListOffsetsTopicResponse {
            var m = ListOffsetsTopicResponse()
            m.name = try r.readKafkaString()
            m.partitions = try r.readKafkaArray { r in try ListOffsetsPartitionResponse.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            try w.writeKafkaArray(partitions) { w, e in try e.encode(into: &w, version: version) }
        }
    }
}
