#if canImport(Glibc)
import CLinux
import Glibc
#endif
import Synchronization

/// A child process started with posix_spawn. Foundation's `Process.run()` on Linux scans
/// /proc/self/fd with a dirent over-read that crashes the parent now and then (swift-corelibs-
/// foundation #5472) — fatal for test runs and benchmarks that start hundreds of daemons while
/// holding thousands of sockets. The child gets only stdin/stdout/stderr; every other descriptor
/// is closed in it.
public final class ChildProcess: Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        case inherit
        case null
        /// A file, created if missing; `append` keeps what is there.
        case file(String, append: Bool = false)
        /// A descriptor of this process (duplicated into the child; the caller keeps and closes it).
        case descriptor(Int32)
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public let executable: String
        public let errno: Int32
        public var description: String { "cannot start \(executable): \(String(cString: strerror(errno)))" }
    }

    public let pid: pid_t
    public let executable: String
    /// nil while running; then the exit status, or the number of the signal that ended it.
    private let status = Mutex<Int32?>(nil)

    /// Starts `executable` (a path) with `arguments`. `environment` nil passes this process's own.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                directory: String? = nil, stdin: Stream = .null, stdout: Stream = .inherit, stderr: Stream = .inherit) throws {
        self.executable = executable
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stream {
            case .inherit:
                break
            case .null:
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
            case .file(let path, let append):
                let flags = fd == 0 ? O_RDONLY : O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
                posix_spawn_file_actions_addopen(&actions, fd, path, flags, 0o644)
            case .descriptor(let source):
                posix_spawn_file_actions_adddup2(&actions, source, fd)
            }
        }
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        if let directory { posix_spawn_file_actions_addchdir_np(&actions, directory) }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envStrings = environment.map { $0.map { "\($0.key)=\($0.value)" } }
        let envp = envStrings.map { $0.map { strdup($0) } + [nil] }
        defer { envp?.forEach { free($0) } }

        var child: pid_t = 0
        let rc = envp.map { e in posix_spawn(&child, executable, &actions, nil, argv, e) }
            ?? posix_spawn(&child, executable, &actions, nil, argv, environ)
        guard rc == 0 else { throw SpawnError(executable: executable, errno: rc) }
        pid = child
    }

    /// This process's environment with `overrides` applied.
    public static func environment(merging overrides: [String: String]) -> [String: String] {
        var env: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return env.merging(overrides) { $1 }
    }

    /// Reaps the child if it has ended, without blocking.
    private func reap() -> Int32? {
        status.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            while true {
                let r = waitpid(pid, &raw, WNOHANG)
                if r == pid { break }
                if r == 0 { return nil }
                if r < 0 && errno == EINTR { continue }
                // Reaped elsewhere or not ours: nothing more will be known.
                status = -1
                return status
            }
            let signal = raw & 0x7f
            status = signal == 0 ? (raw >> 8) & 0xff : signal
            return status
        }
    }

    public var isRunning: Bool { reap() == nil }

    /// Blocks until the child ends; returns its exit status (or the signal that ended it).
    @discardableResult
    public func waitUntilExit() -> Int32 {
        // Polls rather than blocking in waitpid under the lock, which would stall `isRunning` callers.
        while true {
            if let s = reap() { return s }
            usleep(5_000)
        }
    }

    /// Exit status (or signal number); -1 while running.
    public var terminationStatus: Int32 { reap() ?? -1 }

    public func signal(_ sig: Int32) {
        guard isRunning else { return }
        kill(pid, sig)
    }

    /// Polls until the child ends or `seconds` pass; true if it ended.
    public func wait(seconds: Double) -> Bool {
        var left = Int(seconds * 1000)
        while left > 0 {
            if !isRunning { return true }
            usleep(10_000)
            left -= 10
        }
        return !isRunning
    }
}
