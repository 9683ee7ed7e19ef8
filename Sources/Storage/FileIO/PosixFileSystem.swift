#if canImport(Glibc)
import Glibc
#endif

/// The real file system: thin POSIX calls that throw `LogError.io` with the path and errno.
/// Stateless, so one instance serves every log.
public final class PosixFileSystem: FileSystem {
    public init() {}

    public func open(_ path: String, create: Bool) throws -> any OpenFile {
        try openFile(path, O_RDWR | (create ? O_CREAT : 0), op: "open")
    }

    public func create(_ path: String) throws -> any OpenFile {
        try openFile(path, O_RDWR | O_CREAT | O_TRUNC, op: "create")
    }

    public func openAppend(_ path: String) throws -> any OpenFile {
        try openFile(path, O_WRONLY | O_APPEND, op: "open")
    }

    private func openFile(_ path: String, _ flags: Int32, op: String) throws -> PosixFile {
        let fd = Glibc.open(path, flags | O_CLOEXEC, 0o644)
        if fd < 0 { throw LogError.io(op: op, path: path, errno: errno) }
        return PosixFile(fd: fd, path: path)
    }

    public func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public func size(_ path: String) throws -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else { throw LogError.io(op: "stat", path: path, errno: errno) }
        return Int(st.st_size)
    }

    public func list(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else { throw LogError.io(op: "opendir", path: dir, errno: errno) }
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

    public func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw LogError.io(op: "mkdir", path: path, errno: errno) }
    }

    public func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw LogError.io(op: "unlink", path: path, errno: errno) }
    }

    public func removeDirectory(_ path: String) throws {
        if rmdir(path) != 0 && errno != ENOENT { throw LogError.io(op: "rmdir", path: path, errno: errno) }
    }

    public func rename(_ from: String, to: String) throws {
        if Glibc.rename(from, to) != 0 { throw LogError.io(op: "rename", path: "\(from) -> \(to)", errno: errno) }
    }

    public func truncate(_ path: String, to size: Int) throws {
        let f = try openFile(path, O_WRONLY, op: "open")
        try f.truncate(to: size)
        try f.sync()
    }

    public func syncDirectory(_ dir: String) throws {
        let fd = Glibc.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw LogError.io(op: "open dir", path: dir, errno: errno) }
        defer { Glibc.close(fd) }
        if Glibc.fsync(fd) != 0 { throw LogError.io(op: "fsync dir", path: dir, errno: errno) }
    }
}

/// An open descriptor, closed when the last reference goes.
public final class PosixFile: OpenFile {
    public let fd: Int32
    public let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { Glibc.close(fd) }

    public var descriptor: Int32? { fd }

    public func size() throws -> Int {
        var st = stat()
        if fstat(fd, &st) != 0 { throw LogError.io(op: "fstat", path: path, errno: errno) }
        return Int(st.st_size)
    }

    public var isLinked: Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && st.st_nlink > 0
    }

    public var modifiedMs: Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return -1 }
        return Int64(st.st_mtim.tv_sec) * 1000 + Int64(st.st_mtim.tv_nsec) / 1_000_000
    }

    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        try Self.withIOVec(bytes) { iov in
            try writeFully(iov) { iov, done in Glibc.pwritev(fd, iov.baseAddress, Int32(iov.count), off_t(offset + done)) }
        }
    }

    public func write(_ parts: [UnsafeRawBufferPointer], at offset: Int) throws {
        var iov: [iovec] = []
        iov.reserveCapacity(parts.count)
        for p in parts where p.count > 0 {
            if let base = p.baseAddress { iov.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: base), iov_len: p.count)) }
        }
        try iov.withUnsafeMutableBufferPointer { iov in
            try writeFully(iov) { iov, done in Glibc.pwritev(fd, iov.baseAddress, Int32(iov.count), off_t(offset + done)) }
        }
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        try Self.withIOVec(bytes) { iov in
            try writeFully(iov) { iov, _ in Glibc.writev(fd, iov.baseAddress, Int32(iov.count)) }
        }
    }

    /// One buffer as an iovec on the stack (none for an empty buffer).
    private static func withIOVec(_ b: UnsafeRawBufferPointer, _ body: (UnsafeMutableBufferPointer<iovec>) throws -> Void) throws {
        guard let base = b.baseAddress, b.count > 0 else { return }
        var one = iovec(iov_base: UnsafeMutableRawPointer(mutating: base), iov_len: b.count)
        try withUnsafeMutablePointer(to: &one) { try body(UnsafeMutableBufferPointer(start: $0, count: 1)) }
    }

    /// Linux's IOV_MAX (not exported to Swift).
    static let maxIOVecs = 1024

    /// The one write loop: writes `iov` (at most IOV_MAX at a time), retries EINTR and continues
    /// after a short write; `syscall` gets the iovecs still to write and the bytes written so far.
    private func writeFully(_ all: UnsafeMutableBufferPointer<iovec>,
                            _ syscall: (UnsafeMutableBufferPointer<iovec>, Int) -> Int) throws {
        var first = 0
        var done = 0
        while first < all.count {
            let window = UnsafeMutableBufferPointer(rebasing: all[first..<min(all.count, first + Self.maxIOVecs)])
            let n = syscall(window, done)
            if n < 0 {
                if errno == EINTR { continue }
                throw LogError.io(op: "write", path: path, errno: errno)
            }
            if n == 0 { throw LogError.io(op: "write", path: path, errno: EIO) }
            done += n
            // Skip what was written: whole iovecs, then the written front of a partial one.
            var left = n
            while left > 0, first < all.count {
                if left >= all[first].iov_len {
                    left -= all[first].iov_len
                    first += 1
                } else {
                    all[first].iov_base += left
                    all[first].iov_len -= left
                    left = 0
                }
            }
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = Glibc.pread(fd, base + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw LogError.io(op: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    public func sync() throws {
        if Glibc.fsync(fd) != 0 { throw LogError.io(op: "fsync", path: path, errno: errno) }
    }

    public func syncData() throws {
        if fdatasync(fd) != 0 { throw LogError.io(op: "fdatasync", path: path, errno: errno) }
    }

    public func truncate(to size: Int) throws {
        if ftruncate(fd, off_t(size)) != 0 { throw LogError.io(op: "ftruncate", path: path, errno: errno) }
    }
}
