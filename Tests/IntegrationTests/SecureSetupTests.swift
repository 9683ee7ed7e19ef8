import Foundation
import Testing
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// deploy/secure.sh in a temp dir: the secured cluster it starts serves a client that uses only the
/// printed client config (kcat -F, kafkactl --command-config), refuses others, keeps secrets out of
/// the logs and off other users, and stops cleanly.
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
        let env = ["COORDKAFKA_BIN": bin, "ENSEMBLE_BASE": "\(zk)", "BROKER_PORT_BASE": "\(k)"]
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
        let bootstrap = try #require(printed("bootstrap"))
        guard let kafkactl = ProcessHarness.binary("kafkactl") else { throw HarnessError("kafkactl binary not found") }

        // kafkactl with the printed Kafka client config: an RF 3 topic; kcat with its config: acks=all in, all out.
        let created = try ProcessHarness.run(kafkactl, ["topics", "--bootstrap-server", bootstrap, "--create", "--topic", "secured",
                                                        "--partitions", "1", "--replication-factor", "3", "--command-config", clientProps], timeout: 60)
        #expect(created.status == 0, "\(created.stderr)")
        let produced = try kcat(["-F", kcatConf, "-P", "-t", "secured", "-X", "acks=all"], stdin: (1...50).map { "r\($0)" }.joined(separator: "\n") + "\n", timeout: 60)
        #expect(produced.status == 0, "\(produced.err)")
        let consumed = try ProcessHarness.run(kafkactl, ["console-consumer", "--bootstrap-server", bootstrap, "--topic", "secured", "--from-beginning",
                                                         "--max-messages", "50", "--timeout-ms", "30000", "--command-config", clientProps], timeout: 60)
        let lines = consumed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 50 && lines.first == "r1" && lines.last == "r50", "\(consumed.stdout.suffix(300))\n\(consumed.stderr)")
        let described = try ProcessHarness.run(kafkactl, ["topics", "--bootstrap-server", bootstrap, "--describe", "--topic", "secured",
                                                          "--command-config", clientProps], timeout: 60)
        let isr = described.stdout.components(separatedBy: "Isr: ").dropFirst().first?.prefix { $0 != "\n" && $0 != "\t" }
        #expect(isr?.split(separator: ",").count == 3, "\(described.stdout)")

        // Without the config: plaintext and a wrong password get nothing.
        let plain = try kcat(["-b", bootstrap, "-L", "-m", "5"], timeout: 20)
        #expect(plain.status != 0)
        let config = try String(contentsOfFile: kcatConf, encoding: .utf8)
        let wrongConf = dir + "/wrong.conf"
        try config.replacingOccurrences(of: "sasl.password=", with: "sasl.password=x").write(toFile: wrongConf, atomically: true, encoding: .utf8)
        let wrong = try kcat(["-F", wrongConf, "-L", "-m", "5"], timeout: 20)
        #expect(wrong.status != 0 && wrong.err.contains("uthentication failed"), "\(wrong.err)")

        // Secrets: never in the daemons' logs, files readable by their owner only.
        let passwords = try ["app", "broker", "admin"].map { try String(contentsOfFile: dir + "/secrets/\($0).password", encoding: .utf8) }
        #expect(passwords.allSatisfy { $0.count >= 20 })
        let logs = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".log") }
            .map { try String(contentsOfFile: dir + "/" + $0, encoding: .utf8) }.joined()
            + (try FileManager.default.contentsOfDirectory(atPath: dir + "/ensemble").filter { $0.hasSuffix(".log") }
                .map { try String(contentsOfFile: dir + "/ensemble/" + $0, encoding: .utf8) }.joined())
        #expect(logs.contains("authenticated") && !passwords.contains { logs.contains($0) })
        for f in ["client.properties", "kcat.conf", "server1.properties", "secrets/app.password", "ensemble/quorum.secret", "certs/ca.key"] {
            let mode = try (FileManager.default.attributesOfItem(atPath: dir + "/" + f)[.posixPermissions] as? Int) ?? 0o777
            #expect(mode & 0o077 == 0, "\(f) has mode \(String(mode, radix: 8))")
        }

        let down = try ProcessHarness.run("/bin/bash", [script, "stop", dir], timeout: 30, env: env)
        #expect(down.status == 0)
        #expect(ProcessHarness.waitUntil(timeout: 20) { (try? kcat(["-F", kcatConf, "-L", "-m", "2"], timeout: 10).status) != 0 })
    }
}
