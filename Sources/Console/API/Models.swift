import Observability
/// What the JSON API returns (encoded with JSONEncoder; the SPA reads these field names).

struct BrokerRow: Codable, Equatable {
    var id: Int32
    var host: String
    var port: Int
    var rack: String?
    /// False for a broker that replicas name but that is not registered (down or its session expired).
    var online: Bool
    var isController: Bool
    var leaderOf: Int
}

struct CoordServerRow: Codable, Equatable {
    var address: String
    var mode: String?
    var zxid: String?
    var epoch: Int64?
    var connections: Int?
    var znodes: Int?
    var error: String?
}

struct Overview: Codable {
    var clusterId: String?
    var controller: Int32
    var brokers: [BrokerRow]
    var topics: Int
    var partitions: Int
    var underReplicated: Int
    var offline: Int
    var coordServers: [CoordServerRow]
}

struct TopicRow: Codable, Equatable {
    var name: String
    var `internal`: Bool
    var partitions: Int
    var replicationFactor: Int
    var underReplicated: Int
    var offline: Int
}

struct PartitionRow: Codable, Equatable {
    var partition: Int32
    var leader: Int32
    var leaderEpoch: Int32
    var replicas: [Int32]
    var isr: [Int32]
    var offlineReplicas: [Int32]
    var underReplicated: Bool
    var startOffset: Int64?
    var highWatermark: Int64?
    var error: String?
}

struct ConfigRow: Codable, Equatable {
    var name: String
    var value: String?
    var isDefault: Bool
    var readOnly: Bool
    var sensitive: Bool
}

struct TopicDetail: Codable {
    var name: String
    var `internal`: Bool
    var partitions: [PartitionRow]
    var configs: [ConfigRow]
    var configError: String?
}

struct MessageRow: Codable, Equatable {
    var partition: Int32
    var offset: Int64
    var timestamp: Int64
    var key: String?
    var value: String?
    /// "text" when key and value are UTF-8; "base64" otherwise (the SPA shows hex then).
    var encoding: String
    var headers: [[String]]
}

struct MessagePage: Codable {
    var topic: String
    var partition: Int32
    var startOffset: Int64
    var highWatermark: Int64
    var from: Int64
    var nextOffset: Int64
    var scanned: Int
    var records: [MessageRow]
}

struct GroupRow: Codable, Equatable {
    var groupId: String
    var protocolType: String
    var state: String
}

struct MemberRow: Codable, Equatable {
    var memberId: String
    var clientId: String
    var host: String
    var assignment: [String]
}

struct LagRow: Codable, Equatable {
    var topic: String
    var partition: Int32
    var currentOffset: Int64?
    var logEndOffset: Int64
    var lag: Int64?
    var consumerId: String?
    var host: String?
    var clientId: String?
}

struct GroupDetail: Codable {
    var groupId: String
    var state: String
    var protocolType: String
    var `protocol`: String
    var members: [MemberRow]
    var offsets: [LagRow]
    var totalLag: Int64
}

struct ResetPreview: Codable {
    var groupId: String
    var topic: String
    var to: String
    var executed: Bool
    var offsets: [LagRow]
}

struct ZnodeStat: Codable, Equatable {
    var czxid: String
    var mzxid: String
    var pzxid: String
    var ctime: Int64
    var mtime: Int64
    var version: Int32
    var cversion: Int32
    var aversion: Int32
    var ephemeralOwner: String
    var dataLength: Int32
    var numChildren: Int32
}

struct ZnodeACL: Codable, Equatable {
    var perms: String
    var scheme: String
    var id: String
}

struct ZnodeView: Codable {
    var path: String
    var children: [String]
    /// base64 of the data; the SPA renders it as JSON, text or hex.
    var data: String
    var stat: ZnodeStat
    var acl: [ZnodeACL]
}

struct MergedEvent: Codable, Equatable {
    var daemon: String
    var ts: Int64
    var kind: String
    var detail: String
}

struct TimelinePage: Codable {
    var endpoints: [String]
    var errors: [String: String]
    var events: [MergedEvent]

    /// The same JSON JSONEncoder writes (sorted keys), built directly: 100,000 events encode in a
    /// fraction of JSONEncoder's time.
    var json: JSONValue {
        .object([
            ("endpoints", .array(endpoints.map { .string($0) })),
            ("errors", .object(errors.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("events", .array(events.map { e in
                .object([("daemon", .string(e.daemon)), ("detail", .string(e.detail)), ("kind", .string(e.kind)), ("ts", .int(e.ts))])
            })),
        ])
    }
}

struct ConsoleInfo: Codable {
    var readOnly: Bool
    var zookeeper: Bool
    var adminEndpoints: [String]
    var bootstrap: [String]
}

struct APIError: Codable {
    var error: String
}
