import CoordClient
import Foundation
import Protocol
import Sasl
import Testing

/// coordd with SASL DIGEST-MD5 for clients, with real clients: kazoo (sasl_options and kazoo's own
/// test_sasl.py), zkCli.sh with a JAAS Client section, and raw Jute with enforced authentication.
@Suite(.serialized, .ownThreads) struct CoordSaslTests {
    static let compat = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/"
    static let zkCli = "/usr/share/zookeeper/bin/zkCli.sh"
    static let provider = "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
    static let serverJaas = """
        Server {
            org.apache.zookeeper.server.auth.DigestLoginModule required
            user_super="super_secret"
            user_jaasuser="jaas_password"
            user_bob="secret"
            user_eve="evil";
        };
        """

    /// A coordd given its JAAS file ZooKeeper-style, in SERVER_JVMFLAGS.
    static func start(extra: String = "") throws -> (CoordProcess, String) {
        let dir = try ProcessHarness.makeTempDir("jaas")
        try serverJaas.write(toFile: dir + "/jaas.conf", atomically: true, encoding: .utf8)
        do {
            let c = try CoordProcess(extraConfig: provider + extra, env: ["SERVER_JVMFLAGS": "-Djava.security.auth.login.config=\(dir)/jaas.conf"])
            return (c, dir)
        } catch {
            ProcessHarness.removeDir(dir)
            throw error
        }
    }

