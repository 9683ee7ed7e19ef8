/// The "consumer" embedded protocol carried opaquely in JoinGroup metadata and SyncGroup assignments.
/// Each blob starts with an int16 version. Versions above ours are read with our highest layout
/// (newer versions only append fields), as Kafka's own clients do.

public struct ConsumerProtocolTopicPartitions: Equatable, Sendable {
    public var topic: String
    public var partitions: [Int32]
    public init(topic: String, partitions: [Int32]) { self.topic = topic; self.partitions = partitions }

    static func decode(from r: inout ByteReader) throws -> ConsumerProtocolTopicPartitions {
        ConsumerProtocolTopicPartitions(topic: try r.readKafkaString(), partitions: try r.readKafkaInt32Array())
    }

    func encode(into w: inout ByteWriter) throws {
        try w.writeKafkaString(topic)
        try w.writeKafkaInt32Array(partitions)
    }
}

/// ConsumerProtocolSubscription v0–3 (v1 ownedPartitions, v2 generationId, v3 rackId).
public struct ConsumerProtocolSubscription: Equatable, Sendable {
    public static let highestVersion: Int16 = 3
    /// The version the blob was written with (decode) or is to be written with (encode).
    public var version: Int16
    public var topics: [String]
    public var userData: [UInt8]?
    public var ownedPartitions: [ConsumerProtocolTopicPartitions]
    public var generationId: Int32
    public var rackId: String?

    public init(version: Int16 = 1, topics: [String], userData: [UInt8]? = nil,
                ownedPartitions: [ConsumerProtocolTopicPartitions] = [], generationId: Int32 = -1,
                rackId: String? = nil) {
        self.version = version
        self.topics = topics
        self.userData = userData
        self.ownedPartitions = ownedPartitions
        self.generationId = generationId
        self.rackId = rackId
    }

    public static func decode(_ bytes: [UInt8]) throws -> ConsumerProtocolSubscription {
        var r = ByteReader(bytes)
        let wireVersion = try r.readInt16()
        guard wireVersion >= 0 else { throw DecodeError.invalidValue("subscription version \(wireVersion)") }
        let v = min(wireVersion, highestVersion)
        var m = ConsumerProtocolSubscription(version: wireVersion, topics: try r.readKafkaStringArray())
        m.userData = try r.readKafkaNullableBytes()
        if v >= 1 { m.ownedPartitions = try r.readKafkaArray { try ConsumerProtocolTopicPartitions.decode(from: &$0) } }
        if v >= 2 { m.generationId = try r.readInt32() }
        if v >= 3 { m.rackId = try r.readKafkaNullableString() }
        return m
    }

    public func encode() throws -> [UInt8] {
        guard (0...Self.highestVersion).contains(version) else {
            throw KafkaEncodeError.unsupportedVersion(apiKey: -1, version: version)
        }
        var w = ByteWriter()
        w.writeInt16(version)
        try w.writeKafkaStringArray(topics)
        try w.writeKafkaNullableBytes(userData)
        if version >= 1 { try w.writeKafkaArray(ownedPartitions) { try $1.encode(into: &$0) } }
        if version >= 2 { w.writeInt32(generationId) }
        if version >= 3 { try w.writeKafkaNullableString(rackId) }
        return w.bytes
    }
}

/// ConsumerProtocolAssignment v0–3 (all versions share one layout; later ones only change semantics).
public struct ConsumerProtocolAssignment: Equatable, Sendable {
    public static let highestVersion: Int16 = 3
    public var version: Int16
    public var assignedPartitions: [ConsumerProtocolTopicPartitions]
    public var userData: [UInt8]?

    public init(version: Int16 = 1, assignedPartitions: [ConsumerProtocolTopicPartitions], userData: [UInt8]? = nil) {
        self.version = version
        self.assignedPartitions = assignedPartitions
        self.userData = userData
    }

    /// An empty SyncGroup assignment (zero bytes) means "nothing assigned", as Kafka treats it.
    public static func decode(_ bytes: [UInt8]) throws -> ConsumerProtocolAssignment {
        if bytes.isEmpty { return ConsumerProtocolAssignment(version: 0, assignedPartitions: []) }
        var r = ByteReader(bytes)
        let wireVersion = try r.readInt16()
        guard wireVersion >= 0 else { throw DecodeError.invalidValue("assignment version \(wireVersion)") }
        let parts = try r.readKafkaArray { try ConsumerProtocolTopicPartitions.decode(from: &$0) }
        return ConsumerProtocolAssignment(version: wireVersion, assignedPartitions: parts,
                                          userData: try r.readKafkaNullableBytes())
    }

    public func encode() throws -> [UInt8] {
        guard (0...Self.highestVersion).contains(version) else {
            throw KafkaEncodeError.unsupportedVersion(apiKey: -1, version: version)
        }
        var w = ByteWriter()
        w.writeInt16(version)
        try w.writeKafkaArray(assignedPartitions) { try $1.encode(into: &$0) }
        try w.writeKafkaNullableBytes(userData)
        return w.bytes
    }
}
