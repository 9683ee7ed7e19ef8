import BrokerCore

/// Kafka's ZK-mode ACL authorizer settings. Only Kafka's own AclAuthorizer (and its legacy name)
/// is implemented; any other class refuses to start rather than run without the checks it expects.
public struct AuthorizerConfig: Sendable, Equatable {
    public var className: String
    public var superUsers: Set<String> = []
    public var allowEveryoneIfNoAclFound = false

    public static let aclAuthorizer = "kafka.security.authorizer.AclAuthorizer"
    public static let legacySimpleAclAuthorizer = "kafka.security.auth.SimpleAclAuthorizer"
    static let keys: Set<String> = ["authorizer.class.name", "super.users", "allow.everyone.if.no.acl.found"]

    /// nil when `authorizer.class.name` is unset or empty (Kafka's default: no authorizer).
    static func parse(_ raw: [String: String]) throws -> AuthorizerConfig? {
        typealias E = BrokerConfig.ConfigError
        let cls = raw["authorizer.class.name"]?.trimmed ?? ""
        guard !cls.isEmpty else {
            for k in ["super.users", "allow.everyone.if.no.acl.found"] where raw[k] != nil {
                throw E("\(k) is set but authorizer.class.name is not: without an authorizer nothing is checked "
                        + "(set authorizer.class.name=\(aclAuthorizer) or remove \(k))")
            }
            return nil
        }
        guard cls == aclAuthorizer || cls == legacySimpleAclAuthorizer else {
            throw E("authorizer.class.name=\(cls) is not supported: brokerd implements \(aclAuthorizer) (or the legacy \(legacySimpleAclAuthorizer)) only")
        }
        var c = AuthorizerConfig(className: cls)
        if let su = raw["super.users"] {
            c.superUsers = AclAuthorizer.parseSuperUsers(su)
            for u in c.superUsers where !u.contains(":") || u.hasPrefix(":") || u.hasSuffix(":") {
                throw E("super.users: '\(u)' is not a principal of the form User:<name>")
            }
        }
        if let v = raw["allow.everyone.if.no.acl.found"]?.trimmed.lowercased() {
            guard v == "true" || v == "false" else { throw E("allow.everyone.if.no.acl.found=\(v) must be true or false") }
            c.allowEveryoneIfNoAclFound = v == "true"
        }
        return c
    }
}
