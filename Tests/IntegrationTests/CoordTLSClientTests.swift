import CoordClient
import Foundation
import Testing
import Transport

/// The Swift CoordClient and brokerd over coordd's secureClientPort (Kafka's zookeeper.ssl.* keys).
@Suite(.serialized, .ownThreads) struct CoordTLSClientTests {
    func clientTLS(_ certs: String, withCertificate: Bool = true) throws -> TLSContext {
        var c = TLSConfig()
        c.trustPath = certs + "/ca.pem"
        if withCertificate {
            c.certificateChainPath = certs + "/client-keystore.pem"
            c.privateKeyPath = certs + "/client-keystore.pem"
        }
        return try TLSContext(client: c)
    }

    @Test(.timeLimit(.minutes(2))) func coordClientWorksOverTLS() throws {
        signal(SIGPIPE, SIG_IGN)
        let certs = try CoordTLSTests.makeCerts()
        defer { ProcessHarness.removeDir(certs) }
        let (c, securePort) = try CoordTLSTests.startSecure(certs: certs)
        defer { c.cleanup() }
        let client = CoordClient(connectString: "127.0.0.1:\(securePort)", sessionTimeoutMs: 6000, tls: try clientTLS(certs))
        try client.start(timeoutMs: 20_000)
        defer { client.close() }
        let big = [UInt8](repeating: 0x5a, count: 200_000)
        _ = try client.create("/swift-tls", data: big)
        #expect(try client.getData("/swift-tls").data == big)
        // Without a client certificate coordd (ssl.clientAuth=need) refuses the session.
        let refused = CoordClient(connectString: "127.0.0.1:\(securePort)", sessionTimeoutMs: 6000, tls: try clientTLS(certs, withCertificate: false))
        defer { refused.close() }
        #expect(throws: (any Error).self) { try refused.start(timeoutMs: 3000) }
    }

    func brokerConfig(_ dir: String, securePort: Int, certs: String, extra: String) throws -> String {
        """
        broker.id=1
        listeners=PLAINTEXT://127.0.0.1:\(try ProcessHarness.freePort())
        log.dirs=\(dir)/logs
        zookeeper.connect=127.0.0.1:\(securePort)
        zookeeper.session.timeout.ms=6000
        zookeeper.ssl.client.enable=true
        zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty
        zookeeper.ssl.keystore.location=\(certs)/client-keystore.pem
        zookeeper.ssl.keystore.type=PEM
        zookeeper.ssl.truststore.location=\(certs)/ca.pem
        zookeeper.ssl.truststore.type=PEM
        \(extra)
        """
    }

    @Test(.timeLimit(.minutes(3))) func brokerdRegistersThroughTheSecurePort() throws {
        guard let bin = ProcessHarness.binary("brokerd") else { throw HarnessError("brokerd binary not found") }
        let certs = try CoordTLSTests.makeCerts()
        defer { ProcessHarness.removeDir(certs) }
        let (c, securePort) = try CoordTLSTests.startSecure(certs: certs)
        defer { c.cleanup() }
        let dir = try ProcessHarness.makeTempDir("brokerd-tls")
        defer { ProcessHarness.removeDir(dir) }
        try brokerConfig(dir, securePort: securePort, certs: certs, extra: "").write(toFile: dir + "/server.properties", atomically: true, encoding: .utf8)
        let p = try ManagedProcess(bin, [dir + "/server.properties"], stderrPath: dir + "/stderr.log")
        defer { p.kill9() }
        #expect(p.waitForLine(containing: "brokerd: started", timeout: 40) != nil, "brokerd:\n\(p.stderrText)\n--- coordd:\n\(c.proc?.stderrText ?? "")")
        // Registered: seen through the plaintext port.
        let plain = try RawZK(port: c.port)
        var registered = false
        let end = Date().addingTimeInterval(20)
        while Date() < end && !registered {
            registered = try plain.call(.exists(path: "/brokers/ids/1", watch: false)).header.err == 0
            if !registered { usleep(100_000) }
        }
        #expect(registered, "brokerd:\n\(p.stderrText)")
    }

    @Test(.timeLimit(.minutes(2))) func brokerdRefusesZooKeeperTLSSettingsItCannotHonour() throws {
        guard let bin = ProcessHarness.binary("brokerd") else { throw HarnessError("brokerd binary not found") }
        let dir = try ProcessHarness.makeTempDir("brokerd-tls-cfg")
        defer { ProcessHarness.removeDir(dir) }
        let cases: [(String, String)] = [
            ("zookeeper.ssl.truststore.type=JKS", "zookeeper.ssl.truststore.type=JKS"),
            ("zookeeper.ssl.ocsp.enable=true", "zookeeper.ssl.ocsp.enable"),
            ("zookeeper.ssl.context.supplier.class=x.Y", "zookeeper.ssl.context.supplier.class"),
            ("zookeeper.ssl.enabled.protocols=TLSv1", "TLSv1"),
        ]
        for (extra, expected) in cases {
            try brokerConfig(dir, securePort: 1, certs: dir, extra: extra).write(toFile: dir + "/server.properties", atomically: true, encoding: .utf8)
            let r = try ProcessHarness.run(bin, [dir + "/server.properties"], timeout: 30)
            #expect(!r.timedOut && r.status != 0, "brokerd started with \(extra)")
            #expect(r.stderr.contains(expected), "for \(extra): \(r.stderr)")
        }
        // TLS keys without zookeeper.ssl.client.enable=true are not silently dropped.
        let plainWithKeys = try brokerConfig(dir, securePort: 1, certs: dir, extra: "")
            .replacingOccurrences(of: "zookeeper.ssl.client.enable=true", with: "zookeeper.ssl.client.enable=false")
        try plainWithKeys.write(toFile: dir + "/server.properties", atomically: true, encoding: .utf8)
        let r = try ProcessHarness.run(bin, [dir + "/server.properties"], timeout: 30)
        #expect(r.status != 0 && r.stderr.contains("zookeeper.ssl.client.enable is not true"), "\(r.stderr)")
    }
}
