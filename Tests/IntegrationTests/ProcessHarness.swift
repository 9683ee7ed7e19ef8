import Foundation
import Spawn
import Synchronization
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// Launching real processes for integration tests: daemons with stderr captured to a file, free
/// ports, temp dirs, and time-bounded waits. Everything here gives up after its timeout.
enum ProcessHarness {
    /// The package root, found from this file's location (Tests/IntegrationTests/ProcessHarness.swift).
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// A built executable: `$COORDKAFKA_BIN/<name>`, else `.build/debug/<name>` under the package root.
    static func binary(_ name: String) -> String? {
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["COORDKAFKA_BIN"], !dir.isEmpty { candidates.append(dir + "/" + name) }
        candidates.append(packageRoot + "/.build/debug/" + name)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A port that was free a moment ago, for a server to listen on. Picked below the kernel's
    /// ephemeral range (32768+), so that after a server is killed its port cannot become the local end
    /// of some other test's outgoing connection before the server restarts on it.
    /// Ports handed out in this process: tests run in parallel, and a port picked by one test but
    /// not yet bound by its server must not be picked again by another.
    private static let handedOut = Mutex<Set<Int>>([])

    static func freePort() throws -> Int {
        for _ in 0..<200 {
            let candidate = Int.random(in: 20000..<32000)
            guard handedOut.withLock({ $0.insert(candidate).inserted }) else { continue }
            if let fd = try? Socket.listen(host: "127.0.0.1", port: candidate) {
                close(fd)
                return candidate
            }
        }
        let fd = try Socket.listen(host: "127.0.0.1", port: 0)
        defer { close(fd) }
        return Socket.localPort(fd)
    }

    static func makeTempDir(_ prefix: String) throws -> String {
        let path = NSTemporaryDirectory() + "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func removeDir(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs a command to completion (killing it at the deadline) and returns status and output.
    static func run(_ executable: String, _ args: [String], timeout: Double, env: [String: String]? = nil, cwd: String? = nil)
        throws -> (status: Int32, stdout: String, stderr: String, timedOut: Bool) {
        let dir = try makeTempDir("run")
        defer { removeDir(dir) }
        let p = try ChildProcess(executable, args, environment: env.map { ChildProcess.environment(merging: $0) },
                                 directory: cwd, stdout: .file(dir + "/out"), stderr: .file(dir + "/err"))
        let timedOut = !p.wait(seconds: timeout)
        if timedOut { p.signal(SIGKILL) }
        let status = p.waitUntilExit()
        let o = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
        let e = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
        return (status, o, e, timedOut)
    }

    /// Polls until `cond` holds or the timeout passes.
    @discardableResult
    static func waitUntil(timeout: Double, interval: Double = 0.02, _ cond: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if cond() { return true }
            usleep(UInt32(interval * 1_000_000))
        }
        return cond()
    }
}

/// A long-running daemon under test. Stops with SIGTERM, then SIGKILL after a grace period.
final class ManagedProcess: @unchecked Sendable {
    let process: ChildProcess
    let stderrPath: String

    init(_ executable: String, _ args: [String], stderrPath: String, env: [String: String]? = nil) throws {
        self.stderrPath = stderrPath
        // Emptied first, then appended to by both streams (two descriptors, one end of file).
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process = try ChildProcess(executable, args, environment: env.map { ChildProcess.environment(merging: $0) },
                                   stdout: .file(stderrPath, append: true), stderr: .file(stderrPath, append: true))
    }

    deinit {
        if process.isRunning { process.signal(SIGKILL); process.waitUntilExit() }
    }

    var pid: Int32 { process.pid }
    var isRunning: Bool { process.isRunning }
    var stderrText: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits for a stderr line containing `needle`; returns that line.
    func waitForLine(containing needle: String, timeout: Double) -> String? {
        var found: String?
        ProcessHarness.waitUntil(timeout: timeout) {
            found = stderrText.split(separator: "\n").first { $0.contains(needle) }.map(String.init)
            return found != nil || !isRunning
        }
        return found
    }

    /// SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status (or signal number).
    @discardableResult
    func stop(grace: Double = 5) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.signal(SIGTERM)
        if !process.wait(seconds: grace) { process.signal(SIGKILL) }
        return process.waitUntilExit()
    }

    func kill9() {
        guard process.isRunning else { return }
        process.signal(SIGKILL)
        process.waitUntilExit()
    }
}
