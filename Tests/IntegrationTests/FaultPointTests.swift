import CoordClient
import Foundation
import Observability
import Testing

/// The fault controls that reach inside the data path: coordd's named crash point after a proposal
/// and its delayed peer links (issue 10).
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
}
