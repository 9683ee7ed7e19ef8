import Foundation
import Observability
import Testing
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// deploy/secure.sh in a temp dir: the secured cluster it starts serves a client that uses only the
/// printed client config (kcat -F, kafkactl --command-config), refuses others, enforces the ACLs it
/// created (app on its topic and group only), keeps anonymous coordd clients off the brokers' znodes,
/// serves the console from its console.properties, keeps secrets out of the logs and off other users,
/// and stops cleanly.
@Suite(.serialized, .ownThreads) struct SecureSetupTests {
    /// Port bases below freePort's range (20000+) whose every port secure.sh uses is free now.
    static func portBases() -> (Int, Int) {
        for _ in 0..<50 {
            let zk = Int.random(in: 100..<190) * 100
            let k = zk + 500
            var ports: [Int] = []
            for i in 1...3 {
                for off in [0, 100, 200, 300, 400] { ports.append(zk + off + i) }
                for off in [0, 100, 200] { ports.append(k + off + i) }
            }
            let free = ports.allSatisfy { p in
                guard let fd = try? Socket.listen(host: "127.0.0.1", port: p) else { return false }
                close(fd)
                return true
            }
            if free { return (zk, k) }
        }
        return (15000, 15500)
    }

    @Test(.timeLimit(.minutes(4))) func secureShellScriptStartsAClusterTheClientConfigReaches() throws {
        guard let bin = ProcessHarness.binary("brokerd").map({ ($0 as NSString).deletingLastPathComponent }) else {
            throw HarnessError("brokerd binary not found: run swift build")
        }
        let dir = try ProcessHarness.makeTempDir("secure")
        let script = ProcessHarness.packageRoot + "/deploy/secure.sh"
        let (zk, k) = Self.portBases()
        let consolePort = try ProcessHarness.freePort()
        let env = ["COORDKAFKA_BIN": bin, "ENSEMBLE_BASE": "\(zk)", "BROKER_PORT_BASE": "\(k)", "CONSOLE_PORT": "\(consolePort)"]
        defer {
            _ = try? ProcessHarness.run("/bin/bash", [script, "stop", dir], timeout: 30, env: env)
            ProcessHarness.removeDir(dir)
        }
        let up = try ProcessHarness.run("/bin/bash", [script, "start", dir], timeout: 180, env: env)
        #expect(up.status == 0, "\(up.stdout)\n\(up.stderr)")
        func printed(_ key: String) -> String? {
            up.stdout.split(separator: "\n").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
        }
        let kcatConf = try #require(printed("kcat.conf")), clientProps = try #require(printed("client.properties"))
        let adminProps = try #require(printed("admin.properties")), consoleProps = try #require(printed("console.properties"))
        let bootstrap = try #require(printed("bootstrap"))
        guard let kafkactl = ProcessHarness.binary("kafkactl") else { throw HarnessError("kafkactl binary not found") }

        // The admin (a super user) creates the app's topic `board` and another one, `other`.
        for topic in ["board", "other"] {
            let created = try ProcessHarness.run(kafkactl, ["topics", "--bootstrap-server", bootstrap, "--create", "--topic", topic,
                                                            "--partitions", "1", "--replication-factor", "3", "--command-config", adminProps], timeout: 60)
            #expect(created.status == 0, "\(created.stderr)")
        }
        // The ACLs secure.sh created, as kafka-acls.sh lists them.
        let listed = try ProcessHarness.run(kafkactl, ["acls", "--bootstrap-server", bootstrap, "--list", "--topic", "board", "--group", "demo",
                                                       "--command-config", adminProps], timeout: 60)
        for entry in ["operation=READ", "operation=WRITE", "operation=DESCRIBE"] {
            #expect(listed.stdout.contains("(principal=User:app, host=*, \(entry), permissionType=ALLOW)"), "\(listed.stdout)\n\(listed.stderr)")
        }
        #expect(listed.stdout.contains("name=demo, patternType=LITERAL)`:\n\t(principal=User:app, host=*, operation=READ"), "\(listed.stdout)")
        // The app user creating a topic is refused (no CREATE): the ACLs are enforced, not just stored.
        let notCreated = try ProcessHarness.run(kafkactl, ["topics", "--bootstrap-server", bootstrap, "--create", "--topic", "app-made",
                                                           "--partitions", "1", "--replication-factor", "3", "--command-config", clientProps], timeout: 60)
        #expect(notCreated.status != 0 && notCreated.stderr.lowercased().contains("authoriz"), "\(notCreated.stdout)\n\(notCreated.stderr)")

        // kcat with the app's config: acks=all in, all out with its group `demo` (kafkactl).
        let produced = try kcat(["-F", kcatConf, "-P", "-t", "board", "-X", "acks=all"], stdin: (1...50).map { "r\($0)" }.joined(separator: "\n") + "\n", timeout: 60)
        #expect(produced.status == 0, "\(produced.err)")
        let consumed = try ProcessHarness.run(kafkactl, ["console-consumer", "--bootstrap-server", bootstrap, "--topic", "board", "--group", "demo",
                                                         "--from-beginning", "--max-messages", "50", "--timeout-ms", "30000", "--command-config", clientProps], timeout: 60)
        let lines = consumed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 50 && lines.first == "r1" && lines.last == "r50", "\(consumed.stdout.suffix(300))\n\(consumed.stderr)")
        // The same user on a topic it has no ACL for: produce and metadata are refused.
        let refused = try kcat(["-F", kcatConf, "-P", "-t", "other", "-X", "acks=all"], stdin: "x\n", timeout: 60)
        #expect(refused.status != 0 && refused.err.contains("Topic authorization failed"), "\(refused.err)")
        let hidden = try kcat(["-F", kcatConf, "-L", "-t", "other", "-J"], timeout: 30)
        #expect(hidden.out.contains("Topic authorization failed"), "\(hidden.out)")
        let described = try ProcessHarness.run(kafkactl, ["topics", "--bootstrap-server", bootstrap, "--describe", "--topic", "board",
                                                          "--command-config", clientProps], timeout: 60)
        let isr = described.stdout.components(separatedBy: "Isr: ").dropFirst().first?.prefix { $0 != "\n" && $0 != "\t" }
        #expect(isr?.split(separator: ",").count == 3, "\(described.stdout)")

