import Foundation
import Protocol
import Testing
import Transport

/// ZooKeeper ACLs and authentication against real coordd processes: raw frames for the exact
/// answers, kazoo for what clients see, alone and in an ensemble (identities travel with writes).
@Suite(.serialized) struct AuthTests {
    /// super:test, as kazoo's own test harness configures ZooKeeper.
    static let superConfig = "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n"
    static let compat = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/"

    func auth(_ zk: RawZK, _ scheme: String, _ data: String) throws -> Int32 {
        try zk.sock.sendAll(ZKRequest.auth(type: 0, scheme: scheme, auth: Array(data.utf8)).frame(xid: ZKXid.auth))
        let r = try zk.readReply(op: ZKOp.auth)
        #expect(r.header.xid == ZKXid.auth)
        return r.header.err
    }

    func whoAmI(_ zk: RawZK) throws -> [ZKId]? {
        guard case .clientInfo(let ids)? = try zk.call(.whoAmI).response else { return nil }
        return ids
    }

    @Test(.timeLimit(.minutes(1))) func authPacketsWhoAmIAndAuthFailed() throws {
        let c = try CoordProcess(extraConfig: Self.superConfig)
        defer { c.cleanup() }
        let zk = try RawZK(port: c.port)
        let ip = ZKId(scheme: "ip", id: "127.0.0.1")
        #expect(try whoAmI(zk) == [ip])
        #expect(try auth(zk, "digest", "alice:pw") == ZKErr.ok)
        #expect(try whoAmI(zk) == [ip, ZKId(scheme: "digest", id: "alice")])
        // The same identity twice is kept once.
        #expect(try auth(zk, "digest", "alice:pw") == ZKErr.ok)
        #expect(try whoAmI(zk)?.count == 2)
        #expect(try auth(zk, "digest", "super:test") == ZKErr.ok)
        #expect(try whoAmI(zk) == [ip, ZKId(scheme: "digest", id: "alice"), ZKId(scheme: "super", id: ""), ZKId(scheme: "digest", id: "super")])

        let su = try RawZK(port: c.port)
        #expect(try auth(su, "digest", "super:test") == ZKErr.ok)
        #expect(try su.call(.setData(path: "/zookeeper/config", data: [1], version: -1)).header.err == ZKErr.ok)
        let anon = try RawZK(port: c.port)
        #expect(try anon.call(.setData(path: "/zookeeper/config", data: [2], version: -1)).header.err == ZKErr.noAuth)
        #expect(try anon.call(.setACL(path: "/zookeeper/config", acl: ZKACL.openUnsafe, version: -1)).header.err == ZKErr.noAuth)
        for p in ["/zookeeper", "/zookeeper/config", "/zookeeper/quota"] {
            #expect(try su.call(.delete(path: p, version: -1)).header.err == ZKErr.badArguments, "\(p)")
        }

        // An unknown scheme: AUTHFAILED, then the server closes the connection.
        let bad = try RawZK(port: c.port)
        #expect(try auth(bad, "bogus", "x") == ZKErr.authFailed)
        #expect(throws: (any Error).self) { try bad.readReply(op: ZKOp.ping) }
        // The server is fine and the others' identities are theirs alone.
        #expect(try whoAmI(anon) == [ip])
        #expect(try fourLetterWord("mntr", port: c.port).contains("zk_auth_failed_count\t1\n"))
        zk.close()
        su.close()
        anon.close()
    }

    @Test(.timeLimit(.minutes(2))) func kazooSeesZooKeeperAnswers() throws {
        let c = try CoordProcess(extraConfig: Self.superConfig)
        defer { c.cleanup() }
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compat + "kazoo_acl.py", "127.0.0.1:\(c.port)"], timeout: 90)
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("OK"), "kazoo_acl:\n\(r.stdout)\n\(r.stderr.suffix(3000))\n--- coordd:\n\(c.proc?.stderrText.suffix(3000) ?? "")")
    }

    /// Clients on followers: their writes are prepped by the leader with their identities.
    @Test(.timeLimit(.minutes(2))) func identitiesTravelWithForwardedWrites() throws {
        let e = try EnsembleProcesses(extraConfig: Self.superConfig)
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(followers: 2), "no leader:\n\(e.logs)")
        let followers = (0..<3).filter { $0 != leader }
        // alice and eve on followers, super on the leader.
        let order = followers + [leader]
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compat + "kazoo_acl.py", e.connectString(order)], timeout: 90)
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("OK"), "kazoo_acl:\n\(r.stdout)\n\(r.stderr.suffix(3000))\n\(e.logs.suffix(4000))")
    }

    /// kazoo's own upstream tests for authentication and ACLs (its harness pointed at coordd).
    /// Reconfig is not implemented by coordd, so its NoAuth test is left out.
    @Test(.timeLimit(.minutes(3))) func kazooUpstreamAuthAndACLTests() throws {
        let c = try CoordProcess(extraConfig: Self.superConfig)
        defer { c.cleanup() }
        let r = try ProcessHarness.run("/usr/bin/env", [
            "python3", Self.compat + "kazoo_upstream.py", "127.0.0.1:\(c.port)", "@TESTS@/test_client.py",
            "-q", "-k", "(Auth or acl) and not test_no_super_auth",
        ], timeout: 150)
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains(" passed"), "kazoo upstream:\n\(r.stdout.suffix(4000))\n\(r.stderr.suffix(2000))")
    }
}
