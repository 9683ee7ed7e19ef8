#if canImport(Glibc)
import Glibc
#endif

/// The timeline's JSON-lines file: `timeline.jsonl`, rolled to `timeline.jsonl.1` past `maxBytes`
/// (so at most twice that on disk). A torn or damaged line (kill -9 mid-write) is skipped on load.
final class TimelineFile: @unchecked Sendable {
    let path: String
    let maxBytes: Int
    let logger: @Sendable (String) -> Void
    private var fd: Int32 = -1
    private var size = 0

    init(directory: String, maxBytes: Int, logger: @escaping @Sendable (String) -> Void) {
        Self.makeDirectories(directory)
        path = directory + "/timeline.jsonl"
        self.maxBytes = maxBytes
        self.logger = logger
    }

    deinit { if fd >= 0 { close(fd) } }

    /// mkdir -p: the data dir may not exist yet when the daemon starts its timeline.
    static func makeDirectories(_ path: String) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            _ = mkdir(prefix, 0o755)
        }
    }

    /// The newest `last` events from the rolled file and the current one.
    func load(last: Int) -> [TimelineEvent] {
        var out: [TimelineEvent] = []
        var bad = 0
        for p in [path + ".1", path] {
            guard let bytes = Self.readAll(p) else { continue }
            for line in bytes.split(separator: 0x0A) {
                guard let s = String(validating: line, as: UTF8.self), let j = try? JSONValue.parse(s), let e = TimelineEvent(json: j) else {
                    bad += 1
                    continue
                }
                out.append(e)
            }
        }
        if bad > 0 { logger("timeline: skipped \(bad) unreadable lines in \(path)") }
        return Array(out.suffix(last))
    }

    func append(_ events: [TimelineEvent]) {
        var text = ""
        for e in events { text += e.json.encoded() + "\n" }
        let bytes = Array(text.utf8)
        if fd < 0 { openForAppend() }
        if fd >= 0, size + bytes.count > maxBytes, size > 0 {
            close(fd)
            fd = -1
            rename(path, path + ".1")
            openForAppend()
        }
        guard fd >= 0 else { return }
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n == bytes.count {
            size += n
        } else {
            let code = n < 0 ? errno : ENOSPC
            // A short write (a full disk) must not leave a torn line for the next one to glue onto.
            if n > 0, ftruncate(fd, off_t(size)) != 0 { size += n }
            logger("timeline: write to \(path) failed (\(String(cString: strerror(code))), errno \(code)); \(events.count) events dropped")
        }
    }

    private func openForAppend() {
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)  // read: the last byte check
        if fd < 0 { logger("timeline: cannot open \(path) (errno \(errno))"); return }
        var st = stat()
        fstat(fd, &st)
        size = Int(st.st_size)
        // A torn last line from a crash must not glue onto the next one.
        if size > 0, let last = Self.lastByte(fd: fd, size: size), last != 0x0A {
            _ = write(fd, "\n", 1)
            size += 1
        }
    }

    private static func lastByte(fd: Int32, size: Int) -> UInt8? {
        var b: UInt8 = 0
        return pread(fd, &b, 1, off_t(size - 1)) == 1 ? b : nil
    }

    static func readAll(_ p: String) -> [UInt8]? {
        let fd = open(p, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }
}
