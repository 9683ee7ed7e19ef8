import Protocol

/// Per-log settings, named after Kafka's topic configs.
public struct LogConfig: Sendable, Equatable {
    public var segmentBytes = 1 << 30
    public var segmentMs: Int64 = 7 * 24 * 3_600_000
    /// Largest `.index` file; a segment rolls when its index would exceed it.
    public var segmentIndexBytes = 10 << 20
    public var indexIntervalBytes = 4096
    public var flushMessages = Int64.max
    public var flushMs = Int64.max
    /// -1: keep forever.
    public var retentionMs: Int64 = 7 * 24 * 3_600_000
    public var retentionBytes: Int64 = -1
    public var cleanupDelete = true
    public var cleanupCompact = false
    public var deleteRetentionMs: Int64 = 24 * 3_600_000
    public var maxMessageBytes = 1_048_588
    public var messageTimestampType: TimestampType = .createTime
    /// fsync a segment when it stops being the active one (what Kafka schedules on roll).
    public var flushOnRoll = true

    public init() {}

    /// Reads Kafka topic-config names (`segment.bytes`, `retention.ms`, `cleanup.policy`, ...) over
    /// `base`; unknown keys are ignored, bad values throw.
    public init(properties: [String: String], base: LogConfig = LogConfig()) throws {
        self = base
        func int(_ k: String) throws -> Int64? {
            guard let s = properties[k] else { return nil }
            guard let v = Int64(s.logTrimmed()) else { throw LogError.invalidArgument("\(k)=\(s) is not an integer") }
            return v
        }
        func positive(_ k: String) throws -> Int? {
            guard let v = try int(k) else { return nil }
            guard v > 0, v <= Int64(Int32.max) else { throw LogError.invalidArgument("\(k)=\(v) out of range") }
            return Int(v)
        }
        if let v = try positive("segment.bytes") { segmentBytes = v }
        if let v = try int("segment.ms") { segmentMs = max(1, v) }
        if let v = try positive("segment.index.bytes") { segmentIndexBytes = v }
        if let v = try positive("index.interval.bytes") { indexIntervalBytes = v }
        if let v = try int("flush.messages") { flushMessages = max(1, v) }
        if let v = try int("flush.ms") { flushMs = max(0, v) }
        if let v = try int("retention.ms") { retentionMs = v }
        if let v = try int("retention.bytes") { retentionBytes = v }
        if let v = try int("delete.retention.ms") { deleteRetentionMs = max(0, v) }
        if let v = try positive("max.message.bytes") { maxMessageBytes = v }
        if let p = properties["cleanup.policy"] {
            let parts = p.split(separator: ",").map { String($0).logTrimmed() }
            guard !parts.isEmpty, parts.allSatisfy({ $0 == "delete" || $0 == "compact" }) else {
                throw LogError.invalidArgument("cleanup.policy=\(p)")
            }
            cleanupDelete = parts.contains("delete")
            cleanupCompact = parts.contains("compact")
        }
        if let t = properties["message.timestamp.type"] {
            switch t {
            case "CreateTime": messageTimestampType = .createTime
            case "LogAppendTime": messageTimestampType = .logAppendTime
            default: throw LogError.invalidArgument("message.timestamp.type=\(t)")
            }
        }
    }
}

extension String {
    func logTrimmed() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return String(s)
    }
}
