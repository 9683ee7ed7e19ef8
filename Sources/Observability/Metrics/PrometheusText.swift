/// Writes Prometheus text exposition format 0.0.4: HELP and TYPE once per family, then its
/// samples; label values and help escaped as the format requires.
public struct PrometheusText: Sendable {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public enum Kind: String, Sendable {
        case counter, gauge, histogram, summary, untyped
    }

    public private(set) var output: String = ""

    public init(reservingCapacity n: Int = 4096) { output.reserveCapacity(n) }

    /// Starts a family. Names must be valid metric names (asserted: they are compile-time constants).
    public mutating func family(_ name: String, _ kind: Kind, help: String) {
        assert(Self.isValidName(name), "bad metric name \(name)")
        output += "# HELP \(name) "
        for c in help.unicodeScalars {
            switch c {
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            default: output.unicodeScalars.append(c)
            }
        }
        output += "\n# TYPE \(name) \(kind.rawValue)\n"
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        output += name
        if !labels.isEmpty {
            output += "{"
            for (i, (k, v)) in labels.enumerated() {
                if i > 0 { output += "," }
                output += k
                output += "=\""
                Self.escapeLabel(v, into: &output)
                output += "\""
            }
            output += "}"
        }
        output += " "
        output += Self.format(value)
        output += "\n"
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Int) {
        sample(name, labels, Double(value))
    }

    /// A family with one unlabelled sample.
    public mutating func single(_ name: String, _ kind: Kind, help: String, _ value: Double) {
        family(name, kind, help: help)
        sample(name, [], value)
    }

    public mutating func single(_ name: String, _ kind: Kind, help: String, _ value: Int) {
        single(name, kind, help: help, Double(value))
    }

    static func escapeLabel(_ v: String, into out: inout String) {
        for c in v.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
    }

    /// Integers print without a fraction; the special values as the format spells them.
    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v == .infinity { return "+Inf" }
        if v == -.infinity { return "-Inf" }
        if v.rounded() == v && abs(v) < 9e15 { return String(Int64(v)) }
        return "\(v)"
    }

    public static func isValidName(_ n: String) -> Bool {
        guard let f = n.utf8.first, !(f >= 0x30 && f <= 0x39) else { return false }
        return n.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x3A }
    }
}
