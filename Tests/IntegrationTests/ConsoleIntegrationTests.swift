import Foundation
import KafkaClient
import Protocol
import Testing

/// The console against a live coordd + brokerd cluster: its pages in a real headless Chromium
/// (compat/console_browser.py, Selenium) and the cost of its API with 1,000 partitions and 100 groups.
@Suite(.serialized, .ownThreads) struct ConsoleIntegrationTests {
    static let topic = "console-orders"
    static let group = "console-group"
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// A python3 that can drive Chromium (Debian's python3-selenium lives in /usr/bin/python3).
    static let seleniumPython: String? = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else { return nil }
        for py in ["/usr/bin/python3", "/usr/local/bin/python3"] where FileManager.default.isExecutableFile(atPath: py) {
            if let r = try? ProcessHarness.run(py, ["-c", "import selenium"], timeout: 30), r.status == 0 { return py }
        }
        return nil
    }()

    /// Starts `console` on a free port with `extra` config lines; returns the process and its URL.
    static func startConsole(_ cluster: BrokerCluster, extra: String = "") throws -> (ManagedProcess, String) {
        guard let bin = ProcessHarness.binary("console") else { throw HarnessError("console binary not found: run swift build") }
        let port = try ProcessHarness.freePort()
        let cfg = "\(cluster.dir)/console.properties"
        try """
        listener=127.0.0.1:\(port)
        bootstrap.servers=\(cluster.bootstrap)
        zookeeper.connect=\(cluster.connectString)
        \(extra)
        """.write(toFile: cfg, atomically: true, encoding: .utf8)
        let p = try ManagedProcess(bin, [cfg], stderrPath: "\(cluster.dir)/console.log")
        guard p.waitForLine(containing: "console: started", timeout: 20) != nil else {
            p.kill9()
            throw HarnessError("console did not start: \(p.stderrText)")
        }
        return (p, "http://127.0.0.1:\(port)")
    }

    /// A topic with keyed records, and a group with committed offsets (no members, so lag is stable).
    static func seed(_ cluster: BrokerCluster) throws -> (needle: String, needlePartition: Int32) {
        let admin = try Admin(config: ClientConfig(bootstrapServers: cluster.bootstrap.split(separator: ",").map(String.init)))
        defer { admin.close() }
        try admin.createTopics([NewTopic(name: topic, partitions: 3, replicationFactor: 3)])
        #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.2) {
            (try? admin.describeTopics([topic]).first?.partitions.allSatisfy { $0.leader >= 0 && $0.isr.count == 3 }) == true
        }, "topic never got leaders and a full ISR\n\(cluster.logs)")
        var pc = ProducerConfig(bootstrapServers: cluster.bootstrap.split(separator: ",").map(String.init))
        pc.lingerMs = 0
        let producer = try Producer(config: pc)
        for i in 0..<30 {
            _ = try producer.sendAndWait(ProducerRecord(topic: topic, partition: Int32(i % 3), key: "key-\(i)", value: "{\"n\":\(i),\"note\":\"order \(i)\"}"))
        }
        _ = try producer.sendAndWait(ProducerRecord(topic: topic, partition: 1, key: "needle-7f3a", value: "the one to find"))
        producer.close()
        let consumer = try Consumer(config: ConsumerConfig(bootstrapServers: cluster.bootstrap.split(separator: ",").map(String.init), groupId: group))
        consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1), TopicPartition(topic, 2)])
        try consumer.commitSync([TopicPartition(topic, 0): 4, TopicPartition(topic, 1): 10, TopicPartition(topic, 2): 7])
        consumer.close()
        return ("needle-7f3a", 1)
    }

    /// `kafkactl consumer-groups --describe` rows: (topic, partition) -> (current, log end, lag).
    static func kafkactlLag(_ cluster: BrokerCluster) throws -> [[String: Any]] {
        guard let bin = ProcessHarness.binary("kafkactl") else { throw HarnessError("kafkactl binary not found") }
        let r = try ProcessHarness.run(bin, ["consumer-groups", "--bootstrap-server", cluster.bootstrap, "--describe", "--group", group], timeout: 60)
        #expect(r.status == 0, "kafkactl: \(r.stderr)")
        var rows: [[String: Any]] = []
        for line in r.stdout.split(separator: "\n") {
            let c: [String] = line.split(separator: " ").map(String.init)
            guard c.count >= 6, c[0] == group else { continue }
            let nums: [Any] = [c[3], c[4], c[5]].map { (s: String) -> Any in Int(s).map { $0 as Any } ?? NSNull() }
            rows.append(["topic": c[1], "partition": Int(c[2]) ?? -1, "current": nums[0], "logEnd": nums[1], "lag": nums[2]])
        }
        return rows
    }

    static func runBrowser(_ phase: String, _ url: String, _ expect: [String: Any], _ dir: String, shots: String) throws -> String {
        let path = "\(dir)/expect-\(phase).json"
        try JSONSerialization.data(withJSONObject: expect).write(to: URL(fileURLWithPath: path))
        let script = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/console_browser.py"
        let r = try ProcessHarness.run(seleniumPython!, [script, phase, url, path, shots], timeout: isCI ? 420 : 180)
        #expect(r.status == 0 && !r.timedOut, "browser phase \(phase) failed:\n\(r.stdout)\n\(r.stderr)")
        return r.stdout
    }

    @Test(.timeLimit(.minutes(12)), .enabled(if: seleniumPython != nil || isCI, "chromium, chromedriver or python3-selenium missing (CI=true requires them)"))
    func pagesInHeadlessChromium() throws {
        guard Self.seleniumPython != nil else {
            Issue.record("CI=true but /usr/bin/chromium, /usr/bin/chromedriver or python3-selenium is missing (deploy/install-deps.sh installs them)")
            return
        }
        // Brokers with admin servers, so the console can merge their timelines.
        var adminPorts: [Int32: Int] = [:]
        for id in Int32(1)...3 { adminPorts[id] = try ProcessHarness.freePort() }
        let admins = adminPorts
        let cluster = try BrokerCluster(brokers: 3, extraConfig: "offsets.topic.replication.factor=3\ngroup.initial.rebalance.delay.ms=0",
                                        brokerConfig: { id, _ in "admin.listener=127.0.0.1:\(admins[id]!)" })
        defer { cluster.cleanup() }
        let (needle, needlePartition) = try Self.seed(cluster)
        let endpoints = admins.keys.sorted().map { "127.0.0.1:\(admins[$0]!)" }.joined(separator: ",")
        let (console, url) = try Self.startConsole(cluster, extra: "admin.endpoints=\(endpoints)")
        defer { console.stop() }
        let shots = ProcessInfo.processInfo.environment["CONSOLE_SCREENSHOT_DIR"] ?? "\(cluster.dir)/shots"
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)

        let admin = try Admin(config: ClientConfig(bootstrapServers: cluster.bootstrap.split(separator: ",").map(String.init)))
        defer { admin.close() }
        let md = try admin.describeCluster()
        let t = try #require(try admin.describeTopics([Self.topic]).first)
        let lag = try Self.kafkactlLag(cluster)
        #expect(lag.count == 3, "kafkactl describe rows: \(lag)")
        let expect: [String: Any] = [
            "topic": Self.topic, "group": Self.group, "controller": md.controllerId, "zookeeper": cluster.connectString,
            "brokers": md.brokers.map { ["id": $0.nodeId, "host": $0.host, "port": $0.port] },
            "partitions": t.partitions.map { ["partition": $0.partition, "isr": $0.isr, "leader": $0.leader] },
            "sampleKey": "key-0", "searchPartition": needlePartition, "searchNeedle": needle, "lag": lag,
        ]
        let out = try Self.runBrowser("pages", url, expect, cluster.dir, shots: shots)
        #expect(out.contains("ok all"), "\(out)\n\(console.stderrText)")

        // Kill a broker: once its session expires the controller shrinks the ISRs and the pages say so.
        let victim: Int32 = md.controllerId == 3 ? 2 : 3
        let killedAt = Date().timeIntervalSince1970 * 1000
        cluster.kill9(victim)
        var after = expect
        after["killed"] = victim
        after["killedAtMs"] = Int64(killedAt)
        let out2 = try Self.runBrowser("after-kill", url, after, cluster.dir, shots: shots)
        #expect(out2.contains("ok all"), "\(out2)\n\(console.stderrText)\n\(cluster.logs)")
        print("console browser checks:\n" + out + out2)
        #expect(console.isRunning, "console died: \(console.stderrText)")
    }

    /// Every page's API call stays under 200 ms with 1,000 partitions and 100 groups.
    @Test(.timeLimit(.minutes(6)))
    func apiStaysCheapAtScale() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: "offsets.topic.num.partitions=10")
        defer { cluster.cleanup() }
        let boot = cluster.bootstrap.split(separator: ",").map(String.init)
        let admin = try Admin(config: ClientConfig(bootstrapServers: boot))
        defer { admin.close() }
        do {
            try admin.createTopics([NewTopic(name: "wide", partitions: 1000, replicationFactor: 1)])
        } catch KafkaError.broker(let code, _) where code == .topicAlreadyExists || code == .requestTimedOut {
            // On a loaded machine: the broker stopped waiting for the leaders (they come; checked
            // below), or the client retried a slow first attempt that had created the topic.
        }
        #expect(ProcessHarness.waitUntil(timeout: 60, interval: 0.5) {
            (try? admin.describeTopics(["wide"]).first?.partitions.filter { $0.leader >= 0 }.count) == 1000
        }, "1,000 partitions never got leaders\n\(cluster.logs)")
        for g in 0..<100 {
            let c = try Consumer(config: ConsumerConfig(bootstrapServers: boot, groupId: "g-\(g)"))
            c.assign([TopicPartition("wide", Int32(g))])
            try c.commitSync([TopicPartition("wide", Int32(g)): 0])
            c.close()
        }
        let (console, url) = try Self.startConsole(cluster)
        defer { console.stop() }
        let calls = ["/api/overview", "/api/topics", "/api/topics/wide", "/api/groups", "/api/groups/g-42",
                     "/api/topics/wide/messages?partition=999", "/api/znodes?path=/brokers/topics/wide"]
        var report: [String] = []
        for path in calls {
            _ = try fetch(url + path)  // warm connections and caches
            var times: [Double] = []
            for _ in 0..<5 {
                let (status, _, ms) = try fetch(url + path)
                times.append(ms)
                #expect(status == 200, "\(path) answered \(status)")
            }
            let median = times.sorted()[2]
            report.append(String(format: "%@ %.1f ms", path, median))
            // 200 ms alone; under CI=true every suite shares the two cores, and the bound only catches a collapse.
            let bound: Double = Self.isCI ? 1000 : 200
            #expect(median < bound, "\(path) took \(median) ms (median of 5)")
        }
        let (_, groups, _) = try fetch(url + "/api/groups")
        #expect(((try? JSONSerialization.jsonObject(with: groups)) as? [Any])?.count == 100)
        print("console API medians with 1,000 partitions and 100 groups: " + report.joined(separator: ", "))
    }

    /// With read.only=false a write needs the token; with it, create, produce, reset and delete work.
    @Test(.timeLimit(.minutes(4)))
    func writesNeedTheToken() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: "offsets.topic.num.partitions=4")
        defer { cluster.cleanup() }
        let token = "console-test-token-0123456789"
        let (console, url) = try Self.startConsole(cluster, extra: "read.only=false\nadmin.token=\(token)")
        defer { console.stop() }
        let create = #"{"name":"written","partitions":2,"replicationFactor":1}"#
        #expect(try send("POST", url + "/api/topics", create, token: nil).0 == 403)
        #expect(try send("POST", url + "/api/topics", create, token: token + "x").0 == 403)
        let (status, body) = try send("POST", url + "/api/topics", create, token: token)
        #expect(status == 201, "\(body)")
        var produced = (0, "")
        ProcessHarness.waitUntil(timeout: 20, interval: 0.3) {
            produced = (try? send("POST", url + "/api/topics/written/messages", #"{"partition":1,"key":"k","value":"hello"}"#, token: token)) ?? (0, "")
            return produced.0 == 201
        }
        #expect(produced.0 == 201 && produced.1.contains("\"offset\":0"), "\(produced)")
        let (_, page, _) = try fetch(url + "/api/topics/written/messages?partition=1")
        #expect(String(decoding: page, as: UTF8.self).contains("hello"))
        let reset = try send("POST", url + "/api/groups/nobody/reset", #"{"topic":"written","to":"latest"}"#, token: nil)
        #expect(reset.0 == 200 && reset.1.contains("\"executed\":false"), "a dry run needs no token: \(reset)")
        #expect(try send("DELETE", url + "/api/topics/written", "", token: nil).0 == 403)
        #expect(try send("DELETE", url + "/api/topics/written", "", token: token).0 == 200)
    }

    /// The Faults page's API: lists each daemon's controls and injects through the daemon, only with
    /// the token, only to configured endpoints, only plain names and queries.
    @Test(.timeLimit(.minutes(4)))
    func faultsGoThroughTheDaemonsControls() throws {
        let admin = try ProcessHarness.freePort()
        let cluster = try BrokerCluster(brokers: 1, extraConfig: "faults.enable=true\nadmin.listener=127.0.0.1:\(admin)")
        defer { cluster.cleanup() }
        let token = "console-test-token-0123456789"
        let ep = "127.0.0.1:\(admin)"
        let (console, url) = try Self.startConsole(cluster, extra: "read.only=false\nadmin.token=\(token)\nadmin.endpoints=\(ep)")
        defer { console.stop() }
        let (_, list, _) = try fetch(url + "/api/faults")
        let listed = String(decoding: list, as: UTF8.self)
        #expect(listed.contains("\"enabled\":true") && listed.contains("\"fetch\"") && listed.contains("broker.1"), "\(listed)")
        let pause = #"{"endpoint":"\#(ep)","fault":"fetch","query":"mode=pause"}"#
        #expect(try send("POST", url + "/api/faults", pause, token: nil).0 == 403)
        let (status, body) = try send("POST", url + "/api/faults", pause, token: token)
        #expect(status == 200 && body.contains("paused"), "\(status) \(body)")
        #expect(try AdminHTTP.get(admin, "/faults").text.contains("replica fetches paused"))
        #expect(try send("POST", url + "/api/faults", #"{"endpoint":"127.0.0.1:1","fault":"crash"}"#, token: token).0 == 400)
        #expect(try send("POST", url + "/api/faults", #"{"endpoint":"\#(ep)","fault":"fetch","query":"mode=pause;x"}"#, token: token).0 == 400)
        #expect(try send("POST", url + "/api/faults", #"{"endpoint":"\#(ep)","fault":"fetch","query":"mode=sideways"}"#, token: token).0 == 400)
        #expect(try send("POST", url + "/api/faults", #"{"endpoint":"\#(ep)","fault":"clear"}"#, token: token).0 == 200)
        #expect(!(try AdminHTTP.get(admin, "/faults").text.contains("replica fetches paused")))
    }

    func send(_ method: String, _ url: String, _ body: String, token: String?) throws -> (Int, String) {
        var args = ["-s", "-X", method, "-H", "Content-Type: application/json", "-w", "\n%{http_code}"]
        if let token { args += ["-H", "X-Console-Token: \(token)"] }
        if !body.isEmpty { args += ["--data", body] }
        let r = try ProcessHarness.run("/usr/bin/curl", args + [url], timeout: 60)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// GET with curl: status, body and curl's own time for the exchange (no process start-up in it).
    func fetch(_ url: String) throws -> (Int, Data, Double) {
        let r = try ProcessHarness.run("/usr/bin/curl", ["-s", "-w", "\n%{http_code} %{time_total}", url], timeout: 30)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let tail = (lines.last ?? "").split(separator: " ")
        let ms = (tail.count == 2 ? Double(tail[1]) ?? 99 : 99) * 1000
        return (Int(tail.first ?? "") ?? 0, Data(lines.dropLast().joined(separator: "\n").utf8), ms)
    }
}
