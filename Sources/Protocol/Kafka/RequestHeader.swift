/// Kafka request header v0/v1/v2. `clientId` stays a classic (int16-length) string even in v2 so any
/// broker can read the header of an ApiVersions request from a newer client.
public struct KafkaRequestHeader: Equatable, Sendable {
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?

    public init(apiKey: Int16, apiVersion: Int16, correlationId: Int32, clientId: String?) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
    }

    public var api: KafkaAPI? { KafkaAPI(rawValue: apiKey) }

    public static func decode(from r: inout ByteReader, headerVersion: Int16) throws -> KafkaRequestHeader {
        guard (0...2).contains(headerVersion) else {
            throw DecodeError.invalidValue("request header version \(headerVersion)")
        }
        let key = try r.readInt16()
        let ver = try r.readInt16()
        let corr = try r.readInt32()
        let client = headerVersion >= 1 ? try r.readKafkaNullableString() : nil
        if headerVersion >= 2 { try r.readKafkaTaggedFields() }
        return KafkaRequestHeader(apiKey: key, apiVersion: ver, correlationId: corr, clientId: client)
    }

    public func encode(into w: inout ByteWriter, headerVersion: Int16) throws {
        w.writeInt16(apiKey)
        w.writeInt16(apiVersion)
        w.writeInt32(correlationId)
        if headerVersion >= 1 { try w.writeKafkaNullableString(clientId) }
        if headerVersion >= 2 { w.writeKafkaTaggedFields() }
    }
}

/// Kafka response header v0 (correlation id) / v1 (plus tagged fields).
public struct KafkaResponseHeader: Equatable, Sendable {
    public var correlationId: Int32
    public init(correlationId: Int32) { self.correlationId = correlationId }

    public static func decode(from r: inout ByteReader, headerVersion: Int16) throws -> KafkaResponseHeader {
        let corr = try r.readInt32()
        if headerVersion >= 1 { try r.readKafkaTaggedFields() }
        return KafkaResponseHeader(correlationId: corr)
    }

    public func encode(into w: inout ByteWriter, headerVersion: Int16) {
        w.writeInt32(correlationId)
        if headerVersion >= 1 { w.writeKafkaTaggedFields() }
    }
}

/// Why a request frame cannot be served. Both cases carry what is needed to answer it.
public enum KafkaRequestError: Error, Equatable, Sendable {
    /// The api key is not one we know; the broker closes the connection (as Kafka does).
    case unknownApiKey(KafkaRequestHeader)
    /// Known api, version outside our range. For ApiVersions the broker answers with
    /// `ApiVersionsResponse.unsupportedVersion()`; for others Kafka closes the connection.
    case unsupportedVersion(KafkaAPI, KafkaRequestHeader)
}

/// A parsed request frame (the bytes after the 4-byte length prefix).
public struct KafkaRequestFrame: Sendable {
    public var header: KafkaRequestHeader
    public var api: KafkaAPI
    /// Positioned at the first body byte.
    public var body: ByteReader

    /// Parses the header and checks the api key and version. Throws `KafkaRequestError` for unknown
    /// keys and unsupported versions, `DecodeError` for malformed headers.
    public static func parse(_ frame: [UInt8]) throws -> KafkaRequestFrame {
        var r = ByteReader(frame)
        let key = try r.readInt16()
        let version = try r.readInt16()
        let corr = try r.readInt32()
        // Header v1 and v2 share the prefix through clientId, so this is safe before knowing the api.
        let clientId = try r.readKafkaNullableString()
        let header = KafkaRequestHeader(apiKey: key, apiVersion: version, correlationId: corr, clientId: clientId)
        guard let api = KafkaAPI(rawValue: key) else { throw KafkaRequestError.unknownApiKey(header) }
        guard api.isSupported(version) else { throw KafkaRequestError.unsupportedVersion(api, header) }
        if api.requestHeaderVersion(version) >= 2 { try r.readKafkaTaggedFields() }
        return KafkaRequestFrame(header: header, api: api, body: r)
    }

    /// Decodes the body as the given message type (which must match `api`).
    public func decodeBody<M: KafkaMessage>(_ type: M.Type) throws -> M {
        guard M.api == api else { throw DecodeError.invalidValue("body type \(M.api.name) for \(api.name)") }
        var r = body
        return try M.decode(from: &r, version: header.apiVersion)
    }

    /// A full request frame, length prefix included, with the header version the api/version requires.
    public static func encode<M: KafkaRequestMessage>(_ request: M, version: Int16, correlationId: Int32,
                                                      clientId: String?) throws -> [UInt8] {
        var w = ByteWriter()
        try w.withInt32LengthPrefix { w in
            let header = KafkaRequestHeader(apiKey: M.api.rawValue, apiVersion: version,
                                            correlationId: correlationId, clientId: clientId)
            try header.encode(into: &w, headerVersion: M.api.requestHeaderVersion(version))
            try request.encode(into: &w, version: version)
        }
        return w.bytes
    }
}

/// Response framing for both sides.
public enum KafkaResponseFrame {
    /// A full response frame, length prefix included.
    public static func encode<M: KafkaMessage>(_ response: M, version: Int16, correlationId: Int32) throws -> [UInt8] {
        var w = ByteWriter()
        try w.withInt32LengthPrefix { w in
            KafkaResponseHeader(correlationId: correlationId)
                .encode(into: &w, headerVersion: M.api.responseHeaderVersion(version))
            try response.encode(into: &w, version: version)
        }
        return w.bytes
    }

    /// The correlation id of a response frame (after the length prefix), to find the pending request.
    public static func correlationId(of frame: [UInt8]) -> Int32? {
        ByteReader(frame).peekInt32(at: 0)
    }

    /// Decodes a response frame (after the length prefix) for a request of known api/version.
    public static func decode<M: KafkaMessage>(_ type: M.Type, frame: [UInt8], version: Int16) throws
        -> (header: KafkaResponseHeader, body: M)
    {
        var r = ByteReader(frame)
        let header = try KafkaResponseHeader.decode(from: &r, headerVersion: M.api.responseHeaderVersion(version))
        return (header, try M.decode(from: &r, version: version))
    }
}
