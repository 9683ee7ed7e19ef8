import CoordClient
import Sasl

extension BrokerConfig {
    /// Fills `zookeeperSasl` from the environment, as Kafka's ZooKeeper client finds its login: the
    /// `-Djava.security.auth.login.config=`, `-Dzookeeper.sasl.clientconfig=` and `-Dzookeeper.sasl.client=`
    /// flags in KAFKA_OPTS (ZooKeeperSasl). zookeeper.set.acl=true without a SASL login is refused, as
    /// Kafka refuses it: the creator ACLs would name nobody.
    public mutating func resolveZooKeeperSasl(environment: [String: String], read: (String) throws -> [UInt8]) throws {
        let flags = environment["KAFKA_OPTS"] ?? ""
        do {
            zookeeperSasl = try ZooKeeperSasl.resolve(property: { JvmFlags.systemProperty($0, in: flags) }, origin: { "-D\($0) in KAFKA_OPTS" },
                                                      program: "brokerd", read: read)
        } catch {
            throw ConfigError(error.description)
        }
        if zookeeperSetACL && zookeeperSasl == nil {
            throw ConfigError("zookeeper.set.acl is true, but no SASL login to coordd is configured: give a JAAS file with a Client section "
                              + "(org.apache.zookeeper.server.auth.DigestLoginModule, username, password) as -D\(ZooKeeperSasl.jaasProperty)=FILE in KAFKA_OPTS")
        }
    }
}
