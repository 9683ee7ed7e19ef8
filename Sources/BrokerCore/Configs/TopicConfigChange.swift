import Protocol

/// The deciding part of AlterConfigs / IncrementalAlterConfigs for topics: which names exist,
/// what values they take, and how an alteration turns the stored overrides into new ones. Names
/// and types are Kafka's topic configs (LogConfig); I/O-free.
public enum TopicConfigChange {
    /// IncrementalAlterConfigs' operation codes.
    public enum Operation: Int8, Sendable { case set = 0, delete = 1, append = 2, subtract = 3 }

    public struct Problem: Error, Equatable, Sendable {
        public var code: ErrorCode
        public var message: String
        public init(_ code: ErrorCode, _ message: String) {
            self.code = code
            self.message = message
        }
    }

    enum Kind { case long, int, positiveInt, bool, ratio, list(Set<String>?), choice(Set<String>), text }

    /// Kafka's topic config names and their value types.
    static let kinds: [String: Kind] = [
        "cleanup.policy": .list(["delete", "compact"]),
        "compression.type": .choice(["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
        "delete.retention.ms": .long, "file.delete.delay.ms": .long,
        "flush.messages": .long, "flush.ms": .long,
        "follower.replication.throttled.replicas": .list(nil), "leader.replication.throttled.replicas": .list(nil),
        "index.interval.bytes": .positiveInt, "max.compaction.lag.ms": .long, "max.message.bytes": .positiveInt,
        "message.downconversion.enable": .bool, "message.format.version": .text,
        "message.timestamp.difference.max.ms": .long, "message.timestamp.before.max.ms": .long, "message.timestamp.after.max.ms": .long,
        "message.timestamp.type": .choice(["CreateTime", "LogAppendTime"]),
        "min.cleanable.dirty.ratio": .ratio, "min.compaction.lag.ms": .long, "min.insync.replicas": .positiveInt,
        "preallocate": .bool, "retention.bytes": .long, "retention.ms": .long,
        "segment.bytes": .positiveInt, "segment.index.bytes": .positiveInt, "segment.jitter.ms": .long, "segment.ms": .long,
        "unclean.leader.election.enable": .bool,
    ]

    public static var names: Set<String> { Set(kinds.keys) }

    /// Bounds on one resource's alteration (network input).
    public static let maxEntries = 1000, maxValueBytes = 32 * 1024

    /// IncrementalAlterConfigs: applies `ops` (name, operation code, value) to `current`.
    public static func incremental(_ current: [String: String], _ ops: [(name: String, op: Int8, value: String?)],
                                   defaults: [String: String] = [:]) throws(Problem) -> [String: String] {
        guard ops.count <= maxEntries else { throw Problem(.invalidRequest, "at most \(maxEntries) configs per resource") }
        var seen: Set<String> = []
        for o in ops where !seen.insert(o.name).inserted {
            throw Problem(.invalidRequest, "Error due to duplicate config keys: \(o.name)")
        }
        var next = current
        for o in ops {
            guard let op = Operation(rawValue: o.op) else { throw Problem(.invalidRequest, "unknown config operation \(o.op) for \(o.name)") }
            guard let kind = kinds[o.name] else { throw Problem(.invalidConfig, "Unknown topic config name: \(o.name)") }
            switch op {
            case .set:
                guard let v = o.value else { throw Problem(.invalidRequest, "Null value not supported for : \(o.name)") }
                next[o.name] = v
            case .delete:
                next.removeValue(forKey: o.name)
            case .append, .subtract:
                guard case .list = kind else {
                    throw Problem(.invalidConfig, "Config value \(op == .append ? "append" : "subtract") is not allowed for config key: \(o.name)")
                }
                guard let v = o.value else { throw Problem(.invalidRequest, "Null value not supported for : \(o.name)") }
                var items = listItems(next[o.name] ?? defaults[o.name] ?? "")
                for item in listItems(v) {
                    if op == .append { if !items.contains(item) { items.append(item) } } else { items.removeAll { $0 == item } }
                }
                next[o.name] = items.joined(separator: ",")
            }
        }
        try validate(next)
        return next
    }

    /// AlterConfigs: the given entries become the whole set of overrides (null values dropped).
    public static func replace(_ entries: [(name: String, value: String?)]) throws(Problem) -> [String: String] {
        guard entries.count <= maxEntries else { throw Problem(.invalidRequest, "at most \(maxEntries) configs per resource") }
        var next: [String: String] = [:]
        for e in entries {
            guard next[e.name] == nil else { throw Problem(.invalidRequest, "Error due to duplicate config keys: \(e.name)") }
            guard kinds[e.name] != nil else { throw Problem(.invalidConfig, "Unknown topic config name: \(e.name)") }
            if let v = e.value { next[e.name] = v }
        }
        try validate(next)
        return next
    }

    /// Every name known and every value of its type.
    public static func validate(_ config: [String: String]) throws(Problem) {
        for (name, raw) in config.sorted(by: { $0.key < $1.key }) {
            guard let kind = kinds[name] else { throw Problem(.invalidConfig, "Unknown topic config name: \(name)") }
            guard raw.utf8.count <= maxValueBytes else { throw Problem(.invalidConfig, "value of \(name) too long") }
            let v = trimmed(raw)
            let bad = Problem(.invalidConfig, "Invalid value \(raw) for configuration \(name)")
            switch kind {
            case .long: guard Int64(v) != nil else { throw bad }
            case .int: guard Int32(v) != nil else { throw bad }
            case .positiveInt: guard let n = Int32(v), n >= 1 else { throw bad }
            case .bool: guard v.lowercased() == "true" || v.lowercased() == "false" else { throw bad }
            case .ratio: guard let d = Double(v), d >= 0, d <= 1 else { throw bad }
            case .choice(let allowed): guard allowed.contains(v) else { throw bad }
            case .list(let allowed):
                let items = listItems(v)
                if let allowed { guard !items.isEmpty, items.allSatisfy(allowed.contains) else { throw bad } }
            case .text: break
            }
        }
    }

    static func listItems(_ s: String) -> [String] {
        s.split(separator: ",").map { trimmed(String($0)) }.filter { !$0.isEmpty }
    }

    static func trimmed(_ s: String) -> String {
        var t = Substring(s)
        while let f = t.first, f.isWhitespace { t.removeFirst() }
        while let l = t.last, l.isWhitespace { t.removeLast() }
        return String(t)
    }
}
