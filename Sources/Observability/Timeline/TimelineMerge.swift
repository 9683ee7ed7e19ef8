#if canImport(Glibc)
import Glibc
#endif

/// Merges the timelines of several daemons into one story, ordered by wall time (then daemon,
/// then each daemon's sequence), and prints events as one line each.
public enum TimelineMerge {
    /// The merged order; duplicates (same daemon and seq, e.g. a replay overlapping a stream) dropped.
    public static func merge(_ lists: [[TimelineEvent]]) -> [TimelineEvent] {
        var seen = Set<String>()
        return lists.joined().sorted(by: TimelineEvent.mergeOrder).filter { seen.insert("\($0.daemon)#\($0.seq)").inserted }
    }

    /// Events of a `/timeline` answer.
    public static func events(fromResponse body: String) throws(JSONParseError) -> [TimelineEvent] {
        (try JSONValue.parse(body)["events"]?.array ?? []).compactMap(TimelineEvent.init(json:))
    }

    /// "2026-12-06T01:02:03.456Z  coordd.2  election.leader_elected  epoch=3 zxid=0x300000000  leader=2 ..."
    public static func line(_ e: TimelineEvent) -> String {
        var out = utc(e.time) + "  " + pad(e.daemon, 10) + "  " + pad(e.kind, 26)
        let clocks = e.clocks.map { k, v in k == "zxid" ? "\(k)=0x" + String(UInt64(bitPattern: v), radix: 16) : "\(k)=\(v)" }
        if !clocks.isEmpty { out += "  " + clocks.joined(separator: " ") }
        let fields = e.fields.map { k, v -> String in
            if case .string(let s) = v { return "\(k)=\(s)" }
            return "\(k)=\(v.encoded())"
        }
        if !fields.isEmpty { out += "  " + fields.joined(separator: " ") }
        return out
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    /// Milliseconds since the epoch as ISO 8601 UTC.
    public static func utc(_ ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let milli = Int(ms % 1000)
        let m = milli < 10 ? "00\(milli)" : milli < 100 ? "0\(milli)" : "\(milli)"
        return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)).\(m)Z"
    }
}
