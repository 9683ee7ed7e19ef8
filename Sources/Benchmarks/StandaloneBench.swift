import Foundation
import Observability
import Transport

/// A standalone coordd (no server.N lines, fsync on) under the coord bench's workload, and how
/// many txns each log fsync covered (group commit): `swift run -c release Benchmarks
/// coord-standalone [ops per phase] [clients] [rounds]`; the median round is kept per phase.
enum StandaloneBench {
    static func run(_ args: [String]) {
        let ops = Int(args.first ?? "") ?? 20000
        let clients = Int(args.dropFirst().first ?? "") ?? 32
        let rounds = Int(args.dropFirst(2).first ?? "") ?? 3
        let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var perPhase: [String: [Double]] = [:]
        var order: [String] = []
        var txnsPerFsync: [Double] = []
        for round in 1...rounds {
            do {
                let adminPort = try freePort()
                let server = try LocalEnsemble(kind: .coordd, servers: 1, coorddPath: binDir.appendingPathComponent("coordd").path) { _ in
                    "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=\(adminPort)\n"
                }
                defer { server.stop() }
                _ = try server.waitForLeader()
                print("round \(round):")
                let results = try CoordBench.workload(connect: server.connectString, ops: ops, clients: clients)
                for r in results {
                    if perPhase[r.name] == nil { order.append(r.name) }
                    perPhase[r.name, default: []].append(r.opsPerSecond)
                }
                print("  RSS after the workload: \(server.rssKiB().first.map { $0 / 1024 } ?? 0) MiB")
                let metrics = try HTTPClient.get(host: "127.0.0.1", port: adminPort, "/metrics").text
                let writes = Double(clients + 1 + 2 * (ops / clients) * clients)
                if let fsyncs = sample(metrics, "fsynctime_count"), fsyncs > 0 {
                    txnsPerFsync.append(writes / fsyncs)
                    print(String(format: "  ~%.0f write txns in %.0f fsyncs: %.1f txns per fsync", writes, fsyncs, writes / fsyncs))
                }
            } catch {
                print("coord-standalone round \(round): \(error)")
            }
        }
        func median(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.sorted()[v.count / 2] }
        print("\n## standalone coordd (loopback, fsync on, \(clients) clients, \(ops) ops per phase, median of \(rounds) rounds)\n")
        print("| phase | ops/s |")
        print("|---|---:|")
        for name in order { print(String(format: "| %@ | %.0f |", name, median(perPhase[name] ?? []))) }
        print(String(format: "| txns per fsync | %.1f |", median(txnsPerFsync)))
    }

    /// The value of the first sample line of `name` in a Prometheus text page.
    static func sample(_ text: String, _ name: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") || line.hasPrefix(name + "{") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }
}