        // coordd: the brokers' znodes carry Kafka's secure ACLs (sasl:kafka all, world read at most); an
        // anonymous client on the plaintext port can neither change them nor read the SCRAM credentials.
        let zkPlain = "127.0.0.1:\(zk + 1)"
        let check = try ProcessHarness.run("/usr/bin/env", ["python3", "-c", """
            import sys, warnings
            warnings.simplefilter("ignore")
            from kazoo.client import KazooClient
            from kazoo.exceptions import NoAuthError
            zk = KazooClient(hosts=sys.argv[1], timeout=15)
            zk.start(timeout=30)
            out = []
            for p in ["/kafka", "/kafka/brokers/topics/board", "/kafka/brokers/ids/1", "/kafka/controller", "/kafka/config/users/app", "/kafka/kafka-acl/Topic/board"]:
                try:
                    acl, _ = zk.get_acls(p)
                    out.append(p + " " + ",".join(sorted("%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acl)))
                except NoAuthError:  # getACL needs READ or ADMIN, as in ZooKeeper
                    out.append(p + " noauth")
            for what, f in [("set", lambda: zk.set("/kafka/brokers/topics/board", b"x")), ("get-users", lambda: zk.get("/kafka/config/users/app")),
                            ("delete", lambda: zk.delete("/kafka/kafka-acl/Topic/board"))]:
                try:
                    f(); out.append(what + " allowed")
                except NoAuthError:
                    out.append(what + " refused")
            zk.stop()
            print("\\n".join(out))
            """, zkPlain], timeout: 60)
        #expect(check.status == 0, "\(check.stderr)")
        let acls = check.stdout
        for p in ["/kafka", "/kafka/brokers/topics/board", "/kafka/brokers/ids/1", "/kafka/controller", "/kafka/kafka-acl/Topic/board"] {
            // 31 = cdrwa for the brokers' coordd user, 1 = read for everyone else.
            #expect(acls.contains("\(p) sasl:kafka:31,world:anyone:1\n"), "\(acls)")
        }
        #expect(acls.contains("/kafka/config/users/app noauth\n"), "\(acls)")
        #expect(acls.contains("set refused") && acls.contains("get-users refused") && acls.contains("delete refused"), "\(acls)")

