#if canImport(Glibc)
import Glibc
#endif

/// The one seam between storage and the disk: segment logs, their indexes, the checkpoint files,
/// compaction and coordd's transaction log and snapshots all go through it. `PosixFileSystem` is
/// the real thing; `MemoryFileSystem` keeps files in memory and its `crash()` loses every byte
/// that was never synced; `FaultInjectingFileSystem` wraps either to fail writes and syncs.
/// Every operation throws `LogError.io(op:path:errno:)`.
public protocol FileSystem: AnyObject, Sendable {
    /// Opens a file for positional reads and writes; `create` makes it if missing.
    func open(_ path: String, create: Bool) throws -> any OpenFile
    /// Creates `path` or empties it.
    func create(_ path: String) throws -> any OpenFile
    /// Opens an existing file whose `append` writes at its end.
    func openAppend(_ path: String) throws -> any OpenFile
    func exists(_ path: String) -> Bool
    func isDirectory(_ path: String) -> Bool
    func size(_ path: String) throws -> Int
    /// Names (not paths) in `dir`, sorted.
    func list(_ dir: String) throws -> [String]
    /// One level; an existing directory is fine.
    func makeDirectory(_ path: String) throws
    /// Unlinks a file; a missing one is fine.
    func remove(_ path: String) throws
    /// Removes an empty directory; a missing one is fine.
    func removeDirectory(_ path: String) throws
    func rename(_ from: String, to: String) throws
    /// Cuts a file and makes the new size durable.
    func truncate(_ path: String, to size: Int) throws
    /// Makes creations, renames and removals in `dir` durable.
    func syncDirectory(_ dir: String) throws
}

/// An open file, closed when the last reference goes. File regions handed to the network layer
/// keep one, so a segment deleted by retention stays readable until sent.
public protocol OpenFile: AnyObject, Sendable {
    var path: String { get }
    /// The kernel descriptor, for `sendfile`; nil when the file lives in memory (copy instead).
    var descriptor: Int32? { get }
    func size() throws -> Int
    /// Whether the file still has a name (it was not deleted under us).
    var isLinked: Bool { get }
    /// Last modification, ms since the epoch; -1 when unknown.
    var modifiedMs: Int64 { get }
    /// Writes all of `bytes` at `offset` or throws (a short write may have left a prefix).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws
    /// Writes `parts` one after another from `offset` (a gather write: no joining copy) or throws.
    func write(_ parts: [UnsafeRawBufferPointer], at offset: Int) throws
    /// Writes all of `bytes` after the last append (at the end for `create`/`openAppend` files).
    func append(_ bytes: UnsafeRawBufferPointer) throws
    /// Reads up to `buffer.count` bytes; fewer only at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int
    /// fsync: data and metadata durable.
    func sync() throws
    /// fdatasync: data durable (and the size, which appends change).
    func syncData() throws
    func truncate(to size: Int) throws
}

extension OpenFile {
    /// Part after part: for files without a gather write (memory, fault injection).
    public func write(_ parts: [UnsafeRawBufferPointer], at offset: Int) throws {
        var at = offset
        for p in parts where p.count > 0 {
            try write(p, at: at)
            at += p.count
        }
    }

    public func write(_ bytes: [UInt8], at offset: Int) throws {
        if bytes.isEmpty { return }
        try bytes.withUnsafeBytes { try write($0, at: offset) }
    }

    public func append(_ bytes: [UInt8]) throws {
        if bytes.isEmpty { return }
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// Up to `count` bytes at `offset`; fewer only at end of file.
    public func read(count: Int, at offset: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        let n = try out.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        if n < count { out.removeSubrange(n...) }
        return out
    }
}

extension FileSystem {
    /// Every missing directory on the way to `path`.
    public func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for comp in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + comp
            try makeDirectory(prefix)
        }
    }

    /// The whole file.
    public func read(_ path: String) throws -> [UInt8] {
        let f = try open(path, create: false)
        return try f.read(count: try f.size(), at: 0)
    }

    /// Temp file, fsync, rename over the target, directory fsync: readers see the old or the new
    /// content, never a torn one. A failed write removes the temp file, so a full disk does not
    /// stay fuller.
    public func replaceAtomically(_ path: String, with bytes: [UInt8], directory: String? = nil) throws {
        let tmp = path + ".tmp"
        do {
            let f = try create(tmp)
            try f.write(bytes, at: 0)
            try f.sync()
        } catch {
            try? remove(tmp)
            throw error
        }
        try rename(tmp, to: path)
        try syncDirectory(directory ?? Self.parent(of: path))
    }

    /// Removes a file or a directory with everything in it.
    public func removeTree(_ path: String) throws {
        if isDirectory(path) {
            for name in try list(path) { try removeTree(path + "/" + name) }
            try removeDirectory(path)
        } else {
            try remove(path)
        }
    }

    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
