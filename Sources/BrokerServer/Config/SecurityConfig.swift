import BrokerCore
import Sasl
import Transport

/// Kafka's security protocols (the ids are the wire values of UpdateMetadata's securityProtocol).
public enum SecurityProtocol: String, Sendable, CaseIterable {
    case plaintext = "PLAINTEXT", ssl = "SSL", saslPlaintext = "SASL_PLAINTEXT", saslSsl = "SASL_SSL"

    public var id: Int16 {
        switch self {
        case .plaintext: return 0
        case .ssl: return 1
        case .saslPlaintext: return 2
        case .saslSsl: return 3
        }
    }

    public var isSasl: Bool { self == .saslPlaintext || self == .saslSsl }
    public var isTLS: Bool { self == .ssl || self == .saslSsl }
}

/// How one listener authenticates its clients.
public struct ListenerSecurity: Sendable {
    public var name: String
    public var securityProtocol: SecurityProtocol
    /// SASL listeners: mechanisms in the configured order.
    public var saslMechanisms: [SaslMechanism] = []
    /// PLAIN: `user_<name>` entries of the listener's PlainLoginModule.
    public var plainUsers: [String: String] = [:]
    /// SSL/SASL_SSL listeners: the server side of TLS (ssl.*, listener.name.<l>.ssl.*).
    public var tls: TLSConfig?
    /// SSL listeners: how a client certificate's subject becomes the principal's name.
    public var principalMapper = SslPrincipalMapper.default
}

/// The broker's own credentials when the inter-broker listener is SASL.
public struct InterBrokerSasl: Sendable {
    public var mechanism: SaslMechanism
    public var username: String
    public var password: String
}

/// brokerd's security settings, parsed strictly: a setting it does not implement stops startup.
public struct SecurityConfig: Sendable {
    public var protocolMap: [String: SecurityProtocol] = [:]
    public var listeners: [String: ListenerSecurity] = [:]
    public var interBrokerListenerName = "PLAINTEXT"
    public var interBrokerSasl: InterBrokerSasl?
    /// The broker's own TLS client settings when the inter-broker listener is SSL/SASL_SSL.
    public var interBrokerTLS: TLSConfig?
    public var saslMaxReceiveSize = saslDefaultMaxReceiveSize
    /// `authorizer.class.name` set: ACLs are enforced (nil: everything allowed, ACL APIs disabled).
    public var authorizer: AuthorizerConfig?

    /// Keys this parser consumes: they are not "unknown".
    static let handledKeys: Set<String> = Set([
        "listener.security.protocol.map", "inter.broker.listener.name", "security.inter.broker.protocol",
        "sasl.enabled.mechanisms", "sasl.mechanism.inter.broker.protocol", "sasl.jaas.config", "sasl.server.max.receive.size",
    ]).union(AuthorizerConfig.keys)

    /// Security keys brokerd does not implement (yet): refusing beats running open.
    static let refusedKeys: [String: String] = [
        "principal.builder.class": "custom principal builders are not supported",
        "security.providers": "custom security providers are not supported",
        "connections.max.reauth.ms": "SASL re-authentication is not supported",
    ]

    static func isSecurityKey(_ k: String) -> Bool {
        k.hasPrefix("ssl.") || k.hasPrefix("sasl.") || k.hasPrefix("listener.name.") || k.hasPrefix("authorizer.")
            || k.hasPrefix("zookeeper.ssl.") || k.hasPrefix("delegation.token.") || refusedKeys[k] != nil
            || handledKeys.contains(k)
    }

    static let defaultMap: [String: SecurityProtocol] = Dictionary(uniqueKeysWithValues: SecurityProtocol.allCases.map { ($0.rawValue, $0) })

