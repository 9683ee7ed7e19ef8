import CoordClient
import FaultProxy
import Foundation
import KafkaClient
import Protocol
import Testing
import Transport

/// Shared knobs and checkers of the fault matrix (docs/reliability.md). Every row repeats
/// `FaultMatrix.runs` times (FAULT_MATRIX_RUNS, default 1; deploy/fault-matrix.sh uses 5) and
/// prints one `fault-matrix:` line per run with what it measured.
enum FaultMatrix {
    static var runs: Int {
        max(1, Int(ProcessInfo.processInfo.environment["FAULT_MATRIX_RUNS"] ?? "") ?? 1)
    }

    /// The full matrix (more than one run) uses the anchors' durations; a single run shorter ones.
    static var full: Bool { runs > 1 }

    /// Seconds a fault lasts: `FAULT_MATRIX_<NAME>_S` if set, else `full` or `quick`.
    static func seconds(_ name: String, quick: Double, full fullValue: Double) -> Double {
        if let s = ProcessInfo.processInfo.environment["FAULT_MATRIX_\(name)_S"], let v = Double(s), v >= 0 { return v }
        return full ? fullValue : quick
    }

    static func report(_ row: Int, _ name: String, run: Int, _ facts: KeyValuePairs<String, Any>) {
        let text = facts.map { "\($0.key)=\(format($0.value))" }.joined(separator: " ")
        print("fault-matrix: row \(row) \(name) run \(run)/\(runs): \(text)")
    }

    private static func format(_ v: Any) -> String {
        if let d = v as? Double { return String(format: "%.2f", d) }
        return "\(v)"
    }
}

/// A 3-server coordd ensemble whose every quorum link goes through its own fault proxy, so one
/// server can be cut off from the others while its clients still reach it.
final class ProxiedEnsemble: @unchecked Sendable {
    let ensemble: EnsembleProcesses
    /// proxies[from][to]: the link `from` dials to reach `to`.
    private(set) var proxies: [Int: [Int: FaultProxy]] = [:]

    init(tickTime: Int = 200) throws {
        var made: [Int: [Int: FaultProxy]] = [:]
        ensemble = try EnsembleProcesses(tickTime: tickTime) { from, to, port in
            let p = try FaultProxy(targetPort: port)
            made[from, default: [:]][to] = p
            return p.port
        }
        proxies = made
    }

    /// Every link that touches server `i`, both directions.
    func links(of i: Int) -> [FaultProxy] {
        proxies.flatMap { from, tos in tos.filter { to, _ in from == i || to == i }.map(\.value) }
    }

    func isolate(_ i: Int) { links(of: i).forEach { $0.set(.blackhole) } }
    func heal() { proxies.values.flatMap(\.values).forEach { $0.set(.pass) } }

    func cleanup() {
        ensemble.cleanup()
        proxies.values.flatMap(\.values).forEach { $0.stop() }
    }
}

/// Whole-tree snapshots for "all servers' trees equal after healing".
enum TreeChecker {
    /// path -> (data, version) of every node under `root`, read through one server.
    static func dump(_ c: CoordClient, _ root: String = "/") throws -> [String: String] {
        var out: [String: String] = [:]
        var stack = [root]
        while let p = stack.popLast() {
            if p.hasPrefix("/zookeeper") { continue }
            let (data, stat) = try c.getData(p)
            out[p] = "\(stat.version):\(data.count):\(data.prefix(64).map { String($0) }.joined(separator: ","))"
            for child in try c.getChildren(p) { stack.append(p == "/" ? "/" + child : p + "/" + child) }
        }
        return out
    }

    /// The trees of all servers after a sync; nil entries for servers that did not answer.
    static func trees(_ e: EnsembleProcesses, root: String = "/") -> [[String: String]?] {
        (0..<e.count).map { i in
            guard let c = try? e.client([i]) else { return nil }
            defer { c.close() }
            return try? c.retrying(timeout: 10) { c in
                try c.sync(root)
                return try dump(c, root)
            }
        }
    }

    /// Describes how the trees differ, or nil when they are all present and equal.
    static func difference(_ trees: [[String: String]?]) -> String? {
        guard let first = trees.first ?? nil else { return "server 1 did not answer" }
        for (i, t) in trees.enumerated().dropFirst() {
            guard let t else { return "server \(i + 1) did not answer" }
            if t != first {
                let keys = Set(t.keys).symmetricDifference(first.keys).sorted().prefix(5)
                let changed = first.keys.filter { t[$0] != nil && t[$0] != first[$0] }.sorted().prefix(5)
                return "server \(i + 1) differs from server 1: only on one side \(Array(keys)), different \(Array(changed))"
            }
        }
        return nil
    }
}

/// Producer-side record keeping: what was acknowledged where, checked against what is read back.
final class AckLedger: @unchecked Sendable {
    let acked = SyncBox<[String: RecordMetadata]>([:])
    let failed = SyncBox<[String: String]>([:])
    let ackTimes = SyncBox<[Date]>([])

    func record(_ value: String, _ r: Result<RecordMetadata, KafkaError>) {
        switch r {
        case .success(let md):
            acked.update { $0[value] = md }
            ackTimes.update { $0.append(Date()) }
        case .failure(let e): failed.update { $0[value] = "\(e)" }
        }
    }

    /// Longest gap between consecutive acknowledgements after `from` (the measured outage).
    func longestGap(after from: Date) -> Double {
        let t = ackTimes.get().filter { $0 >= from }.sorted()
        guard t.count > 1 else { return -1 }
        return zip(t, t.dropFirst()).map { $1.timeIntervalSince($0) }.max() ?? -1
    }

    /// Checks read-back records: every acknowledged value present at its acknowledged offset,
    /// no value twice (idempotence), nothing that was never sent. Returns problems, empty when fine.
    func check(_ got: [ConsumerRecord], text: ([UInt8]?) -> String) -> [String] {
        let ack = acked.get(), fail = failed.get()
        let counts = Dictionary(got.map { (text($0.value), 1) }, uniquingKeysWith: +)
        var problems: [String] = []
        let dups = counts.filter { $0.value > 1 }.keys.sorted()
        if !dups.isEmpty { problems.append("duplicated: \(dups.prefix(10)) (\(dups.count))") }
        let lost = ack.keys.filter { counts[$0] == nil }.sorted()
        if !lost.isEmpty { problems.append("acknowledged but missing: \(lost.prefix(10)) (\(lost.count))") }
        let strangers = counts.keys.filter { ack[$0] == nil && fail[$0] == nil }
        if !strangers.isEmpty { problems.append("read values never reported: \(strangers.prefix(10))") }
        let moved = got.filter { r in ack[text(r.value)].map { ($0.partition, $0.offset) != (r.partition, r.offset) } ?? false }
        if !moved.isEmpty { problems.append("not at their acknowledged offset: \(moved.prefix(5).map { "\(text($0.value))@\($0.partition):\($0.offset)" })") }
        return problems
    }
}
