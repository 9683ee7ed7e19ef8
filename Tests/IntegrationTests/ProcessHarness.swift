import Foundation
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
    static func freePort() throws -> Int {
        for _ in 0..<200 {
            let candidate = Int.random(in: 20000..<32000)
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
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        if let env { p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 } }
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let dir = try makeTempDir("run")
        defer { removeDir(dir) }
        _ = FileManager.default.createFile(atPath: dir + "/out", contents: nil)
        _ = FileManager.default.createFile(atPath: dir + "/err", contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/err"))
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while p.isRunning {
            if Date() > deadline {
                timedOut = true
                kill(p.processIdentifier, SIGKILL)
                break
            }
            usleep(20_000)
        }
        p.waitUntilExit()
        try? out.close()
        try? err.close()
        let o = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
        let e = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
        return (p.terminationStatus, o, e, timedOut)
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
    let process = Process()
    let stderrPath: String

    init(_ executable: String, _ args: [String], stderrPath: String, env: [String: String]? = nil) throws {
        self.stderrPath = stderrPath
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        if let env { process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 } }
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardError = h
        process.standardOutput = h
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? h.close()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    var pid: Int32 { process.processIdentifier }
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
        kill(pid, SIGTERM)
        if !ProcessHarness.waitUntil(timeout: grace, { !process.isRunning }) {
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func kill9() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }
}
