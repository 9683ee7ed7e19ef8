import CoordClient
import Foundation
import Synchronization
import Transport

/// coordd vs Apache ZooKeeper 3.8, each as a 3-server ensemble on loopback with fsync on, driven by the
/// same Swift client workload: creates, setData (1 KiB), getData, exists with a watch.
/// `swift run -c release Benchmarks coord [ops per phase] [clients]`
enum CoordBench {
    struct PhaseResult {
        let name: String
        let opsPerSecond: Double
        let p50: Double
        let p99: Double
    }

    static func run(_ args: [String]) {
        let opsPerPhase = Int(args.first ?? "") ?? 20000
        let clients = Int(args.dropFirst().first ?? "") ?? 32
        let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let coordd = binDir.appendingPathComponent("coordd").path
        var table: [(LocalEnsemble.Kind, [PhaseResult], [Int], Double?)] = []
        for kind in [LocalEnsemble.Kind.zookeeper, .coordd] {
            do {
                let ens = try LocalEnsemble(kind: kind, coorddPath: coordd)
                defer { ens.stop() }
                _ = try ens.waitForLeader()
                let results = try workload(connect: ens.connectString, ops: opsPerPhase, clients: clients)
                let rss = ens.rssKiB()
                let failover = try measureFailover(ens)
                table.append((kind, results, rss, failover))
            } catch {
                print("\(kind.rawValue): \(error)")
            }
        }
        print("\n## coordd vs Apache ZooKeeper 3.8 (3 servers, loopback, fsync on, \(clients) clients, \(opsPerPhase) ops per phase)\n")
        print("| phase | ZooKeeper ops/s | coordd ops/s | ZooKeeper p50 / p99 ms | coordd p50 / p99 ms |")
        print("|---|---:|---:|---:|---:|")
        if table.count == 2 {
            for (a, b) in zip(table[0].1, table[1].1) {
                print(String(format: "| %@ | %.0f | %.0f | %.2f / %.2f | %.2f / %.2f |", a.name, a.opsPerSecond, b.opsPerSecond, a.p50, a.p99, b.p50, b.p99))
            }
            print("\n| | ZooKeeper | coordd |")
            print("|---|---:|---:|")
            print("| RSS per server (MiB) | \(table[0].2.map { String($0 / 1024) }.joined(separator: ", ")) | \(table[1].2.map { String($0 / 1024) }.joined(separator: ", ")) |")
            let f0 = table[0].3.map { String(format: "%.2f s", $0) } ?? "n/a"
            let f1 = table[1].3.map { String(format: "%.2f s", $0) } ?? "n/a"
            print("| writes resume after kill -9 of the leader | \(f0) | \(f1) |")
        }
    }

    /// The first `phases` of create, setData, getData, exists+watch (the observability bench runs the writes).
    static func workload(connect: String, ops: Int, clients: Int, phases count: Int = 4) throws -> [PhaseResult] {
        let setup = CoordClient(connectString: connect, sessionTimeoutMs: 10000)
        try setup.start()
        for c in 0..<clients { try setup.createRecursive("/bench/c\(c)") }
        setup.close()

        let perClient = max(1, ops / clients)
        let payload = [UInt8](repeating: 0x61, count: 1024)
        let phases: [(String, @Sendable (CoordClient, Int, Int) throws -> Void)] = [
            ("create", { cl, c, i in try cl.create("/bench/c\(c)/n\(i)", data: []) }),
            ("setData 1 KiB", { cl, c, i in try cl.setData("/bench/c\(c)/n\(i)", data: payload) }),
            ("getData", { cl, c, i in _ = try cl.getData("/bench/c\(c)/n\(i)") }),
            ("exists + watch", { cl, c, i in _ = try cl.exists("/bench/c\(c)/n\(i)", watcher: { _ in }) }),
        ]
        // Each client connects to one server, spread over the ensemble like real deployments.
        let servers = connect.split(separator: ",").map(String.init)
        let conns = try (0..<clients).map { c -> CoordClient in
            let cl = CoordClient(connectString: servers[c % servers.count], sessionTimeoutMs: 10000)
            try cl.start()
            return cl
        }
        defer { conns.forEach { $0.close() } }
        var results: [PhaseResult] = []
        for (name, op) in phases.prefix(count) {
            let lat = Mutex<[UInt64]>([])
            let failures = Atomic<Int>(0)
            let start = MonotonicClock.nanos()
            // One thread per client: concurrentPerform would run only as many as there are cores.
            let done = DispatchGroup()
            for c in 0..<clients {
                done.enter()
                let t = Thread {
                    var local: [UInt64] = []
                    local.reserveCapacity(perClient)
                    for i in 0..<perClient {
                        let t0 = MonotonicClock.nanos()
                        do { try op(conns[c], c, i) } catch { failures.add(1, ordering: .relaxed) }
                        local.append(MonotonicClock.nanos() - t0)
                    }
                    lat.withLock { $0.append(contentsOf: local) }
                    done.leave()
                }
                t.start()
            }
            done.wait()
            let elapsed = Double(MonotonicClock.nanos() - start) / 1e9
            let stats = LatencyStats(samples: lat.withLock { $0 })
            let f = failures.load(ordering: .relaxed)
            if f > 0 { print("  \(name): \(f) failed operations") }
            results.append(PhaseResult(name: name, opsPerSecond: Double(perClient * clients) / elapsed,
                                       p50: stats.percentileMillis(0.5), p99: stats.percentileMillis(0.99)))
            print(String(format: "  %@: %.0f ops/s, p50 %.2f ms, p99 %.2f ms", name, results.last!.opsPerSecond, results.last!.p50, results.last!.p99))
        }
        return results
    }

    /// Seconds from kill -9 of the leader until a write through a surviving server succeeds.
    static func measureFailover(_ ens: LocalEnsemble) throws -> Double? {
        guard ens.clientPorts.count > 1 else { return nil }
        let leader = try ens.waitForLeader()
        let survivor = ens.clientPorts.indices.first { $0 != leader }!
        let cl = CoordClient(connectString: "127.0.0.1:\(ens.clientPorts[survivor])", sessionTimeoutMs: 10000)
        try cl.start()
        defer { cl.close() }
        try cl.create("/failover", data: [])
        let t0 = MonotonicClock.nanos()
        ens.kill(leader)
        let deadline = t0 + 30_000_000_000
        var i = 0
        while MonotonicClock.nanos() < deadline {
            i += 1
            do {
                try cl.setData("/failover", data: [UInt8(i & 0xff)])
                return Double(MonotonicClock.nanos() - t0) / 1e9
            } catch {
                usleep(2000)
            }
        }
        return nil
    }
}
