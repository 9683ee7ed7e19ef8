import Foundation
import KafkaClient
import Observability

/// Maps requests to the SPA's files and the JSON API. Every write goes through `authorize` first:
/// refused unless the console runs with read.only=false and the request carries admin.token.
final class Router: @unchecked Sendable {
    let config: ConsoleConfig
    let kafka: KafkaQueries
    let coord: CoordQueries?
    let timeline: TimelineQueries
    let faults: FaultQueries

    init(config: ConsoleConfig, kafka: KafkaQueries, coord: CoordQueries?, timeline: TimelineQueries) {
        self.config = config; self.kafka = kafka; self.coord = coord; self.timeline = timeline
        faults = FaultQueries(endpoints: config.adminEndpoints, token: config.faultsToken)
    }

    /// Page paths the SPA routes itself; each is served index.html so it can be opened directly.
    static func isPage(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        switch parts.first ?? "" {
        case "": return parts.count == 1
        case "znodes", "timeline", "faults": return parts.count == 1
        case "topics": return parts.count <= 2 || (parts.count == 3 && parts[2] == "messages")
        case "groups": return parts.count <= 2
        default: return false
        }
    }

    func handle(_ req: HTTPRequest) -> HTTPResponse {
        if req.path.hasPrefix("/api/") { return api(req) }
        guard req.method == "GET" || req.method == "HEAD" else { return .text("method not allowed\n", status: 405) }
        if let asset = WebAssets.file(req.path) { return Self.response(200, asset.type, asset.body) }
        if Self.isPage(req.path) { return Self.response(200, "text/html; charset=utf-8", WebAssets.index) }
        return .text("not found\n", status: 404)
    }

