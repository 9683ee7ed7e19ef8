import Foundation
import Testing

/// ZooKeeper's local sessions (localSessionsEnabled, localSessionsUpgradingEnabled) with kazoo
/// against a 3-server coordd ensemble, and against a standalone one (a one-voter quorum: the same
/// session paths).
@Suite(.serialized, .ownThreads) struct LocalSessionTests {
    func run(upgrading: Bool) throws {
        let e = try EnsembleProcesses(servers: 3, extraConfig: "localSessionsEnabled=true\nlocalSessionsUpgradingEnabled=\(upgrading)\n")
        defer { e.cleanup() }
        _ = try #require(e.waitForLeader(followers: 2), "no leader:\n\(e.logs)")
        let script = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/kazoo_local_sessions.py"
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", script, e.connectString([1]), e.connectString([2]), upgrading ? "upgrading" : "plain"],
                                       timeout: 90)
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("OK"), "\(r.stdout)\n\(r.stderr.suffix(3000))\n\(e.logs.suffix(3000))")
        #expect(e.log(1).contains("new local session"), "server 2 made no local session")
        if upgrading { #expect(e.log(1).contains("upgrading local session")) }
    }

    @Test(.timeLimit(.minutes(2))) func upgradedForAnEphemeral() throws { try run(upgrading: true) }
    @Test(.timeLimit(.minutes(2))) func ephemeralRefusedWithoutUpgrading() throws { try run(upgrading: false) }

    @Test(.timeLimit(.minutes(2)), arguments: [true, false]) func standalone(upgrading: Bool) throws {
        let c = try CoordProcess(extraConfig: "localSessionsEnabled=true\nlocalSessionsUpgradingEnabled=\(upgrading)\n")
        defer { c.cleanup() }
        let script = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/kazoo_local_sessions.py"
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", script, "127.0.0.1:\(c.port)", "-", upgrading ? "upgrading" : "plain"], timeout: 90)
        let log = c.proc?.stderrText ?? ""
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("OK"), "\(r.stdout)\n\(r.stderr.suffix(3000))\n\(log.suffix(3000))")
        #expect(log.contains("new local session"), "standalone made no local session")
        if upgrading { #expect(log.contains("upgrading local session")) }
    }
}
