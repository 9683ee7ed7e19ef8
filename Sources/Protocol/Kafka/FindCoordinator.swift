/// FindCoordinator (key 10), versions 0–2, all non-flexible.
public struct FindCoordinatorRequest: KafkaRequestMessage {
    public typealias Response = FindCoordinatorResponse
    public static let api = KafkaAPI.findCoordinator
    public var key: String
    public var keyType: Int8

    public init(key: String = "", keyType: Int8 = 0) {
        self.key = key
        self.keyType = keyType
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> FindCoordinatorRequest {
        try kafkaCheckDecode(api, version)
        var m = FindCoordinatorRequest()
        m.key = try r.readKafkaString()
        if version >= 1 { m.keyType = try r.readInt8() }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaString(key)
        if version >= 1 { w.writeInt8(keyType) }
    }
}

public struct FindCoordinatorResponse: KafkaMessage {
    public static let api = KafkaAPI.findCoordinator
    public var throttleTimeMs: Int32
    public var errorCode: ErrorCode
    public var errorMessage: String?
    public var nodeId: Int32
    public var host: String
    public var port: Int32

    public init(
        throttleTimeMs: Int32 = 0,
        errorCode: ErrorCode = .none,
        errorMessage: String? = nil,
        nodeId: Int32 = 0,
        host: String = "",
        port: Int32 = 0
    ) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.nodeId = nodeId
        self.host = host
        self.port = port
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> FindCoordinatorResponse {
        try kafkaCheckDecode(api, version)
        var m = FindCoordinatorResponse()
        if version >= 1 { m.throttleTimeMs = try r.readInt32() }
        m.errorCode = try r.readErrorCode()
        if version >= 1 { m.errorMessage = try r.readKafkaNullableString() }
        m.nodeId = try r.readInt32()
        m.host = try r.readKafkaString()
        m.port = try r.readInt32()
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 1 { w.writeInt32(throttleTimeMs) }
        w.writeErrorCode(errorCode)
        if version >= 1 { try w.writeKafkaNullableString(errorMessage) }
        w.writeInt32(nodeId)
        try w.writeKafkaString(host)
        w.writeInt32(port)
    }
}
