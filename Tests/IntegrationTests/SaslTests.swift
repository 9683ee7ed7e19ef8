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
        let cluster = try BrokerCluster(brokers: 3, extraConfig: Self.config)
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
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compat + "sasl_clients.py", cluster.bootstrap], timeout: 180)
        #expect(r.stdout.contains("OK"), "\(r.stdout)\n\(r.stderr)")
        // kcat SCRAM-SHA-256 reads what the python clients wrote (the user was created over the wire).
        let read = try kcat(["-b", cluster.bootstrap, "-C", "-t", "sasl-rf3", "-e", "-o", "beginning", "-X", "security.protocol=SASL_PLAINTEXT",
                             "-X", "sasl.mechanisms=SCRAM-SHA-256", "-X", "sasl.username=s256", "-X", "sasl.password=pw-256"], timeout: 30)
        #expect(read.out.contains("m19") && read.out.contains("kp"), "\(read.err)")
    }
}
