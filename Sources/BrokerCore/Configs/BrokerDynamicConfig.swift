import Protocol

/// The deciding part of dynamic broker configs (Kafka's ZK-mode `/config/brokers/<id>` and
/// `/config/brokers/<default>`): which keys may be altered at which level, whether brokerd can
/// apply them without a restart, value checks, and how the layers combine (dynamic per-broker >
/// dynamic cluster default > server.properties > built-in default) for DescribeConfigs. I/O-free.
public enum BrokerDynamicConfig {
    public typealias Problem = TopicConfigChange.Problem

    /// Where a dynamic value lives: one broker's entity or the cluster-wide `<default>` entity.
    public enum Level: Sendable, Equatable { case perBroker, clusterDefault }

    /// DescribeConfigs' config_source codes.
    public enum Source: Int8, Sendable {
        case dynamicBroker = 2, dynamicDefaultBroker = 3, staticBroker = 4, defaultConfig = 5
    }

    /// DescribeConfigs' config_type codes (Kafka's ConfigDef types).
    public enum ValueType: Int8, Sendable {
        case unknown = 0, boolean = 1, string = 2, int = 3, long = 5, double = 6, list = 7, className = 8, password = 9
    }

    /// What brokerd does with a key Kafka lets operators alter dynamically.
    public enum Handling: Sendable, Equatable {
        /// Applied to the running broker when the znode changes.
        case applied
        /// Stored and described, but configures a feature brokerd does not have (so it has no
        /// effect in server.properties either): the Kerberos (GSSAPI) login settings.
        case inert
        /// Dynamic in Kafka, but brokerd cannot change it while running: refused, not stored.
        case refused
    }

    public struct Spec: Sendable {
        public var type: ValueType
        public var perBrokerOnly: Bool
        public var handling: Handling
        /// Smallest accepted value for numbers; allowed items for choices and lists.
        var min: Int64?
        var choices: Set<String>?

        init(_ type: ValueType, _ handling: Handling, perBrokerOnly: Bool = false, min: Int64? = nil, choices: Set<String>? = nil) {
            self.type = type
            self.handling = handling
            self.perBrokerOnly = perBrokerOnly
            self.min = min
            self.choices = choices
        }
    }

    /// Keys brokerd applies live: the broker-level defaults of topic log settings, message.max.bytes,
    /// min.insync.replicas and the cleaner's backoff.
    static let appliedKeys: [String: Spec] = [
        "log.segment.bytes": Spec(.int, .applied, min: 14),
        "log.roll.ms": Spec(.long, .applied, min: 1), "log.roll.hours": Spec(.int, .applied, min: 1),
        "log.retention.ms": Spec(.long, .applied, min: -1), "log.retention.minutes": Spec(.int, .applied, min: -1),
        "log.retention.hours": Spec(.int, .applied, min: -1),
        "log.retention.bytes": Spec(.long, .applied),
        "log.index.interval.bytes": Spec(.int, .applied, min: 1), "log.index.size.max.bytes": Spec(.int, .applied, min: 4),
        "log.flush.interval.messages": Spec(.long, .applied, min: 1), "log.flush.interval.ms": Spec(.long, .applied, min: 0),
        "log.cleanup.policy": Spec(.list, .applied, choices: ["delete", "compact"]),
        "log.cleaner.delete.retention.ms": Spec(.long, .applied, min: 0),
        "log.cleaner.backoff.ms": Spec(.long, .applied, min: 0),
        "log.message.timestamp.type": Spec(.string, .applied, choices: ["CreateTime", "LogAppendTime"]),
        "message.max.bytes": Spec(.int, .applied, min: 1),
        "min.insync.replicas": Spec(.int, .applied, min: 1),
    ]

