import CoordClient
import Foundation
import KafkaClient
import Spawn

/// The cluster at scale (issue 16): one coordd, three brokerd, `partitions` partitions in topics of
/// 1,000. Times the creation of one 1,000-partition topic, a kill -9 of the controller (until a new
/// controller holds /controller, then until every partition has a live leader again), and the
/// controlled shutdown of a broker leading about a third of them.
/// `swift run -c release Benchmarks cluster-scale [partitions=10000] [replication=2]`
enum ClusterScaleBench {
    static func run(_ args: [String]) {
        let partitions = max(1000, Int(args.first ?? "") ?? 10_000)
        let rf = Int16(args.dropFirst().first ?? "") ?? 2
        do {
            try measure(partitions: partitions, rf: rf)
        } catch {
            print("cluster-scale bench: \(error)")
        }
    }

    static let sessionTimeoutMs = 4000

    final class Cluster {
        let dir: String
        let coordPort: Int
        var ports: [Int32: Int] = [:]
        var brokers: [Int32: Daemon] = [:]
        let coordd: Daemon
        let binDir: URL

        init(binDir: URL) throws {
            self.binDir = binDir
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-scale-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: dir + "/zk", withIntermediateDirectories: true)
            coordPort = try freePort()
            try "tickTime=2000\ndataDir=\(dir)/zk\nclientPort=\(coordPort)\nclientPortAddress=127.0.0.1\nmaxSessionTimeout=60000\n"
                .write(toFile: dir + "/zoo.cfg", atomically: true, encoding: .utf8)
            coordd = try Daemon(binDir.appendingPathComponent("coordd").path, [dir + "/zoo.cfg"], log: dir + "/coordd.log")
            guard coordd.waitForLine("serving clients", timeout: 20) else { throw BenchError("coordd: \(coordd.logTail)") }
            for id: Int32 in 1...3 { ports[id] = try freePort() }
        }

        func start(_ id: Int32) throws {
            let cfg = """
            broker.id=\(id)
            listeners=PLAINTEXT://127.0.0.1:\(ports[id] ?? 0)
            log.dirs=\(dir)/logs-\(id)
            zookeeper.connect=127.0.0.1:\(coordPort)
            zookeeper.session.timeout.ms=\(ClusterScaleBench.sessionTimeoutMs)
            offsets.topic.replication.factor=1
            controlled.shutdown.retry.backoff.ms=500
            replica.lag.time.max.ms=10000
            """
            try cfg.write(toFile: "\(dir)/broker-\(id).properties", atomically: true, encoding: .utf8)
            let d = try Daemon(binDir.appendingPathComponent("brokerd").path, ["\(dir)/broker-\(id).properties"], log: "\(dir)/broker-\(id).log")
            brokers[id] = d
            guard d.waitForLine("brokerd: started", timeout: 60) else { throw BenchError("broker \(id): \(d.logTail)") }
        }

        var bootstrap: [String] { ports.keys.sorted().filter { brokers[$0]?.process.isRunning == true }.map { "127.0.0.1:\(ports[$0] ?? 0)" } }

