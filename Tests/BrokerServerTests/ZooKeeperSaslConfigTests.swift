@testable import BrokerServer
import Testing

/// brokerd's login to coordd from KAFKA_OPTS, and zookeeper.set.acl.
@Suite struct ZooKeeperSaslConfigTests {
    let base = "broker.id=1\nzookeeper.connect=127.0.0.1:2181\nlog.dirs=/tmp/x\nlisteners=PLAINTEXT://:9092\n"
    let jaas = """
        KafkaServer { org.apache.kafka.common.security.plain.PlainLoginModule required user_a="b"; };
        Client {
            org.apache.zookeeper.server.auth.DigestLoginModule required username="kafka" password="pw";
        };
        """

    func resolve(_ extra: String, opts: String?, file: String? = nil) throws -> BrokerConfig {
        var c = try BrokerConfig.parse(base + extra)
        let text = file ?? jaas
        try c.resolveZooKeeperSasl(environment: opts.map { ["KAFKA_OPTS": $0] } ?? [:]) { _ in Array(text.utf8) }
        return c
    }

    @Test func clientSectionFromKafkaOpts() throws {
        let c = try resolve("zookeeper.set.acl=true\n", opts: "-Xmx1g -Djava.security.auth.login.config=/etc/kafka/jaas.conf")
        #expect(c.zookeeperSetACL)
        #expect(c.zookeeperSasl?.login.user == "kafka" && c.zookeeperSasl?.login.password == "pw")
        #expect(c.zookeeperSasl?.jaasFile == "/etc/kafka/jaas.conf")
        // Another section by name; the file without a Client section means no login (no ACLs asked).
        let named = try resolve("", opts: "-Djava.security.auth.login.config=/j -Dzookeeper.sasl.clientconfig=ZkBroker",
                                file: "ZkBroker { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"b\" password=\"c\"; };")
        #expect(named.zookeeperSasl?.login.user == "b" && named.zookeeperSasl?.section == "ZkBroker")
        #expect(try resolve("", opts: "-Djava.security.auth.login.config=/j", file: "KafkaServer { a.B required; };").zookeeperSasl == nil)
        #expect(try resolve("", opts: "-Djava.security.auth.login.config=/j -Dzookeeper.sasl.client=false").zookeeperSasl == nil)
        #expect(try resolve("zookeeper.set.acl=false\n", opts: nil).zookeeperSasl == nil)
    }

    @Test func refusals() {
        func message(_ extra: String, opts: String?, file: String? = nil) -> String {
            do { _ = try resolve(extra, opts: opts, file: file); return "" } catch { return "\(error)" }
        }
        #expect(message("zookeeper.set.acl=true\n", opts: nil).contains("zookeeper.set.acl is true"))
        #expect(message("zookeeper.set.acl=maybe\n", opts: nil).contains("true/false"))
        #expect(message("", opts: "-Djava.security.auth.login.config=/j",
                        file: "Client { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true; };").contains("Kerberos"))
        #expect(message("", opts: "-Djava.security.auth.login.config=/j -Dzookeeper.sasl.clientconfig=Missing").contains("no section Missing"))
        #expect(message("", opts: "-Djava.security.auth.login.config=/j",
                        file: "Client { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"x\"; };").contains("password"))
    }
}
