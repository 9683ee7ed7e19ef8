import CoordClient
import Foundation
import Synchronization
import Transport

/// Observers (issue 15): five servers either all voting or three voters and two observers, readers
/// spread over every server and a few writers on the voters, for a fixed time; reads/s and
/// writes/s of each layout, for coordd and ZooKeeper 3.8 in the same run (median of the rounds).
/// `swift run -c release Benchmarks coord-observers [seconds] [readers] [writers] [rounds]`
enum ObserverBench {
    static func run(_ args: [String]) {
        let seconds = Double(args.first ?? "") ?? 10
        let readers = Int(args.dropFirst().first ?? "") ?? 20
        let writers = Int(args.dropFirst(2).first ?? "") ?? 4
        let rounds = Int(args.dropFirst(3).first ?? "") ?? 3
        let coordd = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("coordd").path
        let layouts: [(String, Set<Int>)] = [("5 voters", []), ("3 voters + 2 observers", [4, 5])]
        var results: [String: [(reads: Double, writes: Double)]] = [:]
        for round in 1...rounds {
            for kind in [LocalEnsemble.Kind.coordd, .zookeeper] {
                for (name, observers) in layouts {
                    let key = "\(kind.rawValue), \(name)"
                    do {
                        let ens = try LocalEnsemble(kind: kind, servers: 5, observers: observers, coorddPath: coordd)
                        defer { ens.stop() }
                        _ = try ens.waitForLeader()
                        let r = try measure(ens, voters: (1...5).filter { !observers.contains($0) }, seconds: seconds, readers: readers, writers: writers)
                        results[key, default: []].append(r)
                        print(String(format: "round %d %@: %.0f reads/s, %.0f writes/s", round, key, r.reads, r.writes))
                    } catch {
                        print("round \(round) \(key): \(error)")
                    }
                }
            }
        }
        print("\nmedians (\(rounds) rounds, \(readers) readers over all servers, \(writers) writers on voters, \(Int(seconds)) s):")
        for kind in ["coordd", "zookeeper"] {
            let base = median(results["\(kind), 5 voters"]?.map(\.reads) ?? [])
            for (name, _) in layouts {
                let rs = results["\(kind), \(name)"] ?? []
                let reads = median(rs.map(\.reads))
                print(String(format: "  %@, %@: %.0f reads/s (%.2fx), %.0f writes/s", kind, name, reads, base > 0 ? reads / base : 0,
                             median(rs.map(\.writes))))
            }
        }
    }

    static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return s[s.count / 2]
    }

    static func measure(_ ens: LocalEnsemble, voters: [Int], seconds: Double, readers: Int, writers: Int) throws -> (reads: Double, writes: Double) {
        let setup = CoordClient(connectString: ens.connectString, sessionTimeoutMs: 10000)
        try setup.start()
        for w in 0..<max(1, writers) { _ = try? setup.create("/obs\(w)", data: [UInt8](repeating: 0x61, count: 256)) }
        try setup.sync("/")
        setup.close()
        let ports = ens.clientPorts
        let counts = Counts()
        let done = DispatchGroup()
        func worker(port: Int, write: Bool, _ body: @escaping @Sendable (CoordClient) throws -> Void) throws {
            let cl = CoordClient(connectString: "127.0.0.1:\(port)", sessionTimeoutMs: 10000)
            try cl.start()
            done.enter()
            let box = UncheckedBox(cl)
            Thread {
                let cl = box.value
                while !counts.stop.load(ordering: .relaxed) {
                    guard (try? body(cl)) != nil else { continue }
                    if write { counts.writes.add(1, ordering: .relaxed) } else { counts.reads.add(1, ordering: .relaxed) }
                }
                cl.close()
                done.leave()
            }.start()
        }
        let payload = [UInt8](repeating: 0x62, count: 256)
        for w in 0..<writers {
            try worker(port: ports[voters[w % voters.count] - 1], write: true) { cl in _ = try cl.setData("/obs\(w)", data: payload) }
        }
        for r in 0..<readers {
            let path = "/obs\(r % max(1, writers))"
            try worker(port: ports[r % ports.count], write: false) { cl in _ = try cl.getData(path) }
        }
        let start = MonotonicClock.nanos()
        usleep(UInt32(seconds * 1_000_000))
        counts.stop.store(true, ordering: .relaxed)
        let elapsed = Double(MonotonicClock.nanos() - start) / 1e9
        let r = Double(counts.reads.load(ordering: .relaxed)) / elapsed, w = Double(counts.writes.load(ordering: .relaxed)) / elapsed
        done.wait()
        return (r, w)
    }
}

/// Shared by the bench's worker threads.
final class Counts: Sendable {
    let reads = Atomic<Int>(0)
    let writes = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
}
