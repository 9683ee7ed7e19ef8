import BrokerCore
import Transport

/// Kafka's `ssl.*` keys for SSL and SASL_SSL listeners, each overridable per listener as
/// `listener.name.<listener in lower case>.ssl.*`. PEM (files or inline) and PKCS#12 stores;
/// anything brokerd cannot honour stops startup, named.
enum ListenerTLSKeys {
    /// Keys after `ssl.` that brokerd implements.
    static let known: Set<String> = [
        "keystore.type", "keystore.location", "keystore.password", "keystore.certificate.chain", "keystore.key", "key.password",
        "truststore.type", "truststore.location", "truststore.password", "truststore.certificates",
        "client.auth", "enabled.protocols", "protocol", "cipher.suites", "endpoint.identification.algorithm",
        "principal.mapping.rules", "keymanager.algorithm", "trustmanager.algorithm",
    ]
    /// Java's key/trust manager algorithms: the only ones meaning "what OpenSSL does".
    static let defaultAlgorithms = ["keymanager.algorithm": "SunX509", "trustmanager.algorithm": "PKIX"]

    /// Every `ssl.*` key (global) must be one brokerd implements.
    static func checkGlobalKeys(_ raw: [String: String]) throws {
        for k in raw.keys.sorted() where k.hasPrefix("ssl.") {
            let suffix = String(k.dropFirst(4))
            guard known.contains(suffix) else { throw unsupported(k) }
        }
    }

    /// A global ssl.client.auth that no listener applies (only SASL_SSL ones, which take the prefixed key)
    /// would be a security setting silently ignored.
    static func checkClientAuthApplies(_ raw: [String: String], protocols: [SecurityProtocol]) throws {
        guard let v = raw["ssl.client.auth"], v.trimmed.lowercased() != "none", !v.trimmed.isEmpty, !protocols.contains(.ssl) else { return }
        throw BrokerConfig.ConfigError("ssl.client.auth=\(v) applies to SSL listeners only, and there is none; on SASL_SSL listeners set listener.name.<listener>.ssl.client.auth (as Kafka, KIP-684)")
    }

    static func unsupported(_ key: String) -> BrokerConfig.ConfigError {
        let suffix = key.split(separator: ".").drop(while: { $0 != "ssl" }).dropFirst().joined(separator: ".")
        if suffix == "engine.factory.class" || suffix == "provider" { return .init("\(key): custom SSL engines/providers are not supported; remove it") }
        if suffix.hasPrefix("keystore.") || suffix.hasPrefix("truststore.") {
            return .init("\(key) is not supported (brokerd reads PEM or PKCS12 stores: ssl.keystore.location/.password/.certificate.chain/.key, ssl.truststore.location/.password/.certificates)")
        }
        return .init("\(key): brokerd does not implement this SSL setting; remove it")
    }

    /// One listener's values: `listener.name.<l>.ssl.X` over `ssl.X`; `used` collects the prefixed keys read.
    struct Values {
        let raw: [String: String]
        let prefix: String
        var used: Set<String> = []
        init(raw: [String: String], listener: String) {
            self.raw = raw
            prefix = "listener.name.\(listener.lowercased())."
        }
        mutating func get(_ suffix: String, listenerOnly: Bool = false) -> (key: String, value: String)? {
            let lk = prefix + "ssl." + suffix
            if let v = raw[lk] { used.insert(lk); return (lk, v) }
            if listenerOnly { return nil }
            return raw["ssl." + suffix].map { ("ssl." + suffix, $0) }
        }
        /// Listener-prefixed ssl keys this listener does not implement.
        func unknownListenerKeys() -> [String] {
            raw.keys.filter { $0.hasPrefix(prefix + "ssl.") && !known.contains(String($0.dropFirst(prefix.count + 4))) }.sorted()
        }
    }

