import CoordClient
import Foundation
import Synchronization
import Testing

/// Fault matrix row 10: coordd's leader kill -9'd under a compare-and-set register workload
/// (several clients doing versioned setData on one znode), the history checked for
/// linearizability by `CASRegister` (Knossos-style).
@Suite(.serialized, .ownThreads) struct CoordCASMatrixTests {
    static let path = "/cas"

    @Test(.timeLimit(.minutes(6))) func row10LeaderKillUnderACASRegisterIsLinearizable() throws {
        for run in 1...FaultMatrix.runs { try casOnce(run: run) }
    }

    private func casOnce(run: Int) throws {
        let e = try EnsembleProcesses()
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(followers: 2), "no leader:\n\(e.logs)")
        let setup = try e.client([(leader + 1) % 3])
        defer { setup.close() }
        try setup.create(Self.path, data: Array("init".utf8))

        let history = CASHistory()
        let stop = Atomic<Bool>(false)
        let group = DispatchGroup()
        let clients = try (0..<4).map { i in try e.client([i % 3, (i + 1) % 3, (i + 2) % 3], timeoutMs: 6000) }
        defer { clients.forEach { $0.close() } }
        for (p, c) in clients.enumerated() {
            onOwnThread(group: group) {
                var n = 0
                while !stop.load(ordering: .relaxed) {
                    // The expected version comes from a plain read; the read is not part of the
                    // checked history (ZooKeeper reads are not linearizable, only sequential).
                    guard let (_, stat) = try? c.getData(Self.path) else { usleep(20_000); continue }
                    n += 1
                    let value = "p\(p)-\(n)"
                    let kind = CASRegister.Kind.cas(expected: stat.version, value: value)
                    let at = history.invoke()
                    do {
                        let s = try c.setData(Self.path, data: Array(value.utf8), version: stat.version)
                        history.complete(p, kind, .ok(.init(version: s.version, value: value)), invokedAt: at)
                    } catch let err as CoordError where err.isBadVersion {
                        history.complete(p, kind, .fail, invokedAt: at)
                    } catch {
                        history.complete(p, kind, .info, invokedAt: at)
                        usleep(20_000)
                    }
                }
            }
        }
        func oks() -> [Int] {
            history.ops.compactMap { op in if case .ok = op.outcome { return op.complete } else { return nil } }
        }
        #expect(ProcessHarness.waitUntil(timeout: 30) { oks().count >= 50 }, "no progress:\n\(e.logs)")
        let killClock = history.invoke()
        let t0 = Date()
        e.kill9(leader)
        let resumed = ProcessHarness.waitUntil(timeout: 20, interval: 0.01) { oks().contains { $0 > killClock } }
        let outage = Date().timeIntervalSince(t0)
        #expect(resumed, "no successful CAS after the leader's death:\n\(e.logs)")
        usleep(UInt32(FaultMatrix.seconds("CAS_AFTER", quick: 1.5, full: 4) * 1_000_000))
        try e.start(leader)
        usleep(1_000_000)
        stop.store(true, ordering: .relaxed)
        #expect(group.wait(timeout: .now() + 30) == .success)

        // Final reads through every server after sync, each a linearizable read after all writes.
        var finals: [String] = []
        for i in 0..<3 {
            let c = try e.client([i])
            defer { c.close() }
            let at = history.invoke()
            let (d, s) = try c.retrying(timeout: 15) { c in
                try c.sync(Self.path)
                return try c.getData(Self.path)
            }
            let seen = CASRegister.State(version: s.version, value: String(decoding: d, as: UTF8.self))
            history.complete(100 + i, .read, .ok(seen), invokedAt: at)
            finals.append("\(seen)")
        }
        let ops = history.ops
        let started = Date()
        let verdict = CASRegister.check(ops, initial: .init(version: 0, value: "init"))
        let checkSeconds = Date().timeIntervalSince(started)
        let count = { (o: CASRegister.Outcome) in ops.filter { $0.outcome == o }.count }
        FaultMatrix.report(10, "coordd-leader-kill-cas", run: run, [
            "ops": ops.count, "ok": ops.count - count(.fail) - count(.info), "fail": count(.fail), "info": count(.info),
            "cas_outage_s": outage, "final": finals.joined(separator: ","), "check_s": checkSeconds, "explored": verdict.explored,
        ])
        #expect(Set(finals).count == 1, "servers disagree on the register: \(finals)")
        #expect(verdict.linearizable, """
            not linearizable; longest linearizable prefix ends \(verdict.longestPrefix.suffix(5)); \
            ops not in it: \(ops.filter { o in !verdict.longestPrefix.contains { $0.invoke == o.invoke } }.prefix(8))
            """)
    }
}