    /// Kafka's per-broker Kerberos login keys (DynamicListenerConfig); brokerd has no GSSAPI.
    static let inertKeys: [String: Spec] = [
        "sasl.kerberos.service.name": Spec(.string, .inert, perBrokerOnly: true),
        "sasl.kerberos.kinit.cmd": Spec(.string, .inert, perBrokerOnly: true),
        "sasl.kerberos.ticket.renew.window.factor": Spec(.double, .inert, perBrokerOnly: true),
        "sasl.kerberos.ticket.renew.jitter": Spec(.double, .inert, perBrokerOnly: true),
        "sasl.kerberos.min.time.before.relogin": Spec(.long, .inert, perBrokerOnly: true, min: 0),
        "sasl.kerberos.principal.to.local.rules": Spec(.list, .inert, perBrokerOnly: true),
    ]

    /// The rest of Kafka's dynamic broker configs (DynamicBrokerConfig's reconfigurables): accepted
    /// by Kafka, refused here because the running broker cannot change them.
    static let refusedClusterKeys: [String: ValueType] = [
        "log.roll.jitter.ms": .long, "log.roll.jitter.hours": .int, "log.cleaner.min.compaction.lag.ms": .long,
        "log.cleaner.max.compaction.lag.ms": .long, "log.segment.delete.delay.ms": .long, "log.cleaner.min.cleanable.ratio": .double,
        "unclean.leader.election.enable": .boolean, "compression.type": .string, "log.preallocate": .boolean,
        "log.message.timestamp.difference.max.ms": .long, "log.message.timestamp.before.max.ms": .long,
        "log.message.timestamp.after.max.ms": .long, "log.message.downconversion.enable": .boolean,
        "log.cleaner.threads": .int, "log.cleaner.io.max.bytes.per.second": .double, "log.cleaner.dedupe.buffer.size": .long,
        "log.cleaner.io.buffer.size": .int, "log.cleaner.io.buffer.load.factor": .double,
        "num.io.threads": .int, "num.replica.fetchers": .int, "num.recovery.threads.per.data.dir": .int, "background.threads": .int,
        "num.network.threads": .int, "max.connections": .int, "max.connection.creation.rate": .int,
        "max.connections.per.ip": .int, "max.connections.per.ip.overrides": .string, "metric.reporters": .list,
        "leader.replication.throttled.rate": .long, "follower.replication.throttled.rate": .long,
        "replica.alter.log.dirs.io.max.bytes.per.second": .long, "producer.id.expiration.ms": .int,
    ]

    /// Kafka's per-broker-only reconfigurables besides Kerberos: listeners and their TLS/SASL.
    static let refusedPerBrokerKeys: Set<String> = [
        "listeners", "advertised.listeners", "listener.security.protocol.map", "principal.builder.class",
        "sasl.mechanism.inter.broker.protocol", "sasl.jaas.config", "sasl.enabled.mechanisms",
        "sasl.login.refresh.window.factor", "sasl.login.refresh.window.jitter", "sasl.login.refresh.min.period.seconds",
        "sasl.login.refresh.buffer.seconds", "ssl.protocol", "ssl.provider", "ssl.cipher.suites", "ssl.enabled.protocols",
        "ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password", "ssl.keystore.key",
        "ssl.keystore.certificate.chain", "ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password",
        "ssl.truststore.certificates", "ssl.keymanager.algorithm", "ssl.trustmanager.algorithm",
        "ssl.endpoint.identification.algorithm", "ssl.secure.random.implementation", "ssl.client.auth", "ssl.engine.factory.class",
    ]

    /// How Kafka and brokerd treat `name` as a dynamic broker config; nil: not dynamic in Kafka.
    public static func spec(_ name: String) -> Spec? {
        if let s = appliedKeys[name] ?? inertKeys[name] { return s }
        if let t = refusedClusterKeys[name] { return Spec(t, .refused) }
        if refusedPerBrokerKeys.contains(name) || name.hasPrefix("listener.name.") {
            return Spec(SensitiveConfig.isSensitive(name) ? .password : .string, .refused, perBrokerOnly: true)
        }
        return nil
    }

    /// Names brokerd applies live (for docs and the operator's view).
    public static var appliedNames: [String] { appliedKeys.keys.sorted() }

