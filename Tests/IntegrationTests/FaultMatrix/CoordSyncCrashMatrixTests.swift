import CoordClient
import Foundation
import Synchronization
import Testing

/// Fault matrix row 12 (ZOOKEEPER-3023, -4643, -4646, -3911): a coordd follower kill -9'd at an
/// exact step of its sync with a new leader — right after acknowledging NEWLEADER, while writing
/// a SNAP, while logging a DIFF — through coordd's test crash points (`COORDD_TEST_CRASH_AT`).
/// It restarts and syncs; then the leader is killed so the crashed follower's log counts.
/// Checker: every acknowledged create on every server, all trees equal.
@Suite(.serialized, .ownThreads) struct CoordSyncCrashMatrixTests {
    @Test(.timeLimit(.minutes(8)), arguments: ["after-ack-newleader", "during-snap", "during-diff"])
    func row12FollowerCrashDuringSync(_ point: String) throws {
        for run in 1...FaultMatrix.runs { try crashOnce(point, run: run) }
    }

    private func crashOnce(_ point: String, run: Int) throws {
        // A small snapCount compacts the leader's log, so a wiped follower needs a SNAP.
        let e = try EnsembleProcesses(extraConfig: point == "during-snap" ? "snapCount=20\n" : "")
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(followers: 2), "no leader:\n\(e.logs)")
        let victim = (leader + 1) % 3, other = (leader + 2) % 3
        let setup = try e.client([leader])
        defer { setup.close() }
        try setup.create("/r12")

        // A writer on the two servers that stay up records every acknowledged create.
        let acked = Mutex<[String]>([])
        let stop = Atomic<Bool>(false)
        let writer = try e.client([leader, other])
        defer { writer.close() }
        let done = DispatchSemaphore(value: 0)
        Thread {
            defer { done.signal() }
            var i = 0
            while !stop.load(ordering: .relaxed) {
                let p = "/r12/n\(i)"
                do {
                    try writer.create(p, data: Array("d\(i)".utf8))
                    acked.withLock { $0.append(p) }
                    i += 1
                } catch let err as CoordError where err.isNodeExists {
                    acked.withLock { $0.append(p) }
                    i += 1
                } catch {
                    usleep(10_000)
                }
                usleep(3_000)
            }
        }.start()
        let count = { acked.withLock { $0.count } }
        #expect(ProcessHarness.waitUntil(timeout: 20) { count() >= 30 })
        e.kill9(victim)
        if point == "during-snap" { try e.wipe(victim) }
        let behind = count()
        #expect(ProcessHarness.waitUntil(timeout: 20) { count() >= behind + 40 }, "writes stopped with one follower down:\n\(e.logs)")

        // Restart armed: it must die at the crash point.
        let t0 = Date()
        try e.start(victim, env: ["COORDD_TEST_CRASH_AT": point], wait: false)
        let crashed = ProcessHarness.waitUntil(timeout: 30, interval: 0.02) { e.procs[victim]?.isRunning == false }
        let crashLog = e.log(victim)
        #expect(crashed, "server \(victim + 1) did not reach crash point \(point):\n\(crashLog)")
        #expect(crashLog.contains("crash point \(point) reached"), "\(crashLog)")
        let crashedAfter = Date().timeIntervalSince(t0)

        // Restarted plainly it syncs again; then the leader dies, so the victim's log must be whole.
        try e.start(victim)
        let synced = ProcessHarness.waitUntil(timeout: 30, interval: 0.05) { e.mode(victim) == "follower" }
        #expect(synced, "server \(victim + 1) did not rejoin:\n\(e.log(victim))")
        let beforeKill = count()
        #expect(ProcessHarness.waitUntil(timeout: 20) { count() >= beforeKill + 20 })
        let killAt = Date()
        e.kill9(leader)
        let afterKill = count()
        let resumed = ProcessHarness.waitUntil(timeout: 30, interval: 0.01) { count() > afterKill + 5 }
        let outage = Date().timeIntervalSince(killAt)
        #expect(resumed, "writes did not resume after the leader's death:\n\(e.logs)")
        try e.start(leader)
        #expect(e.waitForLeader(followers: 2, timeout: 30) != nil, "no full ensemble again:\n\(e.logs)")
        stop.store(true, ordering: .relaxed)
        #expect(done.wait(timeout: .now() + 30) == .success)

        let trees = TreeChecker.trees(e, root: "/r12")
        let diff = TreeChecker.difference(trees)
        let all = acked.withLock { $0 }
        let missing = trees.enumerated().flatMap { i, t in all.filter { t?[$0] == nil }.prefix(5).map { "server \(i + 1) lacks \($0)" } }
        FaultMatrix.report(12, "follower-crash-\(point)", run: run, [
            "acked": all.count, "crashed_after_s": crashedAfter, "leader_kill_outage_s": outage, "trees_equal": diff == nil,
        ])
        #expect(diff == nil, "\(diff ?? "")\n\(e.logs)")
        #expect(missing.isEmpty, "\(missing)\n\(e.logs)")
    }
}
