/// InitProducerId (key 22), versions 0–1, all non-flexible.
public struct InitProducerIdRequest: KafkaRequestMessage {
    public typealias Response = InitProducerIdResponse
    public static let api = KafkaAPI.initProducerId
    public var transactionalId: String?
    public var transactionTimeoutMs: Int32

    public init(transactionalId: String? = nil, transactionTimeoutMs: Int32 = 0) {
        self.transactionalId = transactionalId
        self.transactionTimeoutMs = transactionTimeoutMs
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> InitProducerIdRequest {
        try kafkaCheckDecode(api, version)
        var m = InitProducerIdRequest()
        m.transactionalId = try r.readKafkaNullableString()
        m.transactionTimeoutMs = try r.readInt32()
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaNullableString(transactionalId)
        w.writeInt32(transactionTimeoutMs)
    }
}

public struct InitProducerIdResponse: KafkaMessage {
    public static let api = KafkaAPI.initProducerId
    public var throttleTimeMs: Int32
    public var errorCode: ErrorCode
    public var producerId: Int64
    public var producerEpoch: Int16

    public init(
        throttleTimeMs: Int32 = 0,
        errorCode: ErrorCode = .none,
        producerId: Int64 = -1,
        producerEpoch: Int16 = 0
    ) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.producerId = producerId
        self.producerEpoch = producerEpoch
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> InitProducerIdResponse {
        try kafkaCheckDecode(api, version)
        var m = InitProducerIdResponse()
        m.throttleTimeMs = try r.readInt32()
        m.errorCode = try r.readErrorCode()
        m.producerId = try r.readInt64()
        m.producerEpoch = try r.readInt16()
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(throttleTimeMs)
        w.writeErrorCode(errorCode)
        w.writeInt64(producerId)
        w.writeInt16(producerEpoch)
    }
}
