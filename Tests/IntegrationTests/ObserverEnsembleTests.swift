import CoordClient
import Foundation
import Protocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Real ensembles of 3 participants and 2 observers (server.N=...:observer, peerType=observer).
@Suite(.serialized, .ownThreads) struct ObserverEnsembleTests {
    /// Waits until one server leads, the other participants follow and every live observer observes.
    func waitForRoles(_ e: EnsembleProcesses, participants: [Int], observers: [Int], timeout: Double = 30) -> Int? {
        var leader: Int?
        ProcessHarness.waitUntil(timeout: timeout, interval: 0.05) {
            let modes = (0..<e.count).map { e.procs[$0]?.isRunning == true ? e.mode($0) : nil }
            leader = modes.firstIndex(of: "leader")
            return leader.map { participants.contains($0) } == true
                && participants.filter { modes[$0] == "follower" }.count == participants.count - 1
                && observers.allSatisfy { modes[$0] == "observer" }
        }
        return leader
    }

    func expectVisible(_ e: EnsembleProcesses, _ path: String, on servers: [Int], _ data: [UInt8]) throws {
        for i in servers {
            let c = try e.client([i])
            defer { c.close() }
            try c.retrying(timeout: 20) { c in
                try c.sync("/")
                #expect(try c.getData(path).data == data, "server \(i + 1) does not see \(path)")
            }
        }
    }

    @Test(.timeLimit(.minutes(4))) func observersServeFollowAndNeverCostTheQuorum() throws {
        let admin = try (0..<5).map { _ in try ProcessHarness.freePort() }
        let e = try EnsembleProcesses(servers: 5, observers: 2, extraConfig: "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\n",
                                      adminPorts: admin)
        defer { e.cleanup() }
        let leader = try #require(waitForRoles(e, participants: [0, 1, 2], observers: [3, 4]), "roles not reached:\n\(e.logs)")
        #expect(try AdminHTTP.json(admin[3], "/commands/mntr")["server_state"] == .string("observer"))
        let observerMetrics = try AdminHTTP.get(admin[3], "/metrics").text
        #expect(observerMetrics.contains("state=\"observer\"} 1"), "observer metrics: \(observerMetrics)")
        #expect(AdminHTTP.sample(observerMetrics, "quorum_size") == 3)
        #expect(AdminHTTP.sample(try AdminHTTP.get(admin[leader], "/metrics").text, "synced_observers") == 2)
        #expect(try fourLetterWord("srvr", port: e.clientPorts[3]).contains("Mode: observer"))
        #expect(try fourLetterWord("mntr", port: e.clientPorts[4]).contains("zk_server_state\tobserver"))
        let mntr = try fourLetterWord("mntr", port: e.clientPorts[leader])
        #expect(mntr.contains("zk_synced_followers\t2\n") && mntr.contains("zk_synced_observers\t2\n"), "leader mntr: \(mntr)")

        // Writes through an observer are forwarded to the leader and seen everywhere.
        let viaObserver = try e.client([3])
        try viaObserver.create("/obs", data: Array("o".utf8))
        viaObserver.close()
        try expectVisible(e, "/obs", on: [0, 1, 2, 3, 4], Array("o".utf8))

        // kazoo on an observer: sync + read sees a write acknowledged elsewhere; its writes work.
        let script = e.dir + "/kazoo_observer.py"
        try Self.kazooScript.write(toFile: script, atomically: true, encoding: .utf8)
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", script, "127.0.0.1:\(e.clientPorts[leader])",
                                                        "127.0.0.1:\(e.clientPorts[4])"], timeout: 90)
        #expect(!r.timedOut && r.status == 0 && r.stdout.contains("OK"), "kazoo on an observer:\n\(r.stdout)\n\(r.stderr)")

        // One participant down: the other two are still a quorum, observers keep forwarding.
        let follower = try #require([0, 1, 2].first { $0 != leader })
        e.kill9(follower)
        let c4 = try e.client([3])
        _ = try c4.retrying(timeout: 20) { try $0.create("/one-participant-down", data: [1]) }
        c4.close()
        try expectVisible(e, "/one-participant-down", on: [0, 1, 2, 3, 4].filter { $0 != follower }, [1])

        // Both observers down as well: the leader and one follower still commit.
        e.kill9(3)
        e.kill9(4)
        let lc = try e.client([leader])
        _ = try lc.retrying(timeout: 20) { try $0.create("/no-observers", data: [2]) }
        lc.close()

        // A restarted observer catches up (its copy is behind by the writes it missed).
        try e.start(3)
        try e.start(follower)
        _ = try #require(waitForRoles(e, participants: [0, 1, 2], observers: [3]), "observer did not rejoin:\n\(e.logs)")
        try expectVisible(e, "/no-observers", on: [3, follower], [2])
        try expectVisible(e, "/one-participant-down", on: [3, follower], [1])
    }

    @Test(.timeLimit(.minutes(1))) func peerTypeMustMatchTheServerLine() throws {
        let bin = try #require(ProcessHarness.binary("coordd"))
        let dir = try ProcessHarness.makeTempDir("observer-cfg")
        defer { ProcessHarness.removeDir(dir) }
        try "2\n".write(toFile: dir + "/myid", atomically: true, encoding: .utf8)
        let ports = try (0..<6).map { _ in try ProcessHarness.freePort() }
        let base = "tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir=\(dir)\nclientPort=\(ports[0])\n"
            + "server.1=127.0.0.1:\(ports[1]):\(ports[2])\n"
        let cases = [
            ("observer line, no peerType", base + "server.2=127.0.0.1:\(ports[3]):\(ports[4]):observer\n"),
            ("peerType=observer, participant line", base + "server.2=127.0.0.1:\(ports[3]):\(ports[4])\npeerType=observer\n"),
            ("unknown peerType", base + "server.2=127.0.0.1:\(ports[3]):\(ports[4])\npeerType=witness\n"),
        ]
        for (name, cfg) in cases {
            try cfg.write(toFile: dir + "/zoo.cfg", atomically: true, encoding: .utf8)
            let r = try ProcessHarness.run(bin, [dir + "/zoo.cfg"], timeout: 20)
            #expect(!r.timedOut && r.status != 0, "\(name): coordd started")
            #expect((r.stderr + r.stdout).lowercased().contains("peertype"), "\(name): \(r.stderr)")
        }
    }

    static let kazooScript = """
    import sys
    from kazoo.client import KazooClient
    writer = KazooClient(hosts=sys.argv[1], timeout=10)
    writer.start(timeout=10)
    reader = KazooClient(hosts=sys.argv[2], timeout=10)
    reader.start(timeout=10)
    for i in range(20):
        writer.create("/k%d" % i, b"v%d" % i)
        reader.sync("/k%d" % i)
        data, _ = reader.get("/k%d" % i)
        assert data == b"v%d" % i, "observer read %r after sync" % data
    reader.create("/from-observer", b"x")
    writer.sync("/")
    assert writer.get("/from-observer")[0] == b"x"
    reader.stop()
    writer.stop()
    print("OK")
    """
}
