import Transport

/// Kafka's keys for TLS to ZooKeeper (here coordd's secureClientPort): `zookeeper.ssl.client.enable`,
/// `zookeeper.clientCnxnSocket`, `zookeeper.ssl.keystore.*`, `zookeeper.ssl.truststore.*`, protocols,
/// cipher suites and endpoint identification. PEM stores only; whatever cannot be honoured is refused.
enum ZooKeeperTLSKeys {
    static let netty = "org.apache.zookeeper.ClientCnxnSocketNetty"
    static let known: Set<String> = [
        "zookeeper.ssl.client.enable", "zookeeper.clientCnxnSocket",
        "zookeeper.ssl.keystore.location", "zookeeper.ssl.keystore.password", "zookeeper.ssl.keystore.type",
        "zookeeper.ssl.truststore.location", "zookeeper.ssl.truststore.password", "zookeeper.ssl.truststore.type",
        "zookeeper.ssl.protocol", "zookeeper.ssl.enabled.protocols", "zookeeper.ssl.cipher.suites",
        "zookeeper.ssl.endpoint.identification.algorithm", "zookeeper.ssl.crl.enable", "zookeeper.ssl.ocsp.enable",
    ]

    static func isKey(_ key: String) -> Bool { key.hasPrefix("zookeeper.ssl.") || key == "zookeeper.clientCnxnSocket" }

    /// nil: plaintext to coordd.
    static func config(_ values: [String: String]) throws -> TLSConfig? {
        for key in values.keys.sorted() where !known.contains(key) {
            throw BrokerConfig.ConfigError("\(key): brokerd does not support this ZooKeeper TLS setting; remove it")
        }
        let enabled: Bool
        switch values["zookeeper.ssl.client.enable"]?.lowercased() {
        case nil, "false": enabled = false
        case "true": enabled = true
        case let v?: throw BrokerConfig.ConfigError("zookeeper.ssl.client.enable=\(v) is not true/false")
        }
        if let socket = values["zookeeper.clientCnxnSocket"], socket != netty, socket != "org.apache.zookeeper.ClientCnxnSocketNIO" {
            throw BrokerConfig.ConfigError("zookeeper.clientCnxnSocket=\(socket): expected \(netty)")
        }
        guard enabled else {
            let set = values.keys.filter { $0.hasPrefix("zookeeper.ssl.") && $0 != "zookeeper.ssl.client.enable" }.sorted()
            if !set.isEmpty { throw BrokerConfig.ConfigError("\(set.joined(separator: ", ")) given but zookeeper.ssl.client.enable is not true: set it, or remove them") }
            return nil
        }
        if values["zookeeper.clientCnxnSocket"] != netty {
            throw BrokerConfig.ConfigError("zookeeper.ssl.client.enable=true needs zookeeper.clientCnxnSocket=\(netty), as Kafka does")
        }
        for flag in ["zookeeper.ssl.crl.enable", "zookeeper.ssl.ocsp.enable"] where (values[flag] ?? "false").lowercased() != "false" {
            throw BrokerConfig.ConfigError("\(flag)=\(values[flag] ?? ""): brokerd does not check revocation; remove it")
        }
        for store in ["zookeeper.ssl.keystore.type", "zookeeper.ssl.truststore.type"] {
            if let t = values[store], t.uppercased() != "PEM" { throw BrokerConfig.ConfigError("\(store)=\(t): brokerd reads PEM stores only; set \(store)=PEM") }
        }
        var c = TLSConfig()
        if let ks = values["zookeeper.ssl.keystore.location"], !ks.isEmpty {
            // A PEM key store holds the private key and the certificate chain in one file.
            c.certificateChainPath = ks
            c.privateKeyPath = ks
            if let pw = values["zookeeper.ssl.keystore.password"], !pw.isEmpty { c.privateKeyPassword = pw }
        }
        if let ts = values["zookeeper.ssl.truststore.location"], !ts.isEmpty { c.trustPath = ts }
        switch (values["zookeeper.ssl.endpoint.identification.algorithm"] ?? "HTTPS").uppercased() {
        case "HTTPS": break  // the server's certificate must name the host in zookeeper.connect
        case "": c.checkHostname = false
        case let v: throw BrokerConfig.ConfigError("zookeeper.ssl.endpoint.identification.algorithm=\(v): expected HTTPS or empty")
        }
        if let raw = values["zookeeper.ssl.enabled.protocols"] ?? values["zookeeper.ssl.protocol"] {
            do throws(TLSConfig.ProtocolListError) {
                c.protocols = try TLSConfig.protocols(javaList: raw)
            } catch .unsupported(let name) {
                throw BrokerConfig.ConfigError("TLS protocol \(name): brokerd supports TLSv1.2 and TLSv1.3 only")
            } catch {
                throw BrokerConfig.ConfigError("no TLS protocol enabled in '\(raw)'")
            }
        }
        if let suites = values["zookeeper.ssl.cipher.suites"] {
            c.cipherSuites = TLSConfig.cipherSuites(javaList: suites)
        }
        return c
    }
}
