import Protocol

// JSON payloads of the znodes Kafka keeps in ZooKeeper. Field names and order follow Kafka's own
// writers so tools that read the znodes (zkCli, kafka scripts) see what they expect.

private func field(_ j: JSON, _ name: String) throws -> JSON {
    guard let v = j[name] else { throw JSONError.missingField(name) }
    return v
}

private func int(_ j: JSON, _ name: String) throws -> Int64 {
    guard let v = try field(j, name).intValue else { throw JSONError.wrongType(name) }
    return v
}

private func int32(_ j: JSON, _ name: String) throws -> Int32 {
    guard let v = Int32(exactly: try int(j, name)) else { throw JSONError.wrongType(name) }
    return v
}

private func string(_ j: JSON, _ name: String) throws -> String {
    guard let v = try field(j, name).stringValue else { throw JSONError.wrongType(name) }
    return v
}

/// Kafka writes some numbers as JSON strings ("timestamp", "block_start"); accept either spelling.
private func int64Loose(_ j: JSON, _ name: String) throws -> Int64 {
    let v = try field(j, name)
    if let i = v.intValue { return i }
    if let s = v.stringValue, let i = Int64(s) { return i }
    throw JSONError.wrongType(name)
}

private func int32Array(_ j: JSON, _ name: String) throws -> [Int32] {
    guard let items = try field(j, name).arrayValue else { throw JSONError.wrongType(name) }
    return try items.map {
        guard let i = $0.intValue, let v = Int32(exactly: i) else { throw JSONError.wrongType(name) }
        return v
    }
}

private func ints(_ v: [Int32]) -> JSON { .array(v.map { .int(Int64($0)) }) }

/// One advertised listener, "PLAINTEXT://host:9092".
public struct BrokerEndpoint: Equatable, Sendable {
    public var listener: String
    public var host: String
    public var port: Int32

    public init(listener: String = "PLAINTEXT", host: String, port: Int32) {
        self.listener = listener
        self.host = host
        self.port = port
    }

    public var uri: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(listener)://\(h):\(port)"
    }

    public static func parse(_ uri: String) throws -> BrokerEndpoint {
        let chars = Array(uri)
        var sepAt: Int?
        if chars.count >= 3 {
            for i in 0...(chars.count - 3) where chars[i] == ":" && chars[i + 1] == "/" && chars[i + 2] == "/" {
                sepAt = i
                break
            }
        }
        guard let sep = sepAt else { throw JSONError.wrongType("endpoint") }
        let listener = String(chars[..<sep])
        let rest = String(chars[(sep + 3)...])
        guard let colon = rest.lastIndex(of: ":"), let port = Int32(rest[rest.index(after: colon)...]),
              port >= 0, port <= 65535 else { throw JSONError.wrongType("endpoint") }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count >= 2 { host = String(host.dropFirst().dropLast()) }
        return BrokerEndpoint(listener: listener, host: host, port: port)
    }
}

/// `/brokers/ids/<id>` (ephemeral), registration version 5.
public struct BrokerRegistration: Equatable, Sendable {
    public var id: BrokerID
    public var endpoints: [BrokerEndpoint]
    public var rack: String?
    public var timestampMs: Int64
    public var jmxPort: Int32 = -1
    /// KIP-380 broker epoch: the czxid of the registration znode (not in its JSON; -1 unknown).
    /// The controller sends it in every request so a broker can refuse ones meant for an older
    /// registration of itself.
    public var epoch: Int64 = -1
    /// listener name → security protocol; listeners missing here are written as their own name.
    public var securityProtocols: [String: String] = [:]

    public init(id: BrokerID, endpoints: [BrokerEndpoint], rack: String? = nil, timestampMs: Int64) {
        self.id = id
        self.endpoints = endpoints
        self.rack = rack
        self.timestampMs = timestampMs
    }

