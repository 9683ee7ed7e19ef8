import Sasl

/// Kafka's client security keys made into a ClientConfig: `security.protocol`, `sasl.mechanism`,
/// `sasl.jaas.config` (PlainLoginModule / ScramLoginModule with username and password), librdkafka's
/// `sasl.username` / `sasl.password`, and the `ssl.*` keys (ClientTLS). Shared by kafkactl's
/// `--command-config` and the console's console.properties.
public enum ClientSecurity {
    public static let saslKeys: Set<String> = ["sasl.mechanism", "sasl.jaas.config", "sasl.username", "sasl.password"]
    static let loginModules: Set<String> = [
        "org.apache.kafka.common.security.plain.PlainLoginModule", "org.apache.kafka.common.security.scram.ScramLoginModule",
    ]

    /// True for the keys this reads (the caller's own key check lets them through).
    public static func isKey(_ key: String) -> Bool {
        key == "security.protocol" || key.hasPrefix("ssl.") || key.hasPrefix("sasl.")
    }

    /// Sets `sasl` and `tls` of `config` (reads the TLS stores).
    public static func apply(_ props: [String: String], to config: inout ClientConfig, strict: Bool) throws {
        if let sasl = try sasl(props, strict: strict) { config.sasl = sasl }
        config.tls = try ClientTLS.context(properties: props)
    }

    /// The SASL login the keys give (I/O-free); nil for PLAINTEXT and SSL. `strict`: every `sasl.*` key
    /// must be known and SASL must match `security.protocol` (a SASL setting on a non-SASL protocol is
    /// refused, not ignored); kafkactl is lenient as it was before the keys were shared.
    public static func sasl(_ props: [String: String], strict: Bool) throws -> ClientSasl? {
        let proto = try ClientTLS.securityProtocol(props)
        if strict {
            for k in props.keys.sorted() where k.hasPrefix("sasl.") && !saslKeys.contains(k) {
                throw KafkaError.invalidArgument("\(k) is not supported (supported: \(saslKeys.sorted().joined(separator: ", ")))")
            }
            if !proto.hasPrefix("SASL_"), let k = props.keys.sorted().first(where: { $0.hasPrefix("sasl.") }) {
                throw KafkaError.invalidArgument("\(k) given but security.protocol=\(proto) (set SASL_PLAINTEXT or SASL_SSL)")
            }
        }
        var out: ClientSasl?
        // Kafka's default mechanism is GSSAPI (Kerberos), which is not implemented: strict refuses it.
        if let m = props["sasl.mechanism"] ?? (strict && proto.hasPrefix("SASL_") ? "GSSAPI" : nil) {
            guard let mech = SaslMechanism(name: m) else {
                throw KafkaError.invalidArgument("sasl.mechanism=\(m) is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")
            }
            var jaas: JaasLoginModule?
            if let text = props["sasl.jaas.config"] {
                do { jaas = try JaasConfig.parse(text) } catch { throw KafkaError.invalidArgument("sasl.jaas.config: \(error)") }
                if strict, let j = jaas, !loginModules.contains(j.className) {
                    throw KafkaError.invalidArgument("sasl.jaas.config: login module \(j.className) is not supported (\(loginModules.sorted().joined(separator: ", ")))")
                }
            }
            let user = props["sasl.username"] ?? jaas?["username"] ?? ""
            let password = props["sasl.password"] ?? jaas?["password"] ?? ""
            if strict && (user.isEmpty || password.isEmpty) {
                throw KafkaError.invalidArgument("sasl.mechanism=\(m) needs a username and password (sasl.jaas.config)")
            }
            out = ClientSasl(mechanism: mech, username: user, password: password)
        }
        if proto.hasPrefix("SASL_") && out == nil {
            throw KafkaError.invalidArgument("security.protocol=\(proto) needs sasl.mechanism, sasl.username and sasl.password")
        }
        return out
    }
}
