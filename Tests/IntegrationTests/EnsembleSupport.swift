import CoordClient
import Foundation
import Protocol
import Testing
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// A coordd ensemble of real processes on free loopback ports, each with its own dataDir under one
/// temp dir (removed by `cleanup`). Every wait is bounded.
final class EnsembleProcesses: @unchecked Sendable {
    let dir: String
    let count: Int
    let clientPorts: [Int]
    let peerPorts: [Int]
    let electionPorts: [Int]
    private(set) var procs: [ManagedProcess?]

    /// The last `observers` servers are observers (`:observer` lines, `peerType=observer`).
    /// `peerPort(from, to, port)` picks the quorum port server `from` dials to reach server `to`
    /// (e.g. a fault proxy in front of `port`); servers listen on their real ports.
    /// `prepareDataDir(i, path)` runs before server `i`'s dataDir is first written (e.g. to mount a tmpfs there).
    /// The last `joiners` servers are not in the others' zoo.cfg and are not started: each lists
    /// the ensemble and itself, ready to be added by a reconfig once started.
    init(servers: Int = 3, observers: Int = 0, joiners: Int = 0, tickTime: Int = 200, extraConfig: String = "", adminPorts: [Int] = [],
         peerPort: ((_ from: Int, _ to: Int, _ port: Int) throws -> Int)? = nil,
         prepareDataDir: ((_ i: Int, _ path: String) throws -> Void)? = nil) throws {
        count = servers
        dir = try ProcessHarness.makeTempDir("ensemble")
        var cp: [Int] = [], pp: [Int] = [], ep: [Int] = []
        for _ in 0..<servers {
            cp.append(try ProcessHarness.freePort())
            pp.append(try ProcessHarness.freePort())
            ep.append(try ProcessHarness.freePort())
        }
        clientPorts = cp
        peerPorts = pp
        electionPorts = ep
        procs = Array(repeating: nil, count: servers)
        for i in 0..<servers {
            var cfg = "tickTime=\(tickTime)\ninitLimit=10\nsyncLimit=5\ndataDir=\(dataDir(i))\nclientPort=\(cp[i])\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\n"
            for j in 0..<servers where j < servers - joiners || j == i || i >= servers - joiners {
                let port = j == i ? pp[j] : try peerPort?(i, j, pp[j]) ?? pp[j]
                cfg += "server.\(j + 1)=127.0.0.1:\(port):\(ep[j])\(j >= servers - observers ? ":observer" : "")\n"
            }
            if i >= servers - observers { cfg += "peerType=observer\n" }
            cfg += extraConfig
            if i < adminPorts.count { cfg += "\nadmin.serverPort=\(adminPorts[i])\n" }
            try cfg.write(toFile: "\(dir)/zoo\(i + 1).cfg", atomically: true, encoding: .utf8)
            try prepareDataDir?(i, dataDir(i))
            try writeMyid(i)
        }
        for i in 0..<servers - joiners { try start(i) }
    }

    func dataDir(_ i: Int) -> String { "\(dir)/data\(i + 1)" }

    private func writeMyid(_ i: Int) throws {
        try FileManager.default.createDirectory(atPath: dataDir(i), withIntermediateDirectories: true)
        try "\(i + 1)\n".write(toFile: dataDir(i) + "/myid", atomically: true, encoding: .utf8)
    }

    var connectString: String { clientPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") }
    func connectString(_ servers: [Int]) -> String { servers.map { "127.0.0.1:\(clientPorts[$0])" }.joined(separator: ",") }

    /// Starts server `i` (extra environment `env`, e.g. a test crash point) and waits until it
    /// serves clients, unless `wait` is false.
    func start(_ i: Int, env: [String: String]? = nil, wait: Bool = true) throws {
        guard let bin = ProcessHarness.binary("coordd") else {
            throw HarnessError("coordd binary not found: build it (swift build) or set COORDKAFKA_BIN")
        }
        let p = try ManagedProcess(bin, ["\(dir)/zoo\(i + 1).cfg"], stderrPath: "\(dir)/server\(i + 1)-\(UInt32.random(in: 0...UInt32.max)).log",
                                   env: env)
        procs[i] = p
        guard wait else { return }
        guard p.waitForLine(containing: "serving clients on", timeout: 20) != nil else {
            let text = p.stderrText
            p.kill9()
            throw HarnessError("coordd \(i + 1) did not start: \(text)")
        }
    }

    func kill9(_ i: Int) { procs[i]?.kill9() }
    func signal(_ i: Int, _ sig: Int32) { if let p = procs[i] { kill(p.pid, sig) } }
    func log(_ i: Int) -> String { procs[i]?.stderrText ?? "" }
    var logs: String { (0..<count).map { "--- server \($0 + 1):\n" + log($0) }.joined(separator: "\n") }

    /// Deletes a stopped server's data (keeping its myid), as if its disk were replaced.
    func wipe(_ i: Int) throws {
        ProcessHarness.removeDir(dataDir(i))
        try writeMyid(i)
    }

    /// "leader", "follower", "standalone", or nil when it is not serving or not answering.
    func mode(_ i: Int) -> String? {
        guard let out = try? fourLetterWord("srvr", port: clientPorts[i]) else { return nil }
        guard let line = out.split(separator: "\n").first(where: { $0.hasPrefix("Mode: ") }) else { return nil }
        return String(line.dropFirst(6))
    }

    /// Waits until one server leads and `followers` others follow; returns the leader's index.
    func waitForLeader(followers: Int? = nil, timeout: Double = 20) -> Int? {
        var leader: Int?
        ProcessHarness.waitUntil(timeout: timeout, interval: 0.05) {
            let modes = (0..<count).map { procs[$0]?.isRunning == true ? mode($0) : nil }
            leader = modes.firstIndex(of: "leader")
            return leader != nil && modes.filter { $0 == "follower" }.count >= (followers ?? count - 1)
        }
        return leader
    }

    func client(_ servers: [Int]? = nil, timeoutMs: Int = 6000) throws -> CoordClient {
        let c = CoordClient(connectString: servers.map { connectString($0) } ?? connectString, sessionTimeoutMs: timeoutMs)
        try c.start(timeoutMs: 10000)
        return c
    }

    func cleanup() {
        for p in procs { p?.kill9() }
        ProcessHarness.removeDir(dir)
    }
}

extension CoordClient {
    /// Overwrites `path` as fast as it is answered for `seconds`; counts answered and failed writes.
    func setDataRepeatedly(_ path: String, seconds: Double) -> (ok: Int, failed: Int) {
        var ok = 0, failed = 0
        let t0 = Date()
        while Date().timeIntervalSince(t0) < seconds {
            do {
                _ = try setData(path, data: Array(String(ok).utf8))
                ok += 1
            } catch {
                failed += 1
                usleep(10_000)
            }
        }
        return (ok, failed)
    }

    /// Retries `body` on connection loss and timeouts until `timeout` seconds pass.
    func retrying<T>(timeout: Double, _ body: (CoordClient) throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do {
                return try body(self)
            } catch let e as CoordError where Date() < deadline && e.isRetryable {
                usleep(10_000)
            }
        }
    }
}

extension CoordError {
    var isRetryable: Bool { code == ZKErr.connectionLoss || code == ZKErr.operationTimeout || code == ZKErr.sessionMoved }
}