    /// The server side of an SSL/SASL_SSL listener, the client side brokerd uses to reach that listener on
    /// other brokers, and the principal rules.
    static func listener(_ name: String, protocol p: SecurityProtocol, raw: [String: String], used: inout Set<String>)
        throws -> (server: TLSConfig, client: TLSConfig, rules: SslPrincipalMapper) {
        typealias E = BrokerConfig.ConfigError
        var v = Values(raw: raw, listener: name)
        if let k = v.unknownListenerKeys().first { throw unsupported(k) }
        var c = TLSConfig()
        for (suffix, dflt) in defaultAlgorithms {
            if let (k, val) = v.get(suffix), !val.trimmed.isEmpty, val.trimmed != dflt {
                throw E("\(k)=\(val): only \(dflt) (OpenSSL's own key/trust handling) is supported")
            }
        }

        // Key store: the broker's certificate chain and private key.
        let keyPassword = v.get("key.password").map(\.value)
        let ksType = (v.get("keystore.type")?.value.trimmed.uppercased()).flatMap { $0.isEmpty ? nil : $0 } ?? "JKS"
        let ksLocation = v.get("keystore.location").flatMap { $0.value.trimmed.isEmpty ? nil : $0 }
        let ksPassword = v.get("keystore.password")
        let ksChain = v.get("keystore.certificate.chain"), ksKey = v.get("keystore.key")
        if ksLocation != nil || ksChain != nil || ksKey != nil {
            switch ksType {
            case "PEM":
                if let pw = ksPassword, !pw.value.isEmpty {
                    throw E("\(pw.key): a PEM key store has no store password, only ssl.key.password (the private key's)")
                }
                if let loc = ksLocation {
                    if ksChain != nil || ksKey != nil { throw E("listener \(name): set either ssl.keystore.location or ssl.keystore.certificate.chain/key, not both") }
                    c.certificateChainPath = loc.value.trimmed
                    c.privateKeyPath = loc.value.trimmed
                } else {
                    guard let chain = ksChain, let key = ksKey else {
                        throw E("listener \(name): ssl.keystore.certificate.chain and ssl.keystore.key go together")
                    }
                    c.certificateChainPEM = chain.value
                    c.privateKeyPEM = key.value
                }
                if let keyPassword, !keyPassword.isEmpty { c.privateKeyPassword = keyPassword }
            case "PKCS12":
                guard let loc = ksLocation, ksChain == nil, ksKey == nil else {
                    throw E("listener \(name): a PKCS12 key store is a file: set ssl.keystore.location (inline keys need ssl.keystore.type=PEM)")
                }
                c.keyStorePKCS12Path = loc.value.trimmed
                c.keyStorePKCS12Password = ksPassword?.value
                if let keyPassword, keyPassword != (ksPassword?.value ?? "") {
                    throw E("listener \(name): ssl.key.password differs from ssl.keystore.password; brokerd reads PKCS12 stores with one password")
                }
            case "JKS":
                throw E("listener \(name): JKS key stores are not supported (set ssl.keystore.type=PEM or PKCS12; convert with keytool -importkeystore -deststoretype PKCS12)")
            default:
                throw E("listener \(name): ssl.keystore.type=\(ksType) is not supported (PEM or PKCS12)")
            }
        }

        // Trust store: the CAs that sign client certificates (and other brokers' certificates).
        let tsType = (v.get("truststore.type")?.value.trimmed.uppercased()).flatMap { $0.isEmpty ? nil : $0 } ?? "JKS"
        let tsLocation = v.get("truststore.location").flatMap { $0.value.trimmed.isEmpty ? nil : $0 }
        let tsPassword = v.get("truststore.password"), tsCerts = v.get("truststore.certificates")
        if tsLocation != nil || tsCerts != nil {
            switch tsType {
            case "PEM":
                if let pw = tsPassword, !pw.value.isEmpty { throw E("\(pw.key): a PEM trust store has no password; remove it") }
                if tsLocation != nil && tsCerts != nil { throw E("listener \(name): set either ssl.truststore.location or ssl.truststore.certificates, not both") }
                c.trustPath = tsLocation?.value.trimmed
                if tsLocation == nil { c.trustPEM = tsCerts?.value }
            case "PKCS12":
                guard let loc = tsLocation, tsCerts == nil else { throw E("listener \(name): a PKCS12 trust store is a file: set ssl.truststore.location") }
                c.trustStorePKCS12Path = loc.value.trimmed
                c.trustStorePKCS12Password = tsPassword?.value
            case "JKS":
                throw E("listener \(name): JKS trust stores are not supported (set ssl.truststore.type=PEM or PKCS12; convert with keytool -importkeystore -deststoretype PKCS12)")
            default:
                throw E("listener \(name): ssl.truststore.type=\(tsType) is not supported (PEM or PKCS12)")
            }
        }

        // Kafka (KIP-684): on SASL_SSL only the listener-prefixed ssl.client.auth counts.
        if let (k, val) = v.get("client.auth", listenerOnly: p == .saslSsl) {
            switch val.trimmed.lowercased() {
            case "none", "": c.clientAuth = .none
            case "requested": c.clientAuth = .want
            case "required": c.clientAuth = .need
            default: throw E("\(k)=\(val): expected none, requested or required")
            }
        }
        if let (k, val) = v.get("enabled.protocols") ?? v.get("protocol") {
            do throws(TLSConfig.ProtocolListError) {
                c.protocols = try TLSConfig.protocols(javaList: val)
            } catch .unsupported(let proto) {
                throw E("\(k): TLS protocol \(proto) is not supported (TLSv1.2, TLSv1.3)")
            } catch {
                throw E("\(k): no TLS protocol enabled")
            }
        }
        if let (_, val) = v.get("cipher.suites") { c.cipherSuites = TLSConfig.cipherSuites(javaList: val) }
        var client = c
        client.clientAuth = .none
        switch v.get("endpoint.identification.algorithm").map({ ($0.key, $0.value.trimmed.lowercased()) }) ?? ("", "https") {
        case (_, "https"): client.checkHostname = true
        case (_, ""): client.checkHostname = false
        case let (k, val): throw E("\(k)=\(val): expected https or empty")
        }
        let rules: SslPrincipalMapper
        if let (k, val) = v.get("principal.mapping.rules") {
            do { rules = try SslPrincipalMapper(rules: val) } catch { throw E("\(k): \(error)") }
        } else {
            rules = SslPrincipalMapper.default
        }
        guard c.hasIdentity else {
            throw E("listener \(name) is \(p.rawValue) but has no key store: set ssl.keystore.type=PEM and ssl.keystore.location (key + certificate chain), or listener.name.\(name.lowercased()).ssl.*")
        }
        if c.clientAuth != .none && !c.hasTrust {
            throw E("listener \(name): ssl.client.auth needs a trust store (ssl.truststore.location) to verify client certificates with")
        }
        used.formUnion(v.used)
        return (c, client, rules)
    }
}
