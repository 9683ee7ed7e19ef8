import CoordCore
import Sasl

/// ZooKeeper's SASL settings for client connections: the SASLAuthenticationProvider
/// (`authProvider.N=` / `authProvider.sasl=`), the JAAS file with its `Server` section
/// (`-Djava.security.auth.login.config=` in SERVER_JVMFLAGS / JVMFLAGS, or — coordd has no JVM —
/// the same name as a zoo.cfg key), super users, and enforced authentication (3.8). Every key is
/// also accepted with the `zookeeper.` prefix; Kerberos keys are refused.
public struct ZooSaslConfig: Sendable, Equatable {
    public static let saslProvider = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
    static let builtInProviders: Set<String> = [
        "org.apache.zookeeper.server.auth.DigestAuthenticationProvider",
        "org.apache.zookeeper.server.auth.IPAuthenticationProvider",
    ]
    public static let jaasProperty = "java.security.auth.login.config"

    public var providerEnabled = false
    /// The JAAS file named in zoo.cfg (the environment's comes in `resolve`).
    public var jaasFile: String?
    /// JAAS section of the server (zookeeper.sasl.serverconfig).
    public var section = "Server"
    public var superUsers: Set<String> = []
    public var requireClientSASLAuth = false
    public var enforceAuthEnabled = false
    public var enforceAuthSchemes: [String] = []
    /// DIGEST-MD5 users from the JAAS file (`user_<name>="<password>"`); nil: no JAAS Server section,
    /// SASL packets fail.
    public var users: [String: String]?

    public init() {}

    /// The `-Dzookeeper.<key>=` system properties coordd reads from SERVER_JVMFLAGS / JVMFLAGS: the
    /// authentication ones (JVMFLAGS is shared with zkCli.sh, so client settings there are left alone).
    static func readFromJvmFlags(_ property: String) -> Bool {
        guard property.hasPrefix("zookeeper.") else { return false }
        let name = property.dropFirst("zookeeper.".count)
        let exact: Set<Substring> = ["superUser", "sessionRequireClientSASLAuth", "allowSaslFailedClients", "letAnySaslUserDoX",
                                     "sasl.serverconfig", "skipACL", "DigestAuthenticationProvider.superDigest",
                                     "DigestAuthenticationProvider.enabled", "DigestAuthenticationProvider.digestAlg"]
        return exact.contains(name) || ["authProvider.", "superUser.", "enforce.auth.", "kerberos."].contains { name.hasPrefix($0) }
    }

    /// Takes `key` if it is a SASL or authentication key; throws for those coordd cannot honour.
    mutating func take(_ key: String, _ value: String) throws(ZooConfigError) -> Bool {
        let name = key.hasPrefix("zookeeper.") ? String(key.dropFirst("zookeeper.".count)) : key
        func bool() throws(ZooConfigError) -> Bool {
            guard let b = Bool(value.lowercased()) else { throw ZooConfigError("\(key): '\(value)' is not true or false") }
            return b
        }
        if key == Self.jaasProperty {
            guard !value.isEmpty else { throw ZooConfigError("\(key): empty path") }
            jaasFile = value
            return true
        }
        if name.hasPrefix("authProvider.") {
            if value == Self.saslProvider {
                providerEnabled = true
            } else if !Self.builtInProviders.contains(value) {
                throw ZooConfigError("\(key)=\(value): coordd has the digest, ip and sasl (\(Self.saslProvider)) providers only")
            }
            return true
        }
        if name == "superUser" || name.hasPrefix("superUser.") {
            guard !value.isEmpty else { throw ZooConfigError("\(key): empty user name") }
            superUsers.insert(value)
            return true
        }
        switch name {
        case "sasl.serverconfig":
            guard !value.isEmpty else { throw ZooConfigError("\(key): empty JAAS section name") }
            section = value
        case "sessionRequireClientSASLAuth":
            requireClientSASLAuth = try bool()
        case "enforce.auth.enabled":
            enforceAuthEnabled = try bool()
        case "enforce.auth.schemes":
            enforceAuthSchemes = value.split(separator: ",").map { String($0).trimmed(" \t") }.filter { !$0.isEmpty }
        case "allowSaslFailedClients":
            if try bool() { throw ZooConfigError("\(key)=true: coordd always closes a connection whose SASL authentication failed; remove it") }
        case "letAnySaslUserDoX":
            throw ZooConfigError("\(key): not supported by coordd (it would let every SASL user match a sasl ACL entry); remove it")
        default:
            if name.hasPrefix("kerberos.") || name.hasPrefix("sasl.") || name == "javax.security.auth.useSubjectCredsOnly" {
                throw ZooConfigError("\(key): coordd supports SASL DIGEST-MD5 only (no Kerberos/GSSAPI); remove it")
            }
            return false
        }
        return true
    }