    /// Kafka's synonyms, most specific first: the value of the first one set wins within a layer.
    static let synonymGroups: [[(name: String, unitMs: Int64)]] = [
        [("log.retention.ms", 1), ("log.retention.minutes", 60_000), ("log.retention.hours", 3_600_000)],
        [("log.roll.ms", 1), ("log.roll.hours", 3_600_000)],
    ]

    static func group(of name: String) -> [(name: String, unitMs: Int64)]? {
        synonymGroups.first { g in g.contains { $0.name == name } }
    }

    /// Bounds on one alteration (network input).
    public static let maxEntries = TopicConfigChange.maxEntries, maxValueBytes = TopicConfigChange.maxValueBytes

    // MARK: - Alterations

    /// IncrementalAlterConfigs on one broker entity: `ops` (name, operation code, value) applied to
    /// the entity's stored dynamic configs. APPEND/SUBTRACT start, as Kafka's, from the stored
    /// value or else the built-in default in `defaults`.
    public static func incremental(_ current: [String: String], _ ops: [(name: String, op: Int8, value: String?)],
                                   level: Level, defaults: [String: String] = [:]) throws(Problem) -> [String: String] {
        guard ops.count <= maxEntries else { throw Problem(.invalidRequest, "at most \(maxEntries) configs per resource") }
        var seen: Set<String> = []
        for o in ops where !seen.insert(o.name).inserted {
            throw Problem(.invalidRequest, "Error due to duplicate config keys: \(o.name)")
        }
        var next = current
        for o in ops {
            guard let op = TopicConfigChange.Operation(rawValue: o.op) else {
                throw Problem(.invalidRequest, "unknown config operation \(o.op) for \(o.name)")
            }
            switch op {
            case .set:
                guard let v = o.value else { throw Problem(.invalidRequest, "Null value not supported for : \(o.name)") }
                next[o.name] = v
            case .delete:
                next.removeValue(forKey: o.name)
            case .append, .subtract:
                guard spec(o.name)?.type == .list else {
                    throw Problem(.invalidConfig, "Config value \(op == .append ? "append" : "subtract") is not allowed for config key: \(o.name)")
                }
                guard let v = o.value else { throw Problem(.invalidRequest, "Null value not supported for : \(o.name)") }
                var items = TopicConfigChange.listItems(next[o.name] ?? defaults[o.name] ?? "")
                for item in TopicConfigChange.listItems(v) {
                    if op == .append { if !items.contains(item) { items.append(item) } } else { items.removeAll { $0 == item } }
                }
                next[o.name] = items.joined(separator: ",")
            }
        }
        // Only what is being set is checked: a deleted key needs no checking, and what is already
        // stored was checked when it was written.
        try validate(next.filter { k, _ in ops.contains { $0.name == k } }, level: level)
        return next
    }

    /// AlterConfigs on one broker entity: the entries become its whole dynamic config (null values dropped).
    public static func replace(_ entries: [(name: String, value: String?)], level: Level) throws(Problem) -> [String: String] {
        guard entries.count <= maxEntries else { throw Problem(.invalidRequest, "at most \(maxEntries) configs per resource") }
        var next: [String: String] = [:]
        var seen: Set<String> = []
        for e in entries {
            guard seen.insert(e.name).inserted else { throw Problem(.invalidRequest, "Error due to duplicate config keys: \(e.name)") }
            if let v = e.value { next[e.name] = v }
        }
        try validate(next, level: level)
        return next
    }

