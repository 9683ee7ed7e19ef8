import Synchronization

/// Wraps any `FileSystem` (the POSIX one for full-disk tests, the memory one for simulations) and
/// fails writes or syncs on demand with an errno, as a full or broken disk would.
public final class FaultInjectingFileSystem: FileSystem {
    public struct Faults: Sendable {
        /// Writes fail with this errno (ENOSPC, EIO…) …
        public var failWritesWith: Int32?
        /// … after writing the first `partialBytes` of each (a short write, as tmpfs does) …
        public var partialBytes = 0
        /// … once this many more bytes were written (nil: at once); the last write ends short.
        public var roomBytes: Int?
        /// fsync/fdatasync fail with this errno.
        public var failSyncsWith: Int32?
        public init() {}
    }

    public let inner: any FileSystem
    private let faults = Mutex(Faults())
    /// File syncs (fsync and fdatasync) that reached the inner file system, for group-commit tests.
    public let fileSyncs = Atomic<Int>(0)

    public typealias WriteObserver = @Sendable (_ path: String, _ source: UnsafeRawBufferPointer) -> Void
    private let writeObserver = Mutex<WriteObserver?>(nil)

    public init(_ inner: any FileSystem) { self.inner = inner }

    /// Tells `observer` of every write, with the memory its bytes come from, before it reaches the
    /// inner file system (nil: stop): tests that check the produce path writes no copy.
    public func observeWrites(_ observer: WriteObserver?) { writeObserver.withLock { $0 = observer } }

    func observe(_ path: String, _ bytes: UnsafeRawBufferPointer) { writeObserver.withLock { $0 }?(path, bytes) }

    /// Reads or changes the faults, e.g. `fs.update { $0.failWritesWith = ENOSPC }`.
    public func update(_ body: (inout Faults) -> Void) { faults.withLock { body(&$0) } }

    /// Writes fail with `code` (nil: space again), optionally after `afterBytes` more bytes.
    public func setWriteFailure(_ code: Int32?, afterBytes: Int? = nil, partialBytes: Int = 0) {
        update {
            $0.failWritesWith = code
            $0.roomBytes = afterBytes
            $0.partialBytes = partialBytes
        }
    }

    /// How many of `count` bytes may be written, and the errno to throw after writing them.
    func admitWrite(_ count: Int) -> (Int, Int32?) {
        faults.withLock { f in
            guard let code = f.failWritesWith else { return (count, nil) }
            if let room = f.roomBytes {
                let n = min(room, count)
                f.roomBytes = room - n
                return (n, n < count ? code : nil)
            }
            return (min(f.partialBytes, count), code)
        }
    }

    func syncFailure() -> Int32? { faults.withLock { $0.failSyncsWith } }

    public func open(_ path: String, create: Bool) throws -> any OpenFile { FaultyFile(self, try inner.open(path, create: create)) }
    public func create(_ path: String) throws -> any OpenFile { FaultyFile(self, try inner.create(path)) }
    public func openAppend(_ path: String) throws -> any OpenFile { FaultyFile(self, try inner.openAppend(path)) }
    public func exists(_ path: String) -> Bool { inner.exists(path) }
    public func isDirectory(_ path: String) -> Bool { inner.isDirectory(path) }
    public func size(_ path: String) throws -> Int { try inner.size(path) }
    public func list(_ dir: String) throws -> [String] { try inner.list(dir) }
    public func makeDirectory(_ path: String) throws { try inner.makeDirectory(path) }
    public func remove(_ path: String) throws { try inner.remove(path) }
    public func removeDirectory(_ path: String) throws { try inner.removeDirectory(path) }
    public func rename(_ from: String, to: String) throws { try inner.rename(from, to: to) }
    public func truncate(_ path: String, to size: Int) throws { try inner.truncate(path, to: size) }

    public func syncDirectory(_ dir: String) throws {
        if let e = syncFailure() { throw LogError.io(op: "fsync dir", path: dir, errno: e) }
        try inner.syncDirectory(dir)
    }
}

/// A file of a `FaultInjectingFileSystem`: the inner file's descriptor passes through, so
/// zero-copy reads keep working under fault injection.
final class FaultyFile: OpenFile {
    let fs: FaultInjectingFileSystem
    let inner: any OpenFile

    init(_ fs: FaultInjectingFileSystem, _ inner: any OpenFile) {
        self.fs = fs
        self.inner = inner
    }

    var path: String { inner.path }
    var descriptor: Int32? { inner.descriptor }
    func size() throws -> Int { try inner.size() }
    var isLinked: Bool { inner.isLinked }
    var modifiedMs: Int64 { inner.modifiedMs }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        fs.observe(path, bytes)
        let (n, fail) = fs.admitWrite(bytes.count)
        if n > 0 { try inner.write(UnsafeRawBufferPointer(rebasing: bytes[0..<n]), at: offset) }
        if let fail { throw LogError.io(op: "write", path: path, errno: fail) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        fs.observe(path, bytes)
        let (n, fail) = fs.admitWrite(bytes.count)
        if n > 0 { try inner.append(UnsafeRawBufferPointer(rebasing: bytes[0..<n])) }
        if let fail { throw LogError.io(op: "write", path: path, errno: fail) }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int { try inner.read(into: buffer, at: offset) }

    func sync() throws {
        if let e = fs.syncFailure() { throw LogError.io(op: "fsync", path: path, errno: e) }
        try inner.sync()
        fs.fileSyncs.add(1, ordering: .relaxed)
    }

    func syncData() throws {
        if let e = fs.syncFailure() { throw LogError.io(op: "fdatasync", path: path, errno: e) }
        try inner.syncData()
        fs.fileSyncs.add(1, ordering: .relaxed)
    }

    func truncate(to size: Int) throws { try inner.truncate(to: size) }
}
