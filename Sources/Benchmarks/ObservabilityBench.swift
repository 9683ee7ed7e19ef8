import CoordClient
import Foundation
import KafkaClient
import Observability
import Synchronization
import Transport

/// What the observability plane costs (issue 10: < 3 %): coordd write throughput and brokerd produce
/// throughput with the admin server on — timeline recorded to its file, Prometheus scraping
/// /metrics every second — against the admin server off, in alternating rounds, the median kept.
/// `swift run -c release Benchmarks observability [ops per round] [rounds] [records per produce round]`
enum ObservabilityBench {
    static func run(_ args: [String]) {
        let ops = Int(args.first ?? "") ?? 20000
        let rounds = Int(args.dropFirst().first ?? "") ?? 3
        // Produce rounds long enough for several scrapes (10 × ops is a fraction of a second).
        let records = Int(args.dropFirst(2).first ?? "") ?? ops * 10
        let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var coord: [Bool: [Double]] = [:], broker: [Bool: [Double]] = [:], brokerCPU: [Bool: [Double]] = [:]
        for round in 0..<rounds {
            // Alternate which goes first, so drift on the machine does not favour one side.
            for admin in round % 2 == 0 ? [false, true] : [true, false] {
                do {
                    coord[admin, default: []].append(try coordWrites(binDir: binDir, admin: admin, ops: ops))
                    let (rate, cpu) = try brokerProduce(binDir: binDir, admin: admin, records: records)
                    broker[admin, default: []].append(rate)
                    brokerCPU[admin, default: []].append(cpu)
                } catch {
                    print("observability bench: \(error)")
                }
            }
        }
        func median(_ v: [Double]?) -> Double {
            let s = (v ?? []).sorted()
            return s.isEmpty ? 0 : s[s.count / 2]
        }
        // Each round's on/off pair is measured back to back: the median of the paired ratios is
        // steadier than the ratio of medians on a machine whose speed drifts.
        func pairedCost(_ m: [Bool: [Double]]) -> Double {
            var ratios: [Double] = []
            for (off, on) in zip(m[false] ?? [], m[true] ?? []) where off > 0 { ratios.append(100 * (off - on) / off) }
            return median(ratios)
        }
        print("\n## Cost of the observability plane (\(rounds) alternating rounds; medians, cost = median of paired ratios)\n")
        print("| workload | admin off | admin on + scrape 1/s | cost |")
        print("|---|---:|---:|---:|")
        for (name, m, unit) in [("coordd create+setData (3 servers, 32 clients)", coord, "ops/s"), ("brokerd produce, Swift producer, acks=1", broker, "rec/s")] {
            print(String(format: "| %@ | %.0f %@ | %.0f %@ | %.1f %% |", name, median(m[false]), unit, median(m[true]), unit, pairedCost(m)))
        }
        // CPU the broker process spends per record is steadier than throughput on a shared machine
        // (it does not count time spent waiting for a core): the plane's cost is the extra CPU.
        let (off, on) = (median(brokerCPU[false]), median(brokerCPU[true]))
        print(String(format: "\nbrokerd CPU per record (user+system, median): admin off %.2f µs, on %.2f µs: %.1f %% more", off, on,
                     off > 0 ? 100 * (on - off) / off : 0))
        let shares = adminShare.withLock { $0 }.sorted()
        if !shares.isEmpty {
            print(String(format: "brokerd's admin thread (HTTP + /metrics rendering): median %.2f %% of the broker's CPU during produce (max %.2f %%)",
                         shares[shares.count / 2], shares.last ?? 0))
        }
        let coordShares = coordAdminShare.withLock { $0 }.sorted()
        if !coordShares.isEmpty {
            print(String(format: "coordd's admin threads (HTTP + /metrics rendering): median %.2f %% of the servers' CPU during writes (max %.2f %%)",
                         coordShares[coordShares.count / 2], coordShares.last ?? 0))
        }
        ObservabilityInlineCost.report()
        let scrapes = scrapeMillis.withLock { $0 }.sorted()
        if !scrapes.isEmpty {
            print(String(format: "a /metrics scrape: median %.2f ms, max %.2f ms over %d scrapes (at 1/s: %.2f %% of one core)",
                         scrapes[scrapes.count / 2], scrapes.last ?? 0, scrapes.count, scrapes[scrapes.count / 2] / 10))
        }
    }