    /// Kafka's rules (INVALID_REQUEST, as its admin manager wraps them): only dynamic keys, per-broker
    /// ones not at the cluster default; then brokerd's: only keys it can apply (or that are inert),
    /// each value of its type and range.
    public static func validate(_ config: [String: String], level: Level) throws(Problem) {
        let names = config.keys.sorted()
        let nonDynamic = names.filter { spec($0) == nil }
        if !nonDynamic.isEmpty {
            throw Problem(.invalidRequest, "Cannot update these configs dynamically: Set(\(nonDynamic.joined(separator: ", ")))")
        }
        if level == .clusterDefault {
            let perBroker = names.filter { spec($0)?.perBrokerOnly == true }
            if !perBroker.isEmpty {
                throw Problem(.invalidRequest,
                              "Cannot update these configs at default cluster level, broker id must be specified: Set(\(perBroker.joined(separator: ", ")))")
            }
        }
        let refused = names.filter { spec($0)?.handling == .refused }
        if !refused.isEmpty {
            throw Problem(.invalidRequest, "brokerd cannot change these configs while running (set them in server.properties and restart): "
                          + "Set(\(refused.joined(separator: ", ")))")
        }
        for name in names {
            guard let s = spec(name), let raw = config[name] else { continue }
            try check(name, raw, s)
        }
    }

    static func check(_ name: String, _ raw: String, _ s: Spec) throws(Problem) {
        guard raw.utf8.count <= maxValueBytes else { throw Problem(.invalidRequest, "value of \(name) too long") }
        let v = TopicConfigChange.trimmed(raw)
        let bad = Problem(.invalidRequest, "Invalid value \(raw) for configuration \(name)")
        switch s.type {
        case .int:
            guard let n = Int32(v) else { throw bad }
            if let m = s.min, Int64(n) < m { throw Problem(.invalidRequest, "Invalid value \(raw) for configuration \(name): Value must be at least \(m)") }
        case .long:
            guard let n = Int64(v) else { throw bad }
            if let m = s.min, n < m { throw Problem(.invalidRequest, "Invalid value \(raw) for configuration \(name): Value must be at least \(m)") }
        case .double: guard Double(v) != nil else { throw bad }
        case .boolean: guard v.lowercased() == "true" || v.lowercased() == "false" else { throw bad }
        case .list:
            if let allowed = s.choices {
                let items = TopicConfigChange.listItems(v)
                guard !items.isEmpty, items.allSatisfy(allowed.contains) else { throw bad }
            }
        case .string, .className, .password, .unknown:
            if let allowed = s.choices { guard allowed.contains(v) else { throw bad } }
        }
    }

    // MARK: - Layers

    /// The four places a broker config value can come from.
    public struct Layers: Sendable, Equatable {
        public var perBroker: [String: String]
        public var clusterDefault: [String: String]
        public var staticProps: [String: String]
        public var defaults: [String: String]
        public init(perBroker: [String: String] = [:], clusterDefault: [String: String] = [:],
                    staticProps: [String: String] = [:], defaults: [String: String] = [:]) {
            self.perBroker = perBroker
            self.clusterDefault = clusterDefault
            self.staticProps = staticProps
            self.defaults = defaults
        }
    }

    /// The properties the broker runs with: server.properties overlaid with the cluster default,
    /// then this broker's own dynamic configs (key by key, as Kafka merges them). Stored keys
    /// brokerd refuses (written by hand or by a Kafka broker) are left out.
    public static func merged(_ l: Layers) -> [String: String] {
        var out = l.staticProps
        for layer in [l.clusterDefault, l.perBroker] {
            for (k, v) in layer where spec(k)?.handling != .refused { out[k] = v }
        }
        return out
    }

    /// A time setting in milliseconds from merged properties, by Kafka's synonym precedence
    /// (e.g. log.retention.ms over .minutes over .hours); nil when none is set or none parses.
    public static func millis(_ props: [String: String], _ head: String) -> Int64? {
        guard let g = group(of: head) else { return nil }
        for (name, unit) in g {
            if let raw = props[name], let n = Int64(TopicConfigChange.trimmed(raw)) {
                // Kafka: a negative retention means unlimited, whatever the unit.
                return n < 0 ? -1 : n.multipliedReportingOverflow(by: unit).partialValue
            }
        }
        return nil
    }

