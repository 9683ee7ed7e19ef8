/// Kafka's `ssl.principal.mapping.rules`: a comma- or newline-separated list of `DEFAULT` (the DN
/// itself) and `RULE:pattern/replacement/[L|U]` (the first rule whose pattern matches the whole DN
/// gives the name, `$1`… replaced by its groups, lower/upper-cased with L/U). No rule matching is an
/// authentication failure, as in Kafka.
public struct SslPrincipalMapper: Sendable, Equatable {
    public enum Rule: Sendable, Equatable {
        case dn
        case rewrite(pattern: String, replacement: String, caseChange: Character?)
    }

    public struct RuleError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public let rules: [Rule]
    public static let `default` = SslPrincipalMapper(parsed: [.dn])

    init(parsed: [Rule]) { rules = parsed }

    public init(rules text: String) throws {
        var out: [Rule] = []
        var s = Substring(text)
        func skipSeparators() { while let c = s.first, c == "," || c.isWhitespace { s = s.dropFirst() } }
        /// Up to the next unescaped '/', keeping escapes for the regex and the replacement.
        func field() throws -> String {
            var f = ""
            while let c = s.first {
                s = s.dropFirst()
                if c == "\\", let n = s.first {
                    s = s.dropFirst()
                    f += n == "/" ? "/" : "\\\(n)"
                    continue
                }
                if c == "/" { return f }
                f.append(c)
            }
            throw RuleError(description: "rule is missing a '/': expected RULE:pattern/replacement/[LU]")
        }
        skipSeparators()
        while !s.isEmpty {
            if s.hasPrefix("DEFAULT") {
                s = s.dropFirst(7)
                out.append(.dn)
            } else if s.hasPrefix("RULE:") {
                s = s.dropFirst(5)
                let pattern = try field()
                let replacement = try field()
                var change: Character?
                if let c = s.first, c == "L" || c == "U" { change = c; s = s.dropFirst() }
                do { _ = try Regex(pattern) } catch { throw RuleError(description: "pattern '\(pattern)' is not a valid regular expression") }
                out.append(.rewrite(pattern: pattern, replacement: replacement, caseChange: change))
            } else {
                throw RuleError(description: "'\(s.prefix(40))' is neither DEFAULT nor RULE:pattern/replacement/[LU]")
            }
            guard s.isEmpty || s.first == "," || s.first?.isWhitespace == true else {
                throw RuleError(description: "unexpected '\(s.prefix(20))' after a rule")
            }
            skipSeparators()
        }
        if out.isEmpty { throw RuleError(description: "no rule given") }
        rules = out
    }

    /// The short name for a certificate subject (RFC 2253), or nil when no rule applies.
    public func name(forDN dn: String) -> String? {
        for rule in rules {
            switch rule {
            case .dn: return dn
            case .rewrite(let pattern, let replacement, let change):
                guard let regex = try? Regex(pattern), let m = try? regex.wholeMatch(in: dn) else { continue }
                let groups: [String?] = m.output.map { $0.substring.map(String.init) }
                let out = Self.substitute(replacement, groups)
                switch change {
                case "L": return out.lowercased()
                case "U": return out.uppercased()
                default: return out
                }
            }
        }
        return nil
    }

    /// `$n` is group n (empty when it did not take part), `\x` is x.
    static func substitute(_ replacement: String, _ groups: [String?]) -> String {
        var out = ""
        var chars = Substring(replacement)
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "\\", let n = chars.first {
                out.append(n)
                chars = chars.dropFirst()
            } else if c == "$", let d = chars.first, let digit = d.wholeNumberValue {
                chars = chars.dropFirst()
                if digit < groups.count { out += groups[digit] ?? "" }
            } else {
                out.append(c)
            }
        }
        return out
    }
}
