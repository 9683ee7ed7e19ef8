/// Endpoints both daemons serve the same way: metrics, timeline, timeline stream.
extension Router {
    public mutating func addMetrics(_ registry: MetricsRegistry) {
        get("/metrics", sync: { _ in .text(registry.render(), contentType: PrometheusText.contentType) })
    }

    /// `GET /timeline?since=&until=&kind=&limit=` (times in ms since the epoch; kind a comma list
    /// matching a kind or its dotted prefix) and `GET /timeline/stream` (SSE; `kind` filters; a
    /// `Last-Event-ID` or `since` replays what the ring holds after it first).
    public mutating func addTimeline(_ timeline: Timeline) {
        get("/timeline", sync: { req in
            guard let q = TimelineQuery(req.query) else { return .error(400, "since, until and limit must be integers") }
            let events = timeline.query(since: q.since, until: q.until, kinds: q.kinds, limit: q.limit)
            return .json(.object([("daemon", .string(timeline.daemon)), ("events", .array(events.map(\.json)))]))
        })
        get("/timeline/stream") { req, responder in
            guard let q = TimelineQuery(req.query) else { return responder.respond(.error(400, "since, until and limit must be integers")) }
            let lastID = req.header("last-event-id").flatMap { UInt64($0) }
            responder.stream { stream in
                let id = timeline.subscribe { ev in
                    if ev.matches(kinds: q.kinds) { stream.send(event: ev.kind, id: String(ev.seq), data: ev.json.encoded()) }
                }
                stream.onClose { timeline.unsubscribe(id) }
                guard lastID != nil || q.since != nil else { return }
                // Replay after subscribing; an event landing in between may come twice (same id).
                for ev in timeline.query(since: q.since, kinds: q.kinds, limit: q.limit) where ev.seq > (lastID ?? 0) {
                    stream.send(event: ev.kind, id: String(ev.seq), data: ev.json.encoded())
                }
            }
        }
    }

    /// `/health/live` (the process answers) and `/health/ready` (`ready()` returns nil, or the reason it is not).
    public mutating func addHealth(ready: @escaping @Sendable () -> String?) {
        get("/health/live", sync: { _ in .json(.object([("status", .string("live"))])) })
        get("/health/ready", sync: { _ in
            if let why = ready() { return .json(.object([("status", .string("not ready")), ("reason", .string(why))]), status: 503) }
            return .json(.object([("status", .string("ready"))]))
        })
    }
}

struct TimelineQuery {
    var since: Int64?
    var until: Int64?
    var kinds: [String] = []
    var limit = 10_000

    init?(_ q: [String: String]) {
        if let s = q["since"] { guard let v = Int64(s) else { return nil }; since = v }
        if let s = q["until"] { guard let v = Int64(s) else { return nil }; until = v }
        if let s = q["limit"] { guard let v = Int(s), v >= 0 else { return nil }; limit = v }
        if let k = q["kind"] { kinds = k.split(separator: ",").map(String.init) }
    }
}
