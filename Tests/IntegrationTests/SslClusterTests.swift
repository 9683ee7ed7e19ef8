import Foundation
import Testing

/// A 3-broker cluster with an SSL listener (inter-broker, ssl.client.auth=required) and a SASL_SSL client
/// listener: kcat, confluent-kafka and kafka-python over both, RF 3 acks=all, certificate principals,
/// and the refusals (no client certificate, another CA, a wrong SASL password).
@Suite(.serialized, .ownThreads) struct SslClusterTests {
    static let compat = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/"

    static func makeCerts(_ dir: String, env: [String: String] = [:]) throws {
        let r = try ProcessHarness.run("/usr/bin/env", env.map { "\($0.key)=\($0.value)" } + ["bash", ProcessHarness.packageRoot + "/deploy/certs.sh", dir], timeout: 60)
        guard r.status == 0 else { throw HarnessError("certs.sh failed: \(r.stderr)") }
    }

    static func config(_ certs: String) -> String {
        """
        inter.broker.listener.name=SSL
        listener.name.ssl.ssl.client.auth=required
        ssl.keystore.type=PEM
        ssl.keystore.location=\(certs)/server-keystore.pem
        ssl.truststore.type=PEM
        ssl.truststore.location=\(certs)/ca.pem
        sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
        listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-pw" user_alice="alice-pw";
        offsets.topic.replication.factor=3
        default.replication.factor=3
        min.insync.replicas=2
        """
    }

    @Test(.timeLimit(.minutes(5))) func sslAndSaslSslServeRealClients() throws {
        let certs = try ProcessHarness.makeTempDir("certs"), other = try ProcessHarness.makeTempDir("other-ca")
        defer { ProcessHarness.removeDir(certs); ProcessHarness.removeDir(other) }
        try Self.makeCerts(certs, env: ["CERTS_CLIENT_SUBJECT": "/O=org/OU=eng/CN=alice"])
        try Self.makeCerts(other, env: ["CERTS_CA_NAME": "another CA"])
        var sslPorts: [Int32: Int] = [:]
        for id in Int32(1)...3 { sslPorts[id] = try ProcessHarness.freePort() }
        let fixed = sslPorts
        let cluster = try BrokerCluster(brokers: 3, extraConfig: Self.config(certs), listeners: { id, port in
            "SASL_SSL://127.0.0.1:\(port),SSL://127.0.0.1:\(fixed[id] ?? 0)"
        })
        defer { cluster.cleanup() }
        let sslBoot = sslPorts.keys.sorted().map { "127.0.0.1:\(sslPorts[$0] ?? 0)" }.joined(separator: ",")
        let saslSsl = ["-X", "security.protocol=SASL_SSL", "-X", "ssl.ca.location=\(certs)/ca.pem"]
        let alice = saslSsl + ["-X", "sasl.mechanisms=PLAIN", "-X", "sasl.username=alice", "-X", "sasl.password=alice-pw"]
        let mtls = ["-X", "security.protocol=SSL", "-X", "ssl.ca.location=\(certs)/ca.pem",
                    "-X", "ssl.certificate.location=\(certs)/client.pem", "-X", "ssl.key.location=\(certs)/client.key"]

        // kcat over SASL_SSL (PLAIN): all three brokers once the SSL inter-broker links are up.
        var brokersSeen = 0
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let r = try kcat(["-b", cluster.bootstrap, "-L"] + alice, timeout: 20)
            brokersSeen = r.out.components(separatedBy: "\n").filter { $0.contains("broker ") && $0.contains("at 127.0.0.1") }.count
            if r.status == 0 && brokersSeen == 3 { break }
            usleep(500_000)
        }
        #expect(brokersSeen == 3, "\(cluster.logs)")
        // The controller's and fetchers' links are TLS with the brokers' own certificate (CN=localhost).
        #expect(cluster.logs.contains("as User:CN=localhost on SSL (client certificate)"), "\(cluster.logs)")

        // kcat over SSL with a client certificate: produce RF 3 acks=all; the principal is the DN.
        let produced = try kcat(["-b", sslBoot, "-P", "-t", "kcat-ssl", "-X", "acks=all"] + mtls, stdin: "s1\ns2\n", timeout: 30)
        #expect(produced.status == 0, "\(produced.err)")
        let read = try kcat(["-b", sslBoot, "-C", "-t", "kcat-ssl", "-e", "-o", "beginning"] + mtls, timeout: 30)
        #expect(read.out.contains("s1") && read.out.contains("s2"), "\(read.err)")
        #expect(cluster.logs.contains("as User:CN=alice,OU=eng,O=org on SSL (client certificate)"), "\(cluster.logs)")

        // Refusals: no certificate on the required-auth listener, another CA, a wrong password.
        let noCert = try kcat(["-b", sslBoot, "-L", "-m", "5", "-X", "security.protocol=SSL", "-X", "ssl.ca.location=\(certs)/ca.pem"], timeout: 20)
        #expect(noCert.status != 0)
        let foreign = try kcat(["-b", cluster.bootstrap, "-L", "-m", "5", "-X", "security.protocol=SASL_SSL", "-X", "ssl.ca.location=\(other)/ca.pem",
                                "-X", "sasl.mechanisms=PLAIN", "-X", "sasl.username=alice", "-X", "sasl.password=alice-pw"], timeout: 20)
        #expect(foreign.status != 0)
        #expect(foreign.err.contains("certificate verify failed"), "\(foreign.err)")
        let wrong = try kcat(["-b", cluster.bootstrap, "-L", "-m", "5"] + saslSsl + ["-X", "sasl.mechanisms=PLAIN", "-X", "sasl.username=alice", "-X", "sasl.password=nope"], timeout: 20)
        #expect(wrong.status != 0)
        #expect(wrong.err.contains("Invalid username or password"), "\(wrong.err)")
        // Plaintext Kafka on the TLS port: no metadata.
        let plain = try kcat(["-b", sslBoot, "-L", "-m", "5"], timeout: 20)
        #expect(plain.status != 0)

        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compat + "tls_clients.py", cluster.bootstrap, sslBoot, certs, other + "/ca.pem"], timeout: 240)
        #expect(r.stdout.contains("OK"), "\(r.stdout)\n\(r.stderr)")
        // kcat SCRAM-SHA-512 over SASL_SSL reads what the python clients wrote over both listeners.
        let all = try kcat(["-b", cluster.bootstrap, "-C", "-t", "tls-rf3", "-e", "-o", "beginning"] + saslSsl
                           + ["-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", "sasl.username=s512", "-X", "sasl.password=pw-512"], timeout: 30)
        #expect(all.out.contains("m19") && all.out.contains("kp-ssl") && all.out.contains("cp-ssl"), "\(all.err)")
    }
}
