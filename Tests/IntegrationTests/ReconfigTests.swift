import CoordClient
import Foundation
import Protocol
import Testing

/// ZooKeeper's dynamic reconfiguration against real coordd processes: kazoo's own TestReconfig,
/// and an ensemble grown from three to five voters, surviving two failures it could not have
/// survived before, shrunk back to three others, and restarted into that configuration.
@Suite(.serialized, .ownThreads) struct ReconfigTests {
    static let config = "reconfigEnabled=true\n" + AuthTests.superConfig
    static let compat = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/"

    @Test(.timeLimit(.minutes(3))) func kazooUpstreamReconfigTests() throws {
        let e = try EnsembleProcesses(servers: 3, extraConfig: Self.config)
        defer { e.cleanup() }
        _ = try #require(e.waitForLeader(followers: 2), "no leader:\n\(e.logs)")
        let r = try ProcessHarness.run("/usr/bin/env", [
            "python3", Self.compat + "kazoo_upstream.py", e.connectString, "@TESTS@/test_client.py", "-q", "-k", "TestReconfig",
        ], timeout: 150)
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("3 passed"), "kazoo upstream:\n\(r.stdout.suffix(4000))\n\(r.stderr.suffix(2000))\n\(e.logs.suffix(3000))")
    }

    @Test(.timeLimit(.minutes(3))) func disabledByDefaultAndRefusedWithoutTheSuperuser() throws {
        let e = try EnsembleProcesses(servers: 3, extraConfig: AuthTests.superConfig)
        defer { e.cleanup() }
        _ = try #require(e.waitForLeader(followers: 2), "no leader:\n\(e.logs)")
        let r = try reconfig(e, [0, 1, 2], "leaving", "3")
        #expect(r.status != 0 && r.stderr.contains("ReconfigDisabled"), "\(r.stdout)\n\(r.stderr.suffix(1500))")
        // Without reconfig /zookeeper/config still shows zoo.cfg's servers, version 0.
        let c = try e.client([0])
        defer { c.close() }
        let text = String(decoding: try c.getData("/zookeeper/config").data, as: UTF8.self)
        #expect(text.hasPrefix("server.1=127.0.0.1:\(e.peerPorts[0]):") && text.hasSuffix("\nversion=0"), "\(text)")
    }

    func reconfig(_ e: EnsembleProcesses, _ via: [Int], _ kind: String, _ value: String) throws -> (status: Int32, stdout: String, stderr: String, timedOut: Bool) {
        try ProcessHarness.run("/usr/bin/env", ["python3", Self.compat + "kazoo_reconfig.py", e.connectString(via), kind, value], timeout: 60)
    }

    func spec(_ e: EnsembleProcesses, _ i: Int) -> String {
        "server.\(i + 1)=127.0.0.1:\(e.peerPorts[i]):\(e.electionPorts[i]):participant;127.0.0.1:\(e.clientPorts[i])"
    }

    /// Waits until one of `among` leads and every other of them follows.
    func leader(_ e: EnsembleProcesses, among: [Int], timeout: Double = 30) -> Int? {
        var found: Int?
        ProcessHarness.waitUntil(timeout: timeout, interval: 0.1) {
            let modes = among.map { e.mode($0) }
            found = modes.firstIndex(of: "leader").map { among[$0] }
            return found != nil && modes.filter { $0 == "follower" }.count == among.count - 1
        }
        return found
    }

    @Test(.timeLimit(.minutes(5))) func growToFiveSurviveTwoFailuresShrinkAndRestart() throws {
        let e = try EnsembleProcesses(servers: 5, joiners: 2, extraConfig: Self.config)
        defer { e.cleanup() }
        _ = try #require(leader(e, among: [0, 1, 2]), "no leader:\n\(e.logs)")
        let c = try e.client([0, 1, 2])
        _ = try c.retrying(timeout: 20) { try $0.create("/before", data: Array("1".utf8)) }
        c.close()
        // A client writes all along, through every server; each acknowledged write must survive.
        let writer = BackgroundWriter(connectString: e.connectString)
        // The joiners follow as non-voters first; then one reconfig adds both.
        try e.start(3)
        try e.start(4)
        let grow = try reconfig(e, [0, 1, 2], "joining", spec(e, 3) + "," + spec(e, 4))
        #expect(grow.status == 0 && grow.stdout.contains(spec(e, 4)), "grow:\n\(grow.stdout)\n\(grow.stderr.suffix(2000))\n\(e.logs.suffix(4000))")
        #expect(leader(e, among: [0, 1, 2, 3, 4]) != nil, "five do not settle:\n\(e.logs.suffix(4000))")

        // Two of the original three down, the leader among them: three of five still commit.
        let l = try #require(leader(e, among: [0, 1, 2, 3, 4]))
        let victims = [l] + [0, 1, 2].filter { $0 != l }.prefix(l < 3 ? 1 : 2)
        for v in victims.prefix(2) { e.kill9(v) }
        let live = [0, 1, 2, 3, 4].filter { !victims.prefix(2).contains($0) }
        #expect(leader(e, among: live) != nil, "three of five elect nobody:\n\(e.logs.suffix(6000))")
        let c2 = try e.client(live)
        _ = try c2.retrying(timeout: 30) { try $0.create("/after", data: Array("2".utf8)) }
        c2.close()
        for v in victims.prefix(2) { try e.start(v, wait: false) }
        #expect(leader(e, among: [0, 1, 2, 3, 4]) != nil, "restarted servers do not rejoin:\n\(e.logs.suffix(6000))")

        // Shrink to 3, 4, 5: 1 and 2 stand down.
        let shrink = try reconfig(e, [2, 3, 4], "leaving", "1,2")
        #expect(shrink.status == 0 && !shrink.stdout.contains("server.1="), "shrink:\n\(shrink.stdout)\n\(shrink.stderr.suffix(2000))\n\(e.logs.suffix(4000))")
        #expect(leader(e, among: [2, 3, 4]) != nil, "3, 4, 5 do not settle:\n\(e.logs.suffix(6000))")
        ProcessHarness.waitUntil(timeout: 20, interval: 0.1) { e.mode(0) == nil && e.mode(1) == nil }
        #expect(e.mode(0) == nil && e.mode(1) == nil, "removed servers still serve: \(e.mode(0) ?? "-") \(e.mode(1) ?? "-")")

        let acked = writer.stop()
        #expect(acked.count >= 20, "only \(acked.count) writes acknowledged during the changes")

        // Everyone restarts from disk with its old zoo.cfg: the data decides who votes.
        for i in 0..<5 { e.kill9(i) }
        for i in 0..<5 { try e.start(i, wait: false) }
        #expect(leader(e, among: [2, 3, 4]) != nil, "no leader among 3, 4, 5 after restarts:\n\(e.logs.suffix(6000))")
        let c3 = try e.client([2, 3, 4])
        defer { c3.close() }
        let before = try c3.retrying(timeout: 20) { try $0.getData("/before").data }
        let after = try c3.retrying(timeout: 20) { try $0.getData("/after").data }
        #expect(before == Array("1".utf8) && after == Array("2".utf8))
        let text = String(decoding: try c3.getData("/zookeeper/config").data, as: UTF8.self)
        #expect(!text.contains("server.1=") && text.contains(spec(e, 4)), "\(text)")
        #expect(e.mode(0) == nil && e.mode(1) == nil, "a removed server serves after its restart")
        let lost = try acked.filter { path in try c3.retrying(timeout: 20) { try $0.exists(path) } == nil }
        #expect(lost.isEmpty, "acknowledged writes lost: \(lost.prefix(10)) of \(acked.count)")
    }
}

/// Creates /w-0, /w-1, ... on its own thread until stopped (a fresh session after any failure);
/// returns the paths whose create was acknowledged.
final class BackgroundWriter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var acked: [String] = []
    private let finished = DispatchSemaphore(value: 0)

    init(connectString: String) {
        Thread.detachNewThread { [self] in
            var n = 0
            var client: CoordClient?
            while !isDone {
                do {
                    if client == nil {
                        let c = CoordClient(connectString: connectString, sessionTimeoutMs: 6000)
                        try c.start(timeoutMs: 5000)
                        client = c
                    }
                    let path = "/w-\(n)"
                    n += 1
                    _ = try client?.create(path)
                    lock.withLock { acked.append(path) }
                } catch {
                    client?.close()
                    client = nil
                    usleep(50_000)
                }
                usleep(20_000)
            }
            client?.close()
            finished.signal()
        }
    }

    private var isDone: Bool { lock.withLock { done } }

    func stop() -> [String] {
        lock.withLock { done = true }
        finished.wait()
        return lock.withLock { acked }
    }
}
