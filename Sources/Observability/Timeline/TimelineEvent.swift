/// One coordination decision or observation, ordered by the logical clocks it carries (epoch and
/// zxid for coordd; controller epoch, leader epoch, offsets for brokerd) and stamped with wall time.
public struct TimelineEvent: Sendable, Equatable {
    /// Per daemon, increasing across restarts (the file is reloaded).
    public var seq: UInt64
    /// Wall time, milliseconds since the epoch.
    public var time: Int64
    /// Which daemon recorded it: "coordd.1", "broker.2".
    public var daemon: String
    /// Dotted kind: "election.started", "partition.leader_changed".
    public var kind: String
    public var clocks: [(String, Int64)]
    public var fields: [(String, JSONValue)]

    public init(seq: UInt64 = 0, time: Int64, daemon: String, kind: String, clocks: [(String, Int64)] = [], fields: [(String, JSONValue)] = []) {
        self.seq = seq
        self.time = time
        self.daemon = daemon
        self.kind = kind
        self.clocks = clocks
        self.fields = fields
    }

    public static func == (a: TimelineEvent, b: TimelineEvent) -> Bool {
        a.seq == b.seq && a.time == b.time && a.daemon == b.daemon && a.kind == b.kind
            && a.clocks.elementsEqual(b.clocks, by: { $0 == $1 }) && JSONValue.object(a.fields) == JSONValue.object(b.fields)
    }

    public var json: JSONValue {
        .object([
            ("seq", .int(Int64(seq))), ("time", .int(time)), ("daemon", .string(daemon)), ("kind", .string(kind)),
            ("clocks", .object(clocks.map { ($0.0, .int($0.1)) })), ("fields", .object(fields)),
        ])
    }

    public init?(json: JSONValue) {
        guard let seq = json["seq"]?.int, seq >= 0, let time = json["time"]?.int, let daemon = json["daemon"]?.string,
              let kind = json["kind"]?.string else { return nil }
        self.seq = UInt64(seq)
        self.time = time
        self.daemon = daemon
        self.kind = kind
        clocks = (json["clocks"]?.object ?? []).compactMap { k, v in v.int.map { (k, $0) } }
        fields = json["fields"]?.object ?? []
    }

    /// `filter` is a comma-separated list; "election" matches "election" and "election.*".
    public func matches(kinds filter: [String]) -> Bool {
        filter.isEmpty || filter.contains { kind == $0 || (kind.hasPrefix($0) && kind.dropFirst($0.count).first == ".") }
    }

    /// Orders events from several daemons: wall time, then daemon, then its sequence.
    public static func mergeOrder(_ a: TimelineEvent, _ b: TimelineEvent) -> Bool {
        if a.time != b.time { return a.time < b.time }
        if a.daemon != b.daemon { return a.daemon < b.daemon }
        return a.seq < b.seq
    }
}
