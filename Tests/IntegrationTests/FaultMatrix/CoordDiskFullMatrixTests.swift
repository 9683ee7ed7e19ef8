import CoordClient
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Fault matrix row 17, coordd: every server's dataDir is a small tmpfs; under a write load one
/// of them (a follower, or the leader) is filled. The server whose txn log cannot be written
/// exits naming the file, so it acknowledges nothing it did not persist; the majority keeps
/// committing; once space returns it is restarted, rejoins, and every tree is equal and holds
/// every acknowledged write. A snapshot that fails on the full disk leaves the previous one.
@Suite(.serialized, .ownThreads) struct CoordDiskFullMatrixTests {
    struct Attempt {
        let path: String
        let at: Date
        let ok: Bool
    }

    @Test(.timeLimit(.minutes(6)), .enabled(if: Tmpfs.canRun, Comment(rawValue: Tmpfs.skipReason)), arguments: ["follower", "leader"])
    func row17CoordServerDiskFull(_ role: String) throws {
        for run in 1...FaultMatrix.runs { try diskFullOnce(role, run: run) }
    }

    private func diskFullOnce(_ role: String, run: Int) throws {
        var disks: [Tmpfs] = []
        defer { disks.forEach { $0.unmount() } }
        let e = try EnsembleProcesses(extraConfig: "snapCount=100\n", prepareDataDir: { _, path in
            disks.append(try Tmpfs(at: path, bytes: 4 << 20))
        })
        defer {
            // Processes first, then the mounts, then the (now plain) directories.
            e.cleanup()
            disks.forEach { $0.unmount() }
            ProcessHarness.removeDir(e.dir)
        }
        let leader = try #require(e.waitForLeader(), "no leader:\n\(e.logs)")
        let target = role == "leader" ? leader : (leader + 1) % 3
        let others = (0..<3).filter { $0 != target }
        let setup = try e.client(others)
        try setup.create("/acked")
        setup.close()

        // One writer on the target alone, one on the others.
        let onTarget = try e.client([target], timeoutMs: 4000)
        let onOthers = try e.client(others, timeoutMs: 6000)
        defer { onTarget.close(); onOthers.close() }
        let attempts = Mutex<[Attempt]>([])
        let stop = Atomic<Bool>(false)
        let group = DispatchGroup()
        let payload = [UInt8](repeating: 0x61, count: 200)
        for (name, c) in [("t", onTarget), ("o", onOthers)] {
            onOwnThread(group: group) {
                var i = 0
                while !stop.load(ordering: .relaxed) {
                    let path = "/acked/\(name)-\(i)"
                    let ok: Bool
                    do {
                        _ = try c.create(path, data: payload)
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
        defer {
            stop.store(true, ordering: .relaxed)
            _ = group.wait(timeout: .now() + 30)
        }
        #expect(ProcessHarness.waitUntil(timeout: 20) { attempts.withLock { a in a.filter(\.ok).count >= 300 } })
        let snapsBefore = Self.snapshots(e.dataDir(target))

        // Fill the target's disk but for 256 KiB: snapshots (every 100 txns, the whole tree) outgrow
        // that before the log does, so one fails first and must be skipped, then the log fills
        // and its last write ends short.
        let fillAt = Date()
        disks[target].fill(slack: 256 << 10)
        let exited = ProcessHarness.waitUntil(timeout: 20, interval: 0.02) { e.procs[target]?.isRunning != true }
        let exitTime = Date().timeIntervalSince(fillAt)
        let targetLog = e.log(target)
        #expect(exited, "server \(target + 1) kept running with a full disk:\n\(targetLog.suffix(3000))")
        #expect(targetLog.contains("FATAL") && targetLog.contains("No space left on device") && targetLog.contains(e.dataDir(target)),
                "no clear message naming the file:\n\(targetLog.suffix(3000))")
        let snapshotSkipped = targetLog.contains("not written")
        #expect(snapshotSkipped, "no snapshot failed on the full disk before the log did (the test lost its point):\n\(targetLog.suffix(3000))")
        // What a full disk left behind: the newest earlier snapshot whole, no half snapshot.
        let snapsAfter = Self.snapshots(e.dataDir(target))
        #expect(snapsAfter.contains { !$0.hasSuffix(".tmp") && Self.snapshotIsWhole($0) }, "no whole snapshot left: before \(snapsBefore), after \(snapsAfter)")
        #expect(!snapsAfter.contains { $0.hasSuffix(".tmp") }, "a half-written snapshot was left on the full disk: \(snapsAfter)")

        // The majority keeps committing.
        let commitsAfter = Date()
        let majority = ProcessHarness.waitUntil(timeout: 20) {
            attempts.withLock { a in a.contains { $0.ok && $0.path.hasPrefix("/acked/o-") && $0.at > commitsAfter } }
        }
        #expect(majority, "the majority stopped committing:\n\(e.logs.suffix(4000))")
        usleep(500_000)

        // Space returns; the server is restarted and rejoins.
        disks[target].removeFiller()
        let restartAt = Date()
        try e.start(target)
        let rejoined = e.waitForLeader(followers: 2, timeout: 30)
        let rejoinTime = Date().timeIntervalSince(restartAt)
        #expect(rejoined != nil, "no full quorum after the restart:\n\(e.logs.suffix(4000))")
        let targetWrites = ProcessHarness.waitUntil(timeout: 20) {
            attempts.withLock { a in a.contains { $0.ok && $0.path.hasPrefix("/acked/t-") && $0.at > restartAt } }
        }
        #expect(targetWrites, "the restarted server's client could not write again")
        usleep(300_000)
        stop.store(true, ordering: .relaxed)
        #expect(group.wait(timeout: .now() + 30) == .success, "writers did not stop")

        let all = attempts.withLock { $0 }
        let acked = Set(all.filter(\.ok).map(\.path))
        // The majority's longest pause in acknowledging, from the fill to the restart.
        let okTimes = [fillAt] + all.filter { $0.ok && $0.path.hasPrefix("/acked/o-") && $0.at > fillAt && $0.at < restartAt }.map(\.at) + [restartAt]
        let majorityOutage = zip(okTimes, okTimes.dropFirst()).map { $1.timeIntervalSince($0) }.max() ?? -1
        let trees = TreeChecker.trees(e)
        FaultMatrix.report(17, "coordd-disk-full-\(role)", run: run, [
            "server_exit_s": exitTime, "majority_write_outage_s": majorityOutage, "rejoin_s": rejoinTime,
            "snapshot_skipped": snapshotSkipped, "acked": acked.count,
            "errors": all.filter { !$0.ok }.count,
        ])
        for (i, t) in trees.enumerated() {
            let missing = acked.filter { t?[$0] == nil }
            #expect(missing.isEmpty, "server \(i + 1) lacks \(missing.count) acknowledged writes, e.g. \(missing.prefix(5))")
        }
        let diff = TreeChecker.difference(trees)
        #expect(diff == nil, "trees differ: \(diff ?? "")")
    }

    /// Snapshot file paths under a dataDir (temp files included), oldest first.
    static func snapshots(_ dataDir: String) -> [String] {
        let names = (FileManager.default.enumerator(atPath: dataDir)?.allObjects as? [String]) ?? []
        return names.filter { ($0 as NSString).lastPathComponent.hasPrefix("snapshot.") }.map { dataDir + "/" + $0 }.sorted()
    }

    /// The header's payload length matches the file (docs/coordd.md: magic, version, zxid, length, CRC).
    static func snapshotIsWhole(_ path: String) -> Bool {
        guard let d = FileManager.default.contents(atPath: path), d.count >= 28 else { return false }
        let b = [UInt8](d)
        let len = b[16..<24].reduce(0) { $0 << 8 | Int($1) }
        return len == b.count - 28
    }
}
