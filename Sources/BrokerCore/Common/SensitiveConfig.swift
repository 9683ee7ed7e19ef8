/// Which config keys hold secrets. Kafka describes PASSWORD-type configs with a null value and
/// is_sensitive=true; these are its password-type broker configs (also under a
/// `listener.name.<listener>.` or `listener.name.<listener>.<mechanism>.` prefix), plus, to be
/// safe, any key whose name says password or secret.
public enum SensitiveConfig {
    static let exactSuffixes = [
        "sasl.jaas.config",
        "ssl.key.password", "ssl.keystore.password", "ssl.truststore.password",
        "ssl.keystore.key", "ssl.keystore.certificate.chain", "ssl.truststore.certificates",
        "delegation.token.master.key", "delegation.token.secret.key",
        "password.encoder.secret", "password.encoder.old.secret",
    ]

    public static func isSensitive(_ key: String) -> Bool {
        let k = key.lowercased()
        if k.hasSuffix(".password") || k.hasSuffix(".secret") { return true }
        if exactSuffixes.contains(where: { k == $0 || k.hasSuffix("." + $0) }) { return true }
        return k.contains("password") || k.contains("secret")
    }

    /// The value to show for `key`: nil when it is sensitive.
    public static func displayValue(_ key: String, _ value: String?) -> String? {
        isSensitive(key) ? nil : value
    }
}