        func stop() {
            for b in brokers.values { b.process.signal(SIGKILL); b.process.waitUntilExit() }
            coordd.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// Leaders by partition as one broker's Metadata answers them (nil: not reachable).
    static func leaders(_ bootstrap: String, topics: [String], fullIsr rf: Int = 0) -> [String: [Int32: Int32]]? {
        guard let kc = try? KafkaCluster(config: ClientConfig(bootstrapServers: [bootstrap], requestTimeoutMs: 10_000)) else { return nil }
        defer { kc.close() }
        guard let md = try? kc.refreshMetadata(topics: topics) else { return nil }
        var out: [String: [Int32: Int32]] = [:]
        for t in topics {
            // With `rf`, a partition counts only once its whole replica set is in sync.
            for p in md.topics[t]?.partitions ?? [] where p.isr.count >= rf { out[t, default: [:]][p.partition] = p.leader }
        }
        return out
    }

    /// Seconds until `done` holds, polling every 50 ms (nil after `limit` seconds).
    static func time(limit: Double, _ done: () -> Bool) -> Double? {
        let t0 = Date()
        while Date().timeIntervalSince(t0) < limit {
            if done() { return Date().timeIntervalSince(t0) }
            usleep(50_000)
        }
        return nil
    }

    static func controllerId(_ c: CoordClient) -> Int32? {
        guard let (d, _) = try? c.getData("/controller"),
              let o = (try? JSONSerialization.jsonObject(with: Data(d))) as? [String: Any], let id = o["brokerid"] as? Int else { return nil }
        return Int32(id)
    }

    static func measure(partitions: Int, rf: Int16) throws {
        let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let cluster = try Cluster(binDir: binDir)
        defer { cluster.stop() }
        for id: Int32 in 1...3 { try cluster.start(id) }
        let zk = CoordClient(connectString: "127.0.0.1:\(cluster.coordPort)", sessionTimeoutMs: 30_000)
        try zk.start()
        defer { zk.close() }
        let topics = (0..<(partitions / 1000)).map { "scale-\($0)" }
        let admin = try Admin(config: ClientConfig(bootstrapServers: cluster.bootstrap, requestTimeoutMs: 120_000))
        defer { admin.close() }
        func allLed(by live: Set<Int32>, via port: Int) -> Bool {
            guard let l = leaders("127.0.0.1:\(port)", topics: topics) else { return false }
            return topics.allSatisfy { t in (l[t]?.count ?? 0) == 1000 && l[t]!.values.allSatisfy { live.contains($0) } }
        }

        // 1. One 1,000-partition topic, until each partition has a leader.
        let t0 = Date()
        try admin.createTopics([NewTopic(name: topics[0], partitions: 1000, replicationFactor: rf)], timeoutMs: 120_000)
        let led1k = time(limit: 120) {
            (leaders(cluster.bootstrap[0], topics: [topics[0]])?[topics[0]]?.values.filter { $0 >= 0 }.count ?? 0) == 1000
        } != nil
        let create1k = led1k ? Date().timeIntervalSince(t0) : -1
        print(String(format: "create a 1,000-partition topic (RF %d) until every partition has a leader: %.2f s", rf, create1k))
        for t in topics.dropFirst() {
            try admin.createTopics([NewTopic(name: t, partitions: 1000, replicationFactor: rf)], timeoutMs: 120_000)
        }
        guard time(limit: 300, { allLed(by: [1, 2, 3], via: cluster.ports[1] ?? 0) }) != nil else { throw BenchError("not every partition got a leader") }
        print("\(partitions) partitions over 3 brokers, replication factor \(rf), all led")

        // 2. kill -9 of the controller.
        guard let ctl = controllerId(zk) else { throw BenchError("no controller") }
        let survivors = Set<Int32>([1, 2, 3]).subtracting([ctl])
        let via = cluster.ports[survivors.sorted()[0]] ?? 0
        let kill = Date()
        cluster.brokers[ctl]?.process.signal(SIGKILL)
        cluster.brokers[ctl]?.process.waitUntilExit()
        let newController = time(limit: 60) { controllerId(zk).map { $0 != ctl } ?? false } ?? -1
        let releaded = time(limit: 300) { allLed(by: survivors, via: via) } ?? -1
        print(String(format: "kill -9 of controller %d: new controller after %.2f s (session timeout %d ms); every partition led again %.2f s later (%.2f s in all)",
                     ctl, newController, sessionTimeoutMs, releaded, Date().timeIntervalSince(kill)))

        // 3. The killed broker returns and catches up; then a controlled shutdown of a broker leading
        // about a third (a partition whose only in-sync replica is that broker cannot move).
        try cluster.start(ctl)
        let caughtUp = time(limit: 300) {
            guard let l = leaders("127.0.0.1:\(via)", topics: topics, fullIsr: Int(rf)) else { return false }
            return topics.allSatisfy { (l[$0]?.count ?? 0) == 1000 }
        }
        print(String(format: "broker %d restarted: every replica back in sync after %.2f s", ctl, caughtUp ?? -1))
        // Preferred leaders come back with auto.leader.rebalance; wait for a broker to lead ≥ 1/4.
        var target: Int32 = ctl
        var led = 0
        _ = time(limit: 400) {
            guard let l = leaders("127.0.0.1:\(via)", topics: topics) else { return false }
            var count: [Int32: Int] = [:]
            for t in topics { for (_, b) in l[t] ?? [:] { count[b, default: 0] += 1 } }
            guard let (b, n) = count.filter({ survivors.contains($0.key) || $0.key == ctl }).max(by: { $0.value < $1.value }) else { return false }
            target = b
            led = n
            return n >= partitions / 4
        }
        let others = Set<Int32>([1, 2, 3]).subtracting([target])
        let viaOther = cluster.ports[others.sorted()[0]] ?? 0
        let term = Date()
        cluster.brokers[target]?.process.signal(SIGTERM)
        cluster.brokers[target]?.process.waitUntilExit()
        let exited = Date().timeIntervalSince(term)
        let moved = time(limit: 300) { allLed(by: others, via: viaOther) } ?? -1
        let log = (try? String(contentsOfFile: "\(cluster.dir)/broker-\(target).log", encoding: .utf8)) ?? ""
        let line = log.split(separator: "\n").last { $0.contains("controlled shutdown") }.map(String.init) ?? "(no controlled shutdown line)"
        print(String(format: "controlled shutdown of broker %d leading %d partitions: exited %.2f s after SIGTERM, every partition led by the others %.2f s after that",
                     target, led, exited, moved))
        print("  broker \(target): \(line)")
    }
}
