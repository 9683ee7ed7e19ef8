/// The compact Kafka message schema (`*.kmsg`): one file per API, the facts of Kafka's message JSON in a
/// line-per-field form. See Sources/Protocol/Kafka/Schema/README.md for the grammar.

/// A version range such as `3+`, `0-12` or `5`; `none` parses to nil at the call site.
public struct VersionRange: Equatable, Sendable {
    public var lo: Int
    public var hi: Int?  // nil: open-ended

    public init(lo: Int, hi: Int?) { self.lo = lo; self.hi = hi }

    public static func parse(_ s: String) throws -> VersionRange {
        if s.hasSuffix("+"), let lo = Int(s.dropLast()) { return VersionRange(lo: lo, hi: nil) }
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 2, let lo = Int(parts[0]), let hi = Int(parts[1]), lo <= hi {
            return VersionRange(lo: lo, hi: hi)
        }
        if let v = Int(s) { return VersionRange(lo: v, hi: v) }
        throw SchemaError("bad version range '\(s)'")
    }

    public func contains(_ v: Int) -> Bool { v >= lo && (hi.map { v <= $0 } ?? true) }

    public func intersect(_ o: VersionRange) -> VersionRange? {
        let lo = max(self.lo, o.lo)
        let hi: Int? = switch (self.hi, o.hi) {
        case let (a?, b?): min(a, b)
        case let (a?, nil): a
        case let (nil, b?): b
        case (nil, nil): nil
        }
        if let hi, hi < lo { return nil }
        return VersionRange(lo: lo, hi: hi)
    }
}

public struct SchemaError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

public indirect enum FieldType: Equatable, Sendable {
    case primitive(String)  // bool int8 int16 int32 int64 uint16 float64 string bytes records uuid error
    case array(FieldType)
    case structure(String)

    static let primitives: Set<String> = [
        "bool", "int8", "int16", "int32", "int64", "uint16", "float64", "string", "bytes", "records", "uuid", "error",
    ]

    static func parse(_ s: String) -> FieldType {
        if s.hasPrefix("[") && s.hasSuffix("]") { return .array(parse(String(s.dropFirst().dropLast()))) }
        return primitives.contains(s) ? .primitive(s) : .structure(s)
    }
}

public struct Field: Sendable {
    public var name: String
    public var type: FieldType
    public var versions: VersionRange
    public var nullable: VersionRange?
    public var tag: Int?
    public var tagged: VersionRange?
    public var defaultValue: String?
    /// `nonnull`: Swift keeps a non-optional type although newer versions allow null (read as the default).
    /// `emptyIsNull`: at versions where the wire has no null, an empty array stands for nil (Metadata v0).
    /// `splice`: the broker may splice these bytes from the log (adds `spliceLength`).
    public var attributes: Set<String>
}

public struct StructDef: Sendable {
    public var name: String
    public var fields: [Field]
}

public struct MessageDef: Sendable {
    public var isRequest: Bool
    public var name: String
    /// Top-level fields; nested and common structs in definition order.
    public var fields: [Field]
    public var structs: [StructDef]
}

public struct ApiDef: Sendable {
    public var name: String
    public var key: Int
    public var valid: VersionRange
    public var firstFlexible: Int?
    public var broker: VersionRange
    public var interBroker: Bool
    /// `unadvertised`: codecs exist but the broker leaves the API out of ApiVersions (not implemented yet).
    public var unadvertised: Bool
    public var responseHeaderV0: Bool
    public var request: MessageDef
    public var response: MessageDef
    public var caseName: String { name.prefix(1).lowercased() + name.dropFirst() }
}

