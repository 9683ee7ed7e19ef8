import CoordClient
import FaultProxy
import Foundation
import KafkaClient
import Protocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Fault matrix rows 4 and 5: follower fetch links cut by the fault proxy in front of the leader.
@Suite(.serialized, .ownThreads) struct ReplicationMatrixTests {
    static let lagMs = 2000

    /// Row 4: the follower cut off from the leader leaves the ISR within replica.lag.time.max.ms
    /// (the leader keeps acknowledging with min.insync.replicas=1) and comes back after healing
    /// with every acknowledged record: it is then made leader and read.
    @Test(.timeLimit(.minutes(6))) func row4FollowerIsolatedShrinksAndReexpandsTheISR() throws {
        for run in 1...FaultMatrix.runs { try followerIsolatedOnce(run: run) }
    }

    private func followerIsolatedOnce(run: Int) throws {
        let proxies = AdvertisedProxies([1])
        defer { proxies.stop() }
        let cluster = try BrokerCluster(brokers: 2, extraConfig: "replica.lag.time.max.ms=\(Self.lagMs)", brokerConfig: proxies.config)
        defer { cluster.cleanup() }
        let topic = "fm-isr"
        try GroupSupport.createTopic(cluster, topic, partitions: 1, rf: 2, assignment: [[1, 2]], via: 2)
        let zk = try cluster.coordClient()
        defer { zk.close() }
        #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.1) { cluster.partitionState(topic, via: zk).map { $0.leader == 1 && $0.isr == [1, 2] } ?? false })
        let producer = RawLedgerProducer(cluster: cluster, broker: 1, topic: topic)
        producer.start()
        #expect(ProcessHarness.waitUntil(timeout: 20) { producer.acked.count >= 20 }, "\(cluster.logs)")

        let t0 = Date()
        try #require(proxies[1]).set(.blackhole)
        let shrank = ProcessHarness.waitUntil(timeout: Double(Self.lagMs) / 1000 * 3 + 5, interval: 0.05) {
            cluster.partitionState(topic, via: zk)?.isr == [1]
        }
        let shrinkTime = Date().timeIntervalSince(t0)
        #expect(shrank, "ISR did not shrink: \(String(describing: cluster.partitionState(topic, via: zk)))\n\(cluster.logs)")
        #expect(shrinkTime < Double(Self.lagMs) / 1000 * 2 + 2, "ISR shrank after \(shrinkTime) s with replica.lag.time.max.ms=\(Self.lagMs)")
        // The leader acknowledges again once it no longer waits for the follower.
        let ackedAlone = ProcessHarness.waitUntil(timeout: 5) { !producer.ackedBetween(t0.addingTimeInterval(shrinkTime), Date()).isEmpty }
        #expect(ackedAlone, "no acknowledgement with the follower out of the ISR")
        usleep(500_000)

        let healAt = Date()
        try #require(proxies[1]).set(.pass)
        let reexpanded = ProcessHarness.waitUntil(timeout: 20, interval: 0.05) { cluster.partitionState(topic, via: zk)?.isr == [1, 2] }
        let expandTime = Date().timeIntervalSince(healAt)
        #expect(reexpanded, "ISR did not re-expand: \(String(describing: cluster.partitionState(topic, via: zk)))\n\(cluster.logs)")
        usleep(300_000)
        producer.stop()
        let outage = producer.longestGap(t0, healAt)

        // The follower holds everything acknowledged: kill the leader, read from the follower.
        cluster.kill9(1)
        #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.1) { cluster.partitionState(topic, via: zk)?.leader == 2 })
        let got = try cluster.readPartition(topic, brokers: [2], count: producer.acked.count, timeout: 20)
        let problems = producer.check(got)
        FaultMatrix.report(4, "follower-isolated", run: run, [
            "isr_shrink_s": shrinkTime, "produce_outage_s": outage, "isr_reexpand_s": expandTime,
            "acked": producer.acked.count, "read_from_follower": got.count,
        ])
        #expect(problems.isEmpty, "\(problems)\n\(cluster.logs)")
    }

