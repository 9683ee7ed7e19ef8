/// Fetch (key 1), versions 4–11, all non-flexible.
public struct FetchRequest: KafkaRequestMessage {
    public typealias Response = FetchResponse
    public static let api = KafkaAPI.fetch
    public var replicaId: Int32
    public var maxWaitMs: Int32
    public var minBytes: Int32
    public var maxBytes: Int32
    public var isolationLevel: Int8
    public var sessionId: Int32
    public var sessionEpoch: Int32
    public var topics: [FetchTopic]
    public var forgottenTopicsData: [ForgottenTopic]
    public var rackId: String

    public init(
        replicaId: Int32 = -1,
        maxWaitMs: Int32 = 0,
        minBytes: Int32 = 0,
        maxBytes: Int32 = 0x7fffffff,
        isolationLevel: Int8 = 0,
        sessionId: Int32 = 0,
        sessionEpoch: Int32 = -1,
        topics: [FetchTopic] = [],
        forgottenTopicsData: [ForgottenTopic] = [],
        rackId: String = ""
    ) {
        self.replicaId = replicaId
        self.maxWaitMs = maxWaitMs
        self.minBytes = minBytes
        self.maxBytes = maxBytes
        self.isolationLevel = isolationLevel
        self.sessionId = sessionId
        self.sessionEpoch = sessionEpoch
        self.topics = topics
        self.forgottenTopicsData = forgottenTopicsData
        self.rackId = rackId
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> FetchRequest {
        try kafkaCheckDecode(api, version)
        var m = FetchRequest()
        m.replicaId = try r.readInt32()
        m.maxWaitMs = try r.readInt32()
        m.minBytes = try r.readInt32()
        m.maxBytes = try r.readInt32()
        m.isolationLevel = try r.readInt8()
        if version >= 7 { m.sessionId = try r.readInt32() }
        if version >= 7 { m.sessionEpoch = try r.readInt32() }
        m.topics = try r.readKafkaArray { r in try FetchTopic.decode(from: &r, version: version) }
        if version >= 7 { m.forgottenTopicsData = try r.readKafkaArray { r in try ForgottenTopic.decode(from: &r, version: version) } }
        if version >= 11 { m.rackId = try r.readKafkaString() }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(replicaId)
        w.writeInt32(maxWaitMs)
        w.writeInt32(minBytes)
        w.writeInt32(maxBytes)
        w.writeInt8(isolationLevel)
        if version >= 7 { w.writeInt32(sessionId) }
        if version >= 7 { w.writeInt32(sessionEpoch) }
        try w.writeKafkaArray(topics) { w, e in try e.encode(into: &w, version: version) }
        if version >= 7 {
            try w.writeKafkaArray(forgottenTopicsData) { w, e in try e.encode(into: &w, version: version) }
        }
        if version >= 11 { try w.writeKafkaString(rackId) }
    }

    public struct FetchPartition: Equatable, Sendable {
        public var partition: Int32
        public var currentLeaderEpoch: Int32
        public var fetchOffset: Int64
        public var logStartOffset: Int64
        public var partitionMaxBytes: Int32

        public init(
            partition: Int32 = 0,
            currentLeaderEpoch: Int32 = -1,
            fetchOffset: Int64 = 0,
            logStartOffset: Int64 = -1,
            partitionMaxBytes: Int32 = 0
        ) {
            self.partition = partition
            self.currentLeaderEpoch = currentLeaderEpoch
            self.fetchOffset = fetchOffset
            self.logStartOffset = logStartOffset
            self.partitionMaxBytes = partitionMaxBytes
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> FetchPartition {
            var m = FetchPartition()
            m.partition = try r.readInt32()
            if version >= 9 { m.currentLeaderEpoch = try r.readInt32() }
            m.fetchOffset = try r.readInt64()
            if version >= 5 { m.logStartOffset = try r.readInt64() }
            m.partitionMaxBytes = try r.readInt32()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(partition)
            if version >= 9 { w.writeInt32(currentLeaderEpoch) }
            w.writeInt64(fetchOffset)
            if version >= 5 { w.writeInt64(logStartOffset) }
            w.writeInt32(partitionMaxBytes)
        }
    }

    public struct FetchTopic: Equatable, Sendable {
        public var topic: String
        public var partitions: [FetchPartition]

        public init(topic: String = "", partitions: [FetchPartition] = []) {
            self.topic = topic
            self.partitions = partitions
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> FetchTopic {
            var m = FetchTopic()
            m.topic = try r.readKafkaString()
            m.partitions = try r.readKafkaArray { r in try FetchPartition.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(topic)
            try w.writeKafkaArray(partitions) { w, e in try e.encode(into: &w, version: version) }
        }
    }

    public struct ForgottenTopic: Equatable, Sendable {
        public var topic: String
        public var partitions: [Int32]

        public init(topic: String = "", partitions: [Int32] = []) {
            self.topic = topic
            self.partitions = partitions
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> ForgottenTopic {
            var m = ForgottenTopic()
            if version >= 7 { m.topic = try r.readKafkaString() }
            if version >= 7 { m.partitions = try r.readKafkaInt32Array() }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            if version >= 7 { try w.writeKafkaString(topic) }
            if version >= 7 { try w.writeKafkaInt32Array(partitions) }
        }
    }
}

public struct FetchResponse: KafkaMessage {
    public static let api = KafkaAPI.fetch
    public var throttleTimeMs: Int32
    public var errorCode: ErrorCode
    public var sessionId: Int32
    public var responses: [FetchableTopicResponse]

    public init(
        throttleTimeMs: Int32 = 0,
        errorCode: ErrorCode = .none,
        sessionId: Int32 = 0,
        responses: [FetchableTopicResponse] = []
    ) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.sessionId = sessionId
        self.responses = responses
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> FetchResponse {
        try kafkaCheckDecode(api, version)
        var m = FetchResponse()
        m.throttleTimeMs = try r.readInt32()
        if version >= 7 { m.errorCode = try r.readErrorCode() }
        if version >= 7 { m.sessionId = try r.readInt32() }
        m.responses = try r.readKafkaArray { r in try FetchableTopicResponse.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(throttleTimeMs)
        if version >= 7 { w.writeErrorCode(errorCode) }
        if version >= 7 { w.writeInt32(sessionId) }
        try w.writeKafkaArray(responses) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct AbortedTransaction: Equatable, Sendable {
        public var producerId: Int64
        public var firstOffset: Int64

        public init(producerId: Int64 = 0, firstOffset: Int64 = 0) {
            self.producerId = producerId
            self.firstOffset = firstOffset
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> AbortedTransaction {
            var m = AbortedTransaction()
            m.producerId = try r.readInt64()
            m.firstOffset = try r.readInt64()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt64(producerId)
            w.writeInt64(firstOffset)
        }
    }

    public struct PartitionData: Equatable, Sendable {
        public var partitionIndex: Int32
        public var errorCode: ErrorCode
        public var highWatermark: Int64
        public var lastStableOffset: Int64
        public var logStartOffset: Int64
        public var abortedTransactions: [AbortedTransaction]?
        public var preferredReadReplica: Int32
        public var records: [UInt8]?
        /// Broker zero-copy path: when set, `encodeFrameSegments` leaves a placeholder of this many
        /// record bytes (spliced from the log by sendfile) instead of `records`. Never set by decode.
        public var spliceLength: Int?

        public init(
            partitionIndex: Int32 = 0,
            errorCode: ErrorCode = .none,
            highWatermark: Int64 = 0,
            lastStableOffset: Int64 = -1,
            logStartOffset: Int64 = -1,
            abortedTransactions: [AbortedTransaction]? = nil,
            preferredReadReplica: Int32 = -1,
            records: [UInt8]? = nil,
            spliceLength: Int? = nil
        ) {
            self.spliceLength = spliceLength
            self.partitionIndex = partitionIndex
            self.errorCode = errorCode
            self.highWatermark = highWatermark
            self.lastStableOffset = lastStableOffset
            self.logStartOffset = logStartOffset
            self.abortedTransactions = abortedTransactions
            self.preferredReadReplica = preferredReadReplica
            self.records = records
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> PartitionData {
            var m = PartitionData()
            m.partitionIndex = try r.readInt32()
            m.errorCode = try r.readErrorCode()
            m.highWatermark = try r.readInt64()
            m.lastStableOffset = try r.readInt64()
            if version >= 5 { m.logStartOffset = try r.readInt64() }
            m.abortedTransactions = try r.readKafkaNullableArray { r in try AbortedTransaction.decode(from: &r, version: version) }
            if version >= 11 { m.preferredReadReplica = try r.readInt32() }
            m.records = try r.readKafkaNullableBytes()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            if spliceLength != nil { throw KafkaEncodeError.splicedRecords }
            try encodeHead(into: &w, version: version)
            try w.writeKafkaNullableBytes(records)
        }

        /// Everything before the records field.
        func encodeHead(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(partitionIndex)
            w.writeErrorCode(errorCode)
            w.writeInt64(highWatermark)
            w.writeInt64(lastStableOffset)
            if version >= 5 { w.writeInt64(logStartOffset) }
            try w.writeKafkaNullableArray(abortedTransactions) { w, e in try e.encode(into: &w, version: version) }
            if version >= 11 { w.writeInt32(preferredReadReplica) }
        }
    }

    public struct FetchableTopicResponse: Equatable, Sendable {
        public var topic: String
        public var partitions: [PartitionData]

        public init(topic: String = "", partitions: [PartitionData] = []) {
            self.topic = topic
            self.partitions = partitions
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> FetchableTopicResponse {
            var m = FetchableTopicResponse()
            m.topic = try r.readKafkaString()
            m.partitions = try r.readKafkaArray { r in try PartitionData.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(topic)
            try w.writeKafkaArray(partitions) { w, e in try e.encode(into: &w, version: version) }
        }
    }
}

/// A piece of a Fetch response frame on the broker's zero-copy path.
public enum FetchResponseSegment: Equatable, Sendable {
    case bytes([UInt8])
    /// `length` record bytes of this partition go here; the int32 length prefix is already in the
    /// preceding `.bytes` segment.
    case records(FetchRecordsRef, length: Int)
}

/// Which partition a spliced records segment belongs to: indices into `responses` and `partitions`.
public struct FetchRecordsRef: Hashable, Sendable {
    public var topicIndex: Int
    public var partitionIndex: Int
    public var topic: String
    public var partition: Int32
    public init(topicIndex: Int, partitionIndex: Int, topic: String, partition: Int32) {
        self.topicIndex = topicIndex; self.partitionIndex = partitionIndex
        self.topic = topic; self.partition = partition
    }
}

extension FetchResponse {
    /// The whole response frame — 4-byte length, response header, body — as byte segments and
    /// placeholders for partitions with `spliceLength` set. The frame length counts the spliced bytes.
    public func encodeFrameSegments(version: Int16, correlationId: Int32) throws -> [FetchResponseSegment] {
        try kafkaCheckEncode(Self.api, version)
        var segments: [FetchResponseSegment] = []
        var w = ByteWriter()
        let lengthAt = w.reserveInt32()
        KafkaResponseHeader(correlationId: correlationId)
            .encode(into: &w, headerVersion: Self.api.responseHeaderVersion(version))
        w.writeInt32(throttleTimeMs)
        if version >= 7 {
            w.writeErrorCode(errorCode)
            w.writeInt32(sessionId)
        }
        var total = 0
        try w.writeKafkaLength(responses.count, flexible: false, wide: true, what: "array")
        for (ti, topic) in responses.enumerated() {
            try w.writeKafkaString(topic.topic)
            try w.writeKafkaLength(topic.partitions.count, flexible: false, wide: true, what: "array")
            for (pi, p) in topic.partitions.enumerated() {
                try p.encodeHead(into: &w, version: version)
                guard let n = p.spliceLength else {
                    try w.writeKafkaNullableBytes(p.records)
                    continue
                }
                guard n >= 0 else { throw KafkaEncodeError.tooLong("records", n) }
                try w.writeKafkaLength(n, flexible: false, wide: true, what: "records")
                total += w.count
                segments.append(.bytes(w.bytes))
                w = ByteWriter()
                segments.append(.records(FetchRecordsRef(topicIndex: ti, partitionIndex: pi, topic: topic.topic,
                                                         partition: p.partitionIndex), length: n))
                total += n
            }
        }
        total += w.count
        if w.count > 0 { segments.append(.bytes(w.bytes)) }
        let frameLength = total - 4
        guard frameLength <= Int(Int32.max) else { throw KafkaEncodeError.tooLong("fetch response", frameLength) }
        // Patch the length into the first segment (always bytes: it starts with the length itself).
        if case .bytes(var first) = segments[0] {
            var pw = ByteWriter()
            pw.writeInt32(Int32(frameLength))
            first.replaceSubrange(lengthAt..<lengthAt + 4, with: pw.bytes)
            segments[0] = .bytes(first)
        }
        return segments
    }
}
