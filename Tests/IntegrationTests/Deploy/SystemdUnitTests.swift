import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// deploy/systemd's units: `systemd-analyze verify` accepts them, and each unit's ExecStart line,
/// run here with the built binary, serves; the unit's KillSignal stops it with status 0 within
/// TimeoutStopSec, and a bad config ends with the status RestartPreventExitStatus names.
@Suite(.serialized, .ownThreads) struct SystemdUnitTests {
    struct Unit {
        let name: String
        let keys: [String: String]
        let text: String
        var execStart: [String] { (keys["ExecStart"] ?? "").split(separator: " ").map(String.init) }
    }

    static func unit(_ name: String) throws -> Unit {
        let text = try String(contentsOfFile: DeployFiles.deployDir + "/systemd/\(name).service", encoding: .utf8)
        var keys: [String: String] = [:]
        for (k, v) in DeployFiles.properties(text) { keys[k] = v }
        return Unit(name: name, keys: keys, text: text)
    }

    static let configs = ["coordd": "zoo.cfg", "brokerd": "server.properties", "console": "console.properties"]

    @Test(arguments: ["coordd", "brokerd", "console"]) func unitVerifiesAndMatchesTheDaemon(_ name: String) throws {
        let u = try Self.unit(name)
        #expect(u.execStart == ["/usr/local/bin/\(name)", "/etc/coordkafka/\(Self.configs[name]!)"], "ExecStart: \(u.execStart)")
        #expect(u.keys["Type"] == "exec", "the daemons do not notify systemd; `exec` reports a failed exec as a failed start")
        #expect(u.keys["KillSignal"] == "SIGTERM" && u.keys["ExecReload"] == nil, "the daemons stop on SIGTERM and have no reload")
        #expect(u.keys["RestartPreventExitStatus"] == "2", "exit 2 is a bad config")
        #expect(u.keys["NoNewPrivileges"] == "true" && u.keys["ProtectSystem"] == "strict")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            Issue.record("systemd-analyze is missing (deploy/install-deps.sh installs systemd)")
            return
        }
        let bin = try #require(ProcessHarness.binary(name))
        let dir = try ProcessHarness.makeTempDir("unit")
        defer { ProcessHarness.removeDir(dir) }
        let copy = dir + "/\(name).service"
        try u.text.replacingOccurrences(of: "/usr/local/bin/\(name)", with: bin).write(toFile: copy, atomically: true, encoding: .utf8)
        let r = try ProcessHarness.run("/usr/bin/systemd-analyze", ["verify", copy], timeout: 60)
        let ours = (r.stdout + r.stderr).split(separator: "\n").filter { $0.contains(copy) || $0.contains("\(name).service") }
        #expect(r.status == 0 && ours.isEmpty, "systemd-analyze verify: \(r.stdout) \(r.stderr)")
    }

    /// The three ExecStart lines as one small deployment: coordd, then brokerd, then the console.
    @Test func execStartLinesServeAndStopAsTheUnitsSay() throws {
        let dir = try ProcessHarness.makeTempDir("units")
        defer { ProcessHarness.removeDir(dir) }
        let (zk, zkAdmin, kafka, kafkaAdmin, http) = (try ProcessHarness.freePort(), try ProcessHarness.freePort(),
                                                      try ProcessHarness.freePort(), try ProcessHarness.freePort(),
                                                      try ProcessHarness.freePort())
        let files = [
            "zoo.cfg": "tickTime=500\ndataDir=\(dir)/coordd\nclientPort=\(zk)\nclientPortAddress=127.0.0.1\nadmin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=\(zkAdmin)\n",
            "server.properties": "broker.id=1\nlisteners=PLAINTEXT://127.0.0.1:\(kafka)\nlog.dirs=\(dir)/kafka-logs\nzookeeper.connect=127.0.0.1:\(zk)/kafka\noffsets.topic.replication.factor=1\nadmin.listener=127.0.0.1:\(kafkaAdmin)\n",
            "console.properties": "listener=127.0.0.1:\(http)\nbootstrap.servers=127.0.0.1:\(kafka)\nzookeeper.connect=127.0.0.1:\(zk)/kafka\nread.only=true\n",
        ]
        for (f, text) in files { try text.write(toFile: dir + "/" + f, atomically: true, encoding: .utf8) }
        var running: [(String, ManagedProcess, Double)] = []
        defer { for (_, p, _) in running { p.kill9() } }
        for name in ["coordd", "brokerd", "console"] {
            let u = try Self.unit(name)
            let bin = try #require(ProcessHarness.binary(name))
            let line = u.execStart.map { $0.replacingOccurrences(of: "/usr/local/bin/\(name)", with: bin)
                .replacingOccurrences(of: "/etc/coordkafka/", with: dir + "/") }
            let p = try ManagedProcess(line[0], Array(line.dropFirst()), stderrPath: dir + "/\(name).log")
            running.append((name, p, Double(u.keys["TimeoutStopSec"] ?? "90") ?? 90))
            let ready: () -> Bool
            switch name {
            case "coordd": ready = { (try? AdminHTTP.get(zkAdmin, "/health/ready").status) == 200 }
            case "brokerd": ready = { (try? AdminHTTP.get(kafkaAdmin, "/health/ready").status) == 200 }
            default: ready = { (try? AdminHTTP.get(http, "/").status) == 200 }
            }
            #expect(ProcessHarness.waitUntil(timeout: 60, interval: 0.2, ready), "\(name) from its unit's ExecStart: \(p.stderrText)")
        }
        for (name, p, timeout) in running.reversed() {
            p.process.signal(SIGTERM)
            let inTime = p.process.wait(seconds: timeout)
            #expect(inTime && p.process.waitUntilExit() == 0, "\(name) on KillSignal: \(p.stderrText.suffix(600))")
        }
        running = []
        // A bad config ends with 2, which RestartPreventExitStatus keeps systemd from retrying forever.
        for (name, key) in [("coordd", "tickTime=soon"), ("brokerd", "broker.id=-7"), ("console", "read.only=maybe")] {
            let bad = dir + "/bad-\(name)"
            try (files[Self.configs[name]!]! + key + "\n").write(toFile: bad, atomically: true, encoding: .utf8)
            let r = try ProcessHarness.run(try #require(ProcessHarness.binary(name)), [bad], timeout: 20)
            #expect(r.status == 2, "\(name) with \(key): status \(r.status) \(r.stderr)")
        }
    }
}
