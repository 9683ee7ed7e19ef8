import Foundation
import Testing
import Transport

/// coordd's secureClientPort with real clients: kazoo (use_ssl), zkCli.sh over Netty TLS,
/// kazoo's own TestSSLClient, and what happens to clients that do not speak TLS.
@Suite(.serialized, .ownThreads) struct CoordTLSTests {
    static let zkCli = "/usr/share/zookeeper/bin/zkCli.sh"
    static let compat = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/"

    /// deploy/certs.sh output in a temp dir.
    static func makeCerts() throws -> String {
        let dir = try ProcessHarness.makeTempDir("certs")
        let r = try ProcessHarness.run("/bin/bash", [ProcessHarness.packageRoot + "/deploy/certs.sh", dir], timeout: 60)
        guard r.status == 0 else { throw HarnessError("certs.sh failed: \(r.stderr)") }
        return dir
    }

    static func secureConfig(port: Int, certs: String, clientAuth: String = "need", extra: String = "") -> String {
        """
        secureClientPort=\(port)
        secureClientPortAddress=127.0.0.1
        serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
        ssl.keyStore.location=\(certs)/server-keystore.pem
        ssl.keyStore.type=PEM
        ssl.trustStore.location=\(certs)/ca.pem
        ssl.trustStore.type=PEM
        ssl.clientAuth=\(clientAuth)
        \(extra)
        """
    }

    /// A coordd serving clientPort and secureClientPort; returns it and the secure port.
    static func startSecure(certs: String, clientAuth: String = "need", extra: String = "") throws -> (CoordProcess, Int) {
        var lastError: Error?
        for _ in 0..<3 {
            let securePort = try ProcessHarness.freePort()
            do {
                let c = try CoordProcess(extraConfig: secureConfig(port: securePort, certs: certs, clientAuth: clientAuth, extra: extra))
                guard c.proc?.waitForLine(containing: "serving TLS clients on 127.0.0.1:\(securePort)", timeout: 10) != nil else {
                    c.cleanup()
                    throw HarnessError("coordd did not open the secure port")
                }
                return (c, securePort)
            } catch {
                lastError = error
            }
        }
        throw lastError ?? HarnessError("coordd did not start")
    }

