import CoordClient
import Foundation
import KafkaClient
import Protocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Fault matrix row 17, brokers: broker 2's `log.dirs` is a small tmpfs that a filler file fills
/// while three producers run: acks=all to broker 1 (broker 2 follows, min.insync.replicas=2),
/// acks=all to broker 2 (it leads, RF 3) and acks=1 to broker 2 (RF 1). Small segments, an index
/// entry per batch and flush.messages=1 put rolls, index and checkpoint writes on the full disk too.
@Suite(.serialized, .ownThreads) struct BrokerDiskFullMatrixTests {
    static let lagMs = 2000

    @Test(.timeLimit(.minutes(6)), .enabled(if: Tmpfs.canRun, Comment(rawValue: Tmpfs.skipReason)))
    func row17BrokerDiskFullRefusesWritesAndRecoversInPlace() throws {
        for run in 1...FaultMatrix.runs { try diskFullOnce(run: run) }
    }

    private func diskFullOnce(run: Int) throws {
        var tmpfs: Tmpfs?
        defer { tmpfs?.unmount() }
        let cluster = try BrokerCluster(
            brokers: 3,
            extraConfig: """
                replica.lag.time.max.ms=\(Self.lagMs)
                min.insync.replicas=2
                log.segment.bytes=4096
                log.index.interval.bytes=1
                log.flush.interval.messages=1
                """,
            prepareLogDir: { id, path in
                if id == 2 && tmpfs == nil { tmpfs = try Tmpfs(at: path, bytes: 8 << 20) }
            })
        defer {
            // Processes first, then the mount, then the (now plain) directories.
            cluster.cleanup()
            tmpfs?.unmount()
            ProcessHarness.removeDir(cluster.dir)
        }
        let disk = try #require(tmpfs)
        let followed = "fm-full-f", led = "fm-full-l", single = "fm-full-1"
        try GroupSupport.createTopic(cluster, followed, partitions: 1, rf: 3, assignment: [[1, 2, 3]], via: 1)
        try GroupSupport.createTopic(cluster, led, partitions: 1, rf: 3, assignment: [[2, 1, 3]], via: 1)
        try GroupSupport.createTopic(cluster, single, partitions: 1, rf: 1, assignment: [[2]], via: 1)
        let zk = try cluster.coordClient()
        defer { zk.close() }
        for (t, leader, isr) in [(followed, 1, [1, 2, 3]), (led, 2, [1, 2, 3]), (single, 2, [2])] {
            #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.1) {
                cluster.partitionState(t, via: zk).map { $0.leader == leader && $0.isr == isr } ?? false
            }, "\(t) not ready: \(String(describing: cluster.partitionState(t, via: zk)))")
        }
        let toFollowed = RawLedgerProducer(cluster: cluster, broker: 1, topic: followed)
        let toLed = RawLedgerProducer(cluster: cluster, broker: 2, topic: led)
        let acks1 = RawLedgerProducer(cluster: cluster, broker: 2, topic: single, acks: 1)
        let producers = [toFollowed, toLed, acks1]
        producers.forEach { $0.start(pauseMs: 5) }
        #expect(ProcessHarness.waitUntil(timeout: 20) { producers.allSatisfy { $0.acked.count >= 30 } }, "\(cluster.logs)")

        // Fill the disk, give back a few pages so the next appends fill them and end short, and
        // wait until broker 2 refuses writes.
        let fillAt = Date()
        disk.fill(slack: 24 << 10)
        let refusing = ProcessHarness.waitUntil(timeout: 15) {
            acks1.outcomes.get().contains { $0.at > fillAt && $0.error == .kafkaStorageError }
        }
        let fullAt = Date()
        #expect(refusing, "no KAFKA_STORAGE_ERROR on broker 2 with its disk full (free \(disk.freeBytes))\n\(cluster.logs)")
        disk.fill()  // whatever the slack left
        let shrank = ProcessHarness.waitUntil(timeout: Double(Self.lagMs) / 1000 * 3 + 5, interval: 0.05) {
            cluster.partitionState(followed, via: zk)?.isr == [1, 3]
        }
        let shrinkTime = Date().timeIntervalSince(fullAt)
        #expect(shrank, "broker 2 with a full disk stayed in the ISR: \(String(describing: cluster.partitionState(followed, via: zk)))")
        let followedAcksAfterShrink = ProcessHarness.waitUntil(timeout: 10) { !toFollowed.ackedBetween(fullAt.addingTimeInterval(shrinkTime), Date()).isEmpty }
        #expect(followedAcksAfterShrink, "broker 1 did not acknowledge acks=all with broker 2 out of the ISR")
        usleep(UInt32(FaultMatrix.seconds("DISK_FULL", quick: 1.5, full: 10) * 1_000_000))

        // Space returns: broker 2 takes writes again in place, and rejoins the ISR.
        let freeAt = Date()
        let alive = cluster.procs[2]?.isRunning == true
        disk.removeFiller()
        let resumed = ProcessHarness.waitUntil(timeout: 15) { !acks1.ackedBetween(freeAt, Date()).isEmpty && !toLed.ackedBetween(freeAt, Date()).isEmpty }
        let resumeTime = Date().timeIntervalSince(freeAt)
        let rejoined = ProcessHarness.waitUntil(timeout: 20, interval: 0.05) { cluster.partitionState(followed, via: zk)?.isr == [1, 2, 3] }
        let rejoinTime = Date().timeIntervalSince(freeAt)
        usleep(300_000)
        producers.forEach { $0.stop() }

        let refusedWhileFull = [toLed, acks1].map { p in p.outcomes.get().filter { $0.at > fullAt && $0.at < freeAt && $0.error != nil } }
        let codes = Set(refusedWhileFull.flatMap { $0 }.compactMap(\.error))
        let log2 = cluster.procs[2]?.stderrText ?? ""
        FaultMatrix.report(17, "broker-disk-full", run: run, [
            "isr_shrink_s": shrinkTime, "refused_led": refusedWhileFull[0].count, "refused_acks1": refusedWhileFull[1].count,
            "followed_acks_all_outage_s": toFollowed.longestGap(fillAt, freeAt), "write_outage_s": acks1.longestGap(fillAt, Date()), "resume_after_free_s": resumeTime, "isr_rejoin_s": rejoinTime,
            "acked": producers.map { $0.acked.count }.map(String.init).joined(separator: "/"),
        ])
        #expect(alive, "broker 2 died on a full disk:\n\(log2)")
        #expect(resumed, "broker 2 did not take writes again after space returned\n\(log2)")
        #expect(rejoined, "broker 2 did not rejoin the ISR: \(String(describing: cluster.partitionState(followed, via: zk)))")
        #expect(codes.isSubset(of: [.kafkaStorageError, .notEnoughReplicas, .notEnoughReplicasAfterAppend, .requestTimedOut]),
                "unexpected answers on a full disk: \(codes)")
        #expect(log2.contains("disk full") && !log2.contains("offline until restart"), "broker 2's log:\n\(log2.suffix(3000))")

        // Every acknowledged record is there, once, at its offset; replicas equal; nothing torn.
        for (p, brokers) in [(toFollowed, [Int32(1), 2, 3]), (toLed, [2, 1, 3]), (acks1, [2])] {
            let got = try cluster.readPartition(p.topic, brokers: brokers, count: p.acked.count, timeout: 30)
            let problems = p.check(got)
            #expect(problems.isEmpty, "\(p.topic): \(problems)")
            let converged = ProcessHarness.waitUntil(timeout: 20, interval: 0.2) { ReplicaLogs.difference(cluster, p.topic, brokers: brokers) == nil }
            #expect(converged, "\(p.topic): \(ReplicaLogs.difference(cluster, p.topic, brokers: brokers) ?? "")")
            for b in brokers {
                let dir = ReplicaLogs.partitionDir(cluster, b, p.topic)
                #expect(ReplicaLogs.wellFormed(ReplicaLogs.entries(dir)) == nil, "\(p.topic) on broker \(b): \(ReplicaLogs.wellFormed(ReplicaLogs.entries(dir)) ?? "")")
                if b == 2 { #expect(ReplicaLogs.segments(dir).count >= 2, "\(p.topic) on broker 2 never rolled: the roll path went untested") }
                #expect(ReplicaLogs.tornBytes(dir).isEmpty, "\(p.topic) on broker \(b) has bytes that are no whole batch: \(ReplicaLogs.tornBytes(dir))")
            }
        }
    }
}