    @Test(.timeLimit(.minutes(2))) func kazooAuthenticatesAndSaslACLsHold() throws {
        let (c, dir) = try Self.start()
        defer { c.cleanup(); ProcessHarness.removeDir(dir) }
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compat + "kazoo_sasl.py", "127.0.0.1:\(c.port)"], timeout: 90)
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("OK"), "kazoo_sasl:\n\(r.stdout)\n\(r.stderr.suffix(3000))\n--- coordd:\n\(c.proc?.stderrText.suffix(3000) ?? "")")
        let mntr = try fourLetterWord("mntr", port: c.port)
        let failed = mntr.split(separator: "\n").first { $0.hasPrefix("zk_auth_failed_count") }
        #expect(failed.map { !$0.hasSuffix("\t0") } == true, "the wrong password is counted: \(failed ?? "none")")
    }

    /// kazoo's own TestSASLDigestAuthentication and TestLegacySASLDigestAuthentication (its
    /// harness's JAAS users jaasuser and super); the GSSAPI class needs a Kerberos KDC.
    @Test(.timeLimit(.minutes(3))) func kazooUpstreamSaslDigestTests() throws {
        let (c, dir) = try Self.start()
        defer { c.cleanup(); ProcessHarness.removeDir(dir) }
        let r = try ProcessHarness.run("/usr/bin/env", [
            "python3", Self.compat + "kazoo_upstream.py", "127.0.0.1:\(c.port)", "@TESTS@/test_sasl.py", "-q", "-k", "Digest",
        ], timeout: 150)
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("4 passed"), "kazoo upstream:\n\(r.stdout.suffix(4000))\n\(r.stderr.suffix(2000))")
    }

    func zkCli(port: Int, jaasDir: String, user: String, password: String, _ commands: String) throws -> (status: Int32, out: String) {
        let conf = jaasDir + "/client-\(user)-\(password).conf"
        try """
            Client {
                org.apache.zookeeper.server.auth.DigestLoginModule required
                username="\(user)"
                password="\(password)";
            };
            """.write(toFile: conf, atomically: true, encoding: .utf8)
        try commands.write(toFile: jaasDir + "/cmds", atomically: true, encoding: .utf8)
        let r = try ProcessHarness.run("/bin/sh", ["-c", "\(Self.zkCli) -server 127.0.0.1:\(port) < \(jaasDir)/cmds"], timeout: 60,
                                       env: ["CLIENT_JVMFLAGS": "-Djava.security.auth.login.config=\(conf)"])
        return (r.status, r.stdout + r.stderr)
    }

    @Test(.timeLimit(.minutes(3))) func zkCliAuthenticatesWithAJaasClientSection() throws {
        guard FileManager.default.fileExists(atPath: Self.zkCli) else { throw HarnessError("zkCli.sh missing: run deploy/install-deps.sh") }
        let (c, dir) = try Self.start()
        defer { c.cleanup(); ProcessHarness.removeDir(dir) }
        let ok = try zkCli(port: c.port, jaasDir: dir, user: "bob", password: "secret",
                           "whoami\ncreate /bobs data-of-bob sasl:bob:cdrwa\nget /bobs\ngetAcl /bobs\nquit\n")
        #expect(ok.out.contains("SaslAuthenticated"), "\(ok.out)")
        #expect(ok.out.contains("sasl: bob"), "whoami lists the SASL identity:\n\(ok.out)")
        #expect(ok.out.contains("Created /bobs") && ok.out.contains("data-of-bob"), "\(ok.out)")
        // eve authenticates but is not bob; an anonymous client is nobody.
        let eve = try zkCli(port: c.port, jaasDir: dir, user: "eve", password: "evil", "get /bobs\nquit\n")
        #expect(eve.out.contains("Insufficient permission") && !eve.out.contains("data-of-bob"), "\(eve.out)")
        let anon = try RawZK(port: c.port)
        defer { anon.close() }
        #expect(try anon.call(.getData(path: "/bobs", watch: false)).header.err == ZKErr.noAuth)
        // A wrong password is refused: the node is never read.
        let wrong = try zkCli(port: c.port, jaasDir: dir, user: "bob", password: "wrong", "get /bobs\nquit\n")
        #expect(!wrong.out.contains("data-of-bob"), "\(wrong.out)")
        #expect(ProcessHarness.waitUntil(timeout: 10) { c.proc?.stderrText.contains("failed to SASL authenticate") == true })
    }

    /// The same checks against Debian's ZooKeeper 3.8 with the same JAAS file: kazoo_sasl.py, this
    /// package's DIGEST-MD5 client (raw and CoordClient) and the wrong-password answer agree.
    @Test(.timeLimit(.minutes(3))) func zooKeeperGivesTheSameAnswers() throws {
        let dir = try ProcessHarness.makeTempDir("jaas")
        defer { ProcessHarness.removeDir(dir) }
        try Self.serverJaas.write(toFile: dir + "/jaas.conf", atomically: true, encoding: .utf8)
        let zk = try RealZooKeeper.start(jvmFlags: ["-Djava.security.auth.login.config=\(dir)/jaas.conf",
                                                    "-Dzookeeper.authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"])
        defer { zk.stop() }
        let (c, cdir) = try Self.start()
        defer { c.cleanup(); ProcessHarness.removeDir(cdir) }
        for port in [zk.port, c.port] {
            let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compat + "kazoo_sasl.py", "127.0.0.1:\(port)"], timeout: 90)
            #expect(r.status == 0 && r.stdout.contains("OK"), "kazoo_sasl on port \(port):\n\(r.stdout)\n\(r.stderr.suffix(3000))")
            let good = try RawZK(port: port)
            defer { good.close() }
            #expect(try Self.saslLogin(good, user: "bob", password: "secret") == 0, "port \(port)")
            guard case .clientInfo(let ids)? = try good.call(.whoAmI).response else { Issue.record("no whoAmI on \(port)"); continue }
            #expect(ids.contains(ZKId(scheme: "sasl", id: "bob")), "port \(port): \(ids)")
            let bad = try RawZK(port: port)
            #expect(try Self.saslLogin(bad, user: "bob", password: "wrong") == ZKErr.authFailed, "port \(port)")
            #expect(throws: (any Error).self) { _ = try bad.call(.ping) }
            // CoordClient (brokerd's) with Kafka's secure ACLs: the creator becomes sasl:bob.
            let client = CoordClient(connectString: "127.0.0.1:\(port)", sessionTimeoutMs: 6000, sasl: CoordSaslLogin(user: "bob", password: "secret"),
                                     acl: CoordACLPolicy { _ in [ZKACL(perms: ZKPerms.all, id: ZKId(scheme: "auth", id: ""))] })
            try client.start()
            defer { client.close() }
            try client.create("/by-coordclient", data: Array("x".utf8))
            #expect(try client.getACL("/by-coordclient").acl == [ZKACL(perms: ZKPerms.all, id: ZKId(scheme: "sasl", id: "bob"))], "port \(port)")
            #expect(try good.call(.getData(path: "/by-coordclient", watch: false)).header.err == 0)
        }
    }

    /// Clients on followers: their sasl identity goes with their writes to the leader's checks.
    @Test(.timeLimit(.minutes(3))) func saslIdentitiesTravelWithForwardedWrites() throws {
        let dir = try ProcessHarness.makeTempDir("jaas")
        defer { ProcessHarness.removeDir(dir) }
        try Self.serverJaas.write(toFile: dir + "/jaas.conf", atomically: true, encoding: .utf8)
        let e = try EnsembleProcesses(extraConfig: Self.provider + "java.security.auth.login.config=\(dir)/jaas.conf\n")
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(followers: 2), "no leader:\n\(e.logs)")
        let followers = (0..<3).filter { $0 != leader }
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compat + "kazoo_sasl.py", e.connectString(followers)], timeout: 90)
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("OK"), "kazoo_sasl on followers:\n\(r.stdout)\n\(r.stderr.suffix(3000))\n\(e.logs.suffix(4000))")
        // A write on a follower by bob, then a write by eve on another follower, both prepped by the leader.
        let bob = try RawZK(port: e.clientPorts[followers[0]])
        defer { bob.close() }
        #expect(try Self.saslLogin(bob, user: "bob", password: "secret") == 0)
        let acl = [ZKACL(perms: ZKPerms.all, id: ZKId(scheme: "sasl", id: "bob"))]
        #expect(try bob.call(.create(ZKCreate(path: "/forwarded", data: [], acl: acl))).header.err == 0)
        let eve = try RawZK(port: e.clientPorts[followers[1]])
        defer { eve.close() }
        #expect(try Self.saslLogin(eve, user: "eve", password: "evil") == 0)
        #expect(try eve.call(.setData(path: "/forwarded", data: Array("eve".utf8), version: -1)).header.err == ZKErr.noAuth)
        #expect(try bob.call(.setData(path: "/forwarded", data: Array("bob".utf8), version: -1)).header.err == 0)
    }

    /// A SASL exchange over raw Jute, with this package's DIGEST-MD5 client.
    static func saslLogin(_ zk: RawZK, user: String, password: String) throws -> Int32 {
        var client = DigestMD5Client(user: user, password: password)
        let first = try zk.call(.sasl(token: client.initialResponse))
        guard first.header.err == 0, case .saslToken(let challenge)? = first.response else { return first.header.err }
        let second = try zk.call(.sasl(token: try client.respond(challenge: challenge ?? [])))
        guard second.header.err == 0, case .saslToken(let final)? = second.response else { return second.header.err }
        try client.verify(final: final ?? [])
        return 0
    }

    @Test(.timeLimit(.minutes(2))) func sessionRequireClientSASLAuthRefusesOthers() throws {
        let (c, dir) = try Self.start(extra: "sessionRequireClientSASLAuth=true\nsuperUser=super\n")
        defer { c.cleanup(); ProcessHarness.removeDir(dir) }
        // Not authenticated: the first request is answered SessionClosedRequireAuth, then closed.
        let anon = try RawZK(port: c.port)
        #expect(try anon.call(.getChildren(path: "/", watch: false)).header.err == ZKErr.sessionClosedRequireSaslAuth)
        #expect(throws: (any Error).self) { _ = try anon.call(.ping) }
        // A digest identity is not enough when SASL is required.
        let digest = try RawZK(port: c.port)
        #expect(try digest.call(.auth(type: 0, scheme: "digest", auth: Array("bob:secret".utf8))).header.err == 0)
        #expect(try digest.call(.exists(path: "/", watch: false)).header.err == ZKErr.sessionClosedRequireSaslAuth)
        // A wrong password: SessionClosedRequireAuth as well when SASL is required, and closed.
        let wrong = try RawZK(port: c.port)
        #expect(try Self.saslLogin(wrong, user: "bob", password: "nope") == ZKErr.sessionClosedRequireSaslAuth)
        #expect(throws: (any Error).self) { _ = try wrong.call(.ping) }
        // bob is served; super passes every ACL.
        let bob = try RawZK(port: c.port)
        defer { bob.close() }
        #expect(try Self.saslLogin(bob, user: "bob", password: "secret") == 0)
        let acl = [ZKACL(perms: ZKPerms.all, id: ZKId(scheme: "sasl", id: "bob"))]
        #expect(try bob.call(.create(ZKCreate(path: "/required", data: Array("x".utf8), acl: acl))).header.err == 0)
        guard case .clientInfo(let ids)? = try bob.call(.whoAmI).response else { Issue.record("no whoAmI"); return }
        #expect(ids.contains(ZKId(scheme: "sasl", id: "bob")))
        let admin = try RawZK(port: c.port)
        defer { admin.close() }
        #expect(try Self.saslLogin(admin, user: "super", password: "super_secret") == 0)
        #expect(try admin.call(.setData(path: "/required", data: Array("by super".utf8), version: -1)).header.err == 0)
        // More SASL packets than an exchange needs close the connection.
        let chatty = try RawZK(port: c.port)
        var errs: [Int32] = []
        for _ in 0..<6 { errs.append((try? chatty.call(.sasl(token: [])))?.header.err ?? -999) }
        #expect(errs.contains(ZKErr.sessionClosedRequireSaslAuth), "\(errs)")
        let healthy = try RawZK(port: c.port)
        defer { healthy.close() }
        #expect(try Self.saslLogin(healthy, user: "eve", password: "evil") == 0)
        #expect(try healthy.call(.getData(path: "/required", watch: false)).header.err == ZKErr.noAuth)
    }

    @Test(.timeLimit(.minutes(2))) func kerberosLoginModuleRefusesToStart() throws {
        guard let bin = ProcessHarness.binary("coordd") else { throw HarnessError("coordd binary not found") }
        let dir = try ProcessHarness.makeTempDir("coordd-sasl-cfg")
        defer { ProcessHarness.removeDir(dir) }
        try """
            Server {
                com.sun.security.auth.module.Krb5LoginModule required
                useKeyTab=true keyTab="/etc/zk.keytab" principal="zookeeper/localhost@EXAMPLE.COM";
            };
            """.write(toFile: dir + "/jaas.conf", atomically: true, encoding: .utf8)
        try ("dataDir=\(dir)/data\nclientPort=\(try ProcessHarness.freePort())\n" + Self.provider)
            .write(toFile: dir + "/zoo.cfg", atomically: true, encoding: .utf8)
        let r = try ProcessHarness.run(bin, [dir + "/zoo.cfg"], timeout: 30, env: ["JVMFLAGS": "-Djava.security.auth.login.config=\(dir)/jaas.conf"])
        #expect(!r.timedOut && r.status != 0)
        #expect(r.stderr.contains("Kerberos"), "\(r.stderr)")
    }
}
