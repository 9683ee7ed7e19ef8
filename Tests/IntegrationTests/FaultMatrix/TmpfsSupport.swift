import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A small tmpfs the test mounts itself (row 17: a full disk). Needs root, which the CI machine
/// has; elsewhere the rows are skipped with that reason, and with CI=true they fail instead.
final class Tmpfs: @unchecked Sendable {
    let path: String
    private var mounted = false
    private var filler: Int32 = -1

    static var isRoot: Bool { geteuid() == 0 }
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
    static var canRun: Bool { isRoot || isCI }
    static let skipReason = "mounting a tmpfs needs root (CI=true requires it)"

    /// Mounts a tmpfs of `bytes` at `path` (created if missing).
    init(at path: String, bytes: Int) throws {
        self.path = path
        guard Self.isRoot else { throw HarnessError("row 17 needs root to mount a tmpfs at \(path); not running as root") }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let r = try ProcessHarness.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", path], timeout: 10)
        guard r.status == 0 else { throw HarnessError("mount -t tmpfs at \(path) failed: \(r.stderr)") }
        mounted = true
    }

    /// Writes a filler file until the tmpfs is full, then gives back `slack` bytes so the next
    /// writes fill the rest and some end short (a torn write). Returns the filler's size.
    @discardableResult
    func fill(slack: Int = 0) -> Int {
        if filler < 0 { filler = open(path + "/filler", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644) }
        guard filler >= 0 else { return -1 }
        let chunk = [UInt8](repeating: 0x5a, count: 64 << 10)
        var size = Int(lseek(filler, 0, SEEK_END))
        while true {
            let n = chunk.withUnsafeBytes { write(filler, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            size += n
        }
        if slack > 0 {
            size = max(0, size - slack)
            _ = ftruncate(filler, off_t(size))
        }
        return size
    }

    /// Space returns.
    func removeFiller() {
        if filler >= 0 { close(filler); filler = -1 }
        unlink(path + "/filler")
    }

    /// Bytes free on the tmpfs.
    var freeBytes: Int {
        var s = statvfs()
        return statvfs(path, &s) == 0 ? Int(s.f_bavail) * Int(s.f_frsize) : -1
    }

    /// Lazy unmount: processes still holding files there keep them until they exit.
    func unmount() {
        removeFiller()
        guard mounted else { return }
        mounted = false
        _ = try? ProcessHarness.run("/bin/umount", ["-l", path], timeout: 10)
    }

    deinit { unmount() }
}