        // The console from the printed console.properties: SASL_SSL to the brokers as user console, TLS and
        // SASL to coordd; the overview names the 3 brokers and the 3 coordd servers (four-letter words over TLS).
        guard let consoleBin = ProcessHarness.binary("console") else { throw HarnessError("console binary not found") }
        let console = try ManagedProcess(consoleBin, [consoleProps], stderrPath: dir + "/console.log")
        defer { _ = console.stop() }
        let started = console.waitForLine(containing: "console: started", timeout: 30)
        #expect(started?.contains("SASL SCRAM-SHA-512 as console") == true && started?.contains("coordd: SASL DIGEST-MD5 as console") == true,
                "\(console.stderrText)")
        var overview: JSONValue?
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.5) {
            overview = try? JSONValue.parse(HTTPClient.get(host: "127.0.0.1", port: consolePort, "/api/overview").text)
            return overview?["brokers"]?.array?.count == 3
        }, "\(overview.map { $0.encoded() } ?? "no answer")\n\(console.stderrText)")
        let modes = overview?["coordServers"]?.array?.compactMap { $0["mode"]?.string } ?? []
        #expect(modes.count == 3 && modes.contains("leader"), "\(overview.map { $0.encoded() } ?? "")")
        let ids = try JSONValue.parse(HTTPClient.get(host: "127.0.0.1", port: consolePort, "/api/znodes?path=/brokers/ids").text)
        #expect(ids["children"]?.array?.compactMap(\.string) == ["1", "2", "3"], "\(ids.encoded())")
        #expect(ids["acl"]?.array?.contains { $0["scheme"]?.string == "sasl" && $0["id"]?.string == "kafka" } == true, "\(ids.encoded())")
        let topics = try HTTPClient.get(host: "127.0.0.1", port: consolePort, "/api/topics").text
        #expect(topics.contains("\"board\"") && topics.contains("\"other\""), "\(topics)")
        // No page shows a password: the console's own ones are in its config, the others in coordd.
        let secrets = try ["console", "coordd-console", "app", "admin"].map { try String(contentsOfFile: dir + "/secrets/\($0).password", encoding: .utf8) }
        for path in ["/api/info", "/api/overview", "/api/znodes?path=/config/users", "/api/znodes?path=/brokers/ids/1"] {
            let page = try HTTPClient.get(host: "127.0.0.1", port: consolePort, path).text
            #expect(!secrets.contains { page.contains($0) }, "\(path) shows a password")
        }
        _ = console.stop()

        // Without the config: plaintext and a wrong password get nothing.
        let plain = try kcat(["-b", bootstrap, "-L", "-m", "5"], timeout: 20)
        #expect(plain.status != 0)
        let config = try String(contentsOfFile: kcatConf, encoding: .utf8)
        let wrongConf = dir + "/wrong.conf"
        try config.replacingOccurrences(of: "sasl.password=", with: "sasl.password=x").write(toFile: wrongConf, atomically: true, encoding: .utf8)
        let wrong = try kcat(["-F", wrongConf, "-L", "-m", "5"], timeout: 20)
        #expect(wrong.status != 0 && wrong.err.contains("uthentication failed"), "\(wrong.err)")

        // Secrets: never in the daemons' logs, files readable by their owner only.
        let passwords = try ["app", "broker", "admin", "console", "coordd-kafka", "coordd-console"].map { try String(contentsOfFile: dir + "/secrets/\($0).password", encoding: .utf8) }
        #expect(passwords.allSatisfy { $0.count >= 20 })
        let logs = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".log") }
            .map { try String(contentsOfFile: dir + "/" + $0, encoding: .utf8) }.joined()
            + (try FileManager.default.contentsOfDirectory(atPath: dir + "/ensemble").filter { $0.hasSuffix(".log") }
                .map { try String(contentsOfFile: dir + "/ensemble/" + $0, encoding: .utf8) }.joined())
        #expect(logs.contains("authenticated") && !passwords.contains { logs.contains($0) })
        for f in ["client.properties", "kcat.conf", "admin.properties", "console.properties", "secrets/broker-jaas.conf", "server1.properties", "secrets/app.password", "ensemble/quorum.secret", "certs/ca.key"] {
            let mode = try (FileManager.default.attributesOfItem(atPath: dir + "/" + f)[.posixPermissions] as? Int) ?? 0o777
            #expect(mode & 0o077 == 0, "\(f) has mode \(String(mode, radix: 8))")
        }

        let down = try ProcessHarness.run("/bin/bash", [script, "stop", dir], timeout: 30, env: env)
        #expect(down.status == 0)
        #expect(ProcessHarness.waitUntil(timeout: 20) { (try? kcat(["-F", kcatConf, "-L", "-m", "2"], timeout: 10).status) != 0 })
    }
}
