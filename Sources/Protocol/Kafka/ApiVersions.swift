/// ApiVersions (key 18), v0–3; v3 is flexible (compact forms and tagged fields in the body).
public struct ApiVersionsRequest: KafkaRequestMessage {
    public typealias Response = ApiVersionsResponse
    public static let api = KafkaAPI.apiVersions
    public var clientSoftwareName: String
    public var clientSoftwareVersion: String

    public init(clientSoftwareName: String = "", clientSoftwareVersion: String = "") {
        self.clientSoftwareName = clientSoftwareName
        self.clientSoftwareVersion = clientSoftwareVersion
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> ApiVersionsRequest {
        try kafkaCheckDecode(api, version)
        var m = ApiVersionsRequest()
        if version >= 3 {
            m.clientSoftwareName = try r.readKafkaString(flexible: true)
            m.clientSoftwareVersion = try r.readKafkaString(flexible: true)
            try r.readKafkaTaggedFields()
        }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        if version >= 3 {
            try w.writeKafkaString(clientSoftwareName, flexible: true)
            try w.writeKafkaString(clientSoftwareVersion, flexible: true)
            w.writeKafkaTaggedFields()
        }
    }
}

public struct ApiVersionsResponse: KafkaMessage {
    public static let api = KafkaAPI.apiVersions

    public struct ApiVersion: Equatable, Sendable {
        public var apiKey: Int16
        public var minVersion: Int16
        public var maxVersion: Int16
        public init(apiKey: Int16, minVersion: Int16, maxVersion: Int16) {
            self.apiKey = apiKey; self.minVersion = minVersion; self.maxVersion = maxVersion
        }
    }

    public struct SupportedFeature: Equatable, Sendable {
        public var name: String
        public var minVersion: Int16
        public var maxVersion: Int16
        public init(name: String, minVersion: Int16, maxVersion: Int16) {
            self.name = name; self.minVersion = minVersion; self.maxVersion = maxVersion
        }
    }

    public struct FinalizedFeature: Equatable, Sendable {
        public var name: String
        public var maxVersionLevel: Int16
        public var minVersionLevel: Int16
        public init(name: String, maxVersionLevel: Int16, minVersionLevel: Int16) {
            self.name = name; self.maxVersionLevel = maxVersionLevel; self.minVersionLevel = minVersionLevel
        }
    }

    public var errorCode: ErrorCode
    public var apiKeys: [ApiVersion]
    public var throttleTimeMs: Int32
    // v3+ tagged fields.
    public var supportedFeatures: [SupportedFeature]
    public var finalizedFeaturesEpoch: Int64
    public var finalizedFeatures: [FinalizedFeature]
    public var zkMigrationReady: Bool

    public init(errorCode: ErrorCode = .none, apiKeys: [ApiVersion], throttleTimeMs: Int32 = 0,
                supportedFeatures: [SupportedFeature] = [], finalizedFeaturesEpoch: Int64 = -1,
                finalizedFeatures: [FinalizedFeature] = [], zkMigrationReady: Bool = false) {
        self.errorCode = errorCode
        self.apiKeys = apiKeys
        self.throttleTimeMs = throttleTimeMs
        self.supportedFeatures = supportedFeatures
        self.finalizedFeaturesEpoch = finalizedFeaturesEpoch
        self.finalizedFeatures = finalizedFeatures
        self.zkMigrationReady = zkMigrationReady
    }

    /// What the broker advertises: every api in `KafkaAPI` with its supported range.
    public static func supported(includeInterBroker: Bool = true) -> ApiVersionsResponse {
        let keys = KafkaAPI.allCases.filter { includeInterBroker || !$0.isInterBroker }.map {
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

    public static func decode(from r: inout ByteReader, version: Int16) throws -> ApiVersionsResponse {
        try kafkaCheckDecode(api, version)
        let flex = version >= 3
        var m = ApiVersionsResponse(apiKeys: [])
        m.errorCode = try r.readErrorCode()
        m.apiKeys = try r.readKafkaArray(flexible: flex) { r in
            let k = ApiVersion(apiKey: try r.readInt16(), minVersion: try r.readInt16(), maxVersion: try r.readInt16())
            if flex { try r.readKafkaTaggedFields() }
            return k
        }
        if version >= 1 { m.throttleTimeMs = try r.readInt32() }
        if flex {
            var features: [SupportedFeature] = []
            var finalized: [FinalizedFeature] = []
            var epoch: Int64 = -1
            var zk = false
            try r.readKafkaTaggedFields { tag, r in
                switch tag {
                case 0:
                    features = try r.readKafkaArray(flexible: true) { r in
                        let f = SupportedFeature(name: try r.readKafkaString(flexible: true),
                                                 minVersion: try r.readInt16(), maxVersion: try r.readInt16())
                        try r.readKafkaTaggedFields()
                        return f
                    }
                case 1: epoch = try r.readInt64()
                case 2:
                    finalized = try r.readKafkaArray(flexible: true) { r in
                        let f = FinalizedFeature(name: try r.readKafkaString(flexible: true),
                                                 maxVersionLevel: try r.readInt16(), minVersionLevel: try r.readInt16())
                        try r.readKafkaTaggedFields()
                        return f
                    }
                case 3: zk = try r.readBool()
                default: return false
                }
                return true
            }
            m.supportedFeatures = features
            m.finalizedFeaturesEpoch = epoch
            m.finalizedFeatures = finalized
            m.zkMigrationReady = zk
        }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        let flex = version >= 3
        w.writeErrorCode(errorCode)
        try w.writeKafkaArray(apiKeys, flexible: flex) { w, k in
            w.writeInt16(k.apiKey); w.writeInt16(k.minVersion); w.writeInt16(k.maxVersion)
            if flex { w.writeKafkaTaggedFields() }
        }
        if version >= 1 { w.writeInt32(throttleTimeMs) }
        if flex {
            // Tagged fields are written only when they differ from their defaults, as Kafka does.
            var tags: [KafkaTaggedField] = []
            if !supportedFeatures.isEmpty {
                var t = ByteWriter()
                try t.writeKafkaArray(supportedFeatures, flexible: true) { w, f in
                    try w.writeKafkaString(f.name, flexible: true)
                    w.writeInt16(f.minVersion); w.writeInt16(f.maxVersion)
                    w.writeKafkaTaggedFields()
                }
                tags.append(KafkaTaggedField(tag: 0, data: t.bytes))
            }
            if finalizedFeaturesEpoch != -1 {
                var t = ByteWriter()
                t.writeInt64(finalizedFeaturesEpoch)
                tags.append(KafkaTaggedField(tag: 1, data: t.bytes))
            }
            if !finalizedFeatures.isEmpty {
                var t = ByteWriter()
                try t.writeKafkaArray(finalizedFeatures, flexible: true) { w, f in
                    try w.writeKafkaString(f.name, flexible: true)
                    w.writeInt16(f.maxVersionLevel); w.writeInt16(f.minVersionLevel)
                    w.writeKafkaTaggedFields()
                }
                tags.append(KafkaTaggedField(tag: 2, data: t.bytes))
            }
            if zkMigrationReady { tags.append(KafkaTaggedField(tag: 3, data: [1])) }
            w.writeKafkaTaggedFields(tags)
        }
    }
}