    /// Builds the security config from every key given; `listenerNames` are those of `listeners`.
    static func parse(_ raw: [String: String], listenerNames: [String], advertisedNames: [String]) throws -> SecurityConfig {
        typealias E = BrokerConfig.ConfigError
        var s = SecurityConfig()
        for k in raw.keys.sorted() {
            if let why = refusedKeys[k] {
                if k == "connections.max.reauth.ms", raw[k]?.trimmed == "0" { continue }
                throw E("\(k): \(why)")
            }
            if (k.hasPrefix("authorizer.") && !handledKeys.contains(k)) || k.hasPrefix("delegation.token.") { throw E("\(k) is not supported") }
            if k.hasPrefix("sasl.") && !handledKeys.contains(k) { throw E("\(k) is not supported (brokerd implements PLAIN and SCRAM only)") }
        }
        // zookeeper.ssl.* (TLS to coordd) is ZooKeeperClientTLS's business (CoordClient); ssl.* is the listeners'.
        try ListenerTLSKeys.checkGlobalKeys(raw)
        // listener.security.protocol.map replaces the default map, as in Kafka.
        if let m = raw["listener.security.protocol.map"] {
            for entry in m.split(separator: ",") {
                let kv = entry.split(separator: ":", maxSplits: 1).map { String($0).trimmed }
                guard kv.count == 2, !kv[0].isEmpty else { throw E("listener.security.protocol.map: '\(entry)' is not NAME:PROTOCOL") }
                guard let p = SecurityProtocol(rawValue: kv[1].uppercased()) else {
                    throw E("listener.security.protocol.map: unknown security protocol '\(kv[1])' (PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL)")
                }
                if s.protocolMap[kv[0]] != nil { throw E("listener.security.protocol.map names \(kv[0]) twice") }
                s.protocolMap[kv[0]] = p
            }
        } else {
            s.protocolMap = defaultMap
        }
        for name in listenerNames + advertisedNames {
            guard s.protocolMap[name] != nil else {
                throw E("listener \(name) is not mapped to a security protocol (add it to listener.security.protocol.map)")
            }
        }
        if Set(listenerNames).count != listenerNames.count { throw E("listeners names a listener twice") }
        for a in advertisedNames where !listenerNames.contains(a) {
            throw E("advertised.listeners names \(a), which is not in listeners")
        }

        // Inter-broker listener: by name, or the listener named after security.inter.broker.protocol.
        switch (raw["inter.broker.listener.name"]?.trimmed, raw["security.inter.broker.protocol"]?.trimmed) {
        case (.some, .some): throw E("only one of inter.broker.listener.name and security.inter.broker.protocol may be set")
        case (.some(let n), nil): s.interBrokerListenerName = n
        case (nil, .some(let p)):
            guard let sp = SecurityProtocol(rawValue: p.uppercased()) else { throw E("security.inter.broker.protocol: unknown protocol '\(p)'") }
            s.interBrokerListenerName = sp.rawValue
        case (nil, nil): s.interBrokerListenerName = listenerNames.count == 1 && !listenerNames.contains("PLAINTEXT") ? "" : "PLAINTEXT"
        }
        if s.interBrokerListenerName.isEmpty {
            throw E("set inter.broker.listener.name (or security.inter.broker.protocol): there is no PLAINTEXT listener for brokers to use")
        }
        let effectiveAdvertised = advertisedNames.isEmpty ? listenerNames : advertisedNames
        guard effectiveAdvertised.contains(s.interBrokerListenerName) else {
            throw E("inter-broker listener \(s.interBrokerListenerName) must be among the (advertised) listeners \(effectiveAdvertised)")
        }

        s.authorizer = try AuthorizerConfig.parse(raw)
        if let v = raw["sasl.server.max.receive.size"] {
            guard let n = Int(v.trimmed), n >= 64, n <= 1 << 26 else { throw E("sasl.server.max.receive.size=\(v) must be 64…67108864") }
            s.saslMaxReceiveSize = n
        }
        let globalMechs = try raw["sasl.enabled.mechanisms"].map { try mechanisms($0, key: "sasl.enabled.mechanisms") }
        var usedListenerKeys: Set<String> = []
        var clientTLS: [String: TLSConfig] = [:]
        for name in listenerNames {
            let p = s.protocolMap[name] ?? .plaintext
            var l = ListenerSecurity(name: name, securityProtocol: p)
            let prefix = "listener.name.\(name.lowercased())."
            if p.isTLS {
                let tls = try ListenerTLSKeys.listener(name, protocol: p, raw: raw, used: &usedListenerKeys)
                l.tls = tls.server
                l.principalMapper = tls.rules
                clientTLS[name] = tls.client
            }
            if p.isSasl {
                let key = prefix + "sasl.enabled.mechanisms"
                if raw[key] != nil { usedListenerKeys.insert(key) }
                guard let mechs = try raw[key].map({ try mechanisms($0, key: key) }) ?? globalMechs else {
                    throw E("listener \(name) is \(p.rawValue) but sasl.enabled.mechanisms is not set (Kafka's default GSSAPI is not supported; use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")
                }
                l.saslMechanisms = mechs
                for m in mechs {
                    let jkey = prefix + m.rawValue.lowercased() + ".sasl.jaas.config"
                    let text = raw[jkey] ?? raw["sasl.jaas.config"]
                    if raw[jkey] != nil { usedListenerKeys.insert(jkey) }
                    let module: JaasLoginModule?
                    do { module = try text.map { try JaasConfig.parse($0) } } catch { throw E("\(raw[jkey] != nil ? jkey : "sasl.jaas.config"): \(error)") }
                    let wanted = m == .plain ? JaasLoginModule.plainLoginModule : JaasLoginModule.scramLoginModule
                    if let module, module.className != wanted {
                        throw E("\(jkey): \(m.rawValue) needs \(wanted), got \(module.className)")
                    }
                    if m == .plain {
                        guard let module else { throw E("listener \(name) enables PLAIN but \(jkey) (the users) is not set") }
                        l.plainUsers = module.plainUsers
                        if l.plainUsers.isEmpty { throw E("\(jkey): PlainLoginModule lists no user_<name>=\"<password>\" entries") }
                    }
                    if let module, let unknown = module.options.map(\.key).first(where: { !["username", "password"].contains($0) && !(m == .plain && $0.hasPrefix("user_")) }) {
                        throw E("\(jkey): option '\(unknown)' is not supported")
                    }
                    if name == s.interBrokerListenerName, let module, let u = module["username"], let pw = module["password"],
                       m.rawValue == (raw["sasl.mechanism.inter.broker.protocol"]?.trimmed.uppercased() ?? "GSSAPI") {
                        s.interBrokerSasl = InterBrokerSasl(mechanism: m, username: u, password: pw)
                    }
                }
            }
            s.listeners[name] = l
        }
        for k in raw.keys where k.hasPrefix("listener.name.") && !usedListenerKeys.contains(k) {
            throw E("\(k) is not supported (or names no SASL/SSL listener/enabled mechanism)")
        }
        s.interBrokerTLS = clientTLS[s.interBrokerListenerName]
        try ListenerTLSKeys.checkClientAuthApplies(raw, protocols: s.listeners.values.map(\.securityProtocol))
        if clientTLS.isEmpty, let k = raw.keys.sorted().first(where: { $0.hasPrefix("ssl.") }) {
            throw E("\(k) given but no listener is SSL or SASL_SSL (see listener.security.protocol.map)")
        }
        if let ib = s.listeners[s.interBrokerListenerName], ib.securityProtocol.isSasl {
            let want = raw["sasl.mechanism.inter.broker.protocol"]?.trimmed ?? "GSSAPI"
            guard let m = SaslMechanism(name: want), ib.saslMechanisms.contains(m) else {
                throw E("sasl.mechanism.inter.broker.protocol=\(want) must be one of the inter-broker listener's enabled mechanisms \(ib.saslMechanisms.map(\.rawValue))")
            }
            guard s.interBrokerSasl != nil else {
                throw E("the inter-broker listener \(ib.name) uses SASL \(m.rawValue): its JAAS config needs username=\"…\" password=\"…\" for the broker itself")
            }
        }
        return s
    }

    static func mechanisms(_ v: String, key: String) throws -> [SaslMechanism] {
        var out: [SaslMechanism] = []
        for part in v.split(separator: ",") {
            let n = String(part).trimmed
            if n.isEmpty { continue }
            guard let m = SaslMechanism(name: n) else {
                throw BrokerConfig.ConfigError("\(key): SASL mechanism \(n) is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")
            }
            if !out.contains(m) { out.append(m) }
        }
        if out.isEmpty { throw BrokerConfig.ConfigError("\(key) enables no mechanism") }
        return out
    }
}
