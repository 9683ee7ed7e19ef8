/// A JSON value with ordered object keys, for admin answers and timeline lines. Kept here (not
/// BrokerCore's) so coordd does not link broker logic.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let f) = self { return f.first { $0.0 == key }?.1 }
        return nil
    }

    public var int: Int64? {
        switch self {
        case .int(let v): return v
        case .double(let d) where d.rounded() == d && abs(d) < 9e15: return Int64(d)
        default: return nil
        }
    }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var object: [(String, JSONValue)]? { if case .object(let o) = self { return o }; return nil }
}

extension JSONValue {
    /// Compact encoding (one line: safe for JSON-lines files and SSE data fields).
    public func encoded() -> String {
        var out = ""
        write(into: &out, indent: nil, level: 0)
        return out
    }

    /// Indented encoding, as ZooKeeper's AdminServer pretty-prints.
    public func pretty() -> String {
        var out = ""
        write(into: &out, indent: "  ", level: 0)
        return out
    }

    private func write(into out: inout String, indent: String?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? (d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) + ".0" : "\(d)") : "null"
        case .string(let s): Self.quote(s, into: &out)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += indent == nil ? "," : ", " }
                v.write(into: &out, indent: indent, level: level + 1)
            }
            out += "]"
        case .object(let o):
            if o.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (k, v)) in o.enumerated() {
                if i > 0 { out += "," }
                if let indent { out += "\n" + String(repeating: indent, count: level + 1) }
                Self.quote(k, into: &out)
                out += indent == nil ? ":" : " : "
                v.write(into: &out, indent: indent, level: level + 1)
            }
            if let indent { out += "\n" + String(repeating: indent, count: level) }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}

public struct JSONParseError: Error, Equatable, Sendable {
    public let offset: Int
    public let reason: String
}

extension JSONValue {
    /// Parses one JSON text; depth is bounded so hostile input cannot exhaust the stack.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var p = JSONParser(bytes: Array(text.utf8))
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.bytes.count else { throw JSONParseError(offset: p.i, reason: "trailing characters") }
        return v
    }
}

struct JSONParser {
    let bytes: [UInt8]
    var i = 0
    static let maxDepth = 64

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    func fail(_ r: String) -> JSONParseError { JSONParseError(offset: i, reason: r) }

    mutating func literal(_ word: String, _ v: JSONValue) throws(JSONParseError) -> JSONValue {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { throw fail("bad literal") }
        i += w.count
        return v
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < Self.maxDepth else { throw fail("nesting too deep") }
        skipSpace()
        guard i < bytes.count else { throw fail("unexpected end") }
        switch bytes[i] {
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "["):
            i += 1
            var out: [JSONValue] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
            while true {
                out.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw fail("unterminated array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
                throw fail("expected , or ]")
            }
        case UInt8(ascii: "{"):
            i += 1
            var out: [(String, JSONValue)] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected key") }
                let k = try string()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected :") }
                i += 1
                out.append((k, try value(depth: depth + 1)))
                skipSpace()
                guard i < bytes.count else { throw fail("unterminated object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
                throw fail("expected , or }")
            }
        default:
            return try number()
        }
    }

    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = i
        var isInt = true
        while i < bytes.count {
            let c = bytes[i]
            if (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") { i += 1; continue }
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") { isInt = false; i += 1; continue }
            break
        }
        let s = String(decoding: bytes[start..<i], as: UTF8.self)
        if isInt, let v = Int64(s) { return .int(v) }
        if let d = Double(s), !s.isEmpty { return .double(d) }
        i = start
        throw fail("bad number")
    }

    mutating func string() throws(JSONParseError) -> String {
        i += 1
        var run = i
        var out = ""
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                out += String(decoding: bytes[run..<i], as: UTF8.self)
                i += 1
                return out
            }
            if c < 0x20 { throw fail("control character in string") }
            if c == UInt8(ascii: "\\") {
                out += String(decoding: bytes[run..<i], as: UTF8.self)
                i += 1
                guard i < bytes.count else { break }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out += "\n"
                case UInt8(ascii: "t"): out += "\t"
                case UInt8(ascii: "r"): out += "\r"
                case UInt8(ascii: "b"): out += "\u{8}"
                case UInt8(ascii: "f"): out += "\u{c}"
                case UInt8(ascii: "/"): out += "/"
                case UInt8(ascii: "\\"): out += "\\"
                case UInt8(ascii: "\""): out += "\""
                case UInt8(ascii: "u"):
                    guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
                        throw fail("bad \\u escape")
                    }
                    i += 4
                    out.unicodeScalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
                default: throw fail("bad escape")
                }
                run = i
                continue
            }
            i += 1
        }
        throw fail("unterminated string")
    }
}