    /// Checks the settings against each other and fills `policy`.
    func apply(to policy: inout AuthPolicy) throws(ZooConfigError) {
        policy.saslEnabled = providerEnabled
        policy.saslSuperUsers = superUsers
        var schemes = Set<String>()
        if enforceAuthEnabled {
            guard !enforceAuthSchemes.isEmpty else { throw ZooConfigError("enforce.auth.enabled=true needs enforce.auth.schemes (e.g. sasl)") }
            schemes.formUnion(enforceAuthSchemes)
        }
        if requireClientSASLAuth { schemes.insert("sasl") }
        for s in schemes.sorted() where !policy.hasProvider(s) {
            throw ZooConfigError(s == "sasl"
                ? "sessionRequireClientSASLAuth / enforce.auth.schemes=sasl need authProvider.1=\(Self.saslProvider)"
                : "enforce.auth.schemes: no authentication provider for scheme '\(s)'")
        }
        policy.enforcedSchemes = schemes
    }

    /// Reads the JAAS file: the zoo.cfg key, else `-Djava.security.auth.login.config=` in
    /// `$SERVER_JVMFLAGS $JVMFLAGS` (the last one wins, as zkServer.sh passes them to the JVM).
    /// Its server section must hold DigestLoginModule entries only.
    public mutating func resolve(environment: [String: String], read: (String) throws -> [UInt8]) throws(ZooConfigError) {
        let flags = [environment["SERVER_JVMFLAGS"], environment["JVMFLAGS"]].compactMap { $0 }.joined(separator: " ")
        let fromEnv = JvmFlags.systemProperty(Self.jaasProperty, in: flags)
        if let a = jaasFile, let b = fromEnv, a != b {
            throw ZooConfigError("\(Self.jaasProperty) is \(a) in zoo.cfg but \(b) in SERVER_JVMFLAGS/JVMFLAGS; give one")
        }
        guard let path = jaasFile ?? fromEnv else {
            if requireClientSASLAuth || enforceAuthSchemes.contains("sasl") {
                throw ZooConfigError("SASL authentication is required but no JAAS file is given (-D\(Self.jaasProperty)=FILE in SERVER_JVMFLAGS, or \(Self.jaasProperty)=FILE in zoo.cfg)")
            }
            return
        }
        jaasFile = path
        let text: String
        do {
            text = String(decoding: try read(path), as: UTF8.self)
        } catch {
            throw ZooConfigError("\(Self.jaasProperty)=\(path): cannot read the JAAS file: \(error)")
        }
        let file: JaasFile
        do {
            file = try JaasFile.parse(text)
        } catch {
            throw ZooConfigError("\(path): \(error.description)")
        }
        guard let modules = file[section] else {
            throw ZooConfigError("No JAAS configuration section named '\(section)' was found in '\(path)'")
        }
        var found: [String: String] = [:]
        for m in modules {
            if JaasFile.kerberosLoginModules.contains(m.className) {
                throw ZooConfigError("\(path), section \(section): \(m.className) is Kerberos (GSSAPI), which coordd does not support; use \(JaasFile.zooKeeperDigestLoginModule)")
            }
            guard m.className == JaasFile.zooKeeperDigestLoginModule else {
                throw ZooConfigError("\(path), section \(section): login module \(m.className) is not supported; use \(JaasFile.zooKeeperDigestLoginModule)")
            }
            for (k, _) in m.options where !(k.hasPrefix("user_") || k == "username" || k == "password" || k == "debug") {
                throw ZooConfigError("\(path), section \(section): option \(k) is not supported (user_<name>=\"<password>\" only)")
            }
            found.merge(m.digestUsers) { a, _ in a }
        }
        users = found
    }
}
