#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Files in memory for tests and simulations. Every file has its written bytes and its durable
/// bytes (what the last sync saw); `crash()` throws away whatever was never synced, as a power
/// loss does. Simplifications, stated so tests do not lean on them: directory entries (creates,
/// renames, removals) and truncations are durable at once, and a crash keeps no torn writes.
public final class MemoryFileSystem: FileSystem {
    /// One file's contents; a name points at it, and open handles keep it after an unlink.
    final class Inode: @unchecked Sendable {  // mutated only under `MemoryFileSystem.state`
        var data: [UInt8] = []
        var durable: [UInt8] = []
        /// Lowest offset written since the last sync: a sync copies only from there.
        var dirtyFrom = Int.max
        var linked = true
        var modifiedMs: Int64 = -1
    }

    struct State {
        var files: [String: Inode] = [:]
        var directories: Set<String> = ["/", "."]
        /// Stamped on writes so retention by file age has something to read.
        var clockMs: Int64 = -1
    }

    let state = Mutex(State())

    public init() {}

    // MARK: test hooks

    /// Loses every byte that was written but not synced.
    public func crash() {
        state.withLock { s in
            for inode in s.files.values {
                inode.data = inode.durable
                inode.dirtyFrom = Int.max
            }
        }
    }

    /// Replaces a file's contents (written and durable), e.g. to cut it at a byte.
    public func setContents(_ path: String, _ bytes: [UInt8]) {
        state.withLock { s in
            let inode = s.files[path] ?? Inode()
            inode.data = bytes
            inode.durable = bytes
            inode.dirtyFrom = Int.max
            s.files[path] = inode
        }
    }

    /// The time written files are stamped with (ms); -1 leaves them unknown.
    public func setClock(_ ms: Int64) { state.withLock { $0.clockMs = ms } }

    /// Paths of the files holding bytes that were written but not synced (what a crash would cut).
    public var unsyncedFiles: [String] {
        state.withLock { s in s.files.filter { $0.value.data != $0.value.durable }.keys.sorted() }
    }

    // MARK: FileSystem

    public func open(_ path: String, create: Bool) throws -> any OpenFile {
        try state.withLock { s in
            if let inode = s.files[path] { return MemoryFile(fs: self, inode: inode, path: path) }
            guard create else { throw LogError.io(op: "open", path: path, errno: ENOENT) }
            return MemoryFile(fs: self, inode: try Self.newFile(&s, path), path: path)
        }
    }

    public func create(_ path: String) throws -> any OpenFile {
        try state.withLock { s in
            let inode = try s.files[path] ?? Self.newFile(&s, path)
            inode.data = []
            inode.durable = []
            inode.dirtyFrom = Int.max
            return MemoryFile(fs: self, inode: inode, path: path)
        }
    }

    public func openAppend(_ path: String) throws -> any OpenFile {
        try open(path, create: false)
    }

    private static func newFile(_ s: inout State, _ path: String) throws -> Inode {
        guard s.directories.contains(MemoryFileSystem.parent(of: path)) else { throw LogError.io(op: "open", path: path, errno: ENOENT) }
        guard !s.directories.contains(path) else { throw LogError.io(op: "open", path: path, errno: EISDIR) }
        let inode = Inode()
        s.files[path] = inode
        return inode
    }

    public func exists(_ path: String) -> Bool {
        state.withLock { $0.files[path] != nil || $0.directories.contains(path) }
    }

    public func isDirectory(_ path: String) -> Bool { state.withLock { $0.directories.contains(path) } }

    public func size(_ path: String) throws -> Int {
        guard let n = state.withLock({ $0.files[path]?.data.count }) else { throw LogError.io(op: "stat", path: path, errno: ENOENT) }
        return n
    }

    public func list(_ dir: String) throws -> [String] {
        try state.withLock { s in
            guard s.directories.contains(dir) else { throw LogError.io(op: "opendir", path: dir, errno: ENOENT) }
            let prefix = dir.hasSuffix("/") ? dir : dir + "/"
            let names = (Array(s.files.keys) + Array(s.directories)).filter {
                $0.hasPrefix(prefix) && $0.count > prefix.count && !$0.dropFirst(prefix.count).contains("/")
            }
            return names.map { String($0.dropFirst(prefix.count)) }.sorted()
        }
    }

