import Foundation
import Protocol
import Testing
import Transport

/// ZooKeeper ACLs and authentication against real coordd processes: raw frames for the exact
/// answers, kazoo for what clients see, alone and in an ensemble (identities travel with writes).
@Suite(.serialized, .ownThreads) struct AuthTests {
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
        try checkAuthAnswers(port: c.port)
        #expect(try fourLetterWord("mntr", port: c.port).contains("zk_auth_failed_count\t1\n"))
    }

    /// The same frames against Apache ZooKeeper 3.8 (Debian's), to keep the expectations honest.
    @Test(.timeLimit(.minutes(2)), .enabled(if: FileManager.default.fileExists(atPath: "/usr/share/java/zookeeper.jar")))
    func zooKeeperGivesTheSameAnswers() throws {
        let zk = try RealZooKeeper.start(jvmFlags: ["-Dzookeeper." + Self.superConfig.dropLast()])
        defer { zk.stop() }
        // ruok answers before ZooKeeper serves sessions; wait until srvr does.
        let deadline = Date().addingTimeInterval(20)
        while !((try? fourLetterWord("srvr", port: zk.port))?.contains("Mode:") ?? false) && Date() < deadline { usleep(100_000) }
        try checkAuthAnswers(port: zk.port)
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compat + "kazoo_acl.py", "127.0.0.1:\(zk.port)"], timeout: 90)
        #expect(r.status == 0 && r.stdout.contains("OK"), "kazoo_acl against ZooKeeper:\n\(r.stdout)\n\(r.stderr.suffix(3000))")
    }

    func checkAuthAnswers(port: Int) throws {
        let zk = try RawZK(port: port)
        let ip = ZKId(scheme: "ip", id: "127.0.0.1")
        #expect(try whoAmI(zk) == [ip])
        #expect(try auth(zk, "digest", "alice:pw") == ZKErr.ok)
        #expect(try whoAmI(zk) == [ip, ZKId(scheme: "digest", id: "alice")])
        // The same identity twice is kept once.
        #expect(try auth(zk, "digest", "alice:pw") == ZKErr.ok)
        #expect(try whoAmI(zk)?.count == 2)
        #expect(try auth(zk, "digest", "super:test") == ZKErr.ok)
        // ZooKeeper lists them in its hash-set order.
        #expect(try whoAmI(zk) == [ZKId(scheme: "super", id: ""), ip, ZKId(scheme: "digest", id: "alice"), ZKId(scheme: "digest", id: "super")])

        let su = try RawZK(port: port)
        #expect(try auth(su, "digest", "super:test") == ZKErr.ok)
        #expect(try su.call(.setData(path: "/zookeeper/config", data: [], version: -1)).header.err == ZKErr.ok)
        let anon = try RawZK(port: port)
        #expect(try anon.call(.setData(path: "/zookeeper/config", data: [], version: -1)).header.err == ZKErr.noAuth)
        #expect(try anon.call(.setACL(path: "/zookeeper/config", acl: ZKACL.openUnsafe, version: -1)).header.err == ZKErr.noAuth)
        #expect(try anon.call(.getData(path: "/zookeeper/config", watch: false)).header.err == ZKErr.ok)
        for p in ["/zookeeper", "/zookeeper/config", "/zookeeper/quota"] {
            #expect(try su.call(.delete(path: p, version: -1)).header.err == ZKErr.badArguments, "\(p)")
        }
        // An empty ACL and an ACL naming an unknown scheme are InvalidACL, even under a missing parent.
        #expect(try anon.call(.create(ZKCreate(path: "/none/x", acl: []))).header.err == ZKErr.invalidACL)
        let bogus = [ZKACL(perms: ZKPerms.all, id: ZKId(scheme: "bogus", id: "x"))]
        #expect(try anon.call(.create(ZKCreate(path: "/x", acl: bogus))).header.err == ZKErr.invalidACL)

        // An unknown scheme: AUTHFAILED, then the server closes the connection.
        let bad = try RawZK(port: port)
        #expect(try auth(bad, "bogus", "x") == ZKErr.authFailed)
        #expect(throws: (any Error).self) { try bad.readReply(op: ZKOp.ping) }
        // The server is fine and the others' identities are theirs alone.
        #expect(try whoAmI(anon) == [ip])
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
