@testable import BrokerServer
import Sasl
import Testing

@Suite struct SecurityConfigTests {
    let base = "broker.id=1\nzookeeper.connect=127.0.0.1:2181\nlog.dirs=/tmp/x\n"
    let plainJaas = #"listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="pw" user_admin="pw" user_alice="a";"#

    func parse(_ extra: String) throws -> BrokerConfig { try BrokerConfig.parse(base + extra) }

    func refuses(_ extra: String, mentioning word: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try parse(extra)
            Issue.record("accepted: \(extra)", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(word), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func plaintextDefaultsStillWork() throws {
        let c = try parse("listeners=PLAINTEXT://:9092\n")
        #expect(c.security.interBrokerListenerName == "PLAINTEXT")
        #expect(c.security.listeners["PLAINTEXT"]?.securityProtocol == .plaintext)
    }

    @Test func saslListenerWithPlainUsersAndInterBrokerCredentials() throws {
        let c = try parse("""
            listeners=SASL_PLAINTEXT://:9093,PLAINTEXT://:9092
            inter.broker.listener.name=SASL_PLAINTEXT
            sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256
            sasl.mechanism.inter.broker.protocol=PLAIN
            \(plainJaas)

            """)
        let l = try #require(c.security.listeners["SASL_PLAINTEXT"])
        #expect(l.saslMechanisms == [.plain, .scramSha256])
        #expect(l.plainUsers == ["admin": "pw", "alice": "a"])
        #expect(c.security.interBrokerSasl?.username == "admin")
        #expect(c.security.interBrokerSasl?.mechanism == .plain)
    }

    @Test func customListenerNamesThroughTheMap() throws {
        let c = try parse("""
            listeners=INTERNAL://:9093,EXTERNAL://:9092
            listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:SASL_PLAINTEXT
            inter.broker.listener.name=INTERNAL
            listener.name.external.sasl.enabled.mechanisms=SCRAM-SHA-512

            """)
        #expect(c.security.listeners["EXTERNAL"]?.saslMechanisms == [.scramSha512])
        #expect(c.security.interBrokerSasl == nil)
    }

    @Test func refusesUnimplementedSecurity() {
        refuses("listeners=SSL://:9093\nsecurity.inter.broker.protocol=SSL\n", mentioning: "key store")
        refuses("listeners=PLAINTEXT://:9092\nssl.keystore.location=/k\n", mentioning: "ssl.keystore.location")
        refuses("listeners=SASL_PLAINTEXT://:9093,PLAINTEXT://:9092\nsasl.enabled.mechanisms=GSSAPI\n", mentioning: "GSSAPI")
        refuses("listeners=SASL_PLAINTEXT://:9093,PLAINTEXT://:9092\n", mentioning: "sasl.enabled.mechanisms")
        refuses("listeners=FOO://:9092\n", mentioning: "not mapped")
        refuses("listeners=PLAINTEXT://:9092\nsecurity.inter.broker.protocol=SASL_SSL\n", mentioning: "SASL_SSL")
        refuses("listeners=PLAINTEXT://:9092\nsecurity.inter.broker.protocol=PLAINTEXT\ninter.broker.listener.name=PLAINTEXT\n", mentioning: "only one")
        refuses("listeners=SASL_PLAINTEXT://:9093\nsasl.enabled.mechanisms=PLAIN\n\(plainJaas)\n", mentioning: "inter.broker.listener.name")
        refuses("listeners=SASL_PLAINTEXT://:9093\ninter.broker.listener.name=SASL_PLAINTEXT\nsasl.enabled.mechanisms=PLAIN\n\(plainJaas)\n",
                mentioning: "sasl.mechanism.inter.broker.protocol")
        refuses("listeners=SASL_PLAINTEXT://:9093,PLAINTEXT://:9092\nsasl.enabled.mechanisms=PLAIN\n", mentioning: "jaas")
        refuses("listeners=SASL_PLAINTEXT://:9093,PLAINTEXT://:9092\nsasl.enabled.mechanisms=PLAIN\nlistener.name.sasl_plaintext.plain.sasl.jaas.config=broken\n",
                mentioning: "jaas")
        refuses("listeners=PLAINTEXT://:9092\nsasl.kerberos.service.name=kafka\n", mentioning: "sasl.kerberos.service.name")
        refuses("listeners=PLAINTEXT://:9092\nlistener.name.plaintext.foo=1\n", mentioning: "listener.name.plaintext.foo")
    }

    @Test func unknownNonSecurityKeysAreReportedNotFatal() throws {
        let c = try parse("listeners=PLAINTEXT://:9092\nnum.recovery.threads.per.data.dir=2\nadmin.listener=127.0.0.1:0\n")
        #expect(c.unknownKeys == ["num.recovery.threads.per.data.dir"])
    }
}
