import Transport

/// Kafka's client TLS keys (`security.protocol=SSL|SASL_SSL`, `ssl.truststore.*`, `ssl.keystore.*`,
/// `ssl.key.password`, `ssl.enabled.protocols`, `ssl.cipher.suites`, `ssl.endpoint.identification.algorithm`),
/// PEM or PKCS12 stores. Keys it does not implement are errors, never ignored.
public enum ClientTLS {
    public static let known: Set<String> = [
        "ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.certificates",
        "ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.keystore.certificate.chain", "ssl.keystore.key",
        "ssl.key.password", "ssl.enabled.protocols", "ssl.protocol", "ssl.cipher.suites", "ssl.endpoint.identification.algorithm",
    ]

    /// The protocol named by `security.protocol` (PLAINTEXT when absent).
    public static func securityProtocol(_ props: [String: String]) throws -> String {
        let p = (props["security.protocol"] ?? "PLAINTEXT").uppercased()
        guard ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"].contains(p) else {
            throw KafkaError.invalidArgument("security.protocol=\(p): expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
        }
        return p
    }

    /// The TLS settings for `security.protocol=SSL|SASL_SSL`; nil for the plaintext protocols.
    public static func config(properties props: [String: String]) throws -> TLSConfig? {
        let p = try securityProtocol(props)
        let given = props.keys.filter { $0.hasPrefix("ssl.") }.sorted()
        if let k = given.first(where: { !known.contains($0) }) { throw KafkaError.invalidArgument("\(k) is not supported") }
        guard p == "SSL" || p == "SASL_SSL" else {
            if let k = given.first { throw KafkaError.invalidArgument("\(k) given but security.protocol=\(p) (set SSL or SASL_SSL)") }
            return nil
        }
        var c = TLSConfig()
        func type(_ key: String) throws -> String {
            let t = (props[key] ?? "PEM").uppercased()
            guard t == "PEM" || t == "PKCS12" else {
                throw KafkaError.invalidArgument("\(key)=\(t) is not supported (PEM or PKCS12; convert JKS with keytool -importkeystore -deststoretype PKCS12)")
            }
            return t
        }
        if let ts = props["ssl.truststore.location"], !ts.isEmpty {
            if try type("ssl.truststore.type") == "PKCS12" {
                c.trustStorePKCS12Path = ts
                c.trustStorePKCS12Password = props["ssl.truststore.password"]
            } else {
                c.trustPath = ts
            }
        } else if let certs = props["ssl.truststore.certificates"] {
            c.trustPEM = certs
        }
        if let ks = props["ssl.keystore.location"], !ks.isEmpty {
            if try type("ssl.keystore.type") == "PKCS12" {
                c.keyStorePKCS12Path = ks
                c.keyStorePKCS12Password = props["ssl.keystore.password"]
            } else {
                c.certificateChainPath = ks
                c.privateKeyPath = ks
            }
        } else if let chain = props["ssl.keystore.certificate.chain"], let key = props["ssl.keystore.key"] {
            c.certificateChainPEM = chain
            c.privateKeyPEM = key
        }
        if let pw = props["ssl.key.password"], !pw.isEmpty { c.privateKeyPassword = pw }
        if let raw = props["ssl.enabled.protocols"] ?? props["ssl.protocol"] {
            do throws(TLSConfig.ProtocolListError) { c.protocols = try TLSConfig.protocols(javaList: raw) } catch {
                throw KafkaError.invalidArgument("ssl.enabled.protocols=\(raw): TLSv1.2 and/or TLSv1.3")
            }
        }
        if let suites = props["ssl.cipher.suites"] { c.cipherSuites = TLSConfig.cipherSuites(javaList: suites) }
        switch (props["ssl.endpoint.identification.algorithm"] ?? "https").lowercased() {
        case "https": c.checkHostname = true
        case "": c.checkHostname = false
        case let v: throw KafkaError.invalidArgument("ssl.endpoint.identification.algorithm=\(v): expected https or empty")
        }
        return c
    }

    /// `config(properties:)` made into a context (reads the stores).
    public static func context(properties props: [String: String]) throws -> TLSContext? {
        guard let c = try config(properties: props) else { return nil }
        do { return try TLSContext(client: c) } catch { throw KafkaError.invalidArgument("TLS: \(error)") }
    }
}