    public func makeDirectory(_ path: String) throws {
        try state.withLock { s in
            if s.directories.contains(path) { return }
            guard s.files[path] == nil else { throw LogError.io(op: "mkdir", path: path, errno: EEXIST) }
            guard s.directories.contains(Self.parent(of: path)) else { throw LogError.io(op: "mkdir", path: path, errno: ENOENT) }
            s.directories.insert(path)
        }
    }

    public func remove(_ path: String) throws {
        state.withLock { s in s.files.removeValue(forKey: path)?.linked = false }
    }

    public func removeDirectory(_ path: String) throws {
        try state.withLock { s in
            guard s.directories.contains(path) else { return }
            let prefix = path + "/"
            if s.files.keys.contains(where: { $0.hasPrefix(prefix) }) || s.directories.contains(where: { $0.hasPrefix(prefix) }) {
                throw LogError.io(op: "rmdir", path: path, errno: ENOTEMPTY)
            }
            s.directories.remove(path)
        }
    }

    public func rename(_ from: String, to: String) throws {
        try state.withLock { s in
            guard let inode = s.files.removeValue(forKey: from) else {
                throw LogError.io(op: "rename", path: "\(from) -> \(to)", errno: ENOENT)
            }
            s.files[to]?.linked = false
            s.files[to] = inode
        }
    }

    public func truncate(_ path: String, to size: Int) throws {
        try state.withLock { s in
            guard let inode = s.files[path] else { throw LogError.io(op: "open", path: path, errno: ENOENT) }
            Self.cut(inode, to: size)
            Self.sync(inode)
        }
    }

    public func syncDirectory(_ dir: String) throws {}

    // MARK: file operations, under the lock

    static func cut(_ inode: Inode, to size: Int) {
        if inode.data.count > size {
            inode.data.removeSubrange(size...)
        } else if inode.data.count < size {
            inode.data.append(contentsOf: repeatElement(0, count: size - inode.data.count))
        }
        // The size change is durable at once (see the type's note); bytes past it are gone.
        if inode.durable.count > size { inode.durable.removeSubrange(size...) }
        inode.dirtyFrom = min(inode.dirtyFrom, size)
    }

    static func sync(_ inode: Inode) {
        guard inode.dirtyFrom != Int.max || inode.durable.count != inode.data.count else { return }
        let from = min(inode.dirtyFrom, inode.durable.count, inode.data.count)
        inode.durable.replaceSubrange(from..., with: inode.data[from...])
        inode.dirtyFrom = Int.max
    }

    func write(_ inode: Inode, _ bytes: UnsafeRawBufferPointer, at offset: Int) {
        state.withLock { s in
            if inode.data.count < offset { inode.data.append(contentsOf: repeatElement(0, count: offset - inode.data.count)) }
            let overlap = min(bytes.count, inode.data.count - offset)
            if overlap > 0 { inode.data.replaceSubrange(offset..<offset + overlap, with: bytes[0..<overlap]) }
            if overlap < bytes.count { inode.data.append(contentsOf: bytes[overlap...]) }
            inode.dirtyFrom = min(inode.dirtyFrom, offset)
            inode.modifiedMs = s.clockMs
        }
    }

    func read(_ inode: Inode, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        state.withLock { _ in
            guard offset < inode.data.count else { return 0 }
            let n = min(buffer.count, inode.data.count - offset)
            inode.data.withUnsafeBytes { src in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<offset + n]))
            }
            return n
        }
    }
}

/// A handle on a `MemoryFileSystem` file: no descriptor, so readers copy instead of `sendfile`.
final class MemoryFile: OpenFile {
    let fs: MemoryFileSystem
    let inode: MemoryFileSystem.Inode
    let path: String

    init(fs: MemoryFileSystem, inode: MemoryFileSystem.Inode, path: String) {
        self.fs = fs
        self.inode = inode
        self.path = path
    }

    var descriptor: Int32? { nil }
    func size() throws -> Int { fs.state.withLock { _ in inode.data.count } }
    var isLinked: Bool { fs.state.withLock { _ in inode.linked } }
    var modifiedMs: Int64 { fs.state.withLock { _ in inode.modifiedMs } }
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws { fs.write(inode, bytes, at: offset) }
    func append(_ bytes: UnsafeRawBufferPointer) throws { fs.write(inode, bytes, at: try size()) }
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int { fs.read(inode, into: buffer, at: offset) }
    func sync() throws { fs.state.withLock { _ in MemoryFileSystem.sync(inode) } }
    func syncData() throws { try sync() }
    func truncate(to size: Int) throws { fs.state.withLock { _ in MemoryFileSystem.cut(inode, to: size) } }
}
