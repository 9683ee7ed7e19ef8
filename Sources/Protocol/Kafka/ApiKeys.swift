/// What the schema says about one API (generated table in Generated/KafkaAPITable.swift).
public struct KafkaAPIInfo: Sendable {
    public var name: String
    /// Versions the generated codecs read and write (Kafka's validVersions).
    public var validVersions: ClosedRange<Int16>
    /// Versions the broker implements and advertises in ApiVersions; clients use it as their own range.
    public var supportedVersions: ClosedRange<Int16>
    /// Kafka's first flexible version (Int16.max: never); it decides header versions.
    public var firstFlexibleVersion: Int16
    /// Inter-broker APIs that clients never send; the broker may leave them out of what it advertises.
    public var isInterBroker: Bool
    /// False while the broker has the codecs but not the API itself: ApiVersions leaves it out.
    public var isAdvertised: Bool
    /// ApiVersions answers with header v0 so a client can read it before knowing what the broker supports.
    public var responseHeaderAlwaysV0: Bool
}

extension KafkaAPI {
    public var name: String { info.name }
    public var validVersions: ClosedRange<Int16> { info.validVersions }
    public var supportedVersions: ClosedRange<Int16> { info.supportedVersions }
    public var firstFlexibleVersion: Int16 { info.firstFlexibleVersion }
    public var isInterBroker: Bool { info.isInterBroker }

    public func isSupported(_ version: Int16) -> Bool { supportedVersions.contains(version) }
    public func isFlexible(_ version: Int16) -> Bool { version >= firstFlexibleVersion }

    /// Request header v2 for flexible versions, else v1 (v0 only exists for ControlledShutdown v0).
    public func requestHeaderVersion(_ version: Int16) -> Int16 { isFlexible(version) ? 2 : 1 }

    /// Response header v1 for flexible versions, else v0.
    public func responseHeaderVersion(_ version: Int16) -> Int16 {
        if info.responseHeaderAlwaysV0 { return 0 }
        return isFlexible(version) ? 1 : 0
    }
}

/// A typed Kafka request or response body. Codecs throw for versions outside `api.supportedVersions`.
public protocol KafkaMessage: Sendable, Equatable {
    static var api: KafkaAPI { get }
    static func decode(from reader: inout ByteReader, version: Int16) throws -> Self
    func encode(into writer: inout ByteWriter, version: Int16) throws
}

extension KafkaMessage {
    /// Encodes just the body (no header, no frame length).
    public func encoded(version: Int16) throws -> [UInt8] {
        var w = ByteWriter()
        try encode(into: &w, version: version)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8], version: Int16) throws -> Self {
        var r = ByteReader(bytes)
        return try decode(from: &r, version: version)
    }
}

/// A request body, tied to the type of its answer.
public protocol KafkaRequestMessage: KafkaMessage {
    associatedtype Response: KafkaMessage
}
