/// Path rules of ZooKeeper's PathUtils: absolute, no empty/`.`/`..` components, no trailing slash
/// (except the root, or a sequential create whose suffix is appended), no control characters.
public enum ZKPath {
    public static func isValid(_ path: String, sequential: Bool = false) -> Bool {
        // A sequential create's final name gets digits appended, so "/a/" is acceptable there.
        let p = sequential ? path + "1" : path
        let u = Array(p.unicodeScalars)
        guard let first = u.first, first == "/" else { return false }
        if u.count == 1 { return true }
        if u[u.count - 1] == "/" { return false }
        var componentStart = 1
        for i in 1...u.count {
            if i == u.count || u[i] == "/" {
                let len = i - componentStart
                if len == 0 { return false }
                if len == 1 && u[componentStart] == "." { return false }
                if len == 2 && u[componentStart] == "." && u[componentStart + 1] == "." { return false }
                componentStart = i + 1
                continue
            }
            let c = u[i].value
            if c == 0 || (c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f)
                || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff) {
                return false
            }
        }
        return true
    }

    /// "/a/b" -> "/a"; "/a" -> "/"; "/" -> nil.
    public static func parent(_ path: String) -> String? {
        guard path != "/", let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        if slash == path.utf8.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// Last component: "/a/b" -> "b".
    public static func name(_ path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }

    public static func join(_ parent: String, _ child: String) -> String {
        parent == "/" ? "/" + child : parent + "/" + child
    }

    /// ZooKeeper's sequential suffix: the parent's cversion as 10 zero-padded digits.
    public static func sequenceSuffix(_ n: Int32) -> String {
        let digits = String(n)
        if n < 0 || digits.count >= 10 { return digits }
        return String(repeating: "0", count: 10 - digits.count) + digits
    }
}
