import CoordCore
import Protocol
import Testing

/// Scenario tests on the seeded simulator; every one also runs the safety checker throughout.
@Suite struct SimulationTests {
    /// Runs until one leader serves and every live server serves under it.
    func settle(_ sim: Simulator, withinMs ms: Int = 3000) -> Bool {
        sim.run(upToMs: ms) {
            guard let l = sim.leader else { return false }
            return sim.ids.allSatisfy { id in
                guard let p = sim.replicas[id]?.peer else { return true }
                return p.currentStatus.serving && p.leaderId == l
            }
        }
    }

    func writeAndWait(_ sim: Simulator, via id: UInt64, _ text: String, withinMs ms: Int = 2000) -> Bool {
        let origin = sim.write(via: id, text)
        return sim.run(upToMs: ms) { sim.isAcked(origin) }
    }

    func expectConverged(_ sim: Simulator, _ ids: [UInt64]) {
        let reference = sim.checker.history.map(\.zxid)
        for id in ids {
            sim.run(forMs: 0)
            #expect(sim.applied(id).map(\.zxid) == reference, "server \(id) did not converge")
        }
    }

    @Test func threeNodeColdStartElectsOneLeader() {
        let sim = Simulator(servers: 3, seed: 1)
        #expect(settle(sim, withinMs: 1000))
        #expect(sim.servingLeaders.count == 1)
        // Equal credentials: the highest id wins.
        #expect(sim.leader == 3)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func singleServerEnsembleCommitsAlone() {
        let sim = Simulator(servers: 1, seed: 2)
        #expect(settle(sim, withinMs: 200))
        #expect(writeAndWait(sim, via: 1, "solo", withinMs: 10))
        #expect(sim.checker.history.count == 1)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    /// Standalone coordd is this one-voter quorum: crashes (the unsynced tail lost or torn) never
    /// lose an acknowledged write, and each restart leads again in a new epoch.
    @Test func singleServerCrashesLoseNoAckedWrite() {
        let sim = Simulator(servers: 1, seed: 17)
        var acked: [RequestOrigin] = []
        for round in 0..<5 {
            #expect(settle(sim, withinMs: 500))
            for i in 0..<8 {
                let o = sim.write(via: 1, "r\(round)w\(i)")
                if i % 2 == 0, sim.run(upToMs: 500, until: { sim.isAcked(o) }) { acked.append(o) }
            }
            sim.crash(1)
            sim.restart(1)
        }
        #expect(settle(sim, withinMs: 500))
        #expect(acked.count >= 20)
        let zxids = Set(sim.applied(1).map(\.zxid))
        for o in acked { #expect(zxids.contains(sim.checker.acked[o] ?? .zero), "acked write \(o) lost") }
        #expect(sim.replicas[1]?.peer?.currentStatus.epoch ?? 0 >= 6)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func writesThroughFollowersCommitEverywhere() {
        let sim = Simulator(servers: 3, seed: 3)
        #expect(settle(sim))
        for i in 0..<20 {
            #expect(writeAndWait(sim, via: UInt64(i % 3 + 1), "w\(i)"))
        }
        sim.run(forMs: 200)
        #expect(sim.checker.history.count == 20)
        expectConverged(sim, sim.ids)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func killedLeaderIsReplacedQuicklyWithoutLosingAckedWrites() {
        let sim = Simulator(servers: 3, seed: 4)
        #expect(settle(sim))
        var acked: [RequestOrigin] = []
        for i in 0..<10 {
            let o = sim.write(via: UInt64(i % 3 + 1), "before\(i)")
            #expect(sim.run(upToMs: 2000) { sim.isAcked(o) })
            acked.append(o)
        }
        guard let old = sim.leader else { Issue.record("no leader"); return }
        sim.crash(old)
        let start = sim.now
        let replaced = sim.run(upToMs: 2000) { sim.leader != nil && sim.leader != old }
        #expect(replaced)
        // tick = 50 ms, syncLimit = 5 ticks: detection plus election well under a second.
        #expect(sim.now - start < 700, "new leader after \(sim.now - start) ms")
        guard let fresh = sim.leader else { return }
        let zxids = Set(sim.applied(fresh).map(\.zxid))
        for o in acked {
            #expect(zxids.contains(sim.checker.acked[o] ?? .zero), "acked write \(o) lost")
        }
        #expect(writeAndWait(sim, via: fresh, "after"))
        sim.restart(old)
        #expect(settle(sim))
        sim.run(forMs: 200)
        expectConverged(sim, sim.ids)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func connectionLossTriggersImmediateElection() {
        let sim = Simulator(servers: 3, seed: 5)
        #expect(settle(sim))
        guard let old = sim.leader else { Issue.record("no leader"); return }
        sim.crash(old)
        let start = sim.now
        // The runtime sees the TCP reset at once and tells the followers.
        for id in sim.ids where id != old { sim.run(id) { $0.connectionLost(to: old) } }
        #expect(sim.run(upToMs: 1000) { sim.leader != nil })
        #expect(sim.now - start < 400, "new leader after \(sim.now - start) ms")
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func minorityPartitionRefusesWritesAndMajorityContinues() {
        let sim = Simulator(servers: 3, seed: 6)
        #expect(settle(sim))
        guard let old = sim.leader else { Issue.record("no leader"); return }
        let rest = sim.ids.filter { $0 != old }
        sim.partition([[old], rest])
        let stranded = sim.write(via: old, "lost")
        #expect(sim.run(upToMs: 2000) { rest.allSatisfy(sim.isServing) && !sim.isServing(old) })
        #expect(!sim.isAcked(stranded))
        // The isolated server no longer takes writes.
        let before = sim.refused
        sim.write(via: old, "refused")
        #expect(sim.refused == before + 1)
        for i in 0..<5 { #expect(writeAndWait(sim, via: rest[i % 2], "majority\(i)")) }
        #expect(!sim.isAcked(stranded))
        sim.heal()
        #expect(settle(sim))
        sim.run(forMs: 300)
        // The old leader logged "lost" alone; rejoining truncates it.
        #expect(sim.replicas[old]!.truncations >= 1)
        #expect(!sim.isAcked(stranded))
        expectConverged(sim, sim.ids)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func healedPartitionResyncsByDiffThenBySnapshot() {
        let sim = Simulator(servers: 3, seed: 12)
        #expect(settle(sim))
        guard let l = sim.leader, let f = sim.ids.first(where: { $0 != l }) else { return }
        let rest = sim.ids.filter { $0 != f }
        sim.partition([[f], rest])
        for i in 0..<5 { #expect(writeAndWait(sim, via: l, "p\(i)")) }
        #expect(sim.run(upToMs: 1000) { !sim.isServing(f) })
        sim.heal()
        #expect(settle(sim))
        sim.run(forMs: 200)
        #expect(sim.replicas[f]!.snapshotsInstalled == 0 && sim.replicas[f]!.truncations == 0)
        expectConverged(sim, sim.ids)

        sim.partition([[f], rest])
        for i in 0..<5 { #expect(writeAndWait(sim, via: l, "q\(i)")) }
        for id in rest { sim.snapshot(id) }
        sim.heal()
        #expect(settle(sim))
        sim.run(forMs: 200)
        #expect(sim.replicas[f]!.snapshotsInstalled == 1)
        expectConverged(sim, sim.ids)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func followerThatPromisedTheEpochElsewhereTriggersAHigherEpoch() {
        let sim = Simulator(servers: 3, seed: 13)
        #expect(settle(sim))
        guard let l = sim.leader, let x = sim.ids.first(where: { $0 != l }) else { return }
        #expect(writeAndWait(sim, via: l, "a"))
        let epoch = sim.replicas[l]!.peer!.epochs.currentEpoch
        sim.crash(x)
        // As if x had promised this very epoch to a rival leader attempt that then failed.
        let rival = sim.ids.first { $0 != l && $0 != x }!
        sim.replicas[x]!.disk.epochs = QuorumEpochs(acceptedEpoch: epoch, acceptedLeader: rival, currentEpoch: epoch - 1)
        sim.restart(x)
        #expect(settle(sim))
        #expect(sim.replicas[x]!.peer!.epochs.currentEpoch > epoch)
        #expect(writeAndWait(sim, via: x, "b"))
        sim.run(forMs: 200)
        expectConverged(sim, sim.ids)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func restartedFollowerCatchesUpByDiff() {
        let sim = Simulator(servers: 3, seed: 7)
        #expect(settle(sim))
        guard let l = sim.leader, let f = sim.ids.first(where: { $0 != l }) else { return }
        #expect(writeAndWait(sim, via: l, "a"))
        sim.crash(f)
        for i in 0..<10 { #expect(writeAndWait(sim, via: l, "d\(i)")) }
        sim.restart(f)
        #expect(settle(sim))
        sim.run(forMs: 200)
        #expect(sim.replicas[f]!.snapshotsInstalled == 0)
        #expect(sim.replicas[f]!.truncations == 0)
        expectConverged(sim, sim.ids)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func followerBehindCompactedLogGetsSnapshot() {
        let sim = Simulator(servers: 3, seed: 8)
        #expect(settle(sim))
        guard let l = sim.leader, let f = sim.ids.first(where: { $0 != l }) else { return }
        #expect(writeAndWait(sim, via: l, "a"))
        sim.crash(f)
        for i in 0..<10 { #expect(writeAndWait(sim, via: l, "s\(i)")) }
        for id in sim.ids { sim.snapshot(id) }
        #expect(sim.replicas[l]!.peer!.logEntries.isEmpty)
        sim.restart(f)
        #expect(settle(sim))
        sim.run(forMs: 200)
        #expect(sim.replicas[f]!.snapshotsInstalled >= 1)
        #expect(writeAndWait(sim, via: f, "after-snap"))
        sim.run(forMs: 200)
        expectConverged(sim, sim.ids)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func followerTooFarBehindGetsSnapshotEvenWithLog() {
        var options = SimOptions()
        options.configure = { $0.maxDiffEntries = 3 }
        let sim = Simulator(servers: 3, seed: 9, options: options)
        #expect(settle(sim))
        guard let l = sim.leader, let f = sim.ids.first(where: { $0 != l }) else { return }
        sim.crash(f)
        for i in 0..<8 { #expect(writeAndWait(sim, via: l, "x\(i)")) }
        sim.restart(f)
        #expect(settle(sim))
        sim.run(forMs: 200)
        #expect(sim.replicas[f]!.snapshotsInstalled == 1)
        expectConverged(sim, sim.ids)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func fiveNodesSurviveTwoFailuresButNotThree() {
        let sim = Simulator(servers: 5, seed: 10)
        #expect(settle(sim))
        guard let first = sim.leader else { Issue.record("no leader"); return }
        #expect(writeAndWait(sim, via: first, "one"))
        sim.crash(first)
        #expect(sim.run(upToMs: 2000) { sim.leader != nil })
        guard let second = sim.leader else { return }
        let survivor = sim.ids.first { $0 != first && $0 != second }!
        sim.crash(survivor)
        #expect(writeAndWait(sim, via: second, "two", withinMs: 3000))
        let third = sim.ids.first { $0 != first && $0 != second && $0 != survivor }!
        sim.crash(third)
        let stuck = sim.write(via: second, "three")
        sim.run(forMs: 2000)
        #expect(!sim.isAcked(stuck))
        #expect(sim.servingLeaders.isEmpty)
        sim.restart(survivor)
        #expect(sim.run(upToMs: 3000) { sim.leader != nil })
        #expect(writeAndWait(sim, via: sim.leader ?? second, "four", withinMs: 3000))
        for id in [first, third] { sim.restart(id) }
        #expect(settle(sim))
        sim.run(forMs: 300)
        expectConverged(sim, sim.ids)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    @Test func syncCompletesAfterPriorWritesAreApplied() {
        let sim = Simulator(servers: 3, seed: 11)
        #expect(settle(sim))
        guard let l = sim.leader, let f = sim.ids.first(where: { $0 != l }) else { return }
        let w = sim.write(via: l, "w")
        sim.sync(via: f, xid: 77)
        #expect(sim.run(upToMs: 1000) { !sim.syncsDone.isEmpty })
        // The barrier cannot complete before the write it follows is applied at the follower.
        #expect(sim.isAcked(w))
        #expect(sim.applied(f).contains { $0.data == Array("w".utf8) })
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    /// The leader's proposal leaves before its own fsync; with one follower down, the other's ack
    /// alone is no quorum of durable copies, so nothing commits until the leader's disk finishes.
    @Test func leaderCountsItsOwnAckOnlyOnceItsLogIsDurable() {
        let sim = Simulator(servers: 3, seed: 12)
        #expect(settle(sim))
        guard let l = sim.leader, let f = sim.ids.first(where: { $0 != l }),
              let down = sim.ids.first(where: { $0 != l && $0 != f }) else { return }
        sim.crash(down)
        sim.replicas[l]!.diskHeld = true
        let w = sim.write(via: l, "held")
        // The follower got the proposal and logged it durably, while the leader's write hangs.
        #expect(sim.run(upToMs: 300) { sim.replicas[f]!.disk.log.contains { $0.data == Array("held".utf8) } })
        sim.run(forMs: 100)
        #expect(!sim.replicas[l]!.disk.log.contains { $0.data == Array("held".utf8) })
        #expect(!sim.isAcked(w))
        #expect(sim.checker.history.isEmpty)
        #expect(sim.replicas[l]!.peer!.commitZxid == .zero)
        sim.releaseDisk(l)
        #expect(sim.run(upToMs: 300) { sim.isAcked(w) })
        #expect(sim.checker.history.count == 1)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    /// Both followers durably logging an entry is a quorum without the leader: it commits while the
    /// leader's own write hangs, and survives the leader crashing before that write lands.
    @Test func followersAloneFormADurableQuorumAndSurviveTheLeaderLosingItsWrite() {
        let sim = Simulator(servers: 3, seed: 13)
        #expect(settle(sim))
        guard let l = sim.leader else { return }
        sim.replicas[l]!.diskHeld = true
        let w = sim.write(via: l, "fast")
        // Committed on the followers' durable copies: the leader may answer its client already.
        #expect(sim.run(upToMs: 300) { sim.isAcked(w) })
        #expect(!sim.replicas[l]!.disk.log.contains { $0.data == Array("fast".utf8) })
        // The leader dies with the write still in flight; the disk keeps a random part of it.
        sim.crash(l)
        #expect(sim.run(upToMs: 2000) { sim.leader != nil && sim.leader != l })
        sim.restart(l)
        #expect(settle(sim))
        sim.run(forMs: 200)
        expectConverged(sim, sim.ids)
        #expect(sim.applied(l).contains { $0.data == Array("fast".utf8) })
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }

    /// Unacked by a durable quorum, an entry the leader sent but lost in a crash may vanish;
    /// the ensemble stays consistent and keeps serving.
    @Test func entryOnlyOnOneFollowerAndALeaderThatLostItIsNeverCommitted() {
        let sim = Simulator(servers: 3, seed: 14)
        #expect(settle(sim))
        guard let l = sim.leader, let f = sim.ids.first(where: { $0 != l }),
              let other = sim.ids.first(where: { $0 != l && $0 != f }) else { return }
        sim.partition([[l, f], [other]])
        sim.replicas[l]!.diskHeld = true
        _ = sim.write(via: l, "maybe")
        #expect(sim.run(upToMs: 300) { sim.replicas[f]!.disk.log.contains { $0.data == Array("maybe".utf8) } })
        #expect(sim.checker.history.isEmpty)
        // Crash before the leader's write starts: it keeps none of it (the seeded disk decides).
        sim.replicas[l]!.jobs = []
        sim.crash(l)
        sim.heal()
        #expect(sim.run(upToMs: 3000) { sim.leader != nil })
        sim.restart(l)
        #expect(settle(sim))
        #expect(writeAndWait(sim, via: sim.leader ?? f, "after", withinMs: 3000))
        sim.run(forMs: 200)
        expectConverged(sim, sim.ids)
        #expect(sim.checker.violations.isEmpty, "\(sim.failureReport)")
    }
}
