import Foundation
import KafkaClient
import Spawn
import Transport

/// Replication cost with a C client (issue 16): kcat (librdkafka in C, no Python loop) produces N
/// values of 100 B from a file to one partition, RF 1 acks=1 on a one-broker cluster against RF 3
/// acks=all on a three-broker cluster, in alternating order per round. Reports each round's paired
/// ratio (RF 3 / RF 1) of records/s and of broker CPU per record, and their medians.
/// `swift run -c release Benchmarks replication [records=1000000] [rounds=5] [min.insync.replicas=2]`
enum ReplicationBench {
    struct Case {
        var name: String
        var rf: Int16
        var acks: String
        var cluster: ClusterScaleBench.Cluster
        var pids: [Int32]
    }

    struct Run { var rps: Double; var cpuPerRecord: Double }

    static func run(_ args: [String]) {
        let records = args.first.flatMap { Int($0) } ?? 1_000_000
        let rounds = max(1, args.dropFirst().first.flatMap { Int($0) } ?? 5)
        let minIsr = args.dropFirst(2).first.flatMap { Int($0) } ?? 2
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/kcat") else {
            print("kcat not found (apt-get install kcat)")
            return
        }
        let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var clusters: [ClusterScaleBench.Cluster] = []
        defer { clusters.forEach { $0.stop() } }
        do {
            let one = try ClusterScaleBench.Cluster(binDir: binDir)
            clusters.append(one)
            try one.start(1)
            let three = try ClusterScaleBench.Cluster(binDir: binDir)
            clusters.append(three)
            for id: Int32 in 1...3 { try three.start(id) }
            let file = one.dir + "/records.txt"
            try writeRecords(file, count: records)
            let cases = [
                Case(name: "RF 1 acks=1", rf: 1, acks: "1", cluster: one, pids: one.brokers.values.map(\.pid)),
                Case(name: "RF 3 acks=all", rf: 3, acks: ProcessInfo.processInfo.environment["REPL_RF3_ACKS"] ?? "all", cluster: three, pids: three.brokers.values.map(\.pid)),
            ]
            var runs: [[Run]] = [[], []]
            for round in 1...rounds {
                for i in (round % 2 == 1 ? [0, 1] : [1, 0]) {
                    let r = try measure(cases[i], topic: "repl-\(cases[i].rf)-r\(round)", file: file, records: records, minIsr: minIsr)
                    runs[i].append(r)
                    BrokerBench.progress(String(format: "  round %d %@: %.0f rec/s, broker CPU %.3f µs/rec", round, cases[i].name,
                                                      r.rps, r.cpuPerRecord))
                }
            }
            report(cases, runs, records: records, minIsr: minIsr)
        } catch {
            print("replication bench: \(error)")
        }
    }

    static func report(_ cases: [Case], _ runs: [[Run]], records: Int, minIsr: Int) {
        let rate = zip(runs[1], runs[0]).map { $0.rps / $1.rps }
        let cpu = zip(runs[1], runs[0]).map { $0.cpuPerRecord / $1.cpuPerRecord }
        print("\n### Replication with a C client (kcat, \(records) × 100 B, 1 partition, \(runs[0].count) rounds, RF 3 min.insync.replicas=\(minIsr))\n")
        print("| case | rec/s per round | median rec/s | broker CPU µs/rec per round (summed over brokers) | median µs/rec |")
        print("|---|---|---:|---|---:|")
        for (c, r) in zip(cases, runs) {
            print("| \(c.name) | \(r.map { String(format: "%.0f", $0.rps) }.joined(separator: ", ")) | \(String(format: "%.0f", median(r.map(\.rps)))) | "
                  + "\(r.map { String(format: "%.3f", $0.cpuPerRecord) }.joined(separator: ", ")) | \(String(format: "%.3f", median(r.map(\.cpuPerRecord)))) |")
        }
        print(String(format: "\nRF 3 acks=all / RF 1 acks=1, median of paired rounds: rec/s %.2f× (per round %@), CPU per record %.2f× (per round %@)",
                     median(rate), rate.map { String(format: "%.2f", $0) }.joined(separator: ", "),
                     median(cpu), cpu.map { String(format: "%.2f", $0) }.joined(separator: ", ")))
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// One line of 100 B per record (kcat -l sends each line without its newline).
    static func writeRecords(_ path: String, count: Int) throws {
        var line = [UInt8](repeating: UInt8(ascii: "x"), count: 101)
        line[100] = UInt8(ascii: "\n")
        var chunk: [UInt8] = []
        chunk.reserveCapacity(101 * 10_000)
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let h = FileHandle(forWritingAtPath: path) else { throw BenchError("cannot write \(path)") }
        defer { try? h.close() }
        var left = count
        while left > 0 {
            chunk.removeAll(keepingCapacity: true)
            for _ in 0..<min(left, 10_000) { chunk += line }
            try h.write(contentsOf: chunk)
            left -= min(left, 10_000)
        }
    }

    static func measure(_ c: Case, topic: String, file: String, records: Int, minIsr: Int) throws -> Run {
        let bootstrap = c.cluster.bootstrap
        let admin = try Admin(config: ClientConfig(bootstrapServers: bootstrap, requestTimeoutMs: 30_000))
        defer { admin.close() }
        let configs = c.rf > 1 ? ["min.insync.replicas": "\(minIsr)"] : [:]
        try admin.createTopics([NewTopic(name: topic, partitions: 1, replicationFactor: c.rf, configs: configs)])
        guard ClusterScaleBench.time(limit: 60, {
            ClusterScaleBench.leaders(bootstrap[0], topics: [topic], fullIsr: Int(c.rf))?[topic]?.count == 1
        }) != nil else { throw BenchError("\(topic): no leader with a full ISR") }
        // Warm-up outside the clock: the followers have the partition and librdkafka's path is hot.
        let warm = c.cluster.dir + "/warm.txt"
        try "w\n".write(toFile: warm, atomically: true, encoding: .utf8)
        guard try kcat(bootstrap, topic, acks: "all", file: warm) == 0 else { throw BenchError("\(topic): warm-up produce failed") }
        let cpu0 = c.pids.map(BrokerBench.cpuSeconds).reduce(0, +)
        let each0 = c.pids.map(BrokerBench.cpuSeconds)
        var perf: [ChildProcess] = []
        if let d = ProcessInfo.processInfo.environment["REPL_PERF_DIR"], c.rf > 1 {
            for pid in c.pids { perf.append(try ChildProcess("/usr/bin/perf", ["record", "-F", "2000", "-g", "-p", "\(pid)", "-o", "\(d)/perf-\(pid).data"], stdout: .file(d + "/perf.out"), stderr: .file(d + "/perf.err"))) }
            usleep(300_000)
        }
        var ru0 = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &ru0)
        let t0 = MonotonicClock.nanos()
        let status = try kcat(bootstrap, topic, acks: c.acks, file: file)
        let seconds = Double(MonotonicClock.nanos() - t0) / 1e9
        let cpu = c.pids.map(BrokerBench.cpuSeconds).reduce(0, +) - cpu0
        var ru1 = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &ru1)
        func secs(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        let kcatCPU = secs(ru1.ru_utime) + secs(ru1.ru_stime) - secs(ru0.ru_utime) - secs(ru0.ru_stime)
        BrokerBench.progress(String(format: "    wall %.3f s, kcat CPU %.3f s, brokers CPU %.3f s", seconds, kcatCPU, cpu))
        for p in perf { p.signal(SIGINT); _ = p.waitUntilExit() }
        BrokerBench.progress("    per broker CPU s: " + zip(c.pids, c.pids.map(BrokerBench.cpuSeconds)).enumerated().map { "\($0.element.0)=\(String(format: "%.3f", $0.element.1 - each0[$0.offset]))" }.joined(separator: " "))
        guard status == 0 else { throw BenchError("\(topic): kcat exited \(status): \(tail(c.cluster.dir + "/kcat.err"))") }
        // Every record must be there (and committed): the high watermark counts them.
        let hw = try admin.listOffsets([TopicPartition(topic, 0)], timestamp: -1)[TopicPartition(topic, 0)] ?? -1
        guard hw == Int64(records + 1) else { throw BenchError("\(topic): high watermark \(hw), expected \(records + 1)") }
        return Run(rps: Double(records) / seconds, cpuPerRecord: cpu * 1e6 / Double(records))
    }

    /// kcat -P from a file, to partition 0; its exit waits for every delivery report.
    static func kcat(_ bootstrap: [String], _ topic: String, acks: String, file: String) throws -> Int32 {
        let dir = (file as NSString).deletingLastPathComponent
        let args = ["-P", "-b", bootstrap.joined(separator: ","), "-t", topic, "-p", "0", "-X", "acks=\(acks)", "-X", "linger.ms=5",
                    "-X", "batch.size=1000000", "-l", file]
        let p = try ChildProcess("/usr/bin/kcat", args, stdout: .file(dir + "/kcat.out"), stderr: .file(dir + "/kcat.err"))
        if !p.wait(seconds: 120) { p.signal(SIGKILL) }
        return p.waitUntilExit()
    }

    static func tail(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(300))
    }
}
