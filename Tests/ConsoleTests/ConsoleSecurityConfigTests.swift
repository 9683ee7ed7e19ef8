@testable import Console
import KafkaClient
import Testing

/// console.properties' client security keys: Kafka's for the brokers, ZooKeeper's for coordd.
@Suite struct ConsoleSecurityConfigTests {
    let base = "bootstrap.servers=127.0.0.1:9093\nzookeeper.connect=127.0.0.1:2281/kafka\n"
    let jaasKafka = #"sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="app" password="pw=1;";"#

    @Test func kafkaSaslSslAndCoorddTls() throws {
        let c = try ConsoleConfig.parse(base + """
        security.protocol=SASL_SSL
        sasl.mechanism=SCRAM-SHA-512
        \(jaasKafka)
        ssl.truststore.type=PEM
        ssl.truststore.location=/certs/ca.pem
        ssl.endpoint.identification.algorithm=
        zookeeper.ssl.client.enable=true
        zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty
        zookeeper.ssl.keystore.type=PEM
        zookeeper.ssl.keystore.location=/certs/client-keystore.pem
        zookeeper.ssl.truststore.type=PEM
        zookeeper.ssl.truststore.location=/certs/ca.pem
        java.security.auth.login.config=/etc/console/jaas.conf
        """)
        #expect(c.kafkaSasl == ClientSasl(mechanism: .scramSha512, username: "app", password: "pw=1;"))
        #expect(c.kafkaTLS?.trustPath == "/certs/ca.pem" && c.kafkaTLS?.checkHostname == false)
        #expect(c.zookeeperTLS?.trustPath == "/certs/ca.pem" && c.zookeeperTLS?.privateKeyPath == "/certs/client-keystore.pem")
        #expect(c.zookeeperTLS?.checkHostname == true)

        var resolved = c
        var asked: [String] = []
        try resolved.resolveZooKeeperSasl { path in
            asked.append(path)
            return Array(#"Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="console" password="zpw"; };"#.utf8)
        }
        #expect(asked == ["/etc/console/jaas.conf"])
        #expect(resolved.zookeeperSasl?.login.user == "console" && resolved.zookeeperSasl?.login.password == "zpw")
    }

    @Test func plaintextByDefault() throws {
        var c = try ConsoleConfig.parse(base)
        #expect(c.kafkaSasl == nil && c.kafkaTLS == nil && c.zookeeperTLS == nil)
        try c.resolveZooKeeperSasl { _ in Issue.record("no JAAS file to read"); return [] }
        #expect(c.zookeeperSasl == nil)
    }

    @Test(arguments: [
        ("security.protocol=SASL_SSL\nsasl.mechanism=GSSAPI\n\(#"sasl.jaas.config=a.B required username="u" password="p";"#)", "GSSAPI"),
        ("security.protocol=SASL_SSL", "GSSAPI"),  // Kafka's default mechanism, not implemented
        ("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN", "needs a username and password"),
        ("security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n\(#"sasl.jaas.config=com.example.Login required username="u" password="p";"#)", "com.example.Login"),
        ("sasl.mechanism=PLAIN\nsasl.username=u\nsasl.password=p", "security.protocol=PLAINTEXT"),
        ("security.protocol=SSL\nssl.truststore.location=/x\nsasl.mechanism=PLAIN", "sasl.mechanism given"),
        ("ssl.truststore.location=/x", "security.protocol=PLAINTEXT"),
        ("security.protocol=SSL\nssl.truststore.type=JKS\nssl.truststore.location=/x", "JKS"),
        ("security.protocol=SSL\nssl.keymanager.algorithm=SunX509", "ssl.keymanager.algorithm"),
        ("security.protocol=SASL_SSL\nsasl.login.callback.handler.class=x", "sasl.login.callback.handler.class"),
        ("security.protocol=TLS", "security.protocol=TLS"),
        ("zookeeper.ssl.truststore.location=/x", "zookeeper.ssl.client.enable is not true"),
        ("zookeeper.ssl.client.enable=true", "zookeeper.clientCnxnSocket"),
        ("zookeeper.ssl.client.enable=true\nzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\nzookeeper.ssl.truststore.type=JKS", "PEM"),
        ("zookeeper.ssl.client.enable=true\nzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\nzookeeper.ssl.ocsp.enable=true", "revocation"),
        ("zookeeper.ssl.context.supplier.class=x", "zookeeper.ssl.context.supplier.class"),
        ("zookeeper.sasl.client=maybe\njava.security.auth.login.config=/j", "true/false"),
    ])
    func refusals(extra: String, expected: String) {
        do {
            var c = try ConsoleConfig.parse(base + extra)
            try c.resolveZooKeeperSasl { _ in [] }
            Issue.record("accepted: \(extra)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test func coorddSaslRefusals() throws {
        func message(_ file: String, extra: String = "") -> String {
            do {
                var c = try ConsoleConfig.parse(base + "java.security.auth.login.config=/j\n" + extra)
                try c.resolveZooKeeperSasl { _ in Array(file.utf8) }
                return ""
            } catch { return "\(error)" }
        }
        #expect(message("KafkaClient { a.B required; };").contains("no Client section"))
        #expect(message(#"Client { com.sun.security.auth.module.Krb5LoginModule required; };"#).contains("Kerberos"))
        #expect(message(#"Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="u"; };"#).contains("username and password"))
        #expect(message(#"Other { org.apache.zookeeper.server.auth.DigestLoginModule required username="u" password="p"; };"#,
                        extra: "zookeeper.sasl.clientconfig=Missing\n").contains("no section Missing"))
        #expect(message("{ broken").contains("/j"))
        // zookeeper.sasl.client=false turns the login off, as with ZooKeeper's client.
        #expect(message("", extra: "zookeeper.sasl.client=false\n") == "")
        #expect(throws: ConsoleConfig.Invalid.self) { try ConsoleConfig.parse("bootstrap.servers=a:1\njava.security.auth.login.config=/j\n") }
    }
}
