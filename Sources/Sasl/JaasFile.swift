/// A JAAS login configuration file as given with `-Djava.security.auth.login.config=FILE`:
///
///     Server {
///         org.apache.zookeeper.server.auth.DigestLoginModule required
///         user_bob="secret";
///     };
///
/// Sections by name, each a list of login modules; `//` and `/* */` comments.
public struct JaasFile: Sendable, Equatable {
    public var sections: [String: [JaasLoginModule]]

    public subscript(_ name: String) -> [JaasLoginModule]? { sections[name] }

    public static let zooKeeperDigestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule"
    /// Login modules that mean Kerberos (GSSAPI), which coordd and brokerd do not implement.
    public static let kerberosLoginModules: Set<String> = [
        "com.sun.security.auth.module.Krb5LoginModule", "com.ibm.security.auth.module.Krb5LoginModule",
    ]

    /// Bounds what a wrong path (a large binary file) can cost.
    static let maxLength = 1 << 20

    public static func parse(_ text: String) throws(JaasError) -> JaasFile {
        guard text.utf8.count <= maxLength else { throw JaasError("JAAS file longer than \(maxLength) bytes") }
        let stripped = try stripComments(text)
        var out: [String: [JaasLoginModule]] = [:]
        var rest = Substring(stripped)
        while true {
            rest = rest.drop { $0.isWhitespace }
            if rest.isEmpty { break }
            guard let open = rest.firstIndex(of: "{") else { throw JaasError("JAAS file: expected 'Name {' at '\(rest.prefix(40))'") }
            let name = String(rest[..<open]).trimmingCharacters()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" }) else {
                throw JaasError("JAAS file: bad section name '\(name)'")
            }
            guard out[name] == nil else { throw JaasError("JAAS file: section \(name) is given twice") }
            // The body ends at the first '}' outside quotes.
            var inQuotes = false
            var escaped = false
            var close: Substring.Index?
            var i = rest.index(after: open)
            while i < rest.endIndex {
                let c = rest[i]
                if escaped { escaped = false } else if c == "\\" && inQuotes { escaped = true } else if c == "\"" { inQuotes.toggle() } else if c == "}" && !inQuotes { close = i; break }
                i = rest.index(after: i)
            }
            guard let close else { throw JaasError("JAAS file: section \(name) has no closing '}'") }
            let body = rest[rest.index(after: open)..<close]
            var modules: [JaasLoginModule] = []
            for entry in try splitEntries(body) {
                do {
                    modules.append(try JaasConfig.parse(entry + ";"))
                } catch {
                    throw JaasError("JAAS file, section \(name): \(error.description)")
                }
            }
            guard !modules.isEmpty else { throw JaasError("JAAS file: section \(name) has no login module") }
            out[name] = modules
            rest = rest[rest.index(after: close)...].drop { $0.isWhitespace }
            guard rest.first == ";" else { throw JaasError("JAAS file: section \(name) must end with '};'") }
            rest = rest.dropFirst()
        }
        return JaasFile(sections: out)
    }

    /// Module entries of a section body, each without its terminating ';'.
    static func splitEntries(_ body: Substring) throws(JaasError) -> [String] {
        var out: [String] = []
        var cur = ""
        var inQuotes = false
        var escaped = false
        for c in body {
            if escaped { escaped = false; cur.append(c); continue }
            if c == "\\" && inQuotes { escaped = true; cur.append(c); continue }
            if c == "\"" { inQuotes.toggle() }
            if c == ";" && !inQuotes {
                out.append(cur)
                cur = ""
            } else {
                cur.append(c)
            }
        }
        guard cur.allSatisfy(\.isWhitespace) else { throw JaasError("JAAS file: login module entry without ';'") }
        return out
    }

    static func stripComments(_ text: String) throws(JaasError) -> String {
        var out = ""
        var it = Array(text)[...]
        var inQuotes = false
        while let c = it.first {
            it.removeFirst()
            if inQuotes {
                out.append(c)
                if c == "\\", let n = it.first { out.append(n); it.removeFirst() } else if c == "\"" { inQuotes = false }
            } else if c == "\"" {
                inQuotes = true
                out.append(c)
            } else if c == "/" && it.first == "/" {
                while let n = it.first, n != "\n" { it.removeFirst() }
            } else if c == "/" && it.first == "*" {
                it.removeFirst()
                var closed = false
                while let n = it.first {
                    it.removeFirst()
                    if n == "*" && it.first == "/" { it.removeFirst(); closed = true; break }
                }
                guard closed else { throw JaasError("JAAS file: unterminated /* comment") }
                out.append(" ")
            } else {
                out.append(c)
            }
        }
        return out
    }
}

extension JaasLoginModule {
    /// A ZooKeeper DigestLoginModule's `user_<name>` users (same option form as PlainLoginModule).
    public var digestUsers: [String: String] { plainUsers }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

/// `-Dname=value` system properties in a JVM flags variable (SERVER_JVMFLAGS, JVMFLAGS,
/// KAFKA_OPTS, CLIENT_JVMFLAGS), split on whitespace as the shell scripts do; quotes are removed.
public enum JvmFlags {
    public static func systemProperty(_ name: String, in flags: String) -> String? {
        var found: String?
        for word in flags.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            var w = Substring(word)
            if w.hasPrefix("\"") && w.hasSuffix("\"") && w.count >= 2 { w = w.dropFirst().dropLast() }
            let prefix = "-D\(name)="
            if w.hasPrefix(prefix) {
                var v = w.dropFirst(prefix.count)
                if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = v.dropFirst().dropLast() }
                found = String(v)  // the last one wins, as with the JVM
            }
        }
        return found
    }
}

extension JvmFlags {
    /// Every `-Dname=value` in the flags, in order.
    public static func systemProperties(in flags: String) -> [(name: String, value: String)] {
        var out: [(String, String)] = []
        for word in flags.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            var w = Substring(word)
            if w.hasPrefix("\"") && w.hasSuffix("\"") && w.count >= 2 { w = w.dropFirst().dropLast() }
            guard w.hasPrefix("-D"), let eq = w.firstIndex(of: "=") else { continue }
            var v = w[w.index(after: eq)...]
            if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = v.dropFirst().dropLast() }
            out.append((String(w[w.index(w.startIndex, offsetBy: 2)..<eq]), String(v)))
        }
        return out
    }
}
