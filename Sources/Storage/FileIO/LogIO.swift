#if canImport(Glibc)
import Glibc
#endif
import Protocol

/// Errors of the segment log. The broker maps them to Kafka error codes
/// (corruptRecord → CORRUPT_MESSAGE 2, recordTooLarge → MESSAGE_TOO_LARGE 10,
/// offsetOutOfRange → OFFSET_OUT_OF_RANGE 1, offline/io → KAFKA_STORAGE_ERROR 56).
public enum LogError: Error, Equatable, Sendable, CustomStringConvertible {
    case io(op: String, path: String, errno: Int32)
    case corruptFile(path: String, reason: String)
    case segmentMissing(path: String)
    /// An earlier I/O failure took the log offline; it serves nothing until reopened.
    case offline(String)
    case corruptRecord(RecordBatchError)
    case recordTooLarge(Int)
    case offsetOutOfRange(requested: Int64, logStart: Int64, logEnd: Int64)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .io(op, path, e): return "\(op) \(path): \(String(cString: strerror(e))) (errno \(e))"
        case let .corruptFile(path, why): return "corrupt \(path): \(why)"
        case let .segmentMissing(path): return "segment file missing: \(path)"
        case let .offline(why): return "log offline: \(why)"
        case let .corruptRecord(e): return "corrupt record batch: \(e)"
        case let .recordTooLarge(n): return "record batch of \(n) bytes exceeds max.message.bytes"
        case let .offsetOutOfRange(o, s, e): return "offset \(o) outside [\(s), \(e)]"
        case let .invalidArgument(s): return s
        }
    }

    /// A write refused for lack of space (ENOSPC, EDQUOT) that changed nothing the log relies on:
    /// the operation is refused and may be retried once space returns, without taking the log
    /// offline. Failed fsyncs never count: after one the kernel may have dropped the dirty pages.
    public var isOutOfSpace: Bool {
        guard case let .io(op, _, e) = self, e == ENOSPC || e == EDQUOT else { return false }
        return !op.hasPrefix("fsync")
    }
}

/// An open file descriptor, closed when the last reference goes. File regions handed to the network
/// layer keep one of these, so a segment deleted by retention stays readable until sent.
public final class LogFileHandle: Sendable {
    public let fd: Int32
    public let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { Glibc.close(fd) }
}

/// Test seam: makes the next writes fail with an errno (e.g. ENOSPC) as a full disk would,
/// optionally after writing the first `partialBytes` of each (a short write, as tmpfs does).
final class FaultInjection {
    var failWritesWith: Int32?
    var partialBytes = 0
    init() {}
}

/// Thin POSIX wrappers that throw `LogError.io` with the path and errno.
enum LogIO {
    static func open(_ path: String, create: Bool) throws -> LogFileHandle {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = Glibc.open(path, flags, 0o644)
        if fd < 0 { throw LogError.io(op: "open", path: path, errno: errno) }
        return LogFileHandle(fd: fd, path: path)
    }

    static func size(_ f: LogFileHandle) throws -> Int {
        var st = stat()
        if fstat(f.fd, &st) != 0 { throw LogError.io(op: "fstat", path: f.path, errno: errno) }
        return Int(st.st_size)
    }

    /// Whether the file still has a name (it was not deleted under us).
    static func isLinked(_ f: LogFileHandle) -> Bool {
        var st = stat()
        return fstat(f.fd, &st) == 0 && st.st_nlink > 0
    }

    static func pwriteAll(_ f: LogFileHandle, _ buf: UnsafeRawBufferPointer, at offset: Int, faults: FaultInjection? = nil) throws {
        if let e = faults?.failWritesWith {
            let n = min(faults?.partialBytes ?? 0, buf.count)
            if n > 0 { _ = Glibc.pwrite(f.fd, buf.baseAddress!, n, off_t(offset)) }
            throw LogError.io(op: "write", path: f.path, errno: e)
        }
        var done = 0
        while done < buf.count {
            let n = Glibc.pwrite(f.fd, buf.baseAddress! + done, buf.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw LogError.io(op: "write", path: f.path, errno: errno)
            }
            if n == 0 { throw LogError.io(op: "write", path: f.path, errno: EIO) }
            done += n
        }
    }

    static func pwriteAll(_ f: LogFileHandle, _ bytes: [UInt8], at offset: Int, faults: FaultInjection? = nil) throws {
        if bytes.isEmpty { return }
        try bytes.withUnsafeBytes { try pwriteAll(f, $0, at: offset, faults: faults) }
    }

    /// Reads up to `count` bytes; fewer only at end of file.
    static func pread(_ f: LogFileHandle, into buf: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        var done = 0
        while done < buf.count {
            let n = Glibc.pread(f.fd, buf.baseAddress! + done, buf.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw LogError.io(op: "read", path: f.path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    static func pread(_ f: LogFileHandle, count: Int, at offset: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        let n = try out.withUnsafeMutableBytes { try pread(f, into: $0, at: offset) }
        if n < count { out.removeSubrange(n...) }
        return out
    }

    static func fsync(_ f: LogFileHandle) throws {
        if Glibc.fsync(f.fd) != 0 { throw LogError.io(op: "fsync", path: f.path, errno: errno) }
    }

    static func truncate(_ f: LogFileHandle, to size: Int) throws {
        if Glibc.ftruncate(f.fd, off_t(size)) != 0 { throw LogError.io(op: "ftruncate", path: f.path, errno: errno) }
    }

    static func fsyncDirectory(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw LogError.io(op: "open dir", path: path, errno: errno) }
        defer { Glibc.close(fd) }
        if Glibc.fsync(fd) != 0 { throw LogError.io(op: "fsync dir", path: path, errno: errno) }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw LogError.io(op: "mkdir", path: path, errno: errno) }
    }

    static func unlink(_ path: String) throws {
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw LogError.io(op: "unlink", path: path, errno: errno) }
    }

    static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw LogError.io(op: "rename", path: "\(from) -> \(to)", errno: errno) }
    }

    static func list(_ path: String) throws -> [String] {
        guard let d = opendir(path) else { throw LogError.io(op: "opendir", path: path, errno: errno) }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func removeTree(_ path: String) throws {
        if isDirectory(path) {
            for name in try list(path) { try removeTree(path + "/" + name) }
            if rmdir(path) != 0 && errno != ENOENT { throw LogError.io(op: "rmdir", path: path, errno: errno) }
        } else {
            try unlink(path)
        }
    }

    static func readWhole(_ path: String) throws -> [UInt8] {
        let f = try open(path, create: false)
        return try pread(f, count: try size(f), at: 0)
    }

    /// Write a temp file, fsync it, rename over the target, fsync the directory: readers see the
    /// old or the new content, never a torn one.
    /// A failed write removes the temp file, so a full disk does not stay fuller.
    static func atomicWrite(_ path: String, _ bytes: [UInt8], faults: FaultInjection? = nil) throws {
        let tmp = path + ".tmp"
        do {
            let f = try open(tmp, create: true)
            try truncate(f, to: 0)
            try pwriteAll(f, bytes, at: 0, faults: faults)
            try fsync(f)
        } catch {
            _ = Glibc.unlink(tmp)
            throw error
        }
        try rename(tmp, path)
        try fsyncDirectory(parent(of: path))
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
