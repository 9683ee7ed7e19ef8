/// Maps method and path to a handler. A pattern ending in "/*" matches every path below it (the
/// rest is in `HTTPRequest.routeRest`). GET routes also answer HEAD. A known path asked with
/// another method gets 405 with Allow; an unknown path 404.
public struct Router: Sendable {
    public typealias Handler = @Sendable (HTTPRequest, HTTPResponder) -> Void

    struct Route: Sendable {
        let method: String
        let path: String
        let isPrefix: Bool
        let handler: Handler
    }

    private var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        if pattern.hasSuffix("/*") {
            routes.append(Route(method: method, path: String(pattern.dropLast()), isPrefix: true, handler: handler))
        } else {
            routes.append(Route(method: method, path: pattern, isPrefix: false, handler: handler))
        }
    }

    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { add("GET", pattern, handler) }

    /// A GET route answered synchronously with `make`'s response.
    public mutating func get(_ pattern: String, sync make: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        add("GET", pattern) { req, r in r.respond(make(req)) }
    }

    public var paths: [String] { routes.map { $0.isPrefix ? $0.path + "*" : $0.path } }

    public func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        var req = request
        let matching = routes.filter { r in
            r.isPrefix ? (req.path.hasPrefix(r.path) && req.path.count > r.path.count) : req.path == r.path
        }
        guard !matching.isEmpty else {
            responder.respond(.error(404, "no such endpoint: \(req.path)"))
            return
        }
        let method = req.method == "HEAD" ? "GET" : req.method
        // Exact routes win over prefix routes.
        guard let route = matching.first(where: { $0.method == method && !$0.isPrefix }) ?? matching.first(where: { $0.method == method }) else {
            var allowed = Set(matching.map(\.method))
            if allowed.contains("GET") { allowed.insert("HEAD") }
            var resp = HTTPResponse.error(405, "\(req.method) is not allowed on \(req.path)")
            resp.headers.append(("Allow", allowed.sorted().joined(separator: ", ")))
            responder.respond(resp)
            return
        }
        if route.isPrefix { req.routeRest = String(req.path.dropFirst(route.path.count)) }
        route.handler(req, responder)
    }
}
