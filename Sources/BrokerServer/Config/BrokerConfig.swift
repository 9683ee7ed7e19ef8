import CoordClient
import Transport

/// A broker's configuration, read from Kafka's `server.properties` keys.
public struct BrokerConfig: Sendable {
    public struct Endpoint: Sendable, Equatable {
        public var name: String
        public var host: String
        public var port: Int
    }

    public var brokerID: Int32 = -1
    public var listeners: [Endpoint] = [Endpoint(name: "PLAINTEXT", host: "", port: 9092)]
    public var advertisedListeners: [Endpoint]? = nil
    public var logDirs: [String] = ["/tmp/kafka-logs"]
    /// coordd ensemble ("h1:p1,h2:p2/chroot").
    public var zookeeperConnect: String = ""
    public var zookeeperSessionTimeoutMs = 18000
    public var zookeeperConnectionTimeoutMs = 18000
    /// TLS to coordd's secureClientPort (Kafka's zookeeper.ssl.* keys); nil: plaintext.
    public var zookeeperTLS: TLSConfig?
    /// zookeeper.set.acl: znodes are created with Kafka's secure ACLs (ZkSecureACLs); needs `zookeeperSasl`.
    public var zookeeperSetACL = false
    /// The SASL login to coordd from the JAAS file in KAFKA_OPTS (see `resolveZooKeeperSasl`); nil: none.
    public var zookeeperSasl: ZooKeeperSasl?
    public var rack: String? = nil
    public var numPartitions = 1
    public var defaultReplicationFactor = 1
    public var minInsyncReplicas = 1
    public var replicaLagTimeMaxMs: Int64 = 30000
    public var replicaFetchWaitMaxMs = 500
    public var replicaFetchMinBytes = 1
    public var replicaFetchMaxBytes = 1 << 20
    public var autoCreateTopicsEnable = true
    public var deleteTopicEnable = true
    public var uncleanLeaderElectionEnable = false
    public var autoLeaderRebalanceEnable = true
    public var leaderImbalanceCheckIntervalSeconds = 300
    public var numNetworkThreads = 3
    public var numIOThreads = 8
    public var queuedMaxRequests = 500
    public var socketRequestMaxBytes = 104_857_600
    public var messageMaxBytes = 1_048_588
    public var logSegmentBytes: Int64 = 1 << 30
    public var logSegmentMs: Int64 = 7 * 24 * 3600 * 1000
    public var logRetentionMs: Int64 = 7 * 24 * 3600 * 1000
    public var logRetentionBytes: Int64 = -1
    public var logRetentionCheckIntervalMs: Int64 = 300_000
    public var logIndexIntervalBytes = 4096
    public var logFlushIntervalMessages: Int64 = Int64.max
    public var logFlushIntervalMs: Int64? = nil
    public var logCleanupPolicy = "delete"
    public var offsetsTopicNumPartitions = 50
    public var offsetsTopicReplicationFactor = 3
    public var offsetsRetentionMinutes = 10080
    /// The transaction coordinator's `__transaction_state` topic and limits (Kafka's names and defaults).
    public var transactionStateLogNumPartitions = 50
    public var transactionStateLogReplicationFactor = 3
    public var transactionMaxTimeoutMs = 900_000
    public var transactionalIdExpirationMs = 604_800_000
    /// How often timed-out transactions are looked for and aborted.
    public var transactionAbortTimedOutCheckIntervalMs = 10_000
    public var groupInitialRebalanceDelayMs = 3000
    public var groupMinSessionTimeoutMs = 6000
    public var groupMaxSessionTimeoutMs = 1_800_000
    public var controlledShutdownEnable = true
    public var controlledShutdownMaxRetries = 3
    public var controlledShutdownRetryBackoffMs = 5000
    public var brokerIDGenerationEnable = true
    /// Fault controls on the admin listener (brokerd's own keys; docs/operations.md).
    public var faultsEnable = false
    public var faultsToken: String?
    /// Every key as given, so DescribeConfigs can answer with what the operator wrote.
    public var raw: [String: String] = [:]
    /// Listeners' security protocols, SASL mechanisms and users, the inter-broker listener.
    public var security = SecurityConfig()
    /// Keys brokerd does not know (not security settings: those stop startup); brokerd warns about them.
    public var unknownKeys: [String] = []
    /// Keys read elsewhere from `raw`.
    static let rawOnlyKeys: Set<String> = ["admin.listener", "log.cleaner.backoff.ms", "log.cleaner.enable"]

    public init() {}

