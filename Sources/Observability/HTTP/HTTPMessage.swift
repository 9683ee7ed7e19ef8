/// One parsed HTTP/1.x request. Header names are lower-cased; the path is percent-decoded and the
/// query split into decoded pairs.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var minorVersion: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The peer's address ("host:port"), for logs and loopback checks.
    public var peer: String = ""
    /// What a prefix route ("/commands/*") matched below its prefix.
    public var routeRest: String = ""

    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.0 == n }?.1
    }

    /// HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes unless told to keep it.
    public var keepAlive: Bool {
        let c = header("connection")?.lowercased() ?? ""
        if minorVersion >= 1 { return !c.contains("close") }
        return c.contains("keep-alive")
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func text(_ s: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: Array(s.utf8))
    }

    public static func json(_ v: JSONValue, status: Int = 200, pretty: Bool = false) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")],
                     body: Array(((pretty ? v.pretty() : v.encoded()) + "\n").utf8))
    }

    /// A short JSON error body, so scripts get a reason as well as the code.
    public static func error(_ status: Int, _ reason: String) -> HTTPResponse {
        json(.object([("error", .string(reason)), ("status", .int(Int64(status)))]), status: status)
    }

    /// Status line, headers and body as one buffer (one write per response).
    func serialized(keepAlive: Bool, headOnly: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "Content-Length: \(body.count)\r\n"
        head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        var out = Array(head.utf8)
        if !headOnly { out.append(contentsOf: body) }
        return out
    }

    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 204: return "No Content"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }
}

/// Bounds every connection lives within; the defaults suit an admin port.
public struct HTTPLimits: Sendable {
    public var maxHeaderBytes = 8 * 1024
    public var maxBodyBytes = 64 * 1024
    public var requestsPerSecond = 100
    public var idleTimeoutMillis = 30_000
    /// A request must arrive whole within this long of its first byte (slow-loris bound).
    public var requestTimeoutMillis = 10_000
    public var maxConnections = 64
    /// An event stream whose reader lags past this many unsent bytes is closed.
    public var maxStreamBacklogBytes = 1 << 20
    public init() {}
}
