import Foundation
import Testing
import Transport

/// brokerd's TLS listener against hostile or broken peers (a silent socket, bytes that are not TLS),
/// and configurations it must refuse at startup, with Kafka's key named.
@Suite(.serialized, .ownThreads) struct SslBrokerBoundsTests {
    static func sslConfig(_ certs: String) -> String {
        """
        listener.security.protocol.map=PLAINTEXT:SSL
        ssl.keystore.type=PEM
        ssl.keystore.location=\(certs)/server-keystore.pem
        ssl.truststore.type=PEM
        ssl.truststore.location=\(certs)/ca.pem
        offsets.topic.replication.factor=1
        """
    }

    @Test(.timeLimit(.minutes(3))) func handshakesAreBoundedAndTheBrokerStaysHealthy() throws {
        let certs = try ProcessHarness.makeTempDir("certs")
        defer { ProcessHarness.removeDir(certs) }
        try SslClusterTests.makeCerts(certs)
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.sslConfig(certs))
        defer { cluster.cleanup() }
        let port = cluster.port(1)
        // Bytes that are not a ClientHello: closed at once.
        let garbage = try BlockingSocket(host: "127.0.0.1", port: port, connectTimeoutMillis: 3000, ioTimeoutMillis: 20_000)
        try garbage.sendAll(Array("GET / HTTP/1.0\r\n\r\n".utf8) + [UInt8](repeating: 0x16, count: 64))
        let t0 = Date()
        // At most a TLS alert comes back before the close (or a reset: our bytes were left unread).
        do {
            let answer = try garbage.readToEnd(limit: 1 << 16)
            #expect(answer.count < 16, "\(answer.count) bytes")
        } catch let e as SocketError {
            #expect(e.code == ECONNRESET, "\(e)")
        }
        #expect(Date().timeIntervalSince(t0) < 5)
        garbage.close()
        // A peer that never starts the handshake: closed by the handshake timeout (10 s), not kept forever.
        let silent = try BlockingSocket(host: "127.0.0.1", port: port, connectTimeoutMillis: 3000, ioTimeoutMillis: 30_000)
        defer { silent.close() }
        let t1 = Date()
        let eof = (try? silent.readToEnd(limit: 1 << 16)) ?? []
        let waited = Date().timeIntervalSince(t1)
        #expect(eof.isEmpty && waited > 5 && waited < 25, "closed after \(waited) s")
        // Still serving TLS clients.
        let ok = try kcat(["-b", "127.0.0.1:\(port)", "-L", "-X", "security.protocol=SSL", "-X", "ssl.ca.location=\(certs)/ca.pem"], timeout: 20)
        #expect(ok.status == 0 && ok.out.contains("1 brokers"), "\(ok.err)")
    }

    /// PKCS12 key store, inline PEM trust store, listener-prefixed keys, required client certificates and
    /// principal mapping rules on a running broker, with kcat and the Swift client.
    @Test(.timeLimit(.minutes(3))) func pkcs12AndInlineStoresWithMappedPrincipals() throws {
        let certs = try ProcessHarness.makeTempDir("certs")
        defer { ProcessHarness.removeDir(certs) }
        try SslClusterTests.makeCerts(certs, env: ["CERTS_PKCS12_PASSWORD": "p12-secret", "CERTS_CLIENT_SUBJECT": "/O=org/OU=eng/CN=Alice"])
        // A properties value continued over lines: the PEM arrives without its line breaks.
        let ca = try String(contentsOfFile: certs + "/ca.pem", encoding: .utf8).split(separator: "\n").joined(separator: " \\\n  ")
        let config = """
            listener.security.protocol.map=PLAINTEXT:SSL
            listener.name.plaintext.ssl.keystore.type=PKCS12
            listener.name.plaintext.ssl.keystore.location=\(certs)/server-keystore.p12
            listener.name.plaintext.ssl.keystore.password=p12-secret
            listener.name.plaintext.ssl.truststore.type=PEM
            listener.name.plaintext.ssl.truststore.certificates=\(ca)
            listener.name.plaintext.ssl.client.auth=required
            ssl.principal.mapping.rules=RULE:^CN=([^,]+),OU=eng,.*$/$1/L,DEFAULT
            offsets.topic.replication.factor=1
            """
        let cluster = try BrokerCluster(brokers: 1, extraConfig: config)
        defer { cluster.cleanup() }
        let mtls = ["-X", "security.protocol=SSL", "-X", "ssl.ca.location=\(certs)/ca.pem",
                    "-X", "ssl.certificate.location=\(certs)/client.pem", "-X", "ssl.key.location=\(certs)/client.key"]
        let put = try kcat(["-b", cluster.bootstrap, "-P", "-t", "p12"] + mtls, stdin: "one\n", timeout: 30)
        #expect(put.status == 0, "\(put.err)\n\(cluster.logs)")
        #expect(cluster.logs.contains("as User:alice on PLAINTEXT (client certificate)"), "\(cluster.logs)")
        // The Swift client (kafkactl) with Kafka's PKCS12 client keys.
        guard let kafkactl = ProcessHarness.binary("kafkactl") else { throw HarnessError("kafkactl binary not found") }
        let props = certs + "/client.properties"
        try """
            security.protocol=SSL
            ssl.truststore.type=PKCS12
            ssl.truststore.location=\(certs)/truststore.p12
            ssl.truststore.password=p12-secret
            ssl.keystore.type=PKCS12
            ssl.keystore.location=\(certs)/client-keystore.p12
            ssl.keystore.password=p12-secret
            """.write(toFile: props, atomically: true, encoding: .utf8)
        let got = try ProcessHarness.run(kafkactl, ["console-consumer", "--bootstrap-server", cluster.bootstrap, "--topic", "p12", "--from-beginning",
                                                    "--max-messages", "1", "--timeout-ms", "20000", "--command-config", props], timeout: 60)
        #expect(got.stdout.contains("one"), "\(got.stderr)")
        // No client certificate: refused.
        let none = try kcat(["-b", cluster.bootstrap, "-L", "-m", "5", "-X", "security.protocol=SSL", "-X", "ssl.ca.location=\(certs)/ca.pem"], timeout: 20)
        #expect(none.status != 0)
    }

    /// ssl.endpoint.identification.algorithm on brokerd's own links: advertised as 127.0.0.2, which the
    /// certificate does not name, the controller's channel (to itself) fails with https and works when empty.
    @Test(.timeLimit(.minutes(3))) func interBrokerLinksCheckTheHostName() throws {
        let certs = try ProcessHarness.makeTempDir("certs")
        defer { ProcessHarness.removeDir(certs) }
        try SslClusterTests.makeCerts(certs)
        for algorithm in ["https", ""] {
            let config = Self.sslConfig(certs) + "\nssl.endpoint.identification.algorithm=\(algorithm)\n"
            let cluster = try BrokerCluster(brokers: 1, extraConfig: config, brokerConfig: { _, port in
                "advertised.listeners=PLAINTEXT://127.0.0.2:\(port)"
            }, listeners: { _, port in "PLAINTEXT://0.0.0.0:\(port)" })
            defer { cluster.cleanup() }
            let tls = ["-X", "security.protocol=SSL", "-X", "ssl.ca.location=\(certs)/ca.pem", "-X", "ssl.endpoint.identification.algorithm=none"]
            if algorithm == "https" {
                #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.5) { cluster.logs.contains("controller request to broker 1 failed") },
                        "\(cluster.logs)")
                #expect(cluster.logs.contains("IP address mismatch"), "\(cluster.logs)")
                #expect(!cluster.logs.contains("(client certificate)"))
            } else {
                let put = try kcat(["-b", "127.0.0.2:\(cluster.port(1))", "-P", "-t", "hostcheck"] + tls, stdin: "h1\n", timeout: 30)
                #expect(put.status == 0, "\(put.err)\n\(cluster.logs)")
                #expect(!cluster.logs.contains("controller request to broker 1 failed"), "\(cluster.logs)")
            }
        }
    }

    @Test(.timeLimit(.minutes(2))) func refusedConfigurationsNameTheKey() throws {
        guard let bin = ProcessHarness.binary("brokerd") else { throw HarnessError("brokerd binary not found") }
        let dir = try ProcessHarness.makeTempDir("ssl-config")
        defer { ProcessHarness.removeDir(dir) }
        try SslClusterTests.makeCerts(dir)
        let base = "broker.id=1\nzookeeper.connect=127.0.0.1:1\nlog.dirs=\(dir)/logs\nlisteners=SSL://127.0.0.1:0\nsecurity.inter.broker.protocol=SSL\n"
        let cases: [(String, String)] = [
            ("ssl.keystore.type=JKS\nssl.keystore.location=\(dir)/k.jks\n", "keytool"),
            ("ssl.keystore.type=PEM\nssl.keystore.location=\(dir)/server-keystore.pem\nssl.engine.factory.class=x.Y\n", "ssl.engine.factory.class"),
            ("ssl.keystore.type=PEM\nssl.keystore.location=\(dir)/missing.pem\n", "missing.pem"),
            ("ssl.keystore.type=PEM\nssl.keystore.location=\(dir)/server.pem\n", "private key"),
        ]
        for (extra, word) in cases {
            try (base + extra).write(toFile: dir + "/b.properties", atomically: true, encoding: .utf8)
            let r = try ProcessHarness.run(bin, [dir + "/b.properties"], timeout: 30)
            #expect(r.status == 2, "\(extra): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(word), "\(extra): \(r.stderr)")
        }
    }
}
