/// Produce (key 0), versions 3–8, all non-flexible.
public struct ProduceRequest: KafkaRequestMessage {
    public typealias Response = ProduceResponse
    public static let api = KafkaAPI.produce
    public var transactionalId: String?
    public var acks: Int16
    public var timeoutMs: Int32
    public var topicData: [TopicProduceData]

    public init(
        transactionalId: String? = nil,
        acks: Int16 = 0,
        timeoutMs: Int32 = 0,
        topicData: [TopicProduceData] = []
    ) {
        self.transactionalId = transactionalId
        self.acks = acks
        self.timeoutMs = timeoutMs
        self.topicData = topicData
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> ProduceRequest {
        try kafkaCheckDecode(api, version)
        var m = ProduceRequest()
        m.transactionalId = try r.readKafkaNullableString()
        m.acks = try r.readInt16()
        m.timeoutMs = try r.readInt32()
        m.topicData = try r.readKafkaArray { r in try TopicProduceData.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaNullableString(transactionalId)
        w.writeInt16(acks)
        w.writeInt32(timeoutMs)
        try w.writeKafkaArray(topicData) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct PartitionProduceData: Equatable, Sendable {
        public var index: Int32
        public var records: [UInt8]?

        public init(index: Int32 = 0, records: [UInt8]? = nil) {
            self.index = index
            self.records = records
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> PartitionProduceData {
            var m = PartitionProduceData()
            m.index = try r.readInt32()
            m.records = try r.readKafkaNullableBytes()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(index)
            try w.writeKafkaNullableBytes(records)
        }
    }

    public struct TopicProduceData: Equatable, Sendable {
        public var name: String
        public var partitionData: [PartitionProduceData]

        public init(name: String = "", partitionData: [PartitionProduceData] = []) {
            self.name = name
            self.partitionData = partitionData
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> TopicProduceData {
            var m = TopicProduceData()
            m.name = try r.readKafkaString()
            m.partitionData = try r.readKafkaArray { r in try PartitionProduceData.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            try w.writeKafkaArray(partitionData) { w, e in try e.encode(into: &w, version: version) }
        }
    }
}

public struct ProduceResponse: KafkaMessage {
    public static let api = KafkaAPI.produce
    public var responses: [TopicProduceResponse]
    public var throttleTimeMs: Int32

    public init(responses: [TopicProduceResponse] = [], throttleTimeMs: Int32 = 0) {
        self.responses = responses
        self.throttleTimeMs = throttleTimeMs
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> ProduceResponse {
        try kafkaCheckDecode(api, version)
        var m = ProduceResponse()
        m.responses = try r.readKafkaArray { r in try TopicProduceResponse.decode(from: &r, version: version) }
        m.throttleTimeMs = try r.readInt32()
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaArray(responses) { w, e in try e.encode(into: &w, version: version) }
        w.writeInt32(throttleTimeMs)
    }

    public struct BatchIndexAndErrorMessage: Equatable, Sendable {
        public var batchIndex: Int32
        public var batchIndexErrorMessage: String?

        public init(batchIndex: Int32 = 0, batchIndexErrorMessage: String? = nil) {
            self.batchIndex = batchIndex
            self.batchIndexErrorMessage = batchIndexErrorMessage
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> BatchIndexAndErrorMessage {
            var m = BatchIndexAndErrorMessage()
            if version >= 8 { m.batchIndex = try r.readInt32() }
            if version >= 8 { m.batchIndexErrorMessage = try r.readKafkaNullableString() }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            if version >= 8 { w.writeInt32(batchIndex) }
            if version >= 8 { try w.writeKafkaNullableString(batchIndexErrorMessage) }
        }
    }

    public struct PartitionProduceResponse: Equatable, Sendable {
        public var index: Int32
        public var errorCode: ErrorCode
        public var baseOffset: Int64
        public var logAppendTimeMs: Int64
        public var logStartOffset: Int64
        public var recordErrors: [BatchIndexAndErrorMessage]
        public var errorMessage: String?

        public init(
            index: Int32 = 0,
            errorCode: ErrorCode = .none,
            baseOffset: Int64 = 0,
            logAppendTimeMs: Int64 = -1,
            logStartOffset: Int64 = -1,
            recordErrors: [BatchIndexAndErrorMessage] = [],
            errorMessage: String? = nil
        ) {
            self.index = index
            self.errorCode = errorCode
            self.baseOffset = baseOffset
            self.logAppendTimeMs = logAppendTimeMs
            self.logStartOffset = logStartOffset
            self.recordErrors = recordErrors
            self.errorMessage = errorMessage
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> PartitionProduceResponse {
            var m = PartitionProduceResponse()
            m.index = try r.readInt32()
            m.errorCode = try r.readErrorCode()
            m.baseOffset = try r.readInt64()
            m.logAppendTimeMs = try r.readInt64()
            if version >= 5 { m.logStartOffset = try r.readInt64() }
            if version >= 8 { m.recordErrors = try r.readKafkaArray { r in try BatchIndexAndErrorMessage.decode(from: &r, version: version) } }
            if version >= 8 { m.errorMessage = try r.readKafkaNullableString() }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(index)
            w.writeErrorCode(errorCode)
            w.writeInt64(baseOffset)
            w.writeInt64(logAppendTimeMs)
            if version >= 5 { w.writeInt64(logStartOffset) }
            if version >= 8 {
                try w.writeKafkaArray(recordErrors) { w, e in try e.encode(into: &w, version: version) }
            }
            if version >= 8 { try w.writeKafkaNullableString(errorMessage) }
        }
    }

    public struct TopicProduceResponse: Equatable, Sendable {
        public var name: String
        public var partitionResponses: [PartitionProduceResponse]

        public init(name: String = "", partitionResponses: [PartitionProduceResponse] = []) {
            self.name = name
            self.partitionResponses = partitionResponses
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> TopicProduceResponse {
            var m = TopicProduceResponse()
            m.name = try r.readKafkaString()
            m.partitionResponses = try r.readKafkaArray { r in try PartitionProduceResponse.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            try w.writeKafkaArray(partitionResponses) { w, e in try e.encode(into: &w, version: version) }
        }
    }
}
