import Foundation
import Spawn
import KafkaClient
import Synchronization
import Transport

/// The Swift producer vs kcat (librdkafka in C) on the same broker, topic settings and workload:
/// N fixed-size values, no key, acks=all, linger.ms=5, batch.size 1 MB. Rounds alternate which client
/// goes first; the ratio is the median of the per-round Swift/kcat ratios. Without `--bootstrap` it
/// starts coordd + brokerd from the same build directory.
/// `swift run -c release Benchmarks client [--bootstrap H:P] [--records N] [--size B] [--partitions P] [--rounds R] [--idempotence]`
enum ClientBench {
    struct Options {
        var bootstrap: String?
        var records = 500_000, size = 100, partitions = 3, rounds = 5
        var idempotence = false
    }

    struct Run {
        var seconds = 0.0
        var delivered = 0
        var p50 = 0.0, p99 = 0.0
        var note = ""
        func rps(_ records: Int) -> Double { seconds > 0 ? Double(records) / seconds : 0 }
    }

    static func run(_ args: [String]) {
        var o = Options()
        var i = 0
        while i < args.count {
            let a = args[i], v = i + 1 < args.count ? args[i + 1] : ""
            switch a {
            case "--bootstrap": o.bootstrap = v; i += 1
            case "--records": o.records = Int(v) ?? o.records; i += 1
            case "--size": o.size = Int(v) ?? o.size; i += 1
            case "--partitions": o.partitions = Int(v) ?? o.partitions; i += 1
            case "--rounds": o.rounds = max(1, Int(v) ?? o.rounds); i += 1
            case "--idempotence": o.idempotence = true
            default: print("client bench: unknown argument \(a)"); return
            }
            i += 1
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/kcat") else {
            print("kcat not found at /usr/bin/kcat (apt-get install kcat)")
            return
        }
        let root = NSTemporaryDirectory() + "client-bench-\(getpid())"
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var cluster: LocalBroker?
        defer { cluster?.stop() }
        let bootstrap: String
        if let b = o.bootstrap {
            bootstrap = b
        } else {
            do {
                cluster = try LocalBroker(dir: root)
                bootstrap = cluster!.bootstrap
            } catch {
                print("client bench: could not start coordd + brokerd: \(error)")
                return
            }
        }
        // kcat -l sends one message per line: N lines of `size` bytes.
        let input = "\(root)/records.txt"
        var line = [UInt8](repeating: 0x78, count: o.size)
        line.append(0x0A)
        var text = [UInt8]()
        text.reserveCapacity(line.count * o.records)
        for _ in 0..<o.records { text.append(contentsOf: line) }
        _ = FileManager.default.createFile(atPath: input, contents: Data(text))
        text = []

        var swift: [Run] = [], kcat: [Run] = []
        do {
            let admin = try Admin(config: ClientConfig(bootstrapServers: [bootstrap]))
            defer { admin.close() }
            let stamp = WallClock.millis()
            for round in 1...o.rounds {
                let order = round % 2 == 1 ? ["swift", "kcat"] : ["kcat", "swift"]
                for who in order {
                    let topic = "bench-\(who)-\(stamp)-r\(round)"
                    try admin.createTopics([NewTopic(name: topic, partitions: Int32(o.partitions), replicationFactor: 1)])
                    var r = who == "swift" ? try swiftRun(o, bootstrap: bootstrap, topic: topic)
                                           : kcatRun(o, bootstrap: bootstrap, topic: topic, input: input, dir: root)
                    let tps = (0..<o.partitions).map { TopicPartition(topic, Int32($0)) }
                    let stored = (try? admin.listOffsets(tps, timestamp: -1).values.reduce(0, +)) ?? -1
                    if who == "kcat" { r.delivered = Int(stored) }
                    if stored != Int64(o.records) { r.note += " (log holds \(stored))" }
                    BrokerBench.progress(String(format: "  round %d %@: %.0f rec/s in %.3f s%@", round, who, r.rps(o.records), r.seconds, r.note))
                    if who == "swift" { swift.append(r) } else { kcat.append(r) }
                }
            }
        } catch {
            print("client bench: \(error)")
        }
        report(o, bootstrap: bootstrap, swift: swift, kcat: kcat)
    }