    @Test(.timeLimit(.minutes(2))) func kazooWorksOverTLS() throws {
        let certs = try Self.makeCerts()
        defer { ProcessHarness.removeDir(certs) }
        let (c, securePort) = try Self.startSecure(certs: certs)
        defer { c.cleanup() }
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compat + "kazoo_tls.py", "127.0.0.1:\(securePort)", certs], timeout: 90)
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("OK"), "kazoo_tls:\n\(r.stdout)\n\(r.stderr.suffix(3000))\n--- coordd:\n\(c.proc?.stderrText ?? "")")
        // The plaintext port serves at the same time.
        let plain = try RawZK(port: c.port)
        #expect(plain.connect.sessionId != 0)
    }

    /// A plaintext ZooKeeper client on the secure port is closed; coordd stays healthy.
    @Test(.timeLimit(.minutes(2))) func plaintextClientsOnTheSecurePortAreClosed() throws {
        let certs = try Self.makeCerts()
        defer { ProcessHarness.removeDir(certs) }
        let (c, securePort) = try Self.startSecure(certs: certs, extra: "ssl.handshakeDetectionTimeoutMillis=1500\n")
        defer { c.cleanup() }
        #expect(throws: (any Error).self) { _ = try RawZK(port: securePort) }
        // A client that connects and says nothing is closed after the handshake bound as well.
        let idle = try BlockingSocket(host: "127.0.0.1", port: securePort, ioTimeoutMillis: 30_000)
        defer { idle.close() }
        let started = Date()
        var byte: UInt8 = 0
        #expect(read(idle.fd, &byte, 1) == 0, "the idle connection is closed")
        let waited = Date().timeIntervalSince(started)
        #expect(waited > 1 && waited < 20, "closed after \(waited) s")
        let plain = try RawZK(port: c.port)
        #expect(plain.connect.sessionId != 0)
        #expect(c.proc?.stderrText.contains("TLS connection from 127.0.0.1") == true, "the refusal is logged: \(c.proc?.stderrText ?? "")")
        #expect(c.proc?.isRunning == true)
    }

    /// kazoo without a client certificate when coordd needs one: refused.
    @Test(.timeLimit(.minutes(2))) func aClientWithoutCertificateIsRefusedWhenNeeded() throws {
        let certs = try Self.makeCerts()
        defer { ProcessHarness.removeDir(certs) }
        let (c, securePort) = try Self.startSecure(certs: certs)
        defer { c.cleanup() }
        let script = """
        import sys
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=sys.argv[1], use_ssl=True, verify_certs=True, ca=sys.argv[2], timeout=3,
                         connection_retry={"max_tries": 1}, command_retry={"max_tries": 0})
        try:
            zk.start(timeout=6)
            zk.create("/should-not-exist")
            print("CONNECTED")
        except Exception as e:
            print("REFUSED", type(e).__name__)
        """
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", "-c", script, "127.0.0.1:\(securePort)", certs + "/ca.pem"], timeout: 60)
        #expect(r.stdout.contains("REFUSED"), "\(r.stdout)\n\(r.stderr.suffix(2000))")
        let plain = try RawZK(port: c.port)
        let exists = try plain.call(.exists(path: "/should-not-exist", watch: false))
        #expect(exists.header.err != 0)
    }

    func runZkCli(_ securePort: Int, _ certs: String, _ args: [String]) throws -> String {
        // Debian's zookeeper.jar lists no netty-resolver in its Class-Path, so ClientCnxnSocketNetty
        // fails with NoClassDefFoundError; zkCli.sh fixes -cp, so Netty goes on the boot class path.
        let netty = ["common", "buffer", "transport", "handler", "resolver", "codec", "transport-native-unix-common"]
            .map { "/usr/share/java/netty-\($0).jar" }.joined(separator: ":")
        let flags = [
            "-Xbootclasspath/a:\(netty)",
            "-Dzookeeper.client.secure=true",
            "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
            "-Dzookeeper.ssl.trustStore.location=\(certs)/ca.pem", "-Dzookeeper.ssl.trustStore.type=PEM",
            "-Dzookeeper.ssl.keyStore.location=\(certs)/client-keystore.pem", "-Dzookeeper.ssl.keyStore.type=PEM",
        ].joined(separator: " ")
        let r = try ProcessHarness.run(Self.zkCli, ["-server", "127.0.0.1:\(securePort)"] + args, timeout: 60, env: ["CLIENT_JVMFLAGS": flags])
        #expect(!r.timedOut, "zkCli \(args) timed out")
        return r.stdout + r.stderr
    }

    @Test(.timeLimit(.minutes(4)), .enabled(if: FileManager.default.isExecutableFile(atPath: zkCli)))
    func zkCliWorksOverTLS() throws {
        let certs = try Self.makeCerts()
        defer { ProcessHarness.removeDir(certs) }
        let (c, securePort) = try Self.startSecure(certs: certs)
        defer { c.cleanup() }
        let created = try runZkCli(securePort, certs, ["create", "/zkcli-tls", "secret"])
        #expect(created.contains("Created /zkcli-tls"), "zkCli:\n\(created.suffix(3000))\n--- coordd:\n\(c.proc?.stderrText ?? "")")
        #expect(try runZkCli(securePort, certs, ["get", "/zkcli-tls"]).contains("\nsecret\n"))
        _ = try runZkCli(securePort, certs, ["set", "/zkcli-tls", "other"])
        #expect(try runZkCli(securePort, certs, ["ls", "/"]).contains("zkcli-tls"))
        _ = try runZkCli(securePort, certs, ["delete", "/zkcli-tls"])
        // Seen through the plaintext port too: one tree behind both.
        let plain = try RawZK(port: c.port)
        #expect(try plain.call(.exists(path: "/zkcli-tls", watch: false)).header.err != 0)
    }

    /// kazoo's own TestSSLClient, its harness pointed at coordd's secure port.
    @Test(.timeLimit(.minutes(3))) func kazooUpstreamSSLClientTest() throws {
        let certs = try Self.makeCerts()
        defer { ProcessHarness.removeDir(certs) }
        let (c, securePort) = try Self.startSecure(certs: certs)
        defer { c.cleanup() }
        let r = try ProcessHarness.run("/usr/bin/env", [
            "python3", Self.compat + "kazoo_upstream.py", "127.0.0.1:\(c.port)", "@TESTS@/test_client.py", "-q", "-k", "TestSSLClient",
        ], timeout: 150, env: ["KAZOO_SECURE_ADDRESSES": "127.0.0.1:\(securePort)", "KAZOO_SSL_DIR": certs])
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("1 passed"), "kazoo upstream:\n\(r.stdout.suffix(4000))\n\(r.stderr.suffix(2000))")
    }

    /// Settings coordd cannot honour stop it with a message naming the key.
    @Test(.timeLimit(.minutes(2))) func unsupportedTLSSettingsAreRefused() throws {
        guard let bin = ProcessHarness.binary("coordd") else { throw HarnessError("coordd binary not found") }
        let dir = try ProcessHarness.makeTempDir("coordd-tls-cfg")
        defer { ProcessHarness.removeDir(dir) }
        let base = "dataDir=\(dir)/data\nclientPort=\(try ProcessHarness.freePort())\n"
        let secure = "secureClientPort=\(try ProcessHarness.freePort())\nssl.keyStore.location=\(dir)/ks.pem\nssl.trustStore.location=\(dir)/ca.pem\n"
        let cases: [(String, String)] = [
            (secure + "ssl.keyStore.type=JKS\n", "ssl.keyStore.type=JKS"),
            (secure + "ssl.trustStore.type=PKCS12\n", "ssl.trustStore.type=PKCS12"),
            (secure + "ssl.clientAuth=sometimes\n", "ssl.clientAuth=sometimes"),
            (secure + "ssl.enabledProtocols=TLSv1.1\n", "TLSv1.1"),
            (secure + "ssl.crl=true\n", "ssl.crl"),
            (secure + "ssl.quorum.keyStore.location=/x\n", "ssl.quorum"),
            ("ssl.keyStore.location=/x.pem\n", "without secureClientPort"),
            ("secureClientPort=\(try ProcessHarness.freePort())\nssl.clientAuth=none\n", "ssl.keyStore.location"),
            ("secureClientPort=\(try ProcessHarness.freePort())\nssl.keyStore.location=\(dir)/ks.pem\n", "ssl.trustStore.location"),
            ("client.portUnification=true\n", "client.portUnification"),
            ("serverCnxnFactory=com.example.Factory\n", "serverCnxnFactory"),
            // Parses, but the key store file is missing: coordd must not start without its secure port.
            (secure, "ks.pem"),
        ]
        for (extra, expected) in cases {
            try (base + extra).write(toFile: dir + "/zoo.cfg", atomically: true, encoding: .utf8)
            let r = try ProcessHarness.run(bin, [dir + "/zoo.cfg"], timeout: 30)
            #expect(!r.timedOut && r.status != 0, "coordd started with \(extra)")
            #expect(r.stderr.contains(expected), "for \(extra): \(r.stderr)")
        }
    }
}