    public var host: String { endpoints.first?.host ?? "" }
    public var port: Int32 { endpoints.first?.port ?? -1 }

    public func json() -> JSON {
        var protocolMap: [(String, JSON)] = []
        for e in endpoints where !protocolMap.contains(where: { $0.0 == e.listener }) {
            protocolMap.append((e.listener, .string(securityProtocols[e.listener] ?? e.listener)))
        }
        return .object([
            ("listener_security_protocol_map", .object(protocolMap)),
            ("endpoints", .array(endpoints.map { .string($0.uri) })),
            ("jmx_port", .int(Int64(jmxPort))),
            ("host", .string(host)),
            ("timestamp", .string(String(timestampMs))),
            ("port", .int(Int64(port))),
            ("version", .int(5)),
            ("rack", rack.map { .string($0) } ?? .null),
        ])
    }

    public func encoded() -> [UInt8] { json().encodedBytes() }

    public static func decode(id: BrokerID, _ bytes: [UInt8]) throws -> BrokerRegistration {
        let j = try JSON.parse(bytes)
        var endpoints: [BrokerEndpoint] = []
        if let list = j["endpoints"]?.arrayValue {
            endpoints = try list.map {
                guard let s = $0.stringValue else { throw JSONError.wrongType("endpoints") }
                return try BrokerEndpoint.parse(s)
            }
        }
        if endpoints.isEmpty {
            // Version 1 registrations only had host/port.
            endpoints = [BrokerEndpoint(host: try string(j, "host"), port: try int32(j, "port"))]
        }
        let rack = j["rack"]?.stringValue
        let ts = (try? int64Loose(j, "timestamp")) ?? -1
        var r = BrokerRegistration(id: id, endpoints: endpoints, rack: rack, timestampMs: ts)
        if let jmx = j["jmx_port"]?.intValue, let v = Int32(exactly: jmx) { r.jmxPort = v }
        return r
    }
}

/// `/controller` (ephemeral): who the controller is.
public struct ControllerRegistration: Equatable, Sendable {
    public var brokerId: BrokerID
    public var timestampMs: Int64

    public init(brokerId: BrokerID, timestampMs: Int64) {
        self.brokerId = brokerId
        self.timestampMs = timestampMs
    }

    public func encoded() -> [UInt8] {
        JSON.object([("version", .int(1)), ("brokerid", .int(Int64(brokerId))),
                     ("timestamp", .string(String(timestampMs)))]).encodedBytes()
    }

    public static func decode(_ bytes: [UInt8]) throws -> ControllerRegistration {
        let j = try JSON.parse(bytes)
        return ControllerRegistration(brokerId: try int32(j, "brokerid"),
                                      timestampMs: (try? int64Loose(j, "timestamp")) ?? -1)
    }
}

/// `/controller_epoch`: the epoch as plain decimal digits.
public enum ControllerEpochPayload {
    public static func encode(_ epoch: Int32) -> [UInt8] { Array(String(epoch).utf8) }

    public static func decode(_ bytes: [UInt8]) throws -> Int32 {
        let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        guard let v = Int32(text), v >= 0 else { throw JSONError.wrongType("controller_epoch") }
        return v
    }
}

/// `/brokers/topics/<t>`: partition → replicas, plus in-flight reassignment lists.
public struct TopicAssignment: Equatable, Sendable {
    public var partitions: [Int32: [BrokerID]]
    public var addingReplicas: [Int32: [BrokerID]] = [:]
    public var removingReplicas: [Int32: [BrokerID]] = [:]
    /// Kafka 2.8+ keeps the topic id here (version 3); older znodes have none until the controller adds one.
    public var topicId: KafkaUUID?

    public init(partitions: [Int32: [BrokerID]], topicId: KafkaUUID? = nil) {
        self.partitions = partitions
        self.topicId = topicId
    }

    public var partitionCount: Int { partitions.count }

