/// Incremental HTTP/1.x request parser with hard limits. It never throws: bad input becomes an
/// error status the server answers before closing (400, 413, 431, 501, 505).
public struct HTTPParser {
    public enum Result {
        case request(HTTPRequest)
        case needMore
        case error(Int, String)
    }

    let limits: HTTPLimits
    private(set) var buffer: [UInt8] = []
    private var scanFrom = 0

    public init(limits: HTTPLimits) { self.limits = limits }

    public var bufferedBytes: Int { buffer.count }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) { buffer.append(contentsOf: bytes) }

    /// The next whole request in the buffer, if any.
    public mutating func next() -> Result {
        // Blank lines before a request line are allowed (RFC 9112 2.2).
        var start = 0
        while start + 1 < buffer.count, buffer[start] == 0x0D, buffer[start + 1] == 0x0A { start += 2 }
        if start > 0 { buffer.removeFirst(start); scanFrom = 0 }
        guard let headEnd = findHeaderEnd() else {
            if buffer.count > limits.maxHeaderBytes { return .error(431, "request header exceeds \(limits.maxHeaderBytes) bytes") }
            return .needMore
        }
        if headEnd > limits.maxHeaderBytes { return .error(431, "request header exceeds \(limits.maxHeaderBytes) bytes") }
        guard let head = String(validating: buffer[0..<headEnd - 4], as: UTF8.self) else { return .error(400, "header is not UTF-8") }
        let lines = head.split(separator: "\r\n" as Character, omittingEmptySubsequences: false)
        guard let first = lines.first else { return .error(400, "empty request") }
        let parts = first.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].utf8.allSatisfy(Self.isTokenChar) else {
            return .error(400, "malformed request line")
        }
        let version = parts[2]
        guard version.hasPrefix("HTTP/1."), version.count == 8, let minor = Int(version.dropFirst(7)) else {
            if version.hasPrefix("HTTP/") { return .error(505, "only HTTP/1.0 and HTTP/1.1 are served") }
            return .error(400, "malformed HTTP version")
        }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return .error(400, "header line without a colon") }
            let name = line[..<colon]
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenChar) else { return .error(400, "malformed header name") }
            let value = line[line.index(after: colon)...].trimmingSpaces()
            guard value.utf8.allSatisfy({ $0 >= 0x20 || $0 == 0x09 }) else { return .error(400, "control character in header value") }
            headers.append((name.lowercased(), value))
        }
        if headers.contains(where: { $0.0 == "transfer-encoding" }) {
            return .error(501, "transfer-encoding is not supported; send Content-Length")
        }
        var bodyLength = 0
        let lengths = headers.filter { $0.0 == "content-length" }.map(\.1)
        if let l = lengths.first {
            guard lengths.allSatisfy({ $0 == l }), !l.isEmpty, l.utf8.count <= 18, l.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let n = Int(l) else { return .error(400, "malformed Content-Length") }
            guard n <= limits.maxBodyBytes else { return .error(413, "body exceeds \(limits.maxBodyBytes) bytes") }
            bodyLength = n
        }
        if minor >= 1, !headers.contains(where: { $0.0 == "host" }) { return .error(400, "HTTP/1.1 request without Host") }
        guard buffer.count >= headEnd + bodyLength else { return .needMore }
        guard let (path, query) = Self.splitTarget(String(parts[1])) else { return .error(400, "malformed request target") }
        let body = Array(buffer[headEnd..<headEnd + bodyLength])
        buffer.removeFirst(headEnd + bodyLength)
        scanFrom = 0
        return .request(HTTPRequest(method: String(parts[0]), path: path, query: query, minorVersion: minor, headers: headers, body: body))
    }

    private mutating func findHeaderEnd() -> Int? {
        let b = buffer
        var i = max(0, scanFrom - 3)
        while i + 3 < b.count {
            if b[i] == 0x0D && b[i + 1] == 0x0A && b[i + 2] == 0x0D && b[i + 3] == 0x0A { return i + 4 }
            i += 1
        }
        scanFrom = b.count
        return nil
    }

    static func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): return true
        default: return false
        }
    }

    /// Origin form ("/p?q") or absolute form ("http://h/p?q"); nil when malformed.
    static func splitTarget(_ target: String) -> (String, [String: String])? {
        var t = Substring(target)
        if t.hasPrefix("http://") || t.hasPrefix("https://") {
            let rest = t.drop(while: { $0 != ":" }).dropFirst(3)
            t = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        guard t.hasPrefix("/"), !t.contains("#") else { return nil }
        let q = t.firstIndex(of: "?")
        guard let path = percentDecode(q.map { t[..<$0] } ?? t, plusIsSpace: false) else { return nil }
        var query: [String: String] = [:]
        if let q {
            for pair in t[t.index(after: q)...].split(separator: "&") where !pair.isEmpty {
                let eq = pair.firstIndex(of: "=")
                guard let k = percentDecode(eq.map { pair[..<$0] } ?? pair, plusIsSpace: true),
                      let v = percentDecode(eq.map { pair[pair.index(after: $0)...] } ?? "", plusIsSpace: true) else { return nil }
                query[k] = v
            }
        }
        return (path, query)
    }

    static func percentDecode(_ s: Substring, plusIsSpace: Bool) -> String? {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "%") {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                it = it.dropFirst(2)
                out.append(v)
            } else if c == UInt8(ascii: "+") && plusIsSpace {
                out.append(0x20)
            } else if c <= 0x20 || c == 0x7F {
                return nil
            } else {
                out.append(c)
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
