/// UpdateMetadata (key 6), versions 5–5, all non-flexible.
public struct UpdateMetadataRequest: KafkaRequestMessage {
    public typealias Response = UpdateMetadataResponse
    public static let api = KafkaAPI.updateMetadata
    public var controllerId: Int32
    public var controllerEpoch: Int32
    public var brokerEpoch: Int64
    public var topicStates: [UpdateMetadataTopicState]
    public var liveBrokers: [UpdateMetadataBroker]

    public init(
        controllerId: Int32 = 0,
        controllerEpoch: Int32 = 0,
        brokerEpoch: Int64 = -1,
        topicStates: [UpdateMetadataTopicState] = [],
        liveBrokers: [UpdateMetadataBroker] = []
    ) {
        self.controllerId = controllerId
        self.controllerEpoch = controllerEpoch
        self.brokerEpoch = brokerEpoch
        self.topicStates = topicStates
        self.liveBrokers = liveBrokers
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> UpdateMetadataRequest {
        try kafkaCheckDecode(api, version)
        var m = UpdateMetadataRequest()
        m.controllerId = try r.readInt32()
        m.controllerEpoch = try r.readInt32()
        m.brokerEpoch = try r.readInt64()
        m.topicStates = try r.readKafkaArray { r in try UpdateMetadataTopicState.decode(from: &r, version: version) }
        m.liveBrokers = try r.readKafkaArray { r in try UpdateMetadataBroker.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(controllerId)
        w.writeInt32(controllerEpoch)
        w.writeInt64(brokerEpoch)
        try w.writeKafkaArray(topicStates) { w, e in try e.encode(into: &w, version: version) }
        try w.writeKafkaArray(liveBrokers) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct UpdateMetadataPartitionState: Equatable, Sendable {
        public var partitionIndex: Int32
        public var controllerEpoch: Int32
        public var leader: Int32
        public var leaderEpoch: Int32
        public var isr: [Int32]
        public var zkVersion: Int32
        public var replicas: [Int32]
        public var offlineReplicas: [Int32]

        public init(
            partitionIndex: Int32 = 0,
            controllerEpoch: Int32 = 0,
            leader: Int32 = 0,
            leaderEpoch: Int32 = 0,
            isr: [Int32] = [],
            zkVersion: Int32 = 0,
            replicas: [Int32] = [],
            offlineReplicas: [Int32] = []
        ) {
            self.partitionIndex = partitionIndex
            self.controllerEpoch = controllerEpoch
            self.leader = leader
            self.leaderEpoch = leaderEpoch
            self.isr = isr
            self.zkVersion = zkVersion
            self.replicas = replicas
            self.offlineReplicas = offlineReplicas
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> UpdateMetadataPartitionState {
            var m = UpdateMetadataPartitionState()
            m.partitionIndex = try r.readInt32()
            m.controllerEpoch = try r.readInt32()
            m.leader = try r.readInt32()
            m.leaderEpoch = try r.readInt32()
            m.isr = try r.readKafkaInt32Array()
            m.zkVersion = try r.readInt32()
            m.replicas = try r.readKafkaInt32Array()
            m.offlineReplicas = try r.readKafkaInt32Array()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(partitionIndex)
            w.writeInt32(controllerEpoch)
            w.writeInt32(leader)
            w.writeInt32(leaderEpoch)
            try w.writeKafkaInt32Array(isr)
            w.writeInt32(zkVersion)
            try w.writeKafkaInt32Array(replicas)
            try w.writeKafkaInt32Array(offlineReplicas)
        }
    }

    public struct UpdateMetadataTopicState: Equatable, Sendable {
        public var topicName: String
        public var partitionStates: [UpdateMetadataPartitionState]

        public init(topicName: String = "", partitionStates: [UpdateMetadataPartitionState] = []) {
            self.topicName = topicName
            self.partitionStates = partitionStates
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> UpdateMetadataTopicState {
            var m = UpdateMetadataTopicState()
            m.topicName = try r.readKafkaString()
            m.partitionStates = try r.readKafkaArray { r in try UpdateMetadataPartitionState.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(topicName)
            try w.writeKafkaArray(partitionStates) { w, e in try e.encode(into: &w, version: version) }
        }
    }

    public struct UpdateMetadataEndpoint: Equatable, Sendable {
        public var port: Int32
        public var host: String
        public var listener: String
        public var securityProtocol: Int16

        public init(port: Int32 = 0, host: String = "", listener: String = "", securityProtocol: Int16 = 0) {
            self.port = port
            self.host = host
            self.listener = listener
            self.securityProtocol = securityProtocol
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> UpdateMetadataEndpoint {
            var m = UpdateMetadataEndpoint()
            m.port = try r.readInt32()
            m.host = try r.readKafkaString()
            m.listener = try r.readKafkaString()
            m.securityProtocol = try r.readInt16()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(port)
            try w.writeKafkaString(host)
            try w.writeKafkaString(listener)
            w.writeInt16(securityProtocol)
        }
    }

    public struct UpdateMetadataBroker: Equatable, Sendable {
        public var id: Int32
        public var endpoints: [UpdateMetadataEndpoint]
        public var rack: String?

        public init(id: Int32 = 0, endpoints: [UpdateMetadataEndpoint] = [], rack: String? = nil) {
            self.id = id
            self.endpoints = endpoints
            self.rack = rack
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> UpdateMetadataBroker {
            var m = UpdateMetadataBroker()
            m.id = try r.readInt32()
            m.endpoints = try r.readKafkaArray { r in try UpdateMetadataEndpoint.decode(from: &r, version: version) }
            m.rack = try r.readKafkaNullableString()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(id)
            try w.writeKafkaArray(endpoints) { w, e in try e.encode(into: &w, version: version) }
            try w.writeKafkaNullableString(rack)
        }
    }
}

public struct UpdateMetadataResponse: KafkaMessage {
    public static let api = KafkaAPI.updateMetadata
    public var errorCode: ErrorCode

    public init(errorCode: ErrorCode = .none) {
        self.errorCode = errorCode
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> UpdateMetadataResponse {
        try kafkaCheckDecode(api, version)
        var m = UpdateMetadataResponse()
        m.errorCode = try r.readErrorCode()
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeErrorCode(errorCode)
    }
}
