import Foundation
import Testing

/// brokerd logging in to a SASL coordd with the JAAS Client section from KAFKA_OPTS, and
/// zookeeper.set.acl=true: the broker works (kcat), an anonymous client cannot change its znodes
/// or read /config/users.
@Suite(.serialized, .ownThreads) struct BrokerCoordSaslTests {
    static let jaas = """
        Server {
            org.apache.zookeeper.server.auth.DigestLoginModule required
            user_kafka="kafka-secret";
        };
        """

    /// A brokerd process with `KAFKA_OPTS` pointing at a JAAS file with a Client section.
    static func broker(dir: String, coordPort: Int, password: String?, setACL: Bool, chroot: String = "") throws -> (ManagedProcess, Int) {
        guard let bin = ProcessHarness.binary("brokerd") else { throw HarnessError("brokerd binary not found") }
        let port = try ProcessHarness.freePort()
        try """
            broker.id=1
            listeners=PLAINTEXT://127.0.0.1:\(port)
            log.dirs=\(dir)/logs
            zookeeper.connect=127.0.0.1:\(coordPort)\(chroot)
            zookeeper.session.timeout.ms=4000
            zookeeper.set.acl=\(setACL)
            num.partitions=1
            offsets.topic.replication.factor=1
            """.write(toFile: dir + "/server.properties", atomically: true, encoding: .utf8)
        var env: [String: String] = [:]
        if let password {
            try """
                KafkaServer {
                    org.apache.kafka.common.security.plain.PlainLoginModule required user_a="b";
                };
                Client {
                    org.apache.zookeeper.server.auth.DigestLoginModule required
                    username="kafka"
                    password="\(password)";
                };
                """.write(toFile: dir + "/kafka-jaas.conf", atomically: true, encoding: .utf8)
            env["KAFKA_OPTS"] = "-Xmx512m -Djava.security.auth.login.config=\(dir)/kafka-jaas.conf"
        }
        let p = try ManagedProcess(bin, [dir + "/server.properties"], stderrPath: dir + "/broker-\(UInt32.random(in: 0...UInt32.max)).log", env: env)
        return (p, port)
    }

    static func startCoordd(dir: String) throws -> CoordProcess {
        try jaas.write(toFile: dir + "/jaas.conf", atomically: true, encoding: .utf8)
        // The zoo.cfg form of the JAAS file (coordd's own key; SERVER_JVMFLAGS works too).
        return try CoordProcess(extraConfig: "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
                                + "java.security.auth.login.config=\(dir)/jaas.conf\n")
    }

    @Test(.timeLimit(.minutes(3))) func securedBrokerWorksAndItsZnodesAreProtected() throws {
        let dir = try ProcessHarness.makeTempDir("broker-zk-sasl")
        defer { ProcessHarness.removeDir(dir) }
        let c = try Self.startCoordd(dir: dir)
        defer { c.cleanup() }
        // Under a chroot, which the broker creates (with the same ACLs) through a session of its own.
        let (b, port) = try Self.broker(dir: dir, coordPort: c.port, password: "kafka-secret", setACL: true, chroot: "/kafka")
        defer { b.kill9() }
        #expect(b.waitForLine(containing: "brokerd: started", timeout: 40) != nil, "\(b.stderrText)")
        #expect(b.stderrText.contains("SASL DIGEST-MD5 as kafka"))
        let bootstrap = "127.0.0.1:\(port)"
        let produced = try kcat(["-b", bootstrap, "-P", "-t", "secured"], stdin: "one\ntwo\nthree\n")
        #expect(produced.status == 0, "\(produced.err)")
        let consumed = try kcat(["-b", bootstrap, "-C", "-t", "secured", "-o", "beginning", "-c", "3", "-e"])
        #expect(consumed.out.split(separator: "\n") == ["one", "two", "three"], "\(consumed.out)\n\(consumed.err)")
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", CoordSaslTests.compat + "kazoo_secured_broker.py", "127.0.0.1:\(c.port)/kafka", "kafka", "1", "secured"], timeout: 90)
        #expect(r.status == 0 && r.stdout.contains("OK"), "kazoo:\n\(r.stdout)\n\(r.stderr.suffix(3000))\n--- broker:\n\(b.stderrText.suffix(3000))")
        let anon = try RawZK(port: c.port)
        defer { anon.close() }
        guard case .acl(let acl, _)? = try anon.call(.getACL(path: "/kafka")).response else { Issue.record("no ACL for /kafka"); return }
        #expect(Set(acl.map { "\($0.id.scheme):\($0.id.id):\($0.perms)" }) == ["sasl:kafka:31", "world:anyone:1"])
    }

    @Test(.timeLimit(.minutes(2))) func wrongPasswordOrNoLoginStopsTheBroker() throws {
        let dir = try ProcessHarness.makeTempDir("broker-zk-sasl-bad")
        defer { ProcessHarness.removeDir(dir) }
        let c = try Self.startCoordd(dir: dir)
        defer { c.cleanup() }
        let (wrong, _) = try Self.broker(dir: dir, coordPort: c.port, password: "not-it", setACL: true)
        defer { wrong.kill9() }
        #expect(ProcessHarness.waitUntil(timeout: 40) { !wrong.isRunning }, "a broker with a wrong password must exit")
        #expect(wrong.stderrText.contains("coordd refused our SASL login"), "\(wrong.stderrText.suffix(2000))")
        #expect(c.proc?.stderrText.contains("failed to SASL authenticate") == true)
        // zookeeper.set.acl=true with no JAAS Client section: refused before anything starts.
        let (none, _) = try Self.broker(dir: dir, coordPort: c.port, password: nil, setACL: true)
        defer { none.kill9() }
        #expect(ProcessHarness.waitUntil(timeout: 20) { !none.isRunning })
        #expect(none.stderrText.contains("zookeeper.set.acl is true"), "\(none.stderrText.suffix(2000))")
    }
}