    static func report(_ o: Options, bootstrap: String, swift: [Run], kcat: [Run]) {
        let n = min(swift.count, kcat.count)
        guard n > 0 else { return }
        let ratios = (0..<n).map { swift[$0].rps(o.records) / max(kcat[$0].rps(o.records), 1) }
        print("\n## Swift producer vs kcat (\(o.records) × \(o.size) B, \(o.partitions) partitions, acks=all, linger.ms=5, "
              + "batch.size 1 MB, no key, idempotence \(o.idempotence ? "on" : "off"), \(n) paired rounds, broker \(bootstrap))\n")
        print("| round | swift rec/s | kcat rec/s | swift / kcat | swift ack p50 / p99 ms |")
        print("|---|---:|---:|---:|---:|")
        for k in 0..<n {
            print(String(format: "| %d | %.0f | %.0f | %.2f | %.1f / %.1f |", k + 1, swift[k].rps(o.records), kcat[k].rps(o.records),
                         ratios[k], swift[k].p50, swift[k].p99) + swift[k].note + kcat[k].note)
        }
        print(String(format: "| median | %.0f | %.0f | **%.2f** | |", median(swift.map { $0.rps(o.records) }),
                     median(kcat.map { $0.rps(o.records) }), median(ratios)))
        var load = [Double](repeating: 0, count: 3)
        if getloadavg(&load, 3) == 3 { print(String(format: "\nload average at the end: %.2f %.2f %.2f", load[0], load[1], load[2])) }
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Timed like kcat's process: from creating the producer to the end of close(), which waits for
    /// every delivery. Ack latency is sampled on every 64th record so the bench adds no clock read
    /// per record.
    static func swiftRun(_ o: Options, bootstrap: String, topic: String) throws -> Run {
        var pc = ProducerConfig(bootstrapServers: [bootstrap])
        pc.acks = -1
        pc.enableIdempotence = o.idempotence
        pc.lingerMs = 5
        pc.batchSize = 1_000_000
        pc.bufferMemory = max(pc.bufferMemory, pc.batchSize * 64)
        pc.maxRequestSize = max(pc.maxRequestSize, pc.batchSize * 2)
        let payload = [UInt8](repeating: 0x78, count: o.size)
        let delivered = Atomic<Int>(0)
        let samples = Mutex([UInt64]())
        let count: DeliveryCallback = { r in if case .success = r { delivered.add(1, ordering: .relaxed) } }
        let start = MonotonicClock.nanos()
        let producer = try Producer(config: pc)
        for k in 0..<o.records {
            let record = ProducerRecord(topic: topic, value: payload)
            if k & 63 == 0 {
                let t0 = MonotonicClock.nanos()
                try producer.send(record) { r in
                    count(r)
                    let dt = MonotonicClock.nanos() - t0
                    samples.withLock { $0.append(dt) }
                }
            } else {
                try producer.send(record, callback: count)
            }
        }
        producer.close()
        var run = Run()
        run.seconds = Double(MonotonicClock.nanos() - start) / 1e9
        run.delivered = delivered.load(ordering: .relaxed)
        let lat = LatencyStats(samples: samples.withLock { $0 })
        run.p50 = lat.percentileMillis(0.5)
        run.p99 = lat.percentileMillis(0.99)
        if run.delivered != o.records { run.note = " (\(o.records - run.delivered) failed)" }
        return run
    }

    /// kcat from start to exit (it waits for every delivery before exiting).
    static func kcatRun(_ o: Options, bootstrap: String, topic: String, input: String, dir: String) -> Run {
        var run = Run()
        let err = "\(dir)/kcat.err"
        let args = ["-P", "-b", bootstrap, "-t", topic, "-X", "acks=all", "-X", "linger.ms=5", "-X", "batch.size=1000000",
                    "-X", "enable.idempotence=\(o.idempotence)", "-l", input]
        let start = MonotonicClock.nanos()
        do {
            let status = try BrokerBench.runProcess("/usr/bin/kcat", args, stdout: "/dev/null", stderr: err, timeout: 300)
            run.seconds = Double(MonotonicClock.nanos() - start) / 1e9
            if status != 0 {
                run.note = " (kcat exit \(status): \(((try? String(contentsOfFile: err, encoding: .utf8)) ?? "").suffix(200)))"
            }
        } catch {
            run.note = " (could not run kcat: \(error))"
        }
        return run
    }
}

/// One coordd (standalone) and one brokerd from the build directory this binary is in.
final class LocalBroker {
    let ensemble: LocalEnsemble
    let broker: Daemon
    let bootstrap: String

    init(dir: String) throws {
        let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let coordd = binDir.appendingPathComponent("coordd").path
        let brokerd = binDir.appendingPathComponent("brokerd").path
        for path in [coordd, brokerd] where !FileManager.default.isExecutableFile(atPath: path) {
            throw BenchError("\(path) not found: run `swift build -c release` first")
        }
        ensemble = try LocalEnsemble(kind: .coordd, servers: 1, coorddPath: coordd)
        do {
            _ = try ensemble.waitForLeader(timeoutSeconds: 30)
            let port = try freePort()
            let cfg = """
            broker.id=1
            listeners=PLAINTEXT://127.0.0.1:\(port)
            log.dirs=\(dir)/broker-logs
            zookeeper.connect=\(ensemble.connectString)
            offsets.topic.replication.factor=1

            """
            try cfg.write(toFile: "\(dir)/server.properties", atomically: true, encoding: .utf8)
            broker = try Daemon(brokerd, ["\(dir)/server.properties"], log: "\(dir)/brokerd.log")
            guard broker.waitForLine("brokerd: started", timeout: 60) else {
                broker.stop()
                throw BenchError("brokerd did not start:\n\(broker.logTail)")
            }
            bootstrap = "127.0.0.1:\(port)"
        } catch {
            ensemble.stop()
            throw error
        }
    }

    /// The broker first, so it can deregister from coordd cleanly.
    func stop() {
        broker.stop()
        ensemble.stop()
    }
}
