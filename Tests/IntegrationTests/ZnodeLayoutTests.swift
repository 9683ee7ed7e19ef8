import Foundation
import Protocol
import Testing

/// The znode layout of a live coordd + brokerd cluster as a Kafka operator inspects it: Apache's
/// zkCli.sh one-shot commands and the Python kazoo client must find Kafka's classic paths and payloads.
@Suite(.serialized, .ownThreads) struct ZnodeLayoutTests {
    static let zkCli = "/usr/share/zookeeper/bin/zkCli.sh"
    static let topic = "layout"

    /// Runs one zkCli.sh command; returns its stdout (stderr carries the JVM's log lines).
    func cli(_ port: Int, _ args: [String]) throws -> String {
        let r = try ProcessHarness.run(Self.zkCli, ["-server", "127.0.0.1:\(port)"] + args, timeout: 60)
        #expect(!r.timedOut, "zkCli \(args) timed out")
        return r.stdout
    }

    /// The JSON object zkCli printed for `get` (the one line that parses as an object).
    func json(_ out: String) -> [String: Any]? {
        for line in out.split(separator: "\n") where line.hasPrefix("{") {
            if let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] { return o }
        }
        return nil
    }

    /// The children zkCli's `ls` printed ("[a, b]"), or nil when it printed no list.
    func children(_ out: String) -> [String]? {
        guard let line = out.split(separator: "\n").last(where: { $0.hasPrefix("[") && $0.hasSuffix("]") }) else { return nil }
        return line.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// `ephemeralOwner = 0x...` from `get -s` output, or nil when absent.
    func ephemeralOwner(_ out: String) -> UInt64? {
        guard let line = out.split(separator: "\n").first(where: { $0.hasPrefix("ephemeralOwner = 0x") }) else { return nil }
        return UInt64(line.dropFirst("ephemeralOwner = 0x".count), radix: 16)
    }

    @Test(.timeLimit(.minutes(5)), .enabled(if: FileManager.default.isExecutableFile(atPath: zkCli)))
    func operatorToolsSeeKafkasLayout() throws {
        let cluster = try BrokerCluster(brokers: 2)
        defer { cluster.cleanup() }
        let zkPort = cluster.coordPort

        // A topic with a config override, then a few records through kcat.
        let created = try RawKafka(port: cluster.port(1)).call(CreateTopicsRequest(topics: [
            .init(name: Self.topic, numPartitions: 2, replicationFactor: 2, assignments: [],
                  configs: [.init(name: "retention.ms", value: "3600000")]),
        ], timeoutMs: 20_000), version: 4)
        #expect(created.topics.map(\.errorCode) == [.none], "\(created)\n\(cluster.logs)")
        let produced = try kcat(["-b", cluster.bootstrap, "-P", "-t", Self.topic], stdin: "a\nb\nc\n")
        #expect(produced.status == 0, "\(produced.err)")

        // zkCli.sh ls -R: every classic path is there.
        let tree = Set(try cli(zkPort, ["ls", "-R", "/"]).split(separator: "\n").map { String($0) })
        let want = ["/brokers/ids/1", "/brokers/ids/2", "/controller", "/controller_epoch",
                    "/brokers/topics/\(Self.topic)", "/brokers/topics/\(Self.topic)/partitions/0/state",
                    "/brokers/topics/\(Self.topic)/partitions/1/state", "/config/topics/\(Self.topic)",
                    "/admin/delete_topics", "/brokers/seqid", "/isr_change_notification", "/latest_producer_id_block"]
        #expect(want.filter { !tree.contains($0) } == [], "ls -R / printed:\n\(tree.sorted().joined(separator: "\n"))")

        // get -s: payloads and which nodes are ephemeral.
        let reg = try cli(zkPort, ["get", "-s", "/brokers/ids/1"])
        #expect(json(reg)?["port"] as? Int == cluster.port(1), "\(reg)")
        #expect((json(reg)?["endpoints"] as? [String])?.contains("PLAINTEXT://127.0.0.1:\(cluster.port(1))") == true, "\(reg)")
        #expect((ephemeralOwner(reg) ?? 0) != 0, "broker registration must be ephemeral:\n\(reg)")

        let ctrl = try cli(zkPort, ["get", "-s", "/controller"])
        let controllerId = json(ctrl)?["brokerid"] as? Int
        #expect(controllerId == 1 || controllerId == 2, "\(ctrl)")
        #expect((ephemeralOwner(ctrl) ?? 0) != 0, "/controller must be ephemeral:\n\(ctrl)")

        let epochOut = try cli(zkPort, ["get", "-s", "/controller_epoch"])
        let epoch = epochOut.split(separator: "\n").compactMap { Int($0) }.first
        #expect((epoch ?? 0) >= 1, "\(epochOut)")
        #expect(ephemeralOwner(epochOut) == 0, "/controller_epoch must be persistent:\n\(epochOut)")

        let stateOut = try cli(zkPort, ["get", "/brokers/topics/\(Self.topic)/partitions/0/state"])
        let state = json(stateOut)
        let isr = state?["isr"] as? [Int] ?? []
        #expect(Set(isr) == [1, 2], "\(stateOut)")
        #expect(isr.contains(state?["leader"] as? Int ?? -1), "\(stateOut)")
        #expect(state?["leader_epoch"] as? Int != nil && state?["controller_epoch"] as? Int != nil, "\(stateOut)")

        let assignOut = try cli(zkPort, ["get", "/brokers/topics/\(Self.topic)"])
        let partitions = json(assignOut)?["partitions"] as? [String: [Int]]
        #expect(partitions?.keys.sorted() == ["0", "1"] && partitions?.values.allSatisfy { Set($0) == [1, 2] } == true, "\(assignOut)")

        let configOut = try cli(zkPort, ["get", "/config/topics/\(Self.topic)"])
        #expect((json(configOut)?["config"] as? [String: String])?["retention.ms"] == "3600000", "\(configOut)")

        // kazoo checks the same in depth, then deletes the topic through Kafka's admin API and
        // watches the request pass through /admin/delete_topics.
        let script = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/znode_layout.py"
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", script, String(zkPort), cluster.bootstrap, Self.topic, "2", "2",
                                                        "retention.ms=3600000", "1=\(cluster.port(1))", "2=\(cluster.port(2))"], timeout: 120)
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("OK"), "kazoo:\n\(r.stdout)\n\(r.stderr.suffix(2000))\n\(cluster.logs)")

        // After the deletion, zkCli sees the topic gone and no pending request.
        let topics = try cli(zkPort, ["ls", "/brokers/topics"])
        #expect(children(topics).map { !$0.contains(Self.topic) } == true, "\(topics)")
        let pending = try cli(zkPort, ["ls", "/admin/delete_topics"])
        #expect(children(pending) == [], "\(pending)")
    }
}
