import CoordClient
import Foundation
import Protocol
import Testing

/// ZooKeeper's read-only mode with the real kazoo client: the last server standing serves reads
/// to read-only clients, refuses writes with NotReadOnly and other clients entirely, and hands
/// its clients back to a read-write session when the quorum returns.
@Suite(.serialized, .ownThreads) struct ReadOnlyModeTests {
    @Test(.timeLimit(.minutes(3))) func lastServerStandingServesReadsUntilTheQuorumIsBack() throws {
        let e = try EnsembleProcesses(servers: 3, extraConfig: "readonlymode.enabled=true\n")
        defer { e.cleanup() }
        _ = try #require(e.waitForLeader(followers: 2), "no leader:\n\(e.logs)")
        // Written through server 1 itself, so it has it when it is left alone.
        let c = try e.client([0])
        _ = try c.retrying(timeout: 20) { try $0.create("/ro-data", data: Array("x".utf8)) }
        c.close()
        e.kill9(1)
        e.kill9(2)
        ProcessHarness.waitUntil(timeout: 20, interval: 0.1) { (try? fourLetterWord("isro", port: e.clientPorts[0])) == "ro" }
        #expect((try? fourLetterWord("isro", port: e.clientPorts[0])) == "ro", "\(e.log(0).suffix(2000))")
        #expect(e.mode(0) == "read-only")

        let script = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/kazoo_readonly.py"
        let py = try ManagedProcess("/usr/bin/env", ["python3", script, "127.0.0.1:\(e.clientPorts[0])", "/ro-data", "x"],
                                    stderrPath: e.dir + "/kazoo-ro.log")
        defer { py.kill9() }
        let roOK = py.waitForLine(containing: "RO-OK", timeout: 60) != nil
        #expect(roOK, "kazoo read-only:\n\(py.stderrText.suffix(3000))\n\(e.log(0).suffix(3000))")
        guard roOK else { return }
        try e.start(1, wait: false)
        try e.start(2, wait: false)
        #expect(py.waitForLine(containing: "RW-OK", timeout: 90) != nil,
                "back to read-write:\n\(py.stderrText.suffix(3000))\n\(e.logs.suffix(4000))")
        #expect(e.log(0).contains("left read-only mode"))
    }

    /// kazoo's own TestReadOnlyMode; its harness kills two servers and starts them again.
    @Test(.timeLimit(.minutes(3))) func kazooUpstreamReadOnlyMode() throws {
        let e = try EnsembleProcesses(servers: 3, extraConfig: "readonlymode.enabled=true\n")
        defer { e.cleanup() }
        _ = try #require(e.waitForLeader(followers: 2), "no leader:\n\(e.logs)")
        let pids = e.procs.compactMap { $0.map { String($0.pid) } }.joined(separator: ",")
        let bin = try #require(ProcessHarness.binary("coordd"))
        let commands = (1...3).map { "[\"\(bin)\", \"\(e.dir)/zoo\($0).cfg\"]" }.joined(separator: ",")
        let r = try ProcessHarness.run("/usr/bin/env", [
            "python3", ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/kazoo_upstream.py", e.connectString,
            "@TESTS@/test_connection.py", "-q", "-k", "TestReadOnlyMode",
        ], timeout: 150, env: ["KAZOO_SERVER_PIDS": pids, "KAZOO_SERVER_COMMANDS": "[\(commands)]"])
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("1 passed"), "kazoo upstream:\n\(r.stdout.suffix(4000))\n\(r.stderr.suffix(2000))\n\(e.logs.suffix(3000))")
    }

    @Test(.timeLimit(.minutes(2))) func withoutTheSettingNobodyIsServed() throws {
        let e = try EnsembleProcesses(servers: 3)
        defer { e.cleanup() }
        _ = try #require(e.waitForLeader(followers: 2), "no leader:\n\(e.logs)")
        e.kill9(1)
        e.kill9(2)
        ProcessHarness.waitUntil(timeout: 20, interval: 0.1) { e.mode(0) == nil }
        usleep(2_500_000)
        #expect((try? fourLetterWord("isro", port: e.clientPorts[0])) == "null")
        #expect(e.mode(0) == nil)
    }
}