    public func json() -> JSON {
        func map(_ m: [Int32: [BrokerID]]) -> JSON {
            .object(m.keys.sorted().map { (String($0), ints(m[$0] ?? [])) })
        }
        var fields: [(String, JSON)] = [("version", .int(topicId == nil ? 2 : 3)), ("partitions", map(partitions))]
        if let topicId { fields.append(("topic_id", .string(topicId.kafkaString))) }
        return .object(fields + [("adding_replicas", map(addingReplicas)), ("removing_replicas", map(removingReplicas))])
    }

    public func encoded() -> [UInt8] { json().encodedBytes() }

    public static func decode(_ bytes: [UInt8]) throws -> TopicAssignment {
        let j = try JSON.parse(bytes)
        func map(_ name: String, required: Bool) throws -> [Int32: [BrokerID]] {
            guard let obj = j[name] else {
                if required { throw JSONError.missingField(name) }
                return [:]
            }
            guard let fields = obj.objectValue else { throw JSONError.wrongType(name) }
            var out: [Int32: [BrokerID]] = [:]
            for (k, v) in fields {
                guard let p = Int32(k), p >= 0 else { throw JSONError.wrongType(name) }
                out[p] = try int32Array(.object([("r", v)]), "r")
            }
            return out
        }
        var t = TopicAssignment(partitions: try map("partitions", required: true))
        t.addingReplicas = try map("adding_replicas", required: false)
        t.removingReplicas = try map("removing_replicas", required: false)
        if let id = j["topic_id"] {
            guard let text = id.stringValue, let uuid = KafkaUUID(kafkaString: text) else { throw JSONError.wrongType("topic_id") }
            t.topicId = uuid
        }
        return t
    }
}

/// `/brokers/topics/<t>/partitions/<p>/state`: the leader, its epoch and the ISR.
public struct LeaderAndIsr: Equatable, Sendable {
    public var leader: BrokerID
    public var leaderEpoch: Int32
    public var isr: [BrokerID]
    public var controllerEpoch: Int32

    public init(leader: BrokerID, leaderEpoch: Int32, isr: [BrokerID], controllerEpoch: Int32) {
        self.leader = leader
        self.leaderEpoch = leaderEpoch
        self.isr = isr
        self.controllerEpoch = controllerEpoch
    }

    public func encoded() -> [UInt8] {
        JSON.object([("controller_epoch", .int(Int64(controllerEpoch))), ("leader", .int(Int64(leader))),
                     ("version", .int(1)), ("leader_epoch", .int(Int64(leaderEpoch))), ("isr", ints(isr))]).encodedBytes()
    }

    public static func decode(_ bytes: [UInt8]) throws -> LeaderAndIsr {
        let j = try JSON.parse(bytes)
        return LeaderAndIsr(leader: try int32(j, "leader"), leaderEpoch: try int32(j, "leader_epoch"),
                            isr: try int32Array(j, "isr"), controllerEpoch: try int32(j, "controller_epoch"))
    }
}

/// `/config/topics/<t>`: per-topic overrides.
public struct TopicConfigPayload: Equatable, Sendable {
    public var config: [String: String]

    public init(config: [String: String]) { self.config = config }

    public func encoded() -> [UInt8] {
        JSON.object([("version", .int(1)),
                     ("config", .object(config.keys.sorted().map { ($0, .string(config[$0] ?? "")) }))]).encodedBytes()
    }

    public static func decode(_ bytes: [UInt8]) throws -> TopicConfigPayload {
        let j = try JSON.parse(bytes)
        guard let fields = try field(j, "config").objectValue else { throw JSONError.wrongType("config") }
        var out: [String: String] = [:]
        for (k, v) in fields {
            guard let s = v.stringValue else { throw JSONError.wrongType(k) }
            out[k] = s
        }
        return TopicConfigPayload(config: out)
    }
}

