@testable import BrokerServer
import Testing
import Transport

/// Kafka's ssl.* keys on SSL and SASL_SSL listeners: stores, client auth, protocols, per-listener
/// overrides, the inter-broker client side, and refusals of what brokerd does not implement.
@Suite struct SslListenerConfigTests {
    let base = "broker.id=1\nzookeeper.connect=127.0.0.1:2181\nlog.dirs=/tmp/x\n"
    let pemStores = "ssl.keystore.type=PEM\nssl.keystore.location=/c/server-keystore.pem\nssl.truststore.type=PEM\nssl.truststore.location=/c/ca.pem\n"

    func parse(_ extra: String) throws -> BrokerConfig { try BrokerConfig.parse(base + extra) }

    func refuses(_ extra: String, mentioning word: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try parse(extra)
            Issue.record("accepted: \(extra)", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(word), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func sslListenerWithPemStoresIsTheInterBrokerLink() throws {
        let c = try parse("listeners=SSL://:9093\nsecurity.inter.broker.protocol=SSL\nssl.client.auth=required\n" + pemStores)
        let tls = try #require(c.security.listeners["SSL"]?.tls)
        #expect(tls.certificateChainPath == "/c/server-keystore.pem" && tls.privateKeyPath == "/c/server-keystore.pem")
        #expect(tls.trustPath == "/c/ca.pem")
        #expect(tls.clientAuth == .need)
        let client = try #require(c.security.interBrokerTLS)
        #expect(client.clientAuth == .none && client.checkHostname && client.trustPath == "/c/ca.pem")
        #expect(client.certificateChainPath == "/c/server-keystore.pem")
    }

    @Test func listenerPrefixOverridesAndSaslSslTakesOnlyPrefixedClientAuth() throws {
        let c = try parse("""
            listeners=SSL://:9093,SASL_SSL://:9094
            inter.broker.listener.name=SSL
            sasl.enabled.mechanisms=SCRAM-SHA-256
            ssl.client.auth=required
            ssl.endpoint.identification.algorithm=
            listener.name.sasl_ssl.ssl.enabled.protocols=TLSv1.3
            listener.name.ssl.ssl.truststore.location=/other/ca.pem
            \(pemStores)
            """)
        #expect(c.security.listeners["SSL"]?.tls?.trustPath == "/other/ca.pem")
        #expect(c.security.listeners["SSL"]?.tls?.clientAuth == .need)
        // KIP-684: a global ssl.client.auth does not apply to SASL_SSL listeners.
        #expect(c.security.listeners["SASL_SSL"]?.tls?.clientAuth == TLSConfig.ClientAuth.none)
        #expect(c.security.listeners["SASL_SSL"]?.tls?.protocols == [.tls13])
        #expect(c.security.listeners["SASL_SSL"]?.saslMechanisms == [.scramSha256])
        #expect(c.security.interBrokerTLS?.checkHostname == false)
        let prefixed = try parse("listeners=SSL://:9093,SASL_SSL://:9094\ninter.broker.listener.name=SSL\nsasl.enabled.mechanisms=PLAIN\n"
            + #"sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_a="b";"# + "\n"
            + "listener.name.sasl_ssl.ssl.client.auth=requested\n" + pemStores)
        #expect(prefixed.security.listeners["SASL_SSL"]?.tls?.clientAuth == .want)
    }

    @Test func inlinePemAndPkcs12Stores() throws {
        let inline = try parse("listeners=SSL://:9093\nsecurity.inter.broker.protocol=SSL\nssl.keystore.type=PEM\n"
            + "ssl.keystore.certificate.chain=-----BEGIN CERTIFICATE----- MIIB -----END CERTIFICATE-----\n"
            + "ssl.keystore.key=-----BEGIN ENCRYPTED PRIVATE KEY----- MIIE -----END ENCRYPTED PRIVATE KEY-----\nssl.key.password=kp\n"
            + "ssl.truststore.type=PEM\nssl.truststore.certificates=-----BEGIN CERTIFICATE----- MIIC -----END CERTIFICATE-----\n")
        let t = try #require(inline.security.listeners["SSL"]?.tls)
        #expect(t.certificateChainPEM?.contains("MIIB") == true && t.privateKeyPEM?.contains("MIIE") == true)
        #expect(t.privateKeyPassword == "kp" && t.trustPEM?.contains("MIIC") == true)
        let p12 = try parse("listeners=SSL://:9093\nsecurity.inter.broker.protocol=SSL\nssl.keystore.type=PKCS12\nssl.keystore.location=/k.p12\n"
            + "ssl.keystore.password=pw\nssl.truststore.type=PKCS12\nssl.truststore.location=/t.p12\nssl.truststore.password=tp\n")
        let p = try #require(p12.security.listeners["SSL"]?.tls)
        #expect(p.keyStorePKCS12Path == "/k.p12" && p.keyStorePKCS12Password == "pw")
        #expect(p.trustStorePKCS12Path == "/t.p12" && p.trustStorePKCS12Password == "tp")
    }

    @Test func principalMappingRulesAreParsed() throws {
        let c = try parse("listeners=SSL://:9093\nsecurity.inter.broker.protocol=SSL\n" + pemStores
            + "ssl.principal.mapping.rules=RULE:^CN=([^,]+),OU=eng.*$/$1/L,DEFAULT\n")
        let m = try #require(c.security.listeners["SSL"]?.principalMapper)
        #expect(m.name(forDN: "CN=Alice,OU=eng,O=org") == "alice")
        #expect(m.name(forDN: "CN=bob,O=org") == "CN=bob,O=org")
    }

    @Test func refusesWhatItCannotHonour() {
        let ssl = "listeners=SSL://:9093\nsecurity.inter.broker.protocol=SSL\n"
        refuses(ssl + "ssl.keystore.location=/k.jks\nssl.keystore.password=x\n", mentioning: "keytool")
        refuses(ssl + "ssl.keystore.type=JKS\nssl.keystore.location=/k.jks\n", mentioning: "JKS")
        refuses(ssl + pemStores + "ssl.keystore.password=x\n", mentioning: "ssl.key.password")
        refuses(ssl + pemStores + "ssl.truststore.password=x\n", mentioning: "no password")
        refuses(ssl + pemStores + "ssl.engine.factory.class=x.Y\n", mentioning: "ssl.engine.factory.class")
        refuses(ssl + pemStores + "ssl.provider=BC\n", mentioning: "ssl.provider")
        refuses(ssl + pemStores + "ssl.secure.random.implementation=SHA1PRNG\n", mentioning: "ssl.secure.random.implementation")
        refuses(ssl + pemStores + "listener.name.ssl.ssl.keystore.foo=1\n", mentioning: "listener.name.ssl.ssl.keystore.foo")
        refuses(ssl + pemStores + "ssl.client.auth=sometimes\n", mentioning: "ssl.client.auth")
        refuses(ssl + pemStores + "ssl.enabled.protocols=TLSv1.1\n", mentioning: "TLSv1.1")
        refuses(ssl + pemStores + "ssl.endpoint.identification.algorithm=ldap\n", mentioning: "https or empty")
        refuses(ssl + pemStores + "ssl.keymanager.algorithm=PKIX\n", mentioning: "SunX509")
        refuses(ssl + pemStores + "ssl.principal.mapping.rules=RULE:^CN=(.*)$/$1\n", mentioning: "ssl.principal.mapping.rules")
        refuses(ssl + "ssl.truststore.type=PEM\nssl.truststore.location=/c/ca.pem\n", mentioning: "key store")
        refuses(ssl + "ssl.keystore.type=PEM\nssl.keystore.location=/k.pem\nssl.client.auth=required\n", mentioning: "trust store")
        refuses("listeners=PLAINTEXT://:9092\nlistener.name.plaintext.ssl.keystore.location=/k\n", mentioning: "listener.name.plaintext.ssl.keystore.location")
        refuses("listeners=SASL_SSL://:9094\ninter.broker.listener.name=SASL_SSL\nsasl.enabled.mechanisms=PLAIN\nsasl.mechanism.inter.broker.protocol=PLAIN\n"
                + #"sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="b" user_a="b";"# + "\n"
                + "ssl.client.auth=required\n" + pemStores, mentioning: "KIP-684")
    }
}
