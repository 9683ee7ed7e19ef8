import CoordClient
import Sasl

/// brokerd's SASL login to coordd, found as Kafka's ZooKeeper client finds it: the JAAS section
/// `Client` (or the one `-Dzookeeper.sasl.clientconfig=` names) of the file given by
/// `-Djava.security.auth.login.config=` in KAFKA_OPTS; `-Dzookeeper.sasl.client=false` turns it off.
/// The section must be a DigestLoginModule with `username` and `password` (DIGEST-MD5).
public struct ZooKeeperSasl: Sendable, Equatable {
    public var login: CoordSaslLogin
    public var section: String
    public var jaasFile: String

    /// nil when no JAAS file is given, or it has no such section (a file for the Kafka listeners alone).
    public static func resolve(environment: [String: String], read: (String) throws -> [UInt8]) throws -> ZooKeeperSasl? {
        typealias E = BrokerConfig.ConfigError
        let flags = environment["KAFKA_OPTS"] ?? ""
        if let on = JvmFlags.systemProperty("zookeeper.sasl.client", in: flags), on.lowercased() == "false" { return nil }
        guard let path = JvmFlags.systemProperty(ZooSaslProperty.jaas, in: flags) else { return nil }
        let named = JvmFlags.systemProperty("zookeeper.sasl.clientconfig", in: flags)
        let section = named ?? "Client"
        let file: JaasFile
        do {
            file = try JaasFile.parse(String(decoding: try read(path), as: UTF8.self))
        } catch let e as JaasError {
            throw E("\(path) (-D\(ZooSaslProperty.jaas) in KAFKA_OPTS): \(e.description)")
        } catch {
            throw E("cannot read the JAAS file \(path) (-D\(ZooSaslProperty.jaas) in KAFKA_OPTS): \(error)")
        }
        guard let modules = file[section] else {
            // Kafka fails only when the section was named explicitly.
            if named != nil { throw E("JAAS file \(path) has no section \(section) (zookeeper.sasl.clientconfig)") }
            return nil
        }
        guard modules.count == 1, let m = modules.first else { throw E("JAAS section \(section) of \(path): one login module expected") }
        if JaasFile.kerberosLoginModules.contains(m.className) {
            throw E("JAAS section \(section) of \(path): \(m.className) is Kerberos (GSSAPI); brokerd logs in to coordd with \(JaasFile.zooKeeperDigestLoginModule) only")
        }
        guard m.className == JaasFile.zooKeeperDigestLoginModule else {
            throw E("JAAS section \(section) of \(path): login module \(m.className) is not supported; use \(JaasFile.zooKeeperDigestLoginModule)")
        }
        guard let user = m["username"], !user.isEmpty, let password = m["password"] else {
            throw E("JAAS section \(section) of \(path): username and password are required")
        }
        return ZooKeeperSasl(login: CoordSaslLogin(user: user, password: password), section: section, jaasFile: path)
    }
}

enum ZooSaslProperty {
    static let jaas = "java.security.auth.login.config"
}

extension BrokerConfig {
    /// Fills `zookeeperSasl` from the environment. zookeeper.set.acl=true without a SASL login is
    /// refused, as Kafka refuses it: the creator ACLs would name nobody.
    public mutating func resolveZooKeeperSasl(environment: [String: String], read: (String) throws -> [UInt8]) throws {
        zookeeperSasl = try ZooKeeperSasl.resolve(environment: environment, read: read)
        if zookeeperSetACL && zookeeperSasl == nil {
            throw ConfigError("zookeeper.set.acl is true, but no SASL login to coordd is configured: give a JAAS file with a Client section "
                              + "(org.apache.zookeeper.server.auth.DigestLoginModule, username, password) as -D\(ZooSaslProperty.jaas)=FILE in KAFKA_OPTS")
        }
    }
}
