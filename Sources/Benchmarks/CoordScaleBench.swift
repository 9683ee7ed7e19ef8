import CoordClient
import Foundation
import Synchronization
import Transport

/// coordd beside Apache ZooKeeper 3.8 as the tree grows (issue 16): a standalone server of each
/// gets `znodes` znodes of 100 bytes, then one parent gets `children` children; measured: create
/// rate, resident memory per znode, create rate at the start and end of the wide parent (does
/// it fall off?), getChildren of it, restart time after kill -9 with everything on disk, and
/// delete rate. `swift run -c release Benchmarks coord-scale [znodes=200000] [children=100000]`.
enum CoordScaleBench {
    struct Result {
        var createRate = 0.0
        var bytesPerZnode = 0.0
        var wideFirst = 0.0, wideLast = 0.0
        var getChildrenMs = 0.0
        var restartSeconds = 0.0
        var deleteRate = 0.0
    }

    static func run(_ args: [String]) {
        let znodes = Int(args.first ?? "") ?? 200_000
        let children = Int(args.dropFirst().first ?? "") ?? 100_000
        let coordd = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("coordd").path
        var results: [(String, Result)] = []
        for kind in [LocalEnsemble.Kind.coordd, .zookeeper] {
            do {
                results.append((kind.rawValue, try measure(kind, coordd: coordd, znodes: znodes, children: children)))
            } catch {
                print("coord-scale \(kind.rawValue): \(error)")
            }
        }
        print("\n## coordd vs ZooKeeper as the tree grows (standalone, \(znodes) znodes of 100 B, then \(children) children of one parent)\n")
        print("| | " + results.map(\.0).joined(separator: " | ") + " |")
        print("|---|" + results.map { _ in "---:" }.joined(separator: "|") + "|")
        func row(_ name: String, _ f: (Result) -> String) { print("| \(name) | " + results.map { f($0.1) }.joined(separator: " | ") + " |") }
        row("create, 32 clients") { String(format: "%.0f ops/s", $0.createRate) }
        row("resident memory per znode") { String(format: "%.0f B", $0.bytesPerZnode) }
        row("wide parent: create rate, first 10 %") { String(format: "%.0f ops/s", $0.wideFirst) }
        row("wide parent: create rate, last 10 %") { String(format: "%.0f ops/s", $0.wideLast) }
        row("getChildren of the wide parent") { String(format: "%.1f ms", $0.getChildrenMs) }
        row("restart after kill -9 until serving") { String(format: "%.1f s", $0.restartSeconds) }
        row("delete the wide parent's children, 32 clients") { String(format: "%.0f ops/s", $0.deleteRate) }
    }

    static func measure(_ kind: LocalEnsemble.Kind, coordd: String, znodes: Int, children: Int) throws -> Result {
        let ens = try LocalEnsemble(kind: kind, servers: 1, coorddPath: coordd, heap: "-Xmx4g")
        defer { ens.stop() }
        _ = try ens.waitForLeader()
        let connect = ens.connectString
        let clients = 32
        let conns = try (0..<clients).map { _ -> CoordClient in
            let c = CoordClient(connectString: connect, sessionTimeoutMs: 30000)
            try c.start()
            return c
        }
        defer { conns.forEach { $0.close() } }
        for c in 0..<clients { try conns[0].createRecursive("/scale/c\(c)") }
        _ = try conns[0].create("/wide")
        var r = Result()
        let rss0 = ens.rssKiB()[0]
        let payload = [UInt8](repeating: 0x61, count: 100)
        r.createRate = try parallel(conns, count: znodes) { cl, c, i in _ = try cl.create("/scale/c\(c)/n\(i)", data: payload) }
        // The JVM's resident set includes heap it has not collected; both are what the host pays.
        r.bytesPerZnode = Double(ens.rssKiB()[0] - rss0) * 1024 / Double(znodes)
        print(String(format: "%@: %d znodes at %.0f ops/s, %.0f B resident per znode", kind.rawValue, znodes, r.createRate, r.bytesPerZnode))

        let tenth = max(clients, children / 10)
        r.wideFirst = try parallel(conns, count: tenth) { cl, c, i in _ = try cl.create("/wide/a\(c)-\(i)") }
        _ = try parallel(conns, count: children - 2 * tenth) { cl, c, i in _ = try cl.create("/wide/b\(c)-\(i)") }
        r.wideLast = try parallel(conns, count: tenth) { cl, c, i in _ = try cl.create("/wide/z\(c)-\(i)") }
        var best = Double.infinity
        for _ in 0..<3 {
            let t0 = MonotonicClock.nanos()
            let names = try conns[0].getChildren("/wide")
            best = min(best, Double(MonotonicClock.nanos() - t0) / 1e6)
            guard names.count >= children - clients else { throw BenchError("getChildren /wide: \(names.count) names") }
        }
        r.getChildrenMs = best
        print(String(format: "%@: wide parent %.0f → %.0f ops/s, getChildren %.1f ms", kind.rawValue, r.wideFirst, r.wideLast, best))

        let t0 = MonotonicClock.nanos()
        try ens.restart(0)
        _ = try ens.waitForLeader(timeoutSeconds: 300)
        r.restartSeconds = Double(MonotonicClock.nanos() - t0) / 1e9
        print(String(format: "%@: restart after kill -9 serving in %.1f s", kind.rawValue, r.restartSeconds))

        let again = try (0..<clients).map { _ -> CoordClient in
            let c = CoordClient(connectString: connect, sessionTimeoutMs: 30000)
            try c.start()
            return c
        }
        defer { again.forEach { $0.close() } }
        let names = try again[0].getChildren("/wide")
        guard names.count >= children - clients else { throw BenchError("after restart /wide has \(names.count) children") }
        let perClient = names.count / clients
        r.deleteRate = try parallel(again, count: perClient * clients) { cl, c, i in try cl.delete("/wide/" + names[c * perClient + i]) }
        print(String(format: "%@: delete %.0f ops/s", kind.rawValue, r.deleteRate))
        return r
    }

    /// `count` operations spread over the clients, one thread each; ops/s. Any failure throws.
    static func parallel(_ conns: [CoordClient], count: Int, _ op: @escaping @Sendable (CoordClient, Int, Int) throws -> Void) throws -> Double {
        let perClient = max(1, count / conns.count)
        let failures = Atomic<Int>(0)
        let done = DispatchGroup()
        let start = MonotonicClock.nanos()
        for (c, cl) in conns.enumerated() {
            done.enter()
            let box = UncheckedSendable(cl)
            Thread {
                for i in 0..<perClient {
                    do { try op(box.value, c, i) } catch { failures.add(1, ordering: .relaxed) }
                }
                done.leave()
            }.start()
        }
        done.wait()
        let f = failures.load(ordering: .relaxed)
        guard f == 0 else { throw BenchError("\(f) of \(perClient * conns.count) operations failed") }
        return Double(perClient * conns.count) / (Double(MonotonicClock.nanos() - start) / 1e9)
    }
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
