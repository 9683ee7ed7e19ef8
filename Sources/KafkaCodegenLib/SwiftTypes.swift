/// How schema types map to Swift: type names, default values, and the version conditions the
/// emitters wrap around each field.

struct Ctx {
    var api: ApiDef
    var message: MessageDef
    var valid: VersionRange { api.valid }

    /// The range of versions in which the message is flexible, if any.
    var flexRange: VersionRange? { api.firstFlexible.map { VersionRange(lo: $0, hi: nil) } }

    func structDef(_ name: String) -> StructDef? { message.structs.first { $0.name == name } }
}

enum Cond: Equatable {
    case always, never
    case expr(String)
}

/// The condition under which `inner` holds, for versions already known to lie in `outer`.
func condition(_ inner: VersionRange?, within outer: VersionRange) -> Cond {
    guard let inner, let both = inner.intersect(outer) else { return .never }
    var parts: [String] = []
    if both.lo > outer.lo { parts.append("version >= \(both.lo)") }
    if let hi = both.hi, outer.hi.map({ hi < $0 }) ?? true { parts.append("version <= \(hi)") }
    return parts.isEmpty ? .always : .expr(parts.joined(separator: " && "))
}

extension Field {
    var isTagged: Bool { tag != nil }
    /// Optional in Swift: nullable in some version, unless pinned non-optional.
    var isOptional: Bool { nullable != nil && !attributes.contains("nonnull") }
    /// `slice`: decoded as a slice of the frame being read (no copy), for the produce path.
    var isSlice: Bool { attributes.contains("slice") }
}

func swiftBase(_ t: FieldType) -> String {
    switch t {
    case .primitive(let p):
        switch p {
        case "bool": return "Bool"
        case "int8": return "Int8"
        case "int16": return "Int16"
        case "int32": return "Int32"
        case "int64": return "Int64"
        case "uint16": return "UInt16"
        case "float64": return "Double"
        case "string": return "String"
        case "bytes", "records": return "[UInt8]"
        case "uuid": return "KafkaUUID"
        default: return "ErrorCode"
        }
    case .array(let e): return "[\(swiftBase(e))]"
    case .structure(let s): return s
    }
}

func swiftType(_ f: Field) -> String { (f.isSlice ? "ArraySlice<UInt8>" : swiftBase(f.type)) + (f.isOptional ? "?" : "") }

/// The Swift default for a field: its schema default, else Kafka's implicit zero value.
func swiftDefault(_ f: Field) -> String {
    if f.isOptional && (f.defaultValue == nil || f.defaultValue == "null") { return "nil" }
    let d = f.defaultValue == "null" ? nil : f.defaultValue
    switch f.type {
    case .primitive(let p):
        switch p {
        case "bool": return d ?? "false"
        case "string": return d.map { "\"\($0)\"" } ?? "\"\""
        case "bytes", "records": return "[]"
        case "uuid": return ".zero"
        case "error": return d.map { $0 == "0" ? ".none" : "ErrorCode(\($0))" } ?? ".none"
        default: return d ?? "0"
        }
    case .array: return "[]"
    case .structure(let s): return "\(s)()"
    }
}

/// A Swift expression that is true when `value` differs from the field's default (tagged fields
/// are written only then, as Kafka does).
func nonDefault(_ f: Field, _ value: String) -> String {
    if case .array = f.type, !f.isOptional { return "!\(value).isEmpty" }
    if case .primitive(let p) = f.type, p == "bytes" || p == "records", !f.isOptional { return "!\(value).isEmpty" }
    return "\(value) != \(swiftDefault(f))"
}