    private func api(_ req: HTTPRequest) -> HTTPResponse {
        let parts = req.path.split(separator: "/").dropFirst().map(String.init)  // after "api"
        do {
            switch (req.method, parts.first ?? "", parts.count) {
            case ("GET", "info", 1):
                return json(ConsoleInfo(readOnly: config.readOnly, zookeeper: coord != nil, adminEndpoints: config.adminEndpoints.map(\.description),
                                        bootstrap: config.bootstrapServers))
            case ("GET", "overview", 1):
                let md = try kafka.metadata()
                return json(Summaries.overview(md, coord: coord?.servers4lw() ?? []))
            case ("GET", "topics", 1):
                return json(try kafka.topics())
            case ("POST", "topics", 1):
                try authorize(req)
                let b = try body(req)
                guard let name = b["name"] as? String, !name.isEmpty else { return fail(400, "name is required") }
                try kafka.admin.createTopics([NewTopic(name: name, partitions: Int32(int(b["partitions"]) ?? -1),
                                                       replicationFactor: Int16(int(b["replicationFactor"]) ?? -1),
                                                       configs: b["configs"] as? [String: String] ?? [:])])
                return json(["created": name], status: 201)
            case ("GET", "topics", 2):
                return json(try kafka.topic(parts[1]))
            case ("DELETE", "topics", 2):
                try authorize(req)
                try kafka.admin.deleteTopics([parts[1]])
                return json(["deleted": parts[1]])
            case ("POST", "topics", 3) where parts[2] == "partitions":
                try authorize(req)
                guard let n = int(try body(req)["count"]) else { return fail(400, "count is required") }
                try kafka.admin.createPartitions(topic: parts[1], totalCount: Int32(n))
                return json(["topic": parts[1], "partitions": "\(n)"])
            case ("GET", "topics", 3) where parts[2] == "messages":
                let q = req.query
                return json(try kafka.messages(topic: parts[1], partition: Int32(q["partition"] ?? "0") ?? 0, from: q["offset"].flatMap { Int64($0) },
                                               timestamp: q["timestamp"].flatMap { Int64($0) }, limit: min(500, Int(q["limit"] ?? "50") ?? 50),
                                               needle: q["q"] ?? ""))
            case ("POST", "topics", 3) where parts[2] == "messages":
                try authorize(req)
                let b = try body(req)
                let headers = (b["headers"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                let md = try kafka.produce(topic: parts[1], partition: int(b["partition"]).map { Int32($0) }, key: b["key"] as? String,
                                           value: b["value"] as? String ?? "", headers: headers)
                return json(["partition": Int64(md.partition), "offset": md.offset], status: 201)
            case ("GET", "groups", 1):
                return json(try kafka.groups())
            case ("GET", "groups", 2):
                return json(try kafka.group(parts[1]))
            case ("POST", "groups", 3) where parts[2] == "reset":
                let b = try body(req)
                let execute = b["execute"] as? Bool ?? false
                if execute { try authorize(req) }  // a dry run only reads
                guard let topic = b["topic"] as? String, let to = b["to"] as? String, to == "earliest" || to == "latest" else {
                    return fail(400, "topic and to=earliest|latest are required")
                }
                return json(try kafka.resetOffsets(group: parts[1], topic: topic, toEarliest: to == "earliest", execute: execute))
            case ("GET", "znodes", 1):
                guard let coord else { return fail(404, "zookeeper.connect is not configured") }
                return json(try coord.znode(req.query["path"] ?? "/"))
            case ("GET", "timeline", 1):
                let page = timeline.timeline(sinceMs: req.query["since"].flatMap { Int64($0) }, limit: Int(req.query["limit"] ?? "") ?? 10_000)
                return Self.response(200, "application/json", Array(page.json.encoded().utf8))
            case ("GET", "faults", 1):
                return json(faults.list())
            case ("POST", "faults", 1):
                try authorize(req)
                let b = try body(req)
                guard let ep = b["endpoint"] as? String, let fault = b["fault"] as? String else { return fail(400, "endpoint and fault are required") }
                do {
                    return json(try faults.inject(endpoint: ep, fault: fault, query: b["query"] as? String ?? ""))
                } catch {
                    return fail(error.status, error.description)
                }
            default:
                return fail(404, "no such API: \(req.method) \(req.path)")
            }
        } catch let e as Refused {
            return fail(403, e.reason)
        } catch let e as BadBody {
            return fail(400, e.reason)
        } catch let e as KafkaError {
            if case .broker(let code, _) = e, code == .unknownTopicOrPartition || code == .groupIdNotFound { return fail(404, "\(e)") }
            if case .unknownTopic = e { return fail(404, "\(e)") }
            return fail(502, "\(e)")
        } catch {
            return fail(502, "\(error)")
        }
    }

    struct Refused: Error { let reason: String }
    struct BadBody: Error { let reason: String }

    func authorize(_ req: HTTPRequest) throws {
        if config.readOnly { throw Refused(reason: "the console is read-only (read.only=true): write actions are refused") }
        guard config.allowsWrite(token: req.header("x-console-token")) else {
            throw Refused(reason: "write refused: missing or wrong X-Console-Token (admin.token)")
        }
    }

    private func body(_ req: HTTPRequest) throws -> [String: Any] {
        if req.body.isEmpty { return [:] }
        guard let o = (try? JSONSerialization.jsonObject(with: Data(req.body))) as? [String: Any] else { throw BadBody(reason: "body is not a JSON object") }
        return o
    }

    private func int(_ v: Any?) -> Int? {
        if let n = v as? Int { return n }
        if let s = v as? String { return Int(s) }
        return nil
    }

    func json<T: Encodable>(_ v: T, status: Int = 200) -> HTTPResponse {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let data = (try? enc.encode(v)) ?? Data("{}".utf8)
        return Self.response(status, "application/json", Array(data))
    }

    static func response(_ status: Int, _ type: String, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: [
            ("Content-Type", type), ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
            // The SPA is self-contained: nothing may load from elsewhere (a defence against injected markup).
            ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"),
        ], body: body)
    }

    func fail(_ status: Int, _ message: String) -> HTTPResponse { json(APIError(error: message), status: status) }
}