enum SchemaParser {
    static func parse(_ text: String, file: String) throws -> ApiDef {
        var header: [String: String] = [:]
        var flags: Set<String> = []
        var apiName = ""
        var messages: [MessageDef] = []
        // Stack of (depth, struct name, fields) while reading nested structs.
        var stack: [(depth: Int, name: String, fields: [Field])] = []

        func closeStructs(downTo depth: Int) throws {
            while let top = stack.last, top.depth >= depth {
                stack.removeLast()
                guard !messages.isEmpty else { throw SchemaError("\(file): struct outside a message") }
                if stack.isEmpty {
                    // A top-level block: the message itself or a common struct.
                    if top.name == messages[messages.count - 1].name {
                        messages[messages.count - 1].fields = top.fields
                    } else {
                        messages[messages.count - 1].structs.append(StructDef(name: top.name, fields: top.fields))
                    }
                } else {
                    messages[messages.count - 1].structs.append(StructDef(name: top.name, fields: top.fields))
                }
            }
        }

        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.prefix { $0 != "#" }
            let indent = line.prefix { $0 == " " }.count
            let tokens = line.split(separator: " ").map(String.init)
            guard let first = tokens.first else { continue }
            let at = "\(file):\(n + 1)"
            guard indent % 2 == 0 else { throw SchemaError("\(at): odd indentation") }
            let depth = indent / 2
            if depth == 0 {
                try closeStructs(downTo: 0)
                switch first {
                case "api":
                    guard tokens.count >= 2 else { throw SchemaError("\(at): api needs a name") }
                    apiName = tokens[1]
                    for t in tokens.dropFirst(2) {
                        if let eq = t.firstIndex(of: "=") {
                            header[String(t[..<eq])] = String(t[t.index(after: eq)...])
                        } else { flags.insert(t) }
                    }
                case "request", "response", "struct":
                    guard tokens.count == 2 else { throw SchemaError("\(at): '\(first) Name'") }
                    if first != "struct" {
                        messages.append(MessageDef(isRequest: first == "request", name: tokens[1], fields: [], structs: []))
                    }
                    stack.append((0, tokens[1], []))
                default: throw SchemaError("\(at): unknown directive '\(first)'")
                }
                continue
            }
            try closeStructs(downTo: depth)
            guard let parent = stack.last, parent.depth == depth - 1 else { throw SchemaError("\(at): bad nesting") }
            guard tokens.count >= 2 else { throw SchemaError("\(at): field needs a name and a type") }
            var f = Field(name: tokens[0], type: .parse(tokens[1]), versions: VersionRange(lo: 0, hi: nil),
                          nullable: nil, tag: nil, tagged: nil, defaultValue: nil, attributes: [])
            for t in tokens.dropFirst(2) {
                guard let eq = t.firstIndex(of: "=") else { f.attributes.insert(t); continue }
                let k = String(t[..<eq]), v = String(t[t.index(after: eq)...])
                switch k {
                case "v": f.versions = try .parse(v)
                case "null": f.nullable = try .parse(v)
                case "tag":
                    guard let tag = Int(v) else { throw SchemaError("\(at): bad tag") }
                    f.tag = tag
                case "tagged": f.tagged = try .parse(v)
                case "default": f.defaultValue = v
                default: throw SchemaError("\(at): unknown key '\(k)'")
                }
            }
            if f.tag != nil && f.tagged == nil { f.tagged = f.versions }
            stack[stack.count - 1].fields.append(f)
            if case .structure(let s) = f.type.element { stack.append((depth, s, [])) }
        }
        try closeStructs(downTo: 0)

        guard messages.count == 2, messages[0].isRequest, !messages[1].isRequest else {
            throw SchemaError("\(file): needs a request then a response")
        }
        guard let keyS = header["key"], let key = Int(keyS), let validS = header["valid"], let brokerS = header["broker"]
        else { throw SchemaError("\(file): api line needs key=, valid=, broker=") }
        let flexS = header["flexible"] ?? "none"
        let flex = flexS == "none" ? nil : try VersionRange.parse(flexS).lo
        // Nested struct lines with no children refer to a common struct; drop the empty placeholders.
        for i in messages.indices {
            let named = Dictionary(messages[i].structs.filter { !$0.fields.isEmpty }.map { ($0.name, $0) },
                                   uniquingKeysWith: { a, _ in a })
            var seen: Set<String> = []
            messages[i].structs = messages[i].structs.filter { s in
                guard !s.fields.isEmpty || named[s.name] == nil else { return false }
                return seen.insert(s.name).inserted
            }
        }
        return ApiDef(name: apiName, key: key, valid: try .parse(validS), firstFlexible: flex,
                      broker: try .parse(brokerS), interBroker: flags.contains("interbroker"),
                      unadvertised: flags.contains("unadvertised"),
                      responseHeaderV0: flags.contains("responseheader0"),
                      request: messages[0], response: messages[1])
    }
}

extension FieldType {
    /// The struct or primitive inside any array.
    var element: FieldType {
        if case .array(let e) = self { return e.element }
        return self
    }
}
