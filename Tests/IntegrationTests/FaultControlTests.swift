import CoordClient
import Foundation
import Observability
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The daemons' fault controls (`POST /faults/...` with `faults.enable=true`), used by the lab:
/// each must really cause the fault it names, show on the timeline, and be refused when off.
@Suite(.serialized, .ownThreads) struct FaultControlTests {
    static func post(_ port: Int, _ path: String, token: String? = nil) throws -> HTTPClient.Response {
        let c = try HTTPClient(host: "127.0.0.1", port: port)
        defer { c.close() }
        return try c.request("POST", path, headers: token.map { [("X-Fault-Token", $0)] } ?? [])
    }

    /// coordd logs "serving clients" before its admin server is up.
    static func adminUp(_ port: Int) -> Bool {
        ProcessHarness.waitUntil(timeout: 15, interval: 0.05) { (try? AdminHTTP.get(port, "/health/live").status) == 200 }
    }

    @Test func stepdownMovesTheLeaderAndPeerCutsHeal() throws {
        let admin = try (0..<3).map { _ in try ProcessHarness.freePort() }
        let e = try EnsembleProcesses(extraConfig: "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nfaults.enable=true\n", adminPorts: admin)
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(followers: 2))
        #expect(admin.allSatisfy(Self.adminUp))
        let r = try Self.post(admin[leader], "/faults/stepdown")
        #expect(r.status == 200, "\(r.text)")
        // The other two elect one of themselves; the old leader cannot take part while cut off.
        var next: Int?
        let moved = ProcessHarness.waitUntil(timeout: 15, interval: 0.1) {
            next = (0..<3).first { $0 != leader && e.mode($0) == "leader" }
            return next != nil
        }
        #expect(moved, "no new leader after stepdown: \((0..<3).map { e.mode($0) ?? "-" })")
        let listed = try AdminHTTP.json(admin[leader], "/faults").encoded()
        #expect(listed.contains("stepdown") || listed.contains("peer."), "\(listed)")
        // Healed after (syncLimit + 2) ticks: the old leader follows the new one.
        #expect(ProcessHarness.waitUntil(timeout: 15, interval: 0.1) { e.mode(leader) == "follower" }, "old leader: \(e.mode(leader) ?? "-")")
        let events = try AdminHTTP.json(admin[leader], "/timeline?kind=fault").encoded()
        #expect(events.contains("fault.injected") && events.contains("fault.cleared"), "\(events)")

