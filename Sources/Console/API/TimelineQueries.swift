import Dispatch
import Foundation
import KafkaClient
import Synchronization
import Transport

/// Merges the timelines the daemons serve on their admin endpoints (`GET /timeline`). The event
/// shape is read tolerantly — an array, `{"events": [...]}` or JSON lines; time from `ts`/`time`/
/// `timestamp` (ms, s or ISO 8601); kind from `kind`/`type`/`event`; daemon from `daemon`/`source`/
/// `node`, else the endpoint — so the console keeps working as the daemons' format grows.
final class TimelineQueries: @unchecked Sendable {
    let endpoints: [HostPort]
    /// Most events kept per answer (newest first win), so a long history cannot flood the browser.
    static let maxEvents = 100_000

    init(endpoints: [HostPort]) { self.endpoints = endpoints }

    func timeline(sinceMs: Int64?, limit: Int) -> TimelinePage {
        let results = Mutex<[Int: Result<[TimelineEvent], SimpleError>]>([:])
        DispatchQueue.concurrentPerform(iterations: endpoints.count) { i in
            let ep = endpoints[i]
            let r: Result<[TimelineEvent], SimpleError>
            do {
                let (status, body) = try HTTPGet.get(ep, path: "/timeline" + (sinceMs.map { "?since=\($0)" } ?? ""))
                r = status == 200 ? .success(Self.parse(body, endpoint: ep.description)) : .failure(SimpleError("HTTP \(status)"))
            } catch {
                r = .failure(SimpleError("\(error)"))
            }
            results.withLock { $0[i] = r }
        }
        var events: [TimelineEvent] = []
        var errors: [String: String] = [:]
        results.withLock { rs in
            for (i, r) in rs {
                switch r {
                case .success(let e): events += e
                case .failure(let e): errors[endpoints[i].description] = e.description
                }
            }
        }
        return TimelinePage(endpoints: endpoints.map(\.description), errors: errors,
                            events: Self.merge(events, sinceMs: sinceMs, limit: min(limit, Self.maxEvents)))
    }

    /// Oldest first, stable across daemons, the newest `limit` kept.
    static func merge(_ events: [TimelineEvent], sinceMs: Int64?, limit: Int) -> [TimelineEvent] {
        let kept = events.filter { sinceMs == nil || $0.ts >= sinceMs! }
            .enumerated().sorted { ($0.element.ts, $0.offset) < ($1.element.ts, $1.offset) }.map(\.element)
        return kept.count > limit ? Array(kept.suffix(limit)) : kept
    }

    static func parse(_ body: [UInt8], endpoint: String) -> [TimelineEvent] {
        var objects: [[String: Any]] = []
        if let top = try? JSONSerialization.jsonObject(with: Data(body)) {
            if let a = top as? [[String: Any]] { objects = a } else if let o = top as? [String: Any], let a = o["events"] as? [[String: Any]] { objects = a }
        } else {
            for line in body.split(separator: UInt8(ascii: "\n")) {
                if let o = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] { objects.append(o) }
            }
        }
        return objects.compactMap { o in
            guard let ts = time(o["ts"] ?? o["time"] ?? o["timestamp"]) else { return nil }
            let kind = (o["kind"] ?? o["type"] ?? o["event"]) as? String ?? "event"
            let daemon = (o["daemon"] ?? o["source"] ?? o["node"]).map { "\($0)" } ?? endpoint
            var rest = o
            for k in ["ts", "time", "timestamp", "kind", "type", "event", "daemon", "source", "node"] { rest[k] = nil }
            let detail = (try? JSONSerialization.data(withJSONObject: rest, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return TimelineEvent(daemon: daemon, ts: ts, kind: kind, detail: detail)
        }
    }

    /// Milliseconds since the epoch from a number (s or ms) or an ISO 8601 string.
    static func time(_ v: Any?) -> Int64? {
        if let n = v as? NSNumber {
            let d = n.doubleValue
            return Int64(d < 1e11 ? d * 1000 : d)  // seconds until the year 5138
        }
        if let s = v as? String {
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            if let d = f.date(from: s) { return Int64(d.timeIntervalSince1970 * 1000) }
            f.formatOptions = [.withInternetDateTime]
            if let d = f.date(from: s) { return Int64(d.timeIntervalSince1970 * 1000) }
        }
        return nil
    }
}

struct SimpleError: Error, CustomStringConvertible, Sendable {
    let description: String
    init(_ d: String) { description = d }
}

/// A blocking HTTP/1.1 GET with bounded time and size (the daemons' admin endpoints are on loopback).
enum HTTPGet {
    static let maxBytes = 64 << 20

    static func get(_ ep: HostPort, path: String, timeoutMs: Int = 2000) throws -> (Int, [UInt8]) {
        let sock = try BlockingSocket(host: ep.host, port: ep.port, connectTimeoutMillis: 500, ioTimeoutMillis: timeoutMs)
        defer { sock.close() }
        try sock.sendAll(Array("GET \(path) HTTP/1.1\r\nHost: \(ep)\r\nConnection: close\r\nAccept: application/json\r\n\r\n".utf8))
        let raw = try sock.readToEnd(limit: maxBytes)
        guard let end = raw.indices.dropLast(3).first(where: { raw[$0] == 13 && raw[$0 + 1] == 10 && raw[$0 + 2] == 13 && raw[$0 + 3] == 10 }) else {
            throw SimpleError("no HTTP header from \(ep)")
        }
        let head = String(decoding: raw[..<end], as: UTF8.self)
        let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        var body = Array(raw[(end + 4)...])
        if head.lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return (status, body)
    }

    static func dechunk(_ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            guard let lineEnd = b[i...].firstIndex(of: 13), lineEnd + 1 < b.count else { break }
            let sizeText = String(decoding: b[i..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimming(" "), radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            guard start + size <= b.count else { out += b[start...]; break }
            out += b[start..<(start + size)]
            i = start + size + 2
        }
        return out
    }
}