/// `/config/changes/config_change_N`: tells every broker an entity's config changed.
public enum ConfigChangePayload {
    public static func encode(entityPath: String) -> [UInt8] {
        JSON.object([("version", .int(2)), ("entity_path", .string(entityPath))]).encodedBytes()
    }

    public static func decode(_ bytes: [UInt8]) throws -> String { try string(try JSON.parse(bytes), "entity_path") }
}

/// `/isr_change_notification/isr_change_N`: leaders tell the controller which ISRs they changed.
public enum IsrChangePayload {
    public static func encode(_ partitions: [TopicPartition]) -> [UInt8] {
        JSON.object([("version", .int(1)), ("partitions", .array(partitions.map {
            .object([("topic", .string($0.topic)), ("partition", .int(Int64($0.partition)))])
        }))]).encodedBytes()
    }

    public static func decode(_ bytes: [UInt8]) throws -> [TopicPartition] {
        let j = try JSON.parse(bytes)
        guard let items = try field(j, "partitions").arrayValue else { throw JSONError.wrongType("partitions") }
        return try items.map { TopicPartition(try string($0, "topic"), try int32($0, "partition")) }
    }
}

/// `/cluster/id`.
public struct ClusterIdPayload: Equatable, Sendable {
    public var id: String

    public init(id: String) { self.id = id }

    /// Kafka's Uuid text form: 16 bytes in URL-safe base64 without padding (22 characters).
    public init(uuidBytes: [UInt8]) {
        self.id = Base64URL.encodeNoPadding(uuidBytes)
    }

    public func encoded() -> [UInt8] {
        JSON.object([("version", .string("1")), ("id", .string(id))]).encodedBytes()
    }

    public static func decode(_ bytes: [UInt8]) throws -> ClusterIdPayload {
        ClusterIdPayload(id: try string(try JSON.parse(bytes), "id"))
    }
}

/// `/latest_producer_id_block`: the last block of producer ids handed to some broker.
public struct ProducerIdBlock: Equatable, Sendable {
    /// Kafka hands out producer ids in blocks of this many.
    public static let defaultSize: Int64 = 1000

    public var brokerId: BrokerID
    public var firstId: Int64
    public var lastId: Int64

    public init(brokerId: BrokerID, firstId: Int64, lastId: Int64) {
        self.brokerId = brokerId
        self.firstId = firstId
        self.lastId = lastId
    }

    /// The block after `previous` (nil when the znode is empty), for `brokerId`.
    public static func next(after previous: ProducerIdBlock?, brokerId: BrokerID, size: Int64 = defaultSize) -> ProducerIdBlock {
        let first = previous.map { $0.lastId + 1 } ?? 0
        return ProducerIdBlock(brokerId: brokerId, firstId: first, lastId: first + size - 1)
    }

    public func encoded() -> [UInt8] {
        JSON.object([("version", .int(1)), ("broker", .int(Int64(brokerId))),
                     ("block_start", .string(String(firstId))), ("block_end", .string(String(lastId)))]).encodedBytes()
    }

    public static func decode(_ bytes: [UInt8]) throws -> ProducerIdBlock {
        let j = try JSON.parse(bytes)
        let b = ProducerIdBlock(brokerId: try int32(j, "broker"), firstId: try int64Loose(j, "block_start"),
                                lastId: try int64Loose(j, "block_end"))
        guard b.firstId >= 0, b.lastId >= b.firstId else { throw JSONError.wrongType("block") }
        return b
    }
}

public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encodeNoPadding(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            if i + 1 < bytes.count { out.append(alphabet[Int(n >> 6 & 63)]) }
            if i + 2 < bytes.count { out.append(alphabet[Int(n & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

extension BrokerRegistration {
    /// The same registration content (the same broker process), whatever the broker epoch.
    public func sameBroker(as other: BrokerRegistration?) -> Bool {
        guard var o = other else { return false }
        o.epoch = epoch
        return o == self
    }
}
