/// An HTTP/1.1 request as the console needs it (I/O-free parsing of bytes off the socket).
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    /// The path, percent-decoded, without the query.
    public var path: String
    public var query: [String: String]
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method; self.path = path; self.query = query; self.headers = headers; self.body = body
    }

    public var keepAlive: Bool { headers["connection"]?.lowercased() != "close" }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var extraHeaders: [(String, String)]

    public init(status: Int, contentType: String, body: [UInt8], extraHeaders: [(String, String)] = []) {
        self.status = status; self.contentType = contentType; self.body = body; self.extraHeaders = extraHeaders
    }

    public static func text(_ status: Int, _ s: String) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(s.utf8))
    }

    static let reasons: [Int: String] = [200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 403: "Forbidden",
                                         404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout", 413: "Payload Too Large",
                                         431: "Request Header Fields Too Large", 500: "Internal Server Error", 502: "Bad Gateway",
                                         503: "Service Unavailable"]

    public func serialized(keepAlive: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(Self.reasons[status] ?? "Status")\r\n"
        head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        head += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
        // The SPA is self-contained: forbid anything from elsewhere (a defence against injected markup).
        head += "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'\r\n"
        for (k, v) in extraHeaders { head += "\(k): \(v)\r\n" }
        head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        return Array(head.utf8) + body
    }
}

/// Incremental request parser with hard limits (a hostile or broken client gets a 4xx and a close,
/// never unbounded buffering).
public struct HTTPRequestParser {
    public enum Outcome: Equatable {
        case needMore
        case request(HTTPRequest)
        case error(status: Int, reason: String)
    }

    public static let maxHeaderBytes = 16 * 1024
    public static let maxBodyBytes = 1 << 20

    private var buffer: [UInt8] = []

    public init() {}

    public var bufferedBytes: Int { buffer.count }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) { buffer.append(contentsOf: bytes) }
    public mutating func append(_ bytes: [UInt8]) { buffer.append(contentsOf: bytes) }

    /// The next complete request, if the buffer holds one.
    public mutating func next() -> Outcome {
        guard let headEnd = Self.findHeaderEnd(buffer) else {
            return buffer.count > Self.maxHeaderBytes ? .error(status: 431, reason: "header too large") : .needMore
        }
        if headEnd > Self.maxHeaderBytes { return .error(status: 431, reason: "header too large") }
        let head = String(decoding: buffer[0..<headEnd], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1."), !requestLine[0].isEmpty,
              requestLine[0].allSatisfy({ $0.isLetter && $0.isUppercase }), requestLine[1].hasPrefix("/") else {
            return .error(status: 400, reason: "bad request line")
        }
        var headers: [String: String] = [:]
        for l in lines where !l.isEmpty {
            guard let colon = l.firstIndex(of: ":") else { return .error(status: 400, reason: "bad header line") }
            let name = l[..<colon].lowercased()
            guard !name.isEmpty, !name.contains(" ") else { return .error(status: 400, reason: "bad header name") }
            headers[name] = String(l[l.index(after: colon)...]).trimming(" \t")
        }
        if headers["transfer-encoding"] != nil { return .error(status: 400, reason: "chunked bodies are not accepted") }
        var bodyLength = 0
        if let cl = headers["content-length"] {
            guard let n = Int(cl), n >= 0 else { return .error(status: 400, reason: "bad Content-Length") }
            guard n <= Self.maxBodyBytes else { return .error(status: 413, reason: "body over \(Self.maxBodyBytes) bytes") }
            bodyLength = n
        }
        let total = headEnd + 4 + bodyLength
        guard buffer.count >= total else { return .needMore }
        let body = Array(buffer[(headEnd + 4)..<total])
        buffer.removeFirst(total)
        let target = String(requestLine[1])
        let (rawPath, rawQuery) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
        guard let path = percentDecode(rawPath) else { return .error(status: 400, reason: "bad path encoding") }
        return .request(HTTPRequest(method: String(requestLine[0]), path: path, query: parseQuery(rawQuery), headers: headers, body: body))
    }

    private static func findHeaderEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i }
        return nil
    }
}

/// `a=1&b=x%20y` → ["a": "1", "b": "x y"] (a later duplicate wins; undecodable pairs are dropped).
public func parseQuery(_ q: String) -> [String: String] {
    var out: [String: String] = [:]
    for pair in q.split(separator: "&") {
        let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard let k = percentDecode(String(kv[0]).replacingPlus()), let v = percentDecode(kv.count > 1 ? String(kv[1]).replacingPlus() : "") else { continue }
        out[k] = v
    }
    return out
}

public func percentDecode(_ s: String) -> String? {
    var bytes: [UInt8] = []
    var it = Array(s.utf8)[...]
    while let c = it.popFirst() {
        if c == UInt8(ascii: "%") {
            guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(v)
            it = it.dropFirst(2)
        } else {
            bytes.append(c)
        }
    }
    let s = String(decoding: bytes, as: UTF8.self)
    return Array(s.utf8) == bytes ? s : nil  // invalid UTF-8 was replaced: refuse it
}

extension String {
    func replacingPlus() -> String { String(map { $0 == "+" ? " " : $0 }) }
}
