import Testing
@testable import BrokerCore

@Suite struct SensitiveConfigTests {
    @Test func passwordTypeConfigsAreSensitive() {
        for k in ["ssl.keystore.password", "ssl.key.password", "ssl.truststore.password", "sasl.jaas.config",
                  "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config", "listener.name.external.ssl.keystore.password",
                  "ssl.keystore.key", "ssl.keystore.certificate.chain", "ssl.truststore.certificates",
                  "delegation.token.secret.key", "delegation.token.master.key", "password.encoder.secret",
                  "zookeeper.ssl.keystore.password", "some.client.secret", "SSL.KEYSTORE.PASSWORD"] {
            #expect(SensitiveConfig.isSensitive(k), "\(k)")
            #expect(SensitiveConfig.displayValue(k, "hunter2") == nil)
        }
    }

    @Test func ordinaryConfigsAreShown() {
        for k in ["broker.id", "log.dirs", "ssl.keystore.location", "ssl.keystore.type", "sasl.enabled.mechanisms",
                  "listeners", "zookeeper.connect", "min.insync.replicas", "retention.ms"] {
            #expect(!SensitiveConfig.isSensitive(k), "\(k)")
            #expect(SensitiveConfig.displayValue(k, "v") == "v")
        }
    }
}
