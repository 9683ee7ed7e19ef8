import CoordClient
import Foundation
import Observability
import Protocol
import Testing

/// The admin plane against real daemons: coordd's AdminServer commands and metrics, brokerd's
/// metrics and views, promtool, malformed HTTP, a real Prometheus watching a broker die.
@Suite(.serialized) struct AdminHTTPTests {
    @Test(.timeLimit(.minutes(2))) func coorddCommandsMetricsAndMntrAgree() throws {
        let adminPort = try ProcessHarness.freePort()
        let zk = try CoordProcess(extraConfig: "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=\(adminPort)\n")
        defer { zk.cleanup() }
        let c = CoordClient(connectString: "127.0.0.1:\(zk.port)", sessionTimeoutMs: 6000)
        try c.start()
        defer { c.close() }
        _ = try c.create("/obs", data: Array("x".utf8))
        _ = try c.create("/obs/e", data: [], mode: .ephemeral)
        _ = try c.getData("/obs", watcher: { _ in })

        let mntr = try AdminHTTP.json(adminPort, "/commands/mntr")
        #expect(mntr["command"]?.string == "monitor")
        #expect(mntr["error"] == .null)
        let metrics = try AdminHTTP.get(adminPort, "/metrics")
        #expect(metrics.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let words = try fourLetterWord("mntr", port: zk.port)
        let fromWords = words.split(separator: "\n").first { $0.hasPrefix("zk_znode_count\t") }.flatMap { Int($0.split(separator: "\t")[1]) }
        #expect(mntr["znode_count"]?.int == 6)
        #expect(AdminHTTP.sample(metrics.text, "znode_count") == 6)
        #expect(fromWords == 6)
        #expect(AdminHTTP.sample(metrics.text, "ephemerals_count") == Double(mntr["ephemerals_count"]?.int ?? -1))
        #expect(AdminHTTP.sample(metrics.text, "watch_count") == 1)
        #expect(AdminHTTP.sample(metrics.text, "num_alive_connections") == 1)
        if let problems = try AdminHTTP.promtoolProblems(metrics.text) { Issue.record(Comment(rawValue: problems)) }

        let dump = try AdminHTTP.json(adminPort, "/commands/dump")
        #expect(dump["session_id_to_ephemeral_paths"]?.object?.first?.1 == .array([.string("/obs/e")]))
        #expect(try AdminHTTP.json(adminPort, "/commands/wchp")["path_to_session_ids"]?["/obs"] != nil)
        #expect(try AdminHTTP.json(adminPort, "/commands/wchs")["num_total_watches"]?.int == 1)
        #expect(try AdminHTTP.json(adminPort, "/commands/cons")["connections"]?.array?.count == 1)
        let unknown = try AdminHTTP.json(adminPort, "/commands/nosuch")
        #expect(unknown["error"]?.string == "Unknown command: nosuch", "ZooKeeper's answer (status 200)")
        #expect(try AdminHTTP.get(adminPort, "/health/ready").status == 200)
        let list = try AdminHTTP.json(adminPort, "/commands")["commands"]?.array?.compactMap(\.string) ?? []
        for name in ["ruok", "server_stats", "stats", "monitor", "configuration", "connections", "dump", "environment", "watch_summary",
                     "watches", "watches_by_path", "leader", "voting_view", "is_read_only", "last_snapshot", "zabstate"] {
            #expect(list.contains(name), "\(name) missing from /commands")
            #expect(try AdminHTTP.get(adminPort, "/commands/\(name)").status == 200, "\(name)")
        }
        let tl = try AdminHTTP.json(adminPort, "/timeline?kind=session")["events"]?.array ?? []
        #expect(tl.contains { $0["kind"]?.string == "session.created" })

        try AdminHTTP.abuse(port: adminPort)
        // Still healthy on both ports.
        #expect(try AdminHTTP.get(adminPort, "/commands/ruok").status == 200)
        #expect(try c.exists("/obs") != nil)
    }

