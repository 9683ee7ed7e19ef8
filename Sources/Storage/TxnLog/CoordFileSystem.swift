#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The few file operations coordd's log and snapshots need, behind a protocol so tests can cut
/// files anywhere and simulate crashes that lose unsynced bytes.
public protocol CoordFileSystem: AnyObject, Sendable {
    func makeDirectories(_ path: String) throws
    /// File names (not paths) in `dir`.
    func list(_ dir: String) throws -> [String]
    func read(_ path: String) throws -> [UInt8]
    /// Creates or truncates `path` for writing.
    func create(_ path: String) throws -> CoordFile
    /// Opens an existing file to append at its end.
    func openAppend(_ path: String) throws -> CoordFile
    func size(_ path: String) throws -> Int
    func truncate(_ path: String, to size: Int) throws
    func remove(_ path: String) throws
    func rename(_ from: String, to: String) throws
    /// Makes creations, renames and removals in `dir` durable.
    func syncDirectory(_ dir: String) throws
}

public protocol CoordFile: AnyObject {
    func append(_ bytes: [UInt8]) throws
    func sync() throws
    func close()
}

public struct CoordFileError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let path: String
    public let code: Int32
    public init(_ operation: String, _ path: String, _ code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }
    public var description: String { "\(operation) \(path): \(String(cString: strerror(code))) (errno \(code))" }
}

/// The real thing: POSIX calls, fsync/fdatasync for durability.
public final class PosixCoordFileSystem: CoordFileSystem {
    public init() {}

    public func makeDirectories(_ path: String) throws {
        var prefix = ""
        for comp in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + comp
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw CoordFileError("mkdir", prefix, errno) }
        }
    }

    public func list(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else { throw CoordFileError("opendir", dir, errno) }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }

    public func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CoordFileError("open", path, errno) }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CoordFileError("fstat", path, errno) }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        var off = 0
        while off < out.count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CoordFileError("read", path, errno)
            }
            if n == 0 { break }
            off += n
        }
        if off < out.count { out.removeLast(out.count - off) }
        return out
    }

    public func create(_ path: String) throws -> CoordFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CoordFileError("create", path, errno) }
        return PosixCoordFile(fd: fd, path: path)
    }

    public func openAppend(_ path: String) throws -> CoordFile {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw CoordFileError("open", path, errno) }
        return PosixCoordFile(fd: fd, path: path)
    }

    public func size(_ path: String) throws -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else { throw CoordFileError("stat", path, errno) }
        return Int(st.st_size)
    }

    public func truncate(_ path: String, to size: Int) throws {
        guard Glibc.truncate(path, off_t(size)) == 0 else { throw CoordFileError("truncate", path, errno) }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); Glibc.close(fd) }
    }

    public func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw CoordFileError("unlink", path, errno) }
    }

    public func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw CoordFileError("rename", from, errno) }
    }

    public func syncDirectory(_ dir: String) throws {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CoordFileError("open", dir, errno) }
        defer { Glibc.close(fd) }
        _ = fsync(fd)
    }
}

final class PosixCoordFile: CoordFile {
    private var fd: Int32
    private let path: String
    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }
    deinit { close() }

    func append(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CoordFileError("write", path, errno)
            }
            off += n
        }
    }

    func sync() throws {
        guard fdatasync(fd) == 0 else { throw CoordFileError("fdatasync", path, errno) }
    }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }
}

/// An in-memory file system for tests: every file has written bytes and durable (synced) bytes;
/// `crash()` throws away whatever was never synced.
public final class MemoryCoordFileSystem: CoordFileSystem {
    struct File {
        var data: [UInt8] = []
        var durable: [UInt8] = []
    }
    private let files = Mutex<[String: File]>([:])
    /// A full disk: appends fail with `code` once `room` more bytes were written.
    private let writeFailure = Mutex<(code: Int32, room: Int)?>(nil)

    public init() {}

    public func makeDirectories(_ path: String) throws {}

    public func list(_ dir: String) throws -> [String] {
        let prefix = dir.hasSuffix("/") ? dir : dir + "/"
        return files.withLock { f in
            f.keys.filter { $0.hasPrefix(prefix) && !$0.dropFirst(prefix.count).contains("/") }.map { String($0.dropFirst(prefix.count)) }
        }
    }

    public func read(_ path: String) throws -> [UInt8] {
        guard let d = files.withLock({ $0[path]?.data }) else { throw CoordFileError("open", path, ENOENT) }
        return d
    }

    public func create(_ path: String) throws -> CoordFile {
        files.withLock { $0[path] = File() }
        return MemoryCoordFile(fs: self, path: path)
    }

    public func openAppend(_ path: String) throws -> CoordFile {
        guard files.withLock({ $0[path] != nil }) else { throw CoordFileError("open", path, ENOENT) }
        return MemoryCoordFile(fs: self, path: path)
    }

    public func size(_ path: String) throws -> Int {
        guard let n = files.withLock({ $0[path]?.data.count }) else { throw CoordFileError("stat", path, ENOENT) }
        return n
    }

    public func truncate(_ path: String, to size: Int) throws {
        try files.withLock { f in
            guard var file = f[path] else { throw CoordFileError("truncate", path, ENOENT) }
            if file.data.count > size { file.data.removeLast(file.data.count - size) }
            file.durable = file.data
            f[path] = file
        }
    }

    public func remove(_ path: String) throws {
        files.withLock { _ = $0.removeValue(forKey: path) }
    }

    public func rename(_ from: String, to: String) throws {
        try files.withLock { f in
            guard let file = f.removeValue(forKey: from) else { throw CoordFileError("rename", from, ENOENT) }
            f[to] = file
        }
    }

    public func syncDirectory(_ dir: String) throws {}

    // MARK: test hooks

    /// Replaces a file's contents (written and durable), e.g. to cut it at a byte.
    public func setContents(_ path: String, _ bytes: [UInt8]) {
        files.withLock { $0[path] = File(data: bytes, durable: bytes) }
    }

    /// Loses every byte that was written but not synced.
    public func crash() {
        files.withLock { f in
            for k in Array(f.keys) {
                if let d = f[k]?.durable { f[k]?.data = d }
            }
        }
    }

    /// Makes appends fail with `code` (e.g. ENOSPC) after `afterBytes` more bytes, the last write
    /// ending short as on a real full disk; nil makes space again.
    public func setWriteFailure(_ code: Int32?, afterBytes: Int = 0) {
        writeFailure.withLock { $0 = code.map { ($0, max(0, afterBytes)) } }
    }

    func append(_ path: String, _ bytes: [UInt8]) throws {
        let (take, fail) = writeFailure.withLock { w -> (Int, Int32?) in
            guard let cur = w else { return (bytes.count, nil) }
            let n = min(cur.room, bytes.count)
            w = (cur.code, cur.room - n)
            return (n, n < bytes.count ? cur.code : nil)
        }
        try files.withLock { f in
            guard f[path] != nil else { throw CoordFileError("write", path, ENOENT) }
            f[path]?.data.append(contentsOf: bytes.prefix(take))
        }
        if let fail { throw CoordFileError("write", path, fail) }
    }

    func sync(_ path: String) {
        files.withLock { f in
            if let d = f[path]?.data { f[path]?.durable = d }
        }
    }
}

final class MemoryCoordFile: CoordFile {
    let fs: MemoryCoordFileSystem
    let path: String
    init(fs: MemoryCoordFileSystem, path: String) {
        self.fs = fs
        self.path = path
    }
    func append(_ bytes: [UInt8]) throws { try fs.append(path, bytes) }
    func sync() throws { fs.sync(path) }
    func close() {}
}
