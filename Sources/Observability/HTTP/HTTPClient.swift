#if canImport(Glibc)
import Glibc
#endif
import Transport

/// A small blocking HTTP/1.1 client for the admin endpoints (kafkactl, tests): one connection,
/// keep-alive, Content-Length bodies, and line-by-line reading of event streams.
public final class HTTPClient: @unchecked Sendable {
    public let host: String
    public let port: Int
    let socket: BlockingSocket
    private var buffer: [UInt8] = []

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
        public func header(_ n: String) -> String? { headers.first { $0.0 == n.lowercased() }?.1 }
    }

    public init(host: String, port: Int, timeoutMillis: Int = 5000) throws {
        self.host = host
        self.port = port
        socket = try BlockingSocket(host: host, port: port, connectTimeoutMillis: timeoutMillis, ioTimeoutMillis: timeoutMillis)
    }

    public func close() { socket.close() }

    public func send(raw: [UInt8]) throws { try socket.sendAll(raw) }

    public func get(_ target: String, headers: [(String, String)] = []) throws -> Response {
        try request("GET", target, headers: headers)
    }

    public func request(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> Response {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        try socket.sendAll(Array((head + "\r\n").utf8) + body)
        return try readResponse(headOnly: method == "HEAD")
    }

    /// Reads one response (after a request sent with `send(raw:)`, too).
    public func readResponse(headOnly: Bool = false) throws -> Response {
        let headText = try readHead()
        var lines = headText.split(separator: "\r\n" as Character).map(String.init)
        guard !lines.isEmpty else { throw SocketError("http: empty response", EPROTO) }
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw SocketError("http: bad status line", EPROTO) }
        let headers = lines.compactMap { l -> (String, String)? in
            guard let c = l.firstIndex(of: ":") else { return nil }
            return (l[..<c].lowercased(), Substring(l[l.index(after: c)...]).trimmingSpaces())
        }
        if headers.contains(where: { $0.0 == "content-type" && $0.1.hasPrefix("text/event-stream") }) {
            return Response(status: status, headers: headers, body: [])
        }
        let length = headOnly ? 0 : Int(headers.first { $0.0 == "content-length" }?.1 ?? "0") ?? 0
        return Response(status: status, headers: headers, body: try readBytes(length))
    }

    /// The next line of an event stream (without its newline); throws at EOF or timeout.
    public func readLine() throws -> String {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeFirst(nl + 1)
                return line
            }
            try fill()
        }
    }

    /// The next whole server-sent event (its `event` and joined `data` lines), skipping comments.
    public func readEvent() throws -> (event: String?, id: String?, data: String) {
        var event: String?, id: String?, data: [String] = []
        while true {
            let line = try readLine()
            if line.isEmpty {
                if !data.isEmpty || event != nil { return (event, id, data.joined(separator: "\n")) }
                continue
            }
            if line.hasPrefix(":") { continue }
            if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
            if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
            if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
        }
    }

    /// True when the server has closed the connection (reads EOF within `timeoutMillis`).
    public func waitForClose(timeoutMillis: Int = 3000) -> Bool {
        socket.setTimeout(timeoutMillis)
        while true {
            var b = [UInt8](repeating: 0, count: 4096)
            let r = b.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, 0) }
            if r == 0 { return true }
            if r < 0 { return errno == ECONNRESET }
        }
    }

    private func readHead() throws -> String {
        while true {
            if let end = Self.find(buffer, [0x0D, 0x0A, 0x0D, 0x0A]) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                return head
            }
            guard buffer.count < 64 * 1024 else { throw SocketError("http: response head too large", EMSGSIZE) }
            try fill()
        }
    }

    private func readBytes(_ n: Int) throws -> [UInt8] {
        while buffer.count < n { try fill() }
        let out = Array(buffer[..<n])
        buffer.removeFirst(n)
        return out
    }

    private func fill() throws {
        var b = [UInt8](repeating: 0, count: 64 * 1024)
        let r = b.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, 0) }
        if r == 0 { throw SocketError("http: connection closed", ECONNRESET) }
        if r < 0 { throw SocketError("http: recv") }
        buffer.append(contentsOf: b[0..<r])
    }

    static func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<i + needle.count]) == needle { return i }
        return nil
    }

    /// One GET on a fresh connection.
    public static func get(host: String, port: Int, _ target: String, timeoutMillis: Int = 5000) throws -> Response {
        let c = try HTTPClient(host: host, port: port, timeoutMillis: timeoutMillis)
        defer { c.close() }
        return try c.get(target)
    }
}
