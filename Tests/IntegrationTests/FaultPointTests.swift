import CoordClient
import Foundation
import Observability
import Testing

/// The fault controls that reach inside the data path (issue 10): coordd's named crash point after a
/// proposal and its delayed peer links; brokerd's slow disk, cut link to coordd and crash after append.
@Suite(.serialized, .ownThreads) struct FaultPointTests {
    @Test func delayedLinksSlowCommitsAndTheLeaderDiesAfterProposing() throws {
        let admin = try (0..<3).map { _ in try ProcessHarness.freePort() }
        let e = try EnsembleProcesses(extraConfig: "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nfaults.enable=true\n", adminPorts: admin)
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(followers: 2))
        #expect(admin.allSatisfy(FaultControlTests.adminUp))
        let c = try e.client([leader])
        defer { c.close() }
        func threeWrites(_ tag: String) throws -> Double {
            let t0 = Date()
            for i in 0..<3 { _ = try c.create("/\(tag)\(i)") }
            return Date().timeIntervalSince(t0)
        }
        // Every message the leader sends is held 300 ms: no proposal reaches a quorum sooner.
        #expect(try FaultControlTests.post(admin[leader], "/faults/peer?id=all&mode=delay&delay=300").status == 200)
        let slow = try threeWrites("slow")
        #expect(slow >= 0.85, "3 writes took \(slow) s with the leader's links 300 ms slow")
        #expect(try FaultControlTests.post(admin[leader], "/faults/peer?id=all&mode=pass").status == 200)
        let fast = try threeWrites("fast")
        #expect(fast < slow / 2, "healed: \(fast) s vs \(slow) s")
        #expect(try FaultControlTests.post(admin[leader], "/faults/peer?id=all&mode=delay").status == 400)

