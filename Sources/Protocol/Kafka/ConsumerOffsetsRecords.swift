/// Key and value layouts of records in the `__consumer_offsets` topic (codecs only). Keys and values
/// start with an int16 version; key versions 0–1 are offset commits, 2 is group metadata.
/// Tombstones (null values) are a record-level concern and are not represented here.

public enum ConsumerOffsetsKey: Equatable, Sendable {
    case offsetCommit(group: String, topic: String, partition: Int32)
    case groupMetadata(group: String)

    public static func decode(_ bytes: [UInt8]) throws -> ConsumerOffsetsKey {
        var r = ByteReader(bytes)
        let version = try r.readInt16()
        switch version {
        case 0, 1:
            return .offsetCommit(group: try r.readKafkaString(), topic: try r.readKafkaString(),
                                 partition: try r.readInt32())
        case 2:
            return .groupMetadata(group: try r.readKafkaString())
        default:
            throw DecodeError.invalidValue("__consumer_offsets key version \(version)")
        }
    }

    /// Offset commit keys are written at v1 (same layout as v0), group keys at v2.
    public func encode() throws -> [UInt8] {
        var w = ByteWriter()
        switch self {
        case let .offsetCommit(group, topic, partition):
            w.writeInt16(1)
            try w.writeKafkaString(group)
            try w.writeKafkaString(topic)
            w.writeInt32(partition)
        case let .groupMetadata(group):
            w.writeInt16(2)
            try w.writeKafkaString(group)
        }
        return w.bytes
    }
}

/// OffsetCommitValue v0–3 (v1 adds expireTimestamp, v2 drops it, v3 adds leaderEpoch).
public struct OffsetCommitValue: Equatable, Sendable {
    public var version: Int16
    public var offset: Int64
    public var leaderEpoch: Int32
    public var metadata: String
    public var commitTimestamp: Int64
    public var expireTimestamp: Int64

    public init(version: Int16 = 3, offset: Int64, leaderEpoch: Int32 = -1, metadata: String = "",
                commitTimestamp: Int64, expireTimestamp: Int64 = -1) {
        self.version = version
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTimestamp = commitTimestamp
        self.expireTimestamp = expireTimestamp
    }

    public static func decode(_ bytes: [UInt8]) throws -> OffsetCommitValue {
        var r = ByteReader(bytes)
        let v = try r.readInt16()
        guard (0...3).contains(v) else { throw DecodeError.invalidValue("OffsetCommitValue version \(v)") }
        var m = OffsetCommitValue(version: v, offset: try r.readInt64(), commitTimestamp: 0)
        if v >= 3 { m.leaderEpoch = try r.readInt32() }
        m.metadata = try r.readKafkaString()
        m.commitTimestamp = try r.readInt64()
        if v == 1 { m.expireTimestamp = try r.readInt64() }
        return m
    }

    public func encode() throws -> [UInt8] {
        guard (0...3).contains(version) else { throw KafkaEncodeError.unsupportedVersion(apiKey: -1, version: version) }
        var w = ByteWriter()
        w.writeInt16(version)
        w.writeInt64(offset)
        if version >= 3 { w.writeInt32(leaderEpoch) }
        try w.writeKafkaString(metadata)
        w.writeInt64(commitTimestamp)
        if version == 1 { w.writeInt64(expireTimestamp) }
        return w.bytes
    }
}

/// GroupMetadataValue v0–3 (v1 rebalanceTimeout, v2 currentStateTimestamp, v3 groupInstanceId).
public struct GroupMetadataValue: Equatable, Sendable {
    public struct Member: Equatable, Sendable {
        public var memberId: String
        public var groupInstanceId: String?
        public var clientId: String
        public var clientHost: String
        public var rebalanceTimeout: Int32
        public var sessionTimeout: Int32
        public var subscription: [UInt8]
        public var assignment: [UInt8]

        public init(memberId: String, groupInstanceId: String? = nil, clientId: String, clientHost: String,
                    rebalanceTimeout: Int32 = -1, sessionTimeout: Int32, subscription: [UInt8], assignment: [UInt8]) {
            self.memberId = memberId
            self.groupInstanceId = groupInstanceId
            self.clientId = clientId
            self.clientHost = clientHost
            self.rebalanceTimeout = rebalanceTimeout
            self.sessionTimeout = sessionTimeout
            self.subscription = subscription
            self.assignment = assignment
        }
    }

    public var version: Int16
    public var protocolType: String
    public var generation: Int32
    public var protocolName: String?
    public var leader: String?
    public var currentStateTimestamp: Int64
    public var members: [Member]

    public init(version: Int16 = 3, protocolType: String, generation: Int32, protocolName: String?,
                leader: String?, currentStateTimestamp: Int64 = -1, members: [Member]) {
        self.version = version
        self.protocolType = protocolType
        self.generation = generation
        self.protocolName = protocolName
        self.leader = leader
        self.currentStateTimestamp = currentStateTimestamp
        self.members = members
    }

    public static func decode(_ bytes: [UInt8]) throws -> GroupMetadataValue {
        var r = ByteReader(bytes)
        let v = try r.readInt16()
        guard (0...3).contains(v) else { throw DecodeError.invalidValue("GroupMetadataValue version \(v)") }
        var m = GroupMetadataValue(version: v, protocolType: try r.readKafkaString(), generation: try r.readInt32(),
                                   protocolName: try r.readKafkaNullableString(),
                                   leader: try r.readKafkaNullableString(), members: [])
        if v >= 2 { m.currentStateTimestamp = try r.readInt64() }
        m.members = try r.readKafkaArray { r in
            let memberId = try r.readKafkaString()
            let instance = v >= 3 ? try r.readKafkaNullableString() : nil
            let clientId = try r.readKafkaString()
            let host = try r.readKafkaString()
            let rebalance = v >= 1 ? try r.readInt32() : -1
            return Member(memberId: memberId, groupInstanceId: instance, clientId: clientId, clientHost: host,
                          rebalanceTimeout: rebalance, sessionTimeout: try r.readInt32(),
                          subscription: try r.readKafkaBytes(), assignment: try r.readKafkaBytes())
        }
        return m
    }

    public func encode() throws -> [UInt8] {
        guard (0...3).contains(version) else { throw KafkaEncodeError.unsupportedVersion(apiKey: -1, version: version) }
        var w = ByteWriter()
        w.writeInt16(version)
        try w.writeKafkaString(protocolType)
        w.writeInt32(generation)
        try w.writeKafkaNullableString(protocolName)
        try w.writeKafkaNullableString(leader)
        if version >= 2 { w.writeInt64(currentStateTimestamp) }
        let v = version
        try w.writeKafkaArray(members) { w, m in
            try w.writeKafkaString(m.memberId)
            if v >= 3 { try w.writeKafkaNullableString(m.groupInstanceId) }
            try w.writeKafkaString(m.clientId)
            try w.writeKafkaString(m.clientHost)
            if v >= 1 { w.writeInt32(m.rebalanceTimeout) }
            w.writeInt32(m.sessionTimeout)
            try w.writeKafkaBytes(m.subscription)
            try w.writeKafkaBytes(m.assignment)
        }
        return w.bytes
    }
}