        // A single link cut from a follower to the leader: that follower loses the leader, the
        // majority (leader + the other follower) keeps committing; healing brings it back.
        let now = try #require(next)
        let follower = try #require((0..<3).first { $0 != now && e.mode($0) == "follower" })
        #expect(try Self.post(admin[follower], "/faults/peer?id=\(now + 1)&mode=drop").status == 200)
        #expect(ProcessHarness.waitUntil(timeout: 10, interval: 0.1) { e.mode(follower) != "follower" }, "follower kept following through a cut link")
        let c = try e.client([now])
        defer { c.close() }
        _ = try c.create("/while-cut", data: Array("x".utf8))
        #expect(try Self.post(admin[follower], "/faults/clear").status == 200)
        #expect(ProcessHarness.waitUntil(timeout: 15, interval: 0.1) { e.mode(follower) == "follower" }, "no rejoin after clear")
        let f = try e.client([follower])
        defer { f.close() }
        try f.sync("/")
        #expect(try f.exists("/while-cut") != nil)
        // Bad requests: the protocol's 4xx, nothing injected.
        #expect(try Self.post(admin[follower], "/faults/peer?id=\(follower + 1)").status == 400)
        #expect(try Self.post(admin[follower], "/faults/peer?id=1&mode=sideways").status == 400)
        #expect(try Self.post(admin[follower], "/faults/meteor").status == 404)
    }

    @Test func pauseStopsTheProcessForItsTime() throws {
        let admin = try ProcessHarness.freePort()
        let c = try CoordProcess(extraConfig: "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=\(admin)\nfaults.enable=true\n")
        defer { c.cleanup() }
        #expect(Self.adminUp(admin))
        let t0 = Date()
        #expect(try Self.post(admin, "/faults/pause?ms=2000").status == 200)
        usleep(600_000)
        // Stopped: the kernel still accepts the connection, nothing answers it.
        #expect((try? HTTPClient.get(host: "127.0.0.1", port: admin, "/health/live", timeoutMillis: 500)) == nil, "answered while paused")
        #expect(ProcessHarness.waitUntil(timeout: 10, interval: 0.1) { (try? AdminHTTP.get(admin, "/health/live").status) == 200 })
        #expect(Date().timeIntervalSince(t0) >= 1.9)
        #expect(try Self.post(admin, "/faults/pause?ms=0").status == 400)
    }

    @Test func expireEndsASessionAndItsEphemerals() throws {
        let admin = try ProcessHarness.freePort()
        let c = try CoordProcess(extraConfig: "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=\(admin)\nfaults.enable=true\n")
        defer { c.cleanup() }
        #expect(Self.adminUp(admin))
        let owner = CoordClient(connectString: "127.0.0.1:\(c.port)", sessionTimeoutMs: 30000)
        try owner.start()
        defer { owner.close() }
        _ = try owner.create("/mine", data: [], mode: .ephemeral)
        let sid = try #require(try owner.exists("/mine")?.ephemeralOwner)
        let hex = "0x" + String(UInt64(bitPattern: sid), radix: 16)
        #expect(try Self.post(admin, "/faults/expire?session=0x1234").status == 400)
        let r = try Self.post(admin, "/faults/expire?session=\(hex)")
        #expect(r.status == 200, "\(r.text)")
        let other = CoordClient(connectString: "127.0.0.1:\(c.port)", sessionTimeoutMs: 6000)
        try other.start()
        defer { other.close() }
        // The 30 s session is gone within a tick or two, and its ephemeral with it.
        #expect(ProcessHarness.waitUntil(timeout: 5, interval: 0.1) { (try? other.exists("/mine")) == .some(nil) })
        let events = try AdminHTTP.json(admin, "/timeline?kind=session.expired,fault").encoded()
        #expect(events.contains("session.expired") && events.contains("fault.injected"), "\(events)")
    }

    @Test func slowFsyncDelaysEveryWriteUntilHealed() throws {
        let admin = try ProcessHarness.freePort()
        let c = try CoordProcess(extraConfig: "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=\(admin)\nfaults.enable=true\n")
        defer { c.cleanup() }
        #expect(Self.adminUp(admin))
        let client = CoordClient(connectString: "127.0.0.1:\(c.port)", sessionTimeoutMs: 30000)
        try client.start()
        defer { client.close() }
        func threeWrites(_ tag: String) throws -> Double {
            let t0 = Date()
            for i in 0..<3 { _ = try client.create("/\(tag)\(i)") }
            return Date().timeIntervalSince(t0)
        }
        #expect(try Self.post(admin, "/faults/fsync?ms=400").status == 200)
        let slow = try threeWrites("slow")
        #expect(slow >= 1.15, "3 writes took \(slow) s with every fsync 400 ms slower")
        #expect(try AdminHTTP.get(admin, "/faults").text.contains("fsync"))
        #expect(try Self.post(admin, "/faults/clear").status == 200)
        let fast = try threeWrites("fast")
        #expect(fast < slow / 2, "healed: \(fast) s vs \(slow) s")
        #expect(try Self.post(admin, "/faults/fsync?ms=-1").status == 400)
    }

    @Test func faultsAreOffByDefaultAndNeedTheTokenWhenOneIsSet() throws {
        let admin = try ProcessHarness.freePort()
        let off = try CoordProcess(extraConfig: "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=\(admin)\n")
        #expect(Self.adminUp(admin))
        let r = try Self.post(admin, "/faults/crash")
        #expect(r.status == 403 && r.text.contains("faults.enable"), "\(r.status) \(r.text)")
        usleep(300_000)
        #expect((try? AdminHTTP.get(admin, "/health/live").status) == 200, "crashed with fault controls off")
        off.cleanup()

        let admin2 = try ProcessHarness.freePort()
        let token = "lab-token-0123456789"
        let on = try CoordProcess(extraConfig: "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=\(admin2)\nfaults.enable=true\nfaults.token=\(token)\n")
        defer { on.cleanup() }
        #expect(Self.adminUp(admin2))
        #expect(try Self.post(admin2, "/faults/crash").status == 403)
        #expect(try Self.post(admin2, "/faults/crash", token: "lab-token-0123456780").status == 403)
        #expect(try Self.post(admin2, "/faults/crash", token: token).status == 200)
        #expect(ProcessHarness.waitUntil(timeout: 5) { on.proc?.isRunning != true }, "crash did not kill the process")
    }

    @Test func pausedFetchesShrinkTheIsrAndResumeExpandsIt() throws {
        let admins: [Int32: Int] = [1: try ProcessHarness.freePort(), 2: try ProcessHarness.freePort()]
        let cluster = try BrokerCluster(brokers: 2, extraConfig: "replica.lag.time.max.ms=1500\ndefault.replication.factor=2\nfaults.enable=true\n") { id, _ in
            "admin.listener=127.0.0.1:\(admins[id] ?? 0)"
        }
        defer { cluster.cleanup() }
        let bootstrap = cluster.bootstrap
        #expect(try kcat(["-b", bootstrap, "-P", "-t", "isr", "-X", "acks=all"], stdin: "a\n").status == 0)
        func isr() -> [Int]? {
            guard let c = try? cluster.coordClient() else { return nil }
            defer { c.close() }
            return cluster.znodeJSON(c, "/brokers/topics/isr/partitions/0/state")?["isr"] as? [Int]
        }
        func leader() -> Int? {
            guard let c = try? cluster.coordClient() else { return nil }
            defer { c.close() }
            return cluster.znodeJSON(c, "/brokers/topics/isr/partitions/0/state")?["leader"] as? Int
        }
        _ = try kcat(["-b", bootstrap, "-L", "-t", "isr"])
        #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.2) { isr()?.count == 2 }, "isr \(isr() ?? [])")
        let l = try #require(leader())
        let follower = Int32(l == 1 ? 2 : 1)
        #expect(try Self.post(admins[follower]!, "/faults/fetch?mode=pause").status == 200)
        // Keep the leader's log moving so the paused follower really falls behind.
        let shrunk = ProcessHarness.waitUntil(timeout: 20, interval: 0.3) {
            _ = try? kcat(["-b", bootstrap, "-P", "-t", "isr", "-X", "acks=1"], stdin: "b\n", timeout: 5)
            return isr() == [l]
        }
        #expect(shrunk, "isr \(isr() ?? []) with the follower's fetches paused")
        #expect(try Self.post(admins[follower]!, "/faults/fetch?mode=resume").status == 200)
        #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.2) { isr()?.count == 2 }, "isr \(isr() ?? []) after resume")
        let events = try AdminHTTP.json(admins[follower]!, "/timeline?kind=fault").encoded()
        #expect(events.contains("fetch"), "\(events)")
    }
}
