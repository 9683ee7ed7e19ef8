import CoordClient
import FaultProxy
import Foundation
import Protocol
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Fault matrix row 11: the coordd leader cut off from both followers by fault proxies on its
/// quorum links (its clients still reach it). It must stop acknowledging, the majority must elect,
/// the minority's clients see errors, never success; after healing all trees are equal and every
/// acknowledged write is everywhere.
@Suite(.serialized, .ownThreads) struct CoordIsolationMatrixTests {
    /// One write attempt: when it returned and whether it was acknowledged.
    struct Attempt {
        let path: String
        let at: Date
        let ok: Bool
    }

    @Test(.timeLimit(.minutes(6))) func row11LeaderIsolatedInAMinority() throws {
        for run in 1...FaultMatrix.runs { try isolateLeaderOnce(run: run) }
    }

    private func isolateLeaderOnce(run: Int) throws {
        let pe = try ProxiedEnsemble()
        defer { pe.cleanup() }
        let e = pe.ensemble
        let leader = try #require(e.waitForLeader(), "no leader:\n\(e.logs)")
        let others = (0..<3).filter { $0 != leader }
        let setup = try e.client(others)
        defer { setup.close() }
        try setup.create("/acked")
        try setup.create("/reg", data: Array("0".utf8))

        let minority = try e.client([leader], timeoutMs: 4000)
        let majority = try e.client(others, timeoutMs: 6000)
        defer { minority.close(); majority.close() }
        let attempts = Mutex<[Attempt]>([])
        let stop = Atomic<Bool>(false)
        let group = DispatchGroup()
        for (name, c) in [("m", minority), ("M", majority)] {
            onOwnThread(group: group) {
                var i = 0
                while !stop.load(ordering: .relaxed) {
                    let path = "/acked/\(name)-\(i)"
                    let ok: Bool
                    do {
                        _ = try c.create(path)
                        ok = true
                    } catch let err as CoordError where err.isNodeExists {
                        ok = true  // an earlier attempt landed before its reply was lost
                    } catch {
                        ok = false
                        usleep(20_000)
                    }
                    attempts.withLock { $0.append(Attempt(path: path, at: Date(), ok: ok)) }
                    if ok { i += 1 }
                }
            }
        }
        // Both sides write while the ensemble is whole.
        #expect(ProcessHarness.waitUntil(timeout: 10) { attempts.withLock { a in a.filter { $0.ok }.count >= 40 } })

        let t0 = Date()
        pe.isolate(leader)
        // The majority elects and takes writes again; the isolated leader gives up its role.
        var resumed: Double?
        var version: Int32 = 0
        while Date().timeIntervalSince(t0) < 20 {
            if let s = try? majority.setData("/reg", data: Array("after".utf8)) {
                resumed = Date().timeIntervalSince(t0)
                version = s.version
                break
            }
            usleep(5000)
        }
        let stepDown: Double? = ProcessHarness.waitUntil(timeout: 15, interval: 0.02) { e.mode(leader) != "leader" }
            ? Date().timeIntervalSince(t0) : nil
        // Reads on the minority side after the majority moved on: stale once the old leader stepped down is a bug.
        var staleAfterStepDown = 0, minorityReads = 0
        let readUntil = Date().addingTimeInterval(2)
        while Date() < readUntil {
            if let (_, stat) = try? minority.getData("/reg") {
                minorityReads += 1
                if stat.version < version, let sd = stepDown, Date().timeIntervalSince(t0) > sd + 0.5 { staleAfterStepDown += 1 }
            }
            usleep(20_000)
        }
        let healAt = Date()
        pe.heal()
        let rejoined = e.waitForLeader(followers: 2, timeout: 30)
        let healed = Date().timeIntervalSince(healAt)
        usleep(300_000)
        stop.store(true, ordering: .relaxed)
        #expect(group.wait(timeout: .now() + 30) == .success, "writers did not stop")

        let all = attempts.withLock { $0 }
        // Replies to writes committed just before the cut may still be on their way.
        let staleSuccess = all.filter { $0.ok && $0.path.hasPrefix("/acked/m-") && $0.at > t0.addingTimeInterval(0.3) && $0.at < healAt }
        let minorityErrors = all.filter { !$0.ok && $0.path.hasPrefix("/acked/m-") && $0.at > t0 && $0.at < healAt }.count
        FaultMatrix.report(11, "coordd-leader-isolated", run: run, [
            "majority_write_outage_s": resumed ?? -1, "old_leader_stepped_down_s": stepDown ?? -1,
            "minority_errors": minorityErrors, "minority_successes_while_isolated": staleSuccess.count,
            "minority_reads": minorityReads, "stale_reads_after_step_down": staleAfterStepDown, "heal_to_quorum_s": healed,
        ])
        #expect(resumed != nil && resumed! < 10, "the majority did not take writes within 10 s:\n\(e.logs)")
        #expect(stepDown != nil, "the isolated leader \(leader + 1) never gave up leading:\n\(e.log(leader))")
        #expect(staleSuccess.isEmpty, "the isolated leader acknowledged writes: \(staleSuccess.prefix(5).map(\.path))")
        #expect(minorityErrors > 0, "the minority's client saw no error while cut off")
        #expect(staleAfterStepDown == 0, "\(staleAfterStepDown) stale reads served after the old leader stepped down")
        #expect(rejoined != nil, "no full quorum after healing:\n\(e.logs)")

        let acked = Set(all.filter(\.ok).map(\.path))
        #expect(acked.count >= 40)
        let trees = TreeChecker.trees(e)
        for (i, t) in trees.enumerated() {
            let missing = acked.filter { t?[$0] == nil }
            #expect(missing.isEmpty, "server \(i + 1) lacks \(missing.count) acknowledged writes, e.g. \(missing.prefix(5))")
        }
        let diff = TreeChecker.difference(trees)
        #expect(diff == nil, "trees differ after healing: \(diff ?? "")")
    }
}
