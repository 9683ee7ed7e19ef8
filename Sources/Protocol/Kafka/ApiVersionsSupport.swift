/// What the broker advertises and how an UNSUPPORTED_VERSION answer travels; the codec is generated.
extension ApiVersionsResponse {
    /// What the broker advertises: every api in `KafkaAPI` with its supported range.
    public static func supported(includeInterBroker: Bool = true) -> ApiVersionsResponse {
        let keys = KafkaAPI.allCases.filter { $0.info.isAdvertised && (includeInterBroker || !$0.isInterBroker) }.map {
            ApiVersion(apiKey: $0.rawValue, minVersion: $0.supportedVersions.lowerBound,
                       maxVersion: $0.supportedVersions.upperBound)
        }
        return ApiVersionsResponse(apiKeys: keys)
    }

    /// The answer to an ApiVersions request at a version we do not support: UNSUPPORTED_VERSION with our
    /// ApiVersions range, to be encoded at v0 (see `unsupportedVersionFrame`) so any client can read it.
    public static func unsupportedVersion() -> ApiVersionsResponse {
        let r = KafkaAPI.apiVersions.supportedVersions
        return ApiVersionsResponse(errorCode: .unsupportedVersion,
                                   apiKeys: [ApiVersion(apiKey: KafkaAPI.apiVersions.rawValue,
                                                        minVersion: r.lowerBound, maxVersion: r.upperBound)])
    }

    /// A complete frame (length prefix, header v0, v0 body) answering an unsupported ApiVersions version.
    public static func unsupportedVersionFrame(correlationId: Int32) -> [UInt8] {
        var w = ByteWriter()
        w.withInt32LengthPrefix { w in
            w.writeInt32(correlationId)
            let body = unsupportedVersion()
            w.writeErrorCode(body.errorCode)
            w.writeInt32(Int32(body.apiKeys.count))
            for k in body.apiKeys {
                w.writeInt16(k.apiKey); w.writeInt16(k.minVersion); w.writeInt16(k.maxVersion)
            }
        }
        return w.bytes
    }

    /// Client side: a broker answers UNSUPPORTED_VERSION in the v0 layout whatever version was asked,
    /// so read the error code first and fall back to v0 for that case.
    public static func decodeAnswer(from r: inout ByteReader, requestedVersion: Int16) throws -> ApiVersionsResponse {
        let code = r.peekInt32(at: r.offset).map { Int16(truncatingIfNeeded: $0 >> 16) }
        if code == ErrorCode.unsupportedVersion.rawValue {
            return try decode(from: &r, version: 0)
        }
        return try decode(from: &r, version: requestedVersion)
    }
}