    public struct ConfigError: Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ d: String) { description = d }
    }

    /// The listener other brokers connect to (inter.broker.listener.name).
    public var interBrokerListener: Endpoint? { effectiveAdvertisedListeners.first { $0.name == security.interBrokerListenerName } }

    /// Endpoints clients and other brokers are told to use.
    public var effectiveAdvertisedListeners: [Endpoint] {
        (advertisedListeners ?? listeners).map { e in
            var e = e
            if e.host.isEmpty || e.host == "0.0.0.0" { e.host = "127.0.0.1" }
            return e
        }
    }

    /// Parses `server.properties` text; unknown keys are kept in `raw` and ignored, as Kafka warns and ignores.
    public static func parse(_ text: String) throws -> BrokerConfig {
        var c = BrokerConfig()
        var zookeeperTLSKeys: [String: String] = [:]
        for (key, value, line) in JavaProperties.parse(text) {
            c.raw[key] = value
            func int() throws -> Int {
                guard let v = Int(value) else { throw ConfigError("line \(line): \(key)=\(value) is not an integer") }
                return v
            }
            func bool() throws -> Bool {
                switch value.lowercased() {
                case "true": return true
                case "false": return false
                default: throw ConfigError("line \(line): \(key)=\(value) is not true/false")
                }
            }
            switch key {
            case "broker.id": c.brokerID = Int32(clamping: try int())
            case "listeners": c.listeners = try parseListeners(value, line: line)
            case "advertised.listeners": c.advertisedListeners = try parseListeners(value, line: line)
            case "log.dirs", "log.dir": c.logDirs = value.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
            case "zookeeper.connect": c.zookeeperConnect = value
            case "zookeeper.session.timeout.ms": c.zookeeperSessionTimeoutMs = try int()
            case "zookeeper.connection.timeout.ms": c.zookeeperConnectionTimeoutMs = try int()
            case let k where ZooKeeperClientTLS.isKey(k): zookeeperTLSKeys[k] = value
            case "zookeeper.set.acl": c.zookeeperSetACL = try bool()
            case "broker.rack": c.rack = value.isEmpty ? nil : value
            case "num.partitions": c.numPartitions = try int()
            case "default.replication.factor": c.defaultReplicationFactor = try int()
            case "min.insync.replicas": c.minInsyncReplicas = try int()
            case "replica.lag.time.max.ms": c.replicaLagTimeMaxMs = Int64(try int())
            case "replica.fetch.wait.max.ms": c.replicaFetchWaitMaxMs = try int()
            case "replica.fetch.min.bytes": c.replicaFetchMinBytes = try int()
            case "replica.fetch.max.bytes": c.replicaFetchMaxBytes = try int()
            case "auto.create.topics.enable": c.autoCreateTopicsEnable = try bool()
            case "delete.topic.enable": c.deleteTopicEnable = try bool()
            case "unclean.leader.election.enable": c.uncleanLeaderElectionEnable = try bool()
            case "auto.leader.rebalance.enable": c.autoLeaderRebalanceEnable = try bool()
            case "leader.imbalance.check.interval.seconds": c.leaderImbalanceCheckIntervalSeconds = try int()
            case "num.network.threads": c.numNetworkThreads = try int()
            case "num.io.threads": c.numIOThreads = try int()
            case "queued.max.requests": c.queuedMaxRequests = try int()
            case "socket.request.max.bytes": c.socketRequestMaxBytes = try int()
            case "message.max.bytes": c.messageMaxBytes = try int()
            case "log.segment.bytes": c.logSegmentBytes = Int64(try int())
            case "log.roll.ms": c.logSegmentMs = Int64(try int())
            case "log.roll.hours": c.logSegmentMs = Int64(try int()) * 3_600_000
            case "log.retention.ms": c.logRetentionMs = Int64(try int())
            case "log.retention.minutes": c.logRetentionMs = Int64(try int()) * 60_000
            case "log.retention.hours": c.logRetentionMs = Int64(try int()) * 3_600_000
            case "log.retention.bytes": c.logRetentionBytes = Int64(try int())
            case "log.retention.check.interval.ms": c.logRetentionCheckIntervalMs = Int64(try int())
            case "log.index.interval.bytes": c.logIndexIntervalBytes = try int()
            case "log.flush.interval.messages": c.logFlushIntervalMessages = Int64(try int())
            case "log.flush.interval.ms": c.logFlushIntervalMs = Int64(try int())
            case "log.cleanup.policy": c.logCleanupPolicy = value
            case "offsets.topic.num.partitions": c.offsetsTopicNumPartitions = try int()
            case "offsets.topic.replication.factor": c.offsetsTopicReplicationFactor = try int()
            case "offsets.retention.minutes": c.offsetsRetentionMinutes = try int()
            case "transaction.state.log.num.partitions": c.transactionStateLogNumPartitions = try int()
            case "transaction.state.log.replication.factor": c.transactionStateLogReplicationFactor = try int()
            case "transaction.max.timeout.ms": c.transactionMaxTimeoutMs = try int()
            case "transactional.id.expiration.ms": c.transactionalIdExpirationMs = try int()
            case "transaction.abort.timed.out.transaction.cleanup.interval.ms": c.transactionAbortTimedOutCheckIntervalMs = try int()
            case "group.initial.rebalance.delay.ms": c.groupInitialRebalanceDelayMs = try int()
            case "group.min.session.timeout.ms": c.groupMinSessionTimeoutMs = try int()
            case "group.max.session.timeout.ms": c.groupMaxSessionTimeoutMs = try int()
            case "controlled.shutdown.enable": c.controlledShutdownEnable = try bool()
            case "controlled.shutdown.max.retries", "controlled.shutdown.retry.backoff.ms":
                let v = try int()
                guard (0...86_400_000).contains(v) else { throw ConfigError("line \(line): \(key)=\(value) must be 0 or more") }
                if key == "controlled.shutdown.max.retries" { c.controlledShutdownMaxRetries = v } else { c.controlledShutdownRetryBackoffMs = v }
            case "broker.id.generation.enable": c.brokerIDGenerationEnable = try bool()
            case "faults.enable": c.faultsEnable = try bool()
            case "faults.token":
                guard value.utf8.count >= 16 else { throw ConfigError("line \(line): faults.token must be at least 16 characters") }
                c.faultsToken = value
            default:
                if !SecurityConfig.isSecurityKey(key) && !rawOnlyKeys.contains(key) { c.unknownKeys.append(key) }
            }
        }
        do { c.zookeeperTLS = try ZooKeeperClientTLS.config(zookeeperTLSKeys, program: "brokerd") } catch { throw ConfigError(error.description) }
        c.security = try SecurityConfig.parse(c.raw, listenerNames: c.listeners.map(\.name),
                                              advertisedNames: c.advertisedListeners?.map(\.name) ?? [])
        try c.validate()
        return c
    }

    func validate() throws {
        if brokerID < 0 { throw ConfigError("broker.id must be set to a non-negative integer") }
        if zookeeperConnect.isEmpty { throw ConfigError("zookeeper.connect must be set (the coordd ensemble, e.g. 127.0.0.1:2181)") }
        if logDirs.isEmpty { throw ConfigError("log.dirs must name at least one directory") }
        if listeners.isEmpty { throw ConfigError("listeners must name at least one NAME://host:port") }
        if numPartitions < 1 { throw ConfigError("num.partitions must be at least 1") }
        if defaultReplicationFactor < 1 { throw ConfigError("default.replication.factor must be at least 1") }
        if minInsyncReplicas < 1 { throw ConfigError("min.insync.replicas must be at least 1") }
        if numNetworkThreads < 1 || numIOThreads < 1 { throw ConfigError("num.network.threads and num.io.threads must be at least 1") }
        if offsetsTopicNumPartitions < 1 { throw ConfigError("offsets.topic.num.partitions must be at least 1") }
        if transactionStateLogNumPartitions < 1 { throw ConfigError("transaction.state.log.num.partitions must be at least 1") }
        if transactionStateLogReplicationFactor < 1 { throw ConfigError("transaction.state.log.replication.factor must be at least 1") }
        if transactionMaxTimeoutMs < 1 { throw ConfigError("transaction.max.timeout.ms must be at least 1") }
        if transactionalIdExpirationMs < 1 { throw ConfigError("transactional.id.expiration.ms must be at least 1") }
        if transactionAbortTimedOutCheckIntervalMs < 1 {
            throw ConfigError("transaction.abort.timed.out.transaction.cleanup.interval.ms must be at least 1")
        }
    }

    static func parseListeners(_ value: String, line: Int) throws -> [Endpoint] {
        var out: [Endpoint] = []
        for part in value.split(separator: ",") {
            let s = String(part).trimmed
            guard let r = s.range(of: "://") else { throw ConfigError("line \(line): listener '\(s)' is not NAME://host:port") }
            let name = String(s[..<r.lowerBound])
            let hp = String(s[r.upperBound...])
            guard let colon = hp.lastIndex(of: ":"), let port = Int(hp[hp.index(after: colon)...]), port >= 0, port < 65536 else {
                throw ConfigError("line \(line): listener '\(s)' has no valid port")
            }
            var host = String(hp[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw ConfigError("line \(line): listener name '\(name)' is not valid")
            }
            out.append(Endpoint(name: name, host: host, port: port))
        }
        return out
    }

    /// Splits `zookeeper.connect` into servers and chroot: "h1:p1,h2:p2/kafka".
    public var coordServersAndChroot: (servers: [(host: String, port: Int)], chroot: String) {
        var s = zookeeperConnect
        var chroot = ""
        if let slash = s.firstIndex(of: "/") {
            chroot = String(s[slash...])
            s = String(s[..<slash])
            if chroot == "/" { chroot = "" }
        }
        let servers = s.split(separator: ",").compactMap { p -> (String, Int)? in
            let t = String(p).trimmed
            guard let colon = t.lastIndex(of: ":"), let port = Int(t[t.index(after: colon)...]) else { return (t, 2181) }
            return (String(t[..<colon]), port)
        }
        return (servers, chroot)
    }
}