    /// Per admin-on round: the broker-admin thread's share of brokerd's CPU, in %.
    static let adminShare = Mutex<[Double]>([])
    /// The same for the three coordd servers' coordd-admin threads.
    static let coordAdminShare = Mutex<[Double]>([])

    /// Wall time of each /metrics GET (render + transfer on loopback), an upper bound of its CPU.
    static let scrapeMillis = Mutex<[Double]>([])

    /// CPU time of a process's threads (those named `named`, or all), in µs:
    /// /proc/PID/task/*/schedstat, ns resolution (utime/stime tick at 10 ms, too coarse).
    static func cpuMicros(_ pid: Int32, named: String? = nil) -> Double {
        let dir = "/proc/\(pid)/task"
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return 0 }
        var ns = 0.0
        for t in tasks {
            if let named {
                let comm = (try? String(contentsOfFile: "\(dir)/\(t)/comm", encoding: .utf8)) ?? ""
                guard comm.trimmingCharacters(in: .whitespacesAndNewlines) == named else { continue }
            }
            guard let s = try? String(contentsOfFile: "\(dir)/\(t)/schedstat", encoding: .utf8),
                  let first = s.split(separator: " ").first, let v = Double(first) else { continue }
            ns += v
        }
        return ns / 1000
    }

    /// Scrapes /metrics every second until stopped, as Prometheus would.
    static func scraper(ports: [Int]) -> (stop: @Sendable () -> Void, group: DispatchGroup) {
        // OBS_SCRAPE=0: the admin server on but nobody scraping (to tell the two costs apart).
        let scrape = ProcessInfo.processInfo.environment["OBS_SCRAPE"] != "0"
        let stop = Atomic<Bool>(!scrape)
        let g = DispatchGroup()
        g.enter()
        Thread {
            while !stop.load(ordering: .relaxed) {
                for p in ports {
                    let t0 = MonotonicClock.nanos()
                    if (try? HTTPClient.get(host: "127.0.0.1", port: p, "/metrics")) != nil {
                        let ms = Double(MonotonicClock.nanos() - t0) / 1e6
                        scrapeMillis.withLock { $0.append(ms) }
                    }
                }
                usleep(1_000_000)
            }
            g.leave()
        }.start()
        return ({ stop.store(true, ordering: .relaxed) }, g)
    }

    static func coordWrites(binDir: URL, admin: Bool, ops: Int) throws -> Double {
        var adminPorts: [Int] = []
        for _ in 0..<3 { adminPorts.append(try freePort()) }
        let ens = try LocalEnsemble(kind: .coordd, coorddPath: binDir.appendingPathComponent("coordd").path) { i in
            admin ? "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=\(adminPorts[i - 1])\n" : "admin.enableServer=false\n"
        }
        defer { ens.stop() }
        _ = try ens.waitForLeader()
        let scrape = admin ? scraper(ports: adminPorts) : nil
        defer { scrape?.stop(); scrape?.group.wait() }
        let pids = ens.pids
        let cpu0 = pids.map { cpuMicros($0) }, admin0 = pids.map { cpuMicros($0, named: "coordd-admin") }
        let results = try CoordBench.workload(connect: ens.connectString, ops: ops, clients: 32, phases: 2)
        if admin {
            let cpu = zip(pids, cpu0).map { cpuMicros($0) - $1 }.reduce(0, +)
            let adminCPU = zip(pids, admin0).map { cpuMicros($0, named: "coordd-admin") - $1 }.reduce(0, +)
            coordAdminShare.withLock { $0.append(100 * adminCPU / max(1, cpu)) }
            let writes = Double(ops * results.count)
            let sample = ObservabilityInlineCost.Sample(updatesPerOp: ObservabilityInlineCost.scrapeUpdates(ports: adminPorts) / writes,
                                                        cpuMicrosPerOp: cpu / writes)
            ObservabilityInlineCost.coord.withLock { $0.append(sample) }
        }
        let rate = results.map(\.opsPerSecond).reduce(0, +) / Double(max(1, results.count))
        print(String(format: "coordd admin %@: %.0f write ops/s", admin ? "on" : "off", rate))
        return rate
    }

    /// Records per second, and the broker's CPU µs per record.
    static func brokerProduce(binDir: URL, admin: Bool, records: Int) throws -> (Double, Double) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("obs-bench-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/zk", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let zkPort = try freePort(), kafkaPort = try freePort(), adminPort = try freePort()
        try "tickTime=2000\ndataDir=\(dir)/zk\nclientPort=\(zkPort)\nclientPortAddress=127.0.0.1\n".write(toFile: dir + "/zoo.cfg", atomically: true, encoding: .utf8)
        let zk = try Daemon(binDir.appendingPathComponent("coordd").path, [dir + "/zoo.cfg"], log: dir + "/coordd.log")
        defer { zk.stop() }
        guard zk.waitForLine("serving clients", timeout: 20) else { throw BenchError("coordd: \(zk.logTail)") }
        var cfg = "broker.id=1\nlisteners=PLAINTEXT://127.0.0.1:\(kafkaPort)\nlog.dirs=\(dir)/logs\nzookeeper.connect=127.0.0.1:\(zkPort)\noffsets.topic.replication.factor=1\n"
        if admin { cfg += "admin.listener=127.0.0.1:\(adminPort)\n" }
        try cfg.write(toFile: dir + "/server.properties", atomically: true, encoding: .utf8)
        let b = try Daemon(binDir.appendingPathComponent("brokerd").path, [dir + "/server.properties"], log: dir + "/brokerd.log")
        defer { b.stop() }
        guard b.waitForLine("brokerd: started", timeout: 30) else { throw BenchError("brokerd: \(b.logTail)") }
        let bootstrap = "127.0.0.1:\(kafkaPort)"
        let adminClient = try Admin(config: ClientConfig(bootstrapServers: [bootstrap]))
        try adminClient.createTopics([NewTopic(name: "obs", partitions: 4, replicationFactor: 1)])
        adminClient.close()
        let scrape = admin ? scraper(ports: [adminPort]) : nil
        defer { scrape?.stop(); scrape?.group.wait() }
        var pc = ProducerConfig(bootstrapServers: [bootstrap])
        pc.acks = 1
        let producer = try Producer(config: pc)
        let payload = [UInt8](repeating: 0x78, count: 100)
        let acked = Atomic<Int>(0)
        let cpu0 = cpuMicros(b.pid), admin0 = cpuMicros(b.pid, named: "broker-admin")
        let start = MonotonicClock.nanos()
        for _ in 0..<records {
            try producer.send(ProducerRecord(topic: "obs", value: payload)) { r in
                if case .success = r { acked.add(1, ordering: .relaxed) }
            }
        }
        try producer.flush()
        let secs = Double(MonotonicClock.nanos() - start) / 1e9
        let cpu = cpuMicros(b.pid) - cpu0
        if admin {
            // The admin server's own thread: rendering /metrics and answering HTTP.
            let share = 100 * (cpuMicros(b.pid, named: "broker-admin") - admin0) / max(1, cpu)
            adminShare.withLock { $0.append(share) }
            let n = Double(max(1, acked.load(ordering: .relaxed)))
            let sample = ObservabilityInlineCost.Sample(updatesPerOp: ObservabilityInlineCost.scrapeUpdates(ports: [adminPort]) / n,
                                                        cpuMicrosPerOp: cpu / n)
            ObservabilityInlineCost.broker.withLock { $0.append(sample) }
        }
        producer.close()
        let rate = Double(acked.load(ordering: .relaxed)) / secs
        let perRecord = cpu / Double(max(1, acked.load(ordering: .relaxed)))
        print(String(format: "brokerd admin %@: %.0f rec/s, %.2f µs CPU per record", admin ? "on" : "off", rate, perRecord))
        return (rate, perRecord)
    }
}
