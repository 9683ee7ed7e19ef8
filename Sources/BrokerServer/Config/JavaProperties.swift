/// Parses Java `.properties` text: `key=value` or `key: value`, `#`/`!` comments, trailing-backslash
/// continuation lines. Enough for Kafka's `server.properties`; escapes other than `\\` are kept as is.
public enum JavaProperties {
    public static func parse(_ text: String) -> [(key: String, value: String, line: Int)] {
        var out: [(String, String, Int)] = []
        var pending = ""
        var pendingLine = 0
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            while let f = line.first, f == " " || f == "\t" || f == "\r" { line = line.dropFirst() }
            while let l = line.last, l == "\r" || l == " " || l == "\t" { line = line.dropLast() }
            if pending.isEmpty {
                if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
                pendingLine = i + 1
            }
            if line.hasSuffix("\\") && !line.hasSuffix("\\\\") {
                pending += line.dropLast()
                continue
            }
            let full = pending + line
            pending = ""
            guard let sep = full.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                out.append((full.trimmed, "", pendingLine))
                continue
            }
            out.append((String(full[..<sep]).trimmed, String(full[full.index(after: sep)...]).trimmed, pendingLine))
        }
        return out
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
