import Foundation
import Testing

/// A 3-broker cluster whose only listener (named PLAINTEXT, mapped to SASL_PLAINTEXT) and inter-broker
/// link use SASL: kcat, confluent-kafka and kafka-python with PLAIN and SCRAM, replication RF 3.
@Suite(.serialized, .ownThreads) struct SaslClusterTests {
    static let compat = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/"
    static let config = """
        listener.security.protocol.map=PLAINTEXT:SASL_PLAINTEXT
        sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
        sasl.mechanism.inter.broker.protocol=PLAIN
        listener.name.plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-pw" user_admin="admin-pw" user_alice="alice-pw";
        offsets.topic.replication.factor=3
        default.replication.factor=3
        min.insync.replicas=2
        """

    @Test(.timeLimit(.minutes(4))) func saslClusterServesRealClients() throws {
        let admins: [Int32: Int] = [1: try ProcessHarness.freePort(), 2: try ProcessHarness.freePort(), 3: try ProcessHarness.freePort()]
        let cluster = try BrokerCluster(brokers: 3, extraConfig: Self.config) { id, _ in "admin.listener=127.0.0.1:\(admins[id] ?? 0)" }
        defer { cluster.cleanup() }
        let sasl = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN", "-X", "sasl.username=alice", "-X", "sasl.password=alice-pw"]
        // kcat PLAIN: metadata lists all three brokers once replication links authenticated.
        var brokersSeen = 0
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let r = try kcat(["-b", cluster.bootstrap, "-L"] + sasl, timeout: 20)
            brokersSeen = r.out.components(separatedBy: "\n").filter { $0.contains("broker ") && $0.contains("at 127.0.0.1") }.count
            if r.status == 0 && brokersSeen == 3 { break }
            usleep(500_000)
        }
        #expect(brokersSeen == 3)
        let wrong = try kcat(["-b", cluster.bootstrap, "-L", "-m", "5", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
                              "-X", "sasl.username=alice", "-X", "sasl.password=nope"], timeout: 20)
        #expect(wrong.status != 0)
        #expect(wrong.err.contains("Invalid username or password"))
        // Counted (Kafka's failed-authentication-total) and on the timeline; the password never logged.
        let failed = admins.values.compactMap { port -> Double? in
            (try? AdminHTTP.get(port, "/metrics").text).flatMap { AdminHTTP.sample($0, #"kafka_server_socket_server_metrics_failed_authentication_total{listener="PLAINTEXT"}"#) }
        }.reduce(0, +)
        #expect(failed >= 1, "failed authentications counted: \(failed)")
        #expect(ProcessHarness.waitUntil(timeout: 5) {
            admins.values.contains { (try? AdminHTTP.get($0, "/timeline?kind=auth").text)?.contains("auth.failed") == true }
        }, "auth.failed on a broker's timeline")
        #expect(!cluster.logs.contains("nope"), "a wrong password reached a log")
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compat + "sasl_clients.py", cluster.bootstrap], timeout: 180)
        #expect(r.stdout.contains("OK"), "\(r.stdout)\n\(r.stderr)")
        // kcat SCRAM-SHA-256 reads what the python clients wrote (the user was created over the wire).
        let read = try kcat(["-b", cluster.bootstrap, "-C", "-t", "sasl-rf3", "-e", "-o", "beginning", "-X", "security.protocol=SASL_PLAINTEXT",
                             "-X", "sasl.mechanisms=SCRAM-SHA-256", "-X", "sasl.username=s256", "-X", "sasl.password=pw-256"], timeout: 30)
        #expect(read.out.contains("m19") && read.out.contains("kp"), "\(read.err)")
    }
}
