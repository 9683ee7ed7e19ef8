import Testing
import Transport
@testable import KafkaClient

/// Kafka's client ssl.* keys as ClientTLS reads them.
struct ClientTLSTests {
    @Test func plaintextProtocolsHaveNoTLS() throws {
        #expect(try ClientTLS.config(properties: [:]) == nil)
        #expect(try ClientTLS.config(properties: ["security.protocol": "SASL_PLAINTEXT"]) == nil)
    }

    @Test func pemAndPkcs12Stores() throws {
        let pem = try #require(try ClientTLS.config(properties: [
            "security.protocol": "ssl", "ssl.truststore.location": "/c/ca.pem", "ssl.keystore.location": "/c/client-keystore.pem",
            "ssl.key.password": "kp", "ssl.enabled.protocols": "TLSv1.3", "ssl.endpoint.identification.algorithm": "",
        ]))
        #expect(pem.trustPath == "/c/ca.pem" && pem.certificateChainPath == "/c/client-keystore.pem" && pem.privateKeyPath == "/c/client-keystore.pem")
        #expect(pem.privateKeyPassword == "kp" && pem.protocols == [.tls13] && !pem.checkHostname)
        let p12 = try #require(try ClientTLS.config(properties: [
            "security.protocol": "SASL_SSL", "ssl.truststore.type": "PKCS12", "ssl.truststore.location": "/t.p12", "ssl.truststore.password": "a",
            "ssl.keystore.type": "PKCS12", "ssl.keystore.location": "/k.p12", "ssl.keystore.password": "b",
        ]))
        #expect(p12.trustStorePKCS12Path == "/t.p12" && p12.trustStorePKCS12Password == "a")
        #expect(p12.keyStorePKCS12Path == "/k.p12" && p12.keyStorePKCS12Password == "b" && p12.checkHostname)
    }

    @Test func whatItCannotHonourIsAnError() {
        let bad: [[String: String]] = [
            ["security.protocol": "SSL", "ssl.truststore.type": "JKS", "ssl.truststore.location": "/t.jks"],
            ["security.protocol": "SSL", "ssl.provider": "BC"],
            ["security.protocol": "PLAINTEXT", "ssl.truststore.location": "/ca.pem"],
            ["security.protocol": "TLS"],
            ["security.protocol": "SSL", "ssl.enabled.protocols": "TLSv1"],
            ["security.protocol": "SSL", "ssl.endpoint.identification.algorithm": "ldap"],
        ]
        for props in bad {
            #expect(throws: KafkaError.self, "\(props)") { try ClientTLS.config(properties: props) }
        }
    }
}