    @Test(.timeLimit(.minutes(1))) func badAdminSettingsStopTheDaemons() throws {
        guard let coordd = ProcessHarness.binary("coordd"), let brokerd = ProcessHarness.binary("brokerd") else { Issue.record("daemons not built"); return }
        let dir = try ProcessHarness.makeTempDir("admincfg")
        defer { ProcessHarness.removeDir(dir) }
        for key in ["admin.enableServer=maybe", "admin.forceHttps=true", "admin.needClientAuth=true", "admin.commandURL=/cmd", "admin.serverPort=99999"] {
            try "clientPort=1\ndataDir=\(dir)/d\n\(key)\n".write(toFile: dir + "/zoo.cfg", atomically: true, encoding: .utf8)
            let r = try ProcessHarness.run(coordd, [dir + "/zoo.cfg"], timeout: 10)
            #expect(r.status == 2 && r.stderr.contains(String(key.prefix { $0 != "=" })), "\(key): \(r.stderr)")
        }
        let zk = try CoordProcess()
        defer { zk.cleanup() }
        let port = try ProcessHarness.freePort()
        try "broker.id=1\nlisteners=PLAINTEXT://127.0.0.1:\(port)\nlog.dirs=\(dir)/logs\nzookeeper.connect=127.0.0.1:\(zk.port)\nadmin.listener=nohost\n"
            .write(toFile: dir + "/b.properties", atomically: true, encoding: .utf8)
        let b = try ProcessHarness.run(brokerd, [dir + "/b.properties"], timeout: 20)
        #expect(b.status == 2 && b.stderr.contains("admin.listener"), "\(b.stderr)")
    }

    @Test(.timeLimit(.minutes(2))) func ensembleLeaderKillShowsNewEpochInTimeline() throws {
        var admin: [Int] = []
        for _ in 0..<3 { admin.append(try ProcessHarness.freePort()) }
        // One config text for all servers; each picks its port from its own line (myid) below.
        let e = try EnsembleProcesses(servers: 3, extraConfig: "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\n", adminPorts: admin)
        defer { e.cleanup() }
        guard let leader = e.waitForLeader(followers: 2) else { Issue.record("no leader"); return }
        #expect(try AdminHTTP.get(admin[leader], "/health/ready").status == 200)
        #expect(try AdminHTTP.json(admin[leader], "/commands/leader")["is_leader"] == .bool(true))
        let leaderMetrics = try AdminHTTP.get(admin[leader], "/metrics").text
        #expect(AdminHTTP.sample(leaderMetrics, "quorum_size") == 3)
        #expect(AdminHTTP.sample(leaderMetrics, "synced_followers") == 2)
        if let problems = try AdminHTTP.promtoolProblems(leaderMetrics) { Issue.record(Comment(rawValue: problems)) }
        let oldEpoch = try AdminHTTP.json(admin[leader], "/timeline?kind=election.leader_elected")["events"]?.array?.last?["clocks"]?["epoch"]?.int ?? -1

        let killedAt = Int64(Date().timeIntervalSince1970 * 1000)
        e.kill9(leader)
        let others = (0..<3).filter { $0 != leader }
        var newEpoch: Int64?
        let found = ProcessHarness.waitUntil(timeout: 10, interval: 0.1) {
            for i in others {
                let evs = (try? AdminHTTP.json(admin[i], "/timeline?kind=quorum.serving&since=\(killedAt)"))?["events"]?.array ?? []
                if let ev = evs.last, let ep = ev["clocks"]?["epoch"]?.int { newEpoch = ep; return true }
            }
            return false
        }
        #expect(found, "no server recorded serving in a new epoch after the leader died")
        if let newEpoch { #expect(newEpoch > oldEpoch) }
        // The election and its sync are in the survivors' timelines.
        let kinds = others.flatMap { (try? AdminHTTP.json(admin[$0], "/timeline?since=\(killedAt)"))?["events"]?.array ?? [] }.compactMap { $0["kind"]?.string }
        #expect(kinds.contains("election.started"))
        #expect(kinds.contains("election.leader_elected"))

        // One ordered story from all three (the dead one is reported and skipped).
        guard let ctl = ProcessHarness.binary("kafkactl") else { Issue.record("kafkactl not built"); return }
        let eps = admin.map { "127.0.0.1:\($0)" }.joined(separator: ",")
        let r = try ProcessHarness.run(ctl, ["timeline", "--admin", eps, "--since", String(killedAt), "--kind", "election,quorum"], timeout: 30)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.contains { $0.contains("election.leader_elected") })
        #expect(lines.map { String($0.prefix(24)) } == lines.map { String($0.prefix(24)) }.sorted(), "merged lines are in time order")
        #expect(r.stderr.contains("127.0.0.1:\(admin[leader])"), "the dead server is reported")
    }
}