    /// Row 5, Jepsen 2013: both followers cut off from the leader, then the leader dies. With
    /// min.insync.replicas=2 the lone leader refuses acks=all writes instead of acknowledging what
    /// only it holds, no out-of-sync follower is elected, and nothing acknowledged is lost.
    @Test(.timeLimit(.minutes(6))) func row5Jepsen2013IsolateFollowersThenKillTheLeader() throws {
        for run in 1...FaultMatrix.runs { try jepsen2013Once(run: run) }
    }

    private func jepsen2013Once(run: Int) throws {
        let proxies = AdvertisedProxies([1])
        defer { proxies.stop() }
        let cluster = try BrokerCluster(brokers: 3, extraConfig: "replica.lag.time.max.ms=\(Self.lagMs)\nmin.insync.replicas=2",
                                        brokerConfig: proxies.config)
        defer { cluster.cleanup() }
        let topic = "fm-jepsen"
        try GroupSupport.createTopic(cluster, topic, partitions: 1, rf: 3, assignment: [[1, 2, 3]], via: 2)
        let zk = try cluster.coordClient()
        defer { zk.close() }
        #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.1) { cluster.partitionState(topic, via: zk).map { $0.leader == 1 && $0.isr == [1, 2, 3] } ?? false })
        let producer = RawLedgerProducer(cluster: cluster, broker: 1, topic: topic)
        producer.start()
        #expect(ProcessHarness.waitUntil(timeout: 20) { producer.acked.count >= 20 }, "\(cluster.logs)")

        let t0 = Date()
        try #require(proxies[1]).set(.blackhole)
        let shrank = ProcessHarness.waitUntil(timeout: Double(Self.lagMs) / 1000 * 3 + 5, interval: 0.05) {
            cluster.partitionState(topic, via: zk)?.isr == [1]
        }
        let shrinkTime = Date().timeIntervalSince(t0)
        #expect(shrank, "ISR did not shrink to the leader: \(String(describing: cluster.partitionState(topic, via: zk)))\n\(cluster.logs)")
        usleep(1_500_000)
        let killAt = Date()
        // Replies in flight at the cut may still arrive; after that, an acknowledgement is a lie.
        let ackedAlone = producer.ackedBetween(t0.addingTimeInterval(0.3), killAt)
        let refused = producer.outcomes.get().filter { $0.at > t0 && $0.at < killAt && $0.error == .notEnoughReplicas }.count
        #expect(ackedAlone.isEmpty, "acknowledged with only the leader in sync: \(ackedAlone.prefix(5).map(\.value))")
        #expect(refused > 0, "no NOT_ENOUGH_REPLICAS while the ISR was the leader alone: \(producer.outcomes.get().suffix(5).map { "\($0.error.map { "\($0)" } ?? "ok")" })")

        cluster.kill9(1)
        producer.stop()
        try #require(proxies[1]).set(.pass)
        // No unclean election: neither out-of-sync follower may lead.
        usleep(UInt32(3_000_000))
        let state = cluster.partitionState(topic, via: zk)
        #expect(state.map { $0.leader != 2 && $0.leader != 3 } ?? false, "an out-of-sync follower was elected: \(String(describing: state))")

        let restartAt = Date()
        try cluster.startBroker(1)
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.1) { cluster.partitionState(topic, via: zk)?.leader == 1 })
        let back = Date().timeIntervalSince(restartAt)
        let got = try cluster.readPartition(topic, brokers: [1, 2, 3], count: producer.acked.count, timeout: 20)
        let problems = producer.check(got)
        FaultMatrix.report(5, "jepsen-2013", run: run, [
            "isr_shrink_s": shrinkTime, "refused_not_enough_replicas": refused, "acked_while_alone": ackedAlone.count,
            "leader_after_kill": state?.leader ?? -99, "restart_to_leader_s": back, "acked": producer.acked.count,
        ])
        #expect(problems.isEmpty, "\(problems)\n\(cluster.logs)")
    }
}
