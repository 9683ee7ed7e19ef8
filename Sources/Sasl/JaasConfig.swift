/// One login module entry of a `sasl.jaas.config` value:
/// `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="x";`
public struct JaasLoginModule: Equatable, Sendable {
    public var className: String
    public var flag: String
    /// Options in the order written (keys are unique).
    public var options: [(key: String, value: String)]

    public static func == (a: JaasLoginModule, b: JaasLoginModule) -> Bool {
        a.className == b.className && a.flag == b.flag && a.options.map(\.key) == b.options.map(\.key)
            && a.options.map(\.value) == b.options.map(\.value)
    }

    public subscript(_ key: String) -> String? { options.first { $0.key == key }?.value }

    public static let plainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule"
    public static let scramLoginModule = "org.apache.kafka.common.security.scram.ScramLoginModule"

    /// PlainLoginModule's `user_<name>="<password>"` options: the users a PLAIN server accepts.
    public var plainUsers: [String: String] {
        var out: [String: String] = [:]
        for (k, v) in options where k.hasPrefix("user_") && k.count > 5 { out[String(k.dropFirst(5))] = v }
        return out
    }
}

public struct JaasError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    init(_ d: String) { description = d }
}

/// Parses a `sasl.jaas.config` value strictly: exactly one login module, a known control flag,
/// `key=value` options (quoted values may contain spaces, `\"` and `\\`), a terminating `;`.
public enum JaasConfig {
    static let flags: Set<String> = ["required", "requisite", "sufficient", "optional"]
    /// Bounds what an operator's typo can cost (a value is a line in server.properties).
    static let maxLength = 1 << 16

    public static func parse(_ text: String) throws(JaasError) -> JaasLoginModule {
        guard text.utf8.count <= maxLength else { throw JaasError("JAAS config longer than \(maxLength) bytes") }
        var tokens = try tokenize(text)
        guard let className = tokens.first, case .word(let cls) = className else {
            throw JaasError("JAAS config must start with a login module class name")
        }
        tokens.removeFirst()
        guard cls.contains("."), cls.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "$" }) else {
            throw JaasError("'\(cls)' is not a login module class name")
        }
        guard let f = tokens.first, case .word(let flag) = f, flags.contains(flag.lowercased()) else {
            throw JaasError("login module \(cls) needs a control flag (required, requisite, sufficient or optional)")
        }
        tokens.removeFirst()
        var options: [(String, String)] = []
        while let t = tokens.first {
            tokens.removeFirst()
            switch t {
            case .semicolon:
                guard tokens.isEmpty else {
                    throw JaasError("sasl.jaas.config must hold exactly one login module (text after ';')")
                }
                return JaasLoginModule(className: cls, flag: flag.lowercased(), options: options)
            case .word(let key), .quoted(let key):
                guard tokens.count >= 2, case .equals = tokens[0] else { throw JaasError("option '\(key)' has no '=value'") }
                let value: String
                switch tokens[1] {
                case .word(let v), .quoted(let v): value = v
                default: throw JaasError("option '\(key)' has no value")
                }
                tokens.removeFirst(2)
                if options.contains(where: { $0.0 == key }) { throw JaasError("option '\(key)' is given twice") }
                options.append((key, value))
            case .equals:
                throw JaasError("unexpected '=' in JAAS config")
            }
        }
        throw JaasError("JAAS config must end with ';'")
    }

    enum Token: Equatable { case word(String), quoted(String), equals, semicolon }

    static func tokenize(_ text: String) throws(JaasError) -> [Token] {
        var out: [Token] = []
        var chars = Array(text.unicodeScalars)[...]
        while let c = chars.first {
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                chars.removeFirst()
            } else if c == "=" {
                out.append(.equals); chars.removeFirst()
            } else if c == ";" {
                out.append(.semicolon); chars.removeFirst()
            } else if c == "\"" {
                chars.removeFirst()
                var s = String.UnicodeScalarView()
                var closed = false
                while let d = chars.first {
                    chars.removeFirst()
                    if d == "\\" {
                        guard let e = chars.first else { break }
                        chars.removeFirst()
                        s.append(e)
                    } else if d == "\"" {
                        closed = true
                        break
                    } else {
                        s.append(d)
                    }
                }
                guard closed else { throw JaasError("unterminated quoted value in JAAS config") }
                out.append(.quoted(String(s)))
            } else {
                var s = String.UnicodeScalarView()
                while let d = chars.first, !(d == " " || d == "\t" || d == "\n" || d == "\r" || d == "=" || d == ";" || d == "\"") {
                    s.append(d); chars.removeFirst()
                }
                out.append(.word(String(s)))
            }
        }
        return out
    }
}
