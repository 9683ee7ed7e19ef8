/// LeaderAndIsr (key 4), versions 2–2, all non-flexible.
public struct LeaderAndIsrRequest: KafkaRequestMessage {
    public typealias Response = LeaderAndIsrResponse
    public static let api = KafkaAPI.leaderAndIsr
    public var controllerId: Int32
    public var controllerEpoch: Int32
    public var brokerEpoch: Int64
    public var topicStates: [LeaderAndIsrTopicState]
    public var liveLeaders: [LeaderAndIsrLiveLeader]

    public init(
        controllerId: Int32 = 0,
        controllerEpoch: Int32 = 0,
        brokerEpoch: Int64 = -1,
        topicStates: [LeaderAndIsrTopicState] = [],
        liveLeaders: [LeaderAndIsrLiveLeader] = []
    ) {
        self.controllerId = controllerId
        self.controllerEpoch = controllerEpoch
        self.brokerEpoch = brokerEpoch
        self.topicStates = topicStates
        self.liveLeaders = liveLeaders
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> LeaderAndIsrRequest {
        try kafkaCheckDecode(api, version)
        var m = LeaderAndIsrRequest()
        m.controllerId = try r.readInt32()
        m.controllerEpoch = try r.readInt32()
        m.brokerEpoch = try r.readInt64()
        m.topicStates = try r.readKafkaArray { r in try LeaderAndIsrTopicState.decode(from: &r, version: version) }
        m.liveLeaders = try r.readKafkaArray { r in try LeaderAndIsrLiveLeader.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeInt32(controllerId)
        w.writeInt32(controllerEpoch)
        w.writeInt64(brokerEpoch)
        try w.writeKafkaArray(topicStates) { w, e in try e.encode(into: &w, version: version) }
        try w.writeKafkaArray(liveLeaders) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct LeaderAndIsrPartitionState: Equatable, Sendable {
        public var partitionIndex: Int32
        public var controllerEpoch: Int32
        public var leader: Int32
        public var leaderEpoch: Int32
        public var isr: [Int32]
        public var partitionEpoch: Int32
        public var replicas: [Int32]
        public var isNew: Bool

        public init(
            partitionIndex: Int32 = 0,
            controllerEpoch: Int32 = 0,
            leader: Int32 = 0,
            leaderEpoch: Int32 = 0,
            isr: [Int32] = [],
            partitionEpoch: Int32 = 0,
            replicas: [Int32] = [],
            isNew: Bool = false
        ) {
            self.partitionIndex = partitionIndex
            self.controllerEpoch = controllerEpoch
            self.leader = leader
            self.leaderEpoch = leaderEpoch
            self.isr = isr
            self.partitionEpoch = partitionEpoch
            self.replicas = replicas
            self.isNew = isNew
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> LeaderAndIsrPartitionState {
            var m = LeaderAndIsrPartitionState()
            m.partitionIndex = try r.readInt32()
            m.controllerEpoch = try r.readInt32()
            m.leader = try r.readInt32()
            m.leaderEpoch = try r.readInt32()
            m.isr = try r.readKafkaInt32Array()
            m.partitionEpoch = try r.readInt32()
            m.replicas = try r.readKafkaInt32Array()
            m.isNew = try r.readBool()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(partitionIndex)
            w.writeInt32(controllerEpoch)
            w.writeInt32(leader)
            w.writeInt32(leaderEpoch)
            try w.writeKafkaInt32Array(isr)
            w.writeInt32(partitionEpoch)
            try w.writeKafkaInt32Array(replicas)
            w.writeBool(isNew)
        }
    }

    public struct LeaderAndIsrTopicState: Equatable, Sendable {
        public var topicName: String
        public var partitionStates: [LeaderAndIsrPartitionState]

        public init(topicName: String = "", partitionStates: [LeaderAndIsrPartitionState] = []) {
            self.topicName = topicName
            self.partitionStates = partitionStates
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> LeaderAndIsrTopicState {
            var m = LeaderAndIsrTopicState()
            m.topicName = try r.readKafkaString()
            m.partitionStates = try r.readKafkaArray { r in try LeaderAndIsrPartitionState.decode(from: &r, version: version) }
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(topicName)
            try w.writeKafkaArray(partitionStates) { w, e in try e.encode(into: &w, version: version) }
        }
    }

    public struct LeaderAndIsrLiveLeader: Equatable, Sendable {
        public var brokerId: Int32
        public var hostName: String
        public var port: Int32

        public init(brokerId: Int32 = 0, hostName: String = "", port: Int32 = 0) {
            self.brokerId = brokerId
            self.hostName = hostName
            self.port = port
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> LeaderAndIsrLiveLeader {
            var m = LeaderAndIsrLiveLeader()
            m.brokerId = try r.readInt32()
            m.hostName = try r.readKafkaString()
            m.port = try r.readInt32()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            w.writeInt32(brokerId)
            try w.writeKafkaString(hostName)
            w.writeInt32(port)
        }
    }
}

public struct LeaderAndIsrResponse: KafkaMessage {
    public static let api = KafkaAPI.leaderAndIsr
    public var errorCode: ErrorCode
    public var partitionErrors: [LeaderAndIsrPartitionError]

    public init(errorCode: ErrorCode = .none, partitionErrors: [LeaderAndIsrPartitionError] = []) {
        self.errorCode = errorCode
        self.partitionErrors = partitionErrors
    }

    public static func decode(from r: inout ByteReader, version: Int16) throws -> LeaderAndIsrResponse {
        try kafkaCheckDecode(api, version)
        var m = LeaderAndIsrResponse()
        m.errorCode = try r.readErrorCode()
        m.partitionErrors = try r.readKafkaArray { r in try LeaderAndIsrPartitionError.decode(from: &r, version: version) }
        return m
    }

    public func encode(into w: inout ByteWriter, version: Int16) throws {
        try kafkaCheckEncode(Self.api, version)
        w.writeErrorCode(errorCode)
        try w.writeKafkaArray(partitionErrors) { w, e in try e.encode(into: &w, version: version) }
    }

    public struct LeaderAndIsrPartitionError: Equatable, Sendable {
        public var topicName: String
        public var partitionIndex: Int32
        public var errorCode: ErrorCode

        public init(topicName: String = "", partitionIndex: Int32 = 0, errorCode: ErrorCode = .none) {
            self.topicName = topicName
            self.partitionIndex = partitionIndex
            self.errorCode = errorCode
        }

        public static func decode(from r: inout ByteReader, version: Int16) throws -> LeaderAndIsrPartitionError {
            var m = LeaderAndIsrPartitionError()
            m.topicName = try r.readKafkaString()
            m.partitionIndex = try r.readInt32()
            m.errorCode = try r.readErrorCode()
            return m
        }

        public func encode(into w: inout ByteWriter, version: Int16) throws {
            try w.writeKafkaString(topicName)
            w.writeInt32(partitionIndex)
            w.writeErrorCode(errorCode)
        }
    }
}