        // Armed, the next write kills the leader just after its proposal went out: the client gets
        // no answer, the others elect a new leader.
        #expect(try FaultControlTests.post(admin[leader], "/faults/crash?at=nowhere").status == 400)
        let armed = try FaultControlTests.post(admin[leader], "/faults/crash?at=after-propose")
        #expect(armed.status == 200, "\(armed.text)")
        #expect(e.mode(leader) == "leader", "arming alone must not crash")
        #expect(throws: (any Error).self) { _ = try c.create("/doomed") }
        #expect(ProcessHarness.waitUntil(timeout: 10, interval: 0.1) { e.mode(leader) == nil }, "the leader is still up")
        #expect(ProcessHarness.waitUntil(timeout: 15, interval: 0.1) { (0..<3).contains { $0 != leader && e.mode($0) == "leader" } },
                "no new leader: \((0..<3).map { e.mode($0) ?? "-" })")
        let next = try #require((0..<3).first { $0 != leader && e.mode($0) == "leader" })
        let n = try e.client([next])
        defer { n.close() }
        for i in 0..<3 { #expect(try n.exists("/fast\(i)") != nil, "acknowledged /fast\(i) lost") }
    }

    /// The client listener alone: held requests slow a client down, a dropped listener answers
    /// nothing until healed, while the ensemble behind it keeps committing.
    @Test func coorddClientListenerDelayAndDrop() throws {
        let admin = try (0..<3).map { _ in try ProcessHarness.freePort() }
        let e = try EnsembleProcesses(extraConfig: "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nfaults.enable=true\n", adminPorts: admin)
        defer { e.cleanup() }
        _ = try #require(e.waitForLeader(followers: 2))
        #expect(admin.allSatisfy(FaultControlTests.adminUp))
        let c = try e.client([0], timeoutMs: 20_000)
        defer { c.close() }
        func threeWrites(_ tag: String) throws -> Double {
            let t0 = Date()
            for i in 0..<3 { _ = try c.create("/\(tag)\(i)") }
            return Date().timeIntervalSince(t0)
        }
        #expect(try FaultControlTests.post(admin[0], "/faults/clients?mode=delay&delay=400").status == 200)
        let slow = try threeWrites("held")
        #expect(slow >= 1.1, "3 writes took \(slow) s with requests held 400 ms")
        #expect(try FaultControlTests.post(admin[0], "/faults/clients?mode=pass").status == 200)
        let fast = try threeWrites("quick")
        #expect(fast < slow / 2, "healed: \(fast) s vs \(slow) s")

        // Dropped for 1.5 s: a write waits it out, then is answered; the other servers never noticed.
        #expect(try FaultControlTests.post(admin[0], "/faults/clients?mode=drop&ms=1500").status == 200)
        let other = try e.client([1])
        defer { other.close() }
        _ = try other.create("/meanwhile")
        let t0 = Date()
        _ = try c.create("/after-drop")
        let waited = Date().timeIntervalSince(t0)
        #expect(waited >= 1.0 && waited < 15, "a write during a 1.5 s listener drop took \(waited) s")
        #expect(try c.exists("/meanwhile") != nil)
        #expect(try FaultControlTests.post(admin[0], "/faults/clients?mode=sideways").status == 400)
    }

    @Test func brokerSlowDiskCutCoordLinkAndCrashAfterAppend() throws {
        let admin = try ProcessHarness.freePort()
        let cluster = try BrokerCluster(brokers: 1, extraConfig: "zookeeper.session.timeout.ms=3000\nfaults.enable=true\n") { _, _ in
            "admin.listener=127.0.0.1:\(admin)"
        }
        defer { cluster.cleanup() }
        let bootstrap = cluster.bootstrap
        func produce(_ value: String, timeout: Double = 30) throws -> Int32 {
            try kcat(["-b", bootstrap, "-P", "-t", "faulty", "-X", "acks=1"], stdin: value + "\n", timeout: timeout).status
        }
        func threeProduces(_ tag: String) throws -> Double {
            let t0 = Date()
            for i in 0..<3 { #expect(try produce("\(tag)\(i)") == 0) }
            return Date().timeIntervalSince(t0)
        }
        #expect(try produce("warm") == 0)
        #expect(ProcessHarness.waitUntil(timeout: 15, interval: 0.05) { (try? AdminHTTP.get(admin, "/health/live").status) == 200 })

        // Every append 1 s slower: three single-record produces take three seconds more.
        #expect(try FaultControlTests.post(admin, "/faults/disk?ms=1000").status == 200)
        let slow = try threeProduces("slow")
        #expect(slow >= 3.0, "3 produces took \(slow) s with every append 1 s slower")
        #expect(try FaultControlTests.post(admin, "/faults/disk?ms=0").status == 200)
        let fast = try threeProduces("fast")
        #expect(fast < slow - 2.0, "healed: \(fast) s vs \(slow) s")
        #expect(try FaultControlTests.post(admin, "/faults/disk?ms=99999").status == 400)

        // The client listener: every request (ApiVersions, Metadata, Produce...) held 300 ms, then
        // none taken for 1.5 s; a produce waits it out.
        func timedProduce(_ v: String) throws -> Double {
            let t0 = Date()
            #expect(try produce(v) == 0)
            return Date().timeIntervalSince(t0)
        }
        #expect(try FaultControlTests.post(admin, "/faults/clients?mode=delay&delay=300").status == 200)
        let held = try timedProduce("held")
        #expect(try FaultControlTests.post(admin, "/faults/clients?mode=pass").status == 200)
        let free = try timedProduce("free")
        #expect(held >= 0.6 && free < held - 0.3, "a produce took \(held) s with requests held 300 ms, \(free) s healed")
        #expect(try FaultControlTests.post(admin, "/faults/clients?mode=drop&ms=1500").status == 200)
        let dropped = try timedProduce("dropped")
        #expect(dropped >= 1.0, "a produce during a 1.5 s listener drop took \(dropped) s")

        // Cut off from coordd, the broker's session expires and its registration goes; passed, it
        // registers again.
        func registered() -> Bool {
            guard let c = try? cluster.coordClient() else { return false }
            defer { c.close() }
            return (try? c.exists("/brokers/ids/1")) != nil
        }
        #expect(registered())
        #expect(try FaultControlTests.post(admin, "/faults/coord?mode=drop").status == 200)
        #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.2) { !registered() }, "still registered with its coordd link cut")
        #expect(try FaultControlTests.post(admin, "/faults/coord?mode=pass").status == 200)
        #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.2) { registered() }, "not registered again after the link came back")
        #expect(try FaultControlTests.post(admin, "/faults/coord?mode=sideways").status == 400)

        // Armed after-append: the next produce dies with the broker, unanswered.
        #expect(try FaultControlTests.post(admin, "/faults/crash?at=after-commit").status == 400)
        #expect(try FaultControlTests.post(admin, "/faults/crash?at=after-append").status == 200)
        #expect(cluster.procs[1]?.isRunning == true, "arming alone must not crash")
        _ = try? produce("doomed", timeout: 10)
        #expect(ProcessHarness.waitUntil(timeout: 10, interval: 0.1) { cluster.procs[1]?.isRunning == false }, "the broker is still up")
        #expect(cluster.procs[1]?.stderrText.contains("crash point after-append reached") == true)
    }
}
