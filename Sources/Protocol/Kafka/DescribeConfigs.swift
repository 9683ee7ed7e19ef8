/// DescribeConfigs (key 32), versions 1–3, all non-flexible.
public struct DescribeConfigsRequest: KafkaRequestMessage {
    public typealias Response = DescribeConfigsResponse
    public static let api = KafkaAPI.describeConfigs
    public var resources: [DescribeConfigsResource]
    public var includeSynonyms: Bool
    public var includeDocumentation: Bool

    public init(
        resources: [DescribeConfigsResource] = [],
        includeSynonyms: Bool = false,
        includeDocumentation: Bool = false
    ) {
        self.resources = resources
        self.includeSynonyms = includeSynonyms
        self.includeDocumentation = includeDocumentation
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> DescribeConfigsRequest {
        try kafkaCheckDecode(api, version)
        var m = DescribeConfigsRequest()
        m.resources = try r.readKafkaArray { r in try DescribeConfigsResource.decode(from: &r, version: version) }
        m.includeSynonyms = try r.readBool()
        if version >= 3 { m.includeDocumentation = try r.readBool() }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        try w.writeKafkaArray(resources) { w, e in try e.encode(into: &w, version: version) }
        w.writeBool(includeSynonyms)
        if version >= 3 { w.writeBool(includeDocumentation) }
    }

    public struct DescribeConfigsResource: Equatable, Sendable {
        public var resourceType: Int8
        public var resourceName: String
        public var configurationKeys: [String]?

        public init(resourceType: Int8 = 0, resourceName: String = "", configurationKeys: [String]? = nil) {
            self.resourceType = resourceType
            self.resourceName = resourceName
            self.configurationKeys = configurationKeys
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> DescribeConfigsResource {
            var m = DescribeConfigsResource()
            m.resourceType = try r.readInt8()
            m.resourceName = try r.readKafkaString()
            m.configurationKeys = try r.readKafkaNullableArray { r in try r.readKafkaString() }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt8(resourceType)
            try w.writeKafkaString(resourceName)
            try w.writeKafkaNullableArray(configurationKeys) { w, e in try w.writeKafkaString(e) }
        }
    }
}

public struct DescribeConfigsResponse: KafkaMessage {
    public static let api = KafkaAPI.describeConfigs
    public var throttleTimeMs: Int32
    public var results: [DescribeConfigsResult]

    public init(throttleTimeMs: Int32 = 0, results: [DescribeConfigsResult] = []) {
        self.throttleTimeMs = throttleTimeMs
        self.results = results
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> DescribeConfigsResponse {
        try kafkaCheckDecode(api, version)
        var m = DescribeConfigsResponse()
        m.throttleTimeMs = try r.readInt32()
        m.results = try r.readKafkaArray { r in try DescribeConfigsResult.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(throttleTimeMs)
        try w.writeKafkaArray(results) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct DescribeConfigsSynonym: Equatable, Sendable {
        public var name: String
        public var value: String?
        public var source: Int8

        public init(name: String = "", value: String? = nil, source: Int8 = 0) {
            self.name = name
            self.value = value
            self.source = source
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> DescribeConfigsSynonym {
            var m = DescribeConfigsSynonym()
            m.name = try r.readKafkaString()
            m.value = try r.readKafkaNullableString()
            m.source = try r.readInt8()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            try w.writeKafkaNullableString(value)
            w.writeInt8(source)
        }
    }

    public struct DescribeConfigsResourceResult: Equatable, Sendable {
        public var name: String
        public var value: String?
        public var readOnly: Bool
        public var configSource: Int8
        public var isSensitive: Bool
        public var synonyms: [DescribeConfigsSynonym]
        public var configType: Int8
        public var documentation: String?

        public init(
            name: String = "",
            value: String? = nil,
            readOnly: Bool = false,
            configSource: Int8 = -1,
            isSensitive: Bool = false,
            synonyms: [DescribeConfigsSynonym] = [],
            configType: Int8 = 0,
            documentation: String? = nil
        ) {
            self.name = name
            self.value = value
            self.readOnly = readOnly
            self.configSource = configSource
            self.isSensitive = isSensitive
            self.synonyms = synonyms
            self.configType = configType
            self.documentation = documentation
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> DescribeConfigsResourceResult {
            var m = DescribeConfigsResourceResult()
            m.name = try r.readKafkaString()
            m.value = try r.readKafkaNullableString()
            m.readOnly = try r.readBool()
            m.configSource = try r.readInt8()
            m.isSensitive = try r.readBool()
            m.synonyms = try r.readKafkaArray { r in try DescribeConfigsSynonym.decode(from: &r, version: version) }
            if version >= 3 { m.configType = try r.readInt8() }
            if version >= 3 { m.documentation = try r.readKafkaNullableString() }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(name)
            try w.writeKafkaNullableString(value)
            w.writeBool(readOnly)
            w.writeInt8(configSource)
            w.writeBool(isSensitive)
            try w.writeKafkaArray(synonyms) { w, e in try e.encode(into: &w, version: version) }
            if version >= 3 { w.writeInt8(configType) }
            if version >= 3 { try w.writeKafkaNullableString(documentation) }
        }
    }

    public struct DescribeConfigsResult: Equatable, Sendable {
        public var errorCode: ErrorCode
        public var errorMessage: String?
        public var resourceType: Int8
        public var resourceName: String
        public var configs: [DescribeConfigsResourceResult]

        public init(
            errorCode: ErrorCode = .none,
            errorMessage: String? = nil,
            resourceType: Int8 = 0,
            resourceName: String = "",
            configs: [DescribeConfigsResourceResult] = []
        ) {
            self.errorCode = errorCode
            self.errorMessage = errorMessage
            self.resourceType = resourceType
            self.resourceName = resourceName
            self.configs = configs
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> DescribeConfigsResult {
            var m = DescribeConfigsResult()
            m.errorCode = try r.readErrorCode()
            m.errorMessage = try r.readKafkaNullableString()
            m.resourceType = try r.readInt8()
            m.resourceName = try r.readKafkaString()
            m.configs = try r.readKafkaArray { r in try DescribeConfigsResourceResult.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeErrorCode(errorCode)
            try w.writeKafkaNullableString(errorMessage)
            w.writeInt8(resourceType)
            try w.writeKafkaString(resourceName)
            try w.writeKafkaArray(configs) { w, e in try e.encode(into: &w, version: version) }
        }
    }
}