    public struct Synonym: Sendable, Equatable {
        public var name: String
        public var value: String?
        public var source: Source
    }

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var value: String?
        public var source: Source
        public var readOnly: Bool
        public var isSensitive: Bool
        public var type: ValueType
        /// Every layer that sets this key (or, for a synonym group's head, one of its synonyms).
        public var synonyms: [Synonym]
    }

    /// DescribeConfigs of a broker resource. For `.perBroker` (this broker's id): every key known
    /// from any layer; for `.clusterDefault` (resource name ""): only the cluster-default entity's
    /// keys, without per-broker synonyms, as Kafka answers. Sensitive values are never returned.
    public static func describe(_ l: Layers, level: Level) -> [Entry] {
        let names: Set<String> = level == .clusterDefault
            ? Set(l.clusterDefault.keys)
            : Set(l.defaults.keys).union(l.staticProps.keys).union(l.clusterDefault.keys).union(l.perBroker.keys)
        return names.sorted().map { entry($0, l, level: level) }
    }

    static func entry(_ name: String, _ l: Layers, level: Level) -> Entry {
        let sensitive = SensitiveConfig.isSensitive(name)
        // A group's head lists its synonyms too; any other name only itself.
        let synonymNames = group(of: name).flatMap { g in g.first?.name == name ? g.map(\.name) : nil } ?? [name]
        var synonyms: [Synonym] = []
        let layers: [([String: String], Source)] = [(l.perBroker, .dynamicBroker), (l.clusterDefault, .dynamicDefaultBroker),
                                                   (l.staticProps, .staticBroker)]
        for (layer, source) in layers where !(level == .clusterDefault && source == .dynamicBroker) {
            for n in synonymNames { if let v = layer[n] { synonyms.append(Synonym(name: n, value: sensitive ? nil : v, source: source)) } }
        }
        if let v = l.defaults[name] { synonyms.append(Synonym(name: name, value: sensitive ? nil : v, source: .defaultConfig)) }
        var value = synonyms.first?.value
        if let first = synonyms.first, first.name != name, let g = group(of: name),
           let from = g.first(where: { $0.name == first.name })?.unitMs, let to = g.first(where: { $0.name == name })?.unitMs,
           let n = Int64(TopicConfigChange.trimmed(first.value ?? "")) {
            value = "\(n < 0 ? -1 : n.multipliedReportingOverflow(by: from).partialValue / to)"  // a coarser synonym set it
        }
        let s = spec(name)
        let type: ValueType = sensitive ? .password : (s?.type ?? .unknown)
        return Entry(name: name, value: sensitive ? nil : value, source: synonyms.first?.source ?? .defaultConfig,
                     readOnly: s.map { $0.handling == .refused } ?? true, isSensitive: sensitive, type: type, synonyms: synonyms)
    }

    /// The entity name in `/config/brokers/<entity>` for a BROKER resource name: "" is the
    /// cluster-wide `<default>`; otherwise it must be this broker's id (Kafka's checks and messages).
    public static func entity(resourceName: String, localBroker: Int32) throws(Problem) -> (entity: String, level: Level) {
        if resourceName.isEmpty { return ("<default>", .clusterDefault) }
        guard let id = Int32(resourceName) else {
            throw Problem(.invalidRequest, "Broker id must be an integer, but it is: \(resourceName)")
        }
        guard id == localBroker else {
            throw Problem(.invalidRequest, "Unexpected broker id, expected \(localBroker) or empty string, but received \(resourceName)")
        }
        return ("\(id)", .perBroker)
    }
}

extension BrokerDynamicConfig {
    /// The znode writes of one alteration, as Kafka's AdminZkClient does them: the entity's
    /// `{"version":1,"config":{...}}` (conditional on the version read) and a sequential
    /// `config_change_` notification naming `brokers/<entity>`, in one multi.
    public static func writeOps(entity: String, config: [String: String], configZkVersion: Int32?) -> [ZkOp] {
        let data = TopicConfigPayload(config: config).encoded()
        let path = ZkPaths.brokerConfig(entity)
        let write: ZkOp = configZkVersion.map { .setData(path: path, data: data, expectedVersion: $0) } ?? .create(path: path, data: data)
        return [write, .create(path: ZkPaths.configChangePrefix, data: ConfigChangePayload.encode(entityPath: "brokers/\(entity)"), sequential: true)]
    }
}
