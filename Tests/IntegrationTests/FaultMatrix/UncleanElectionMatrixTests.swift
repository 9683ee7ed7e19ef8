import CoordClient
import Foundation
import Protocol
import Testing

/// Fault matrix row 5, second half: with `unclean.leader.election.enable=true` the Jepsen-2013
/// sequence loses the records only the old leader held, and the controller says so: a log line
/// per unclean election with a running `unclean_leader_elections_total`.
@Suite(.serialized, .ownThreads) struct UncleanElectionMatrixTests {
    @Test(.timeLimit(.minutes(6))) func row5UncleanElectionCountsThePossibleLoss() throws {
        for run in 1...FaultMatrix.runs { try uncleanOnce(run: run) }
    }

    private func uncleanOnce(run: Int) throws {
        let cluster = try BrokerCluster(brokers: 2, extraConfig: "unclean.leader.election.enable=true\nauto.leader.rebalance.enable=false")
        defer { cluster.cleanup() }
        let topic = "fm-unclean"
        try GroupSupport.createTopic(cluster, topic, partitions: 1, rf: 2, assignment: [[1, 2]], via: 1)
        let zk = try cluster.coordClient()
        defer { zk.close() }
        #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.1) { cluster.partitionState(topic, via: zk).map { $0.leader == 1 && $0.isr == [1, 2] } ?? false })
        let acks = LogDivergenceMatrixTests.Acks()
        for i in 0..<5 { #expect(acks.send(cluster, 1, topic, "both\(i)")) }
        cluster.kill9(2)
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.1) { cluster.partitionState(topic, via: zk)?.isr == [1] })
        // Acknowledged by the leader alone (ISR = [1], min.insync.replicas=1).
        for i in 0..<5 { #expect(acks.send(cluster, 1, topic, "alone\(i)")) }
        let t0 = Date()
        cluster.kill9(1)
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.1) { (try? zk.exists("\(cluster.chroot)/brokers/ids/1")) ?? nil == nil })
        try cluster.startBroker(2)
        let elected = ProcessHarness.waitUntil(timeout: 30, interval: 0.05) { cluster.partitionState(topic, via: zk)?.leader == 2 }
        let electedAfter = Date().timeIntervalSince(t0)
        #expect(elected, "no unclean election: \(String(describing: cluster.partitionState(topic, via: zk)))\n\(cluster.logs)")
        let log = ReplicaLogs.entries(ReplicaLogs.partitionDir(cluster, 2, topic))
        let lost = acks.problems(log).count
        let counted = ProcessHarness.waitUntil(timeout: 10) {
            cluster.procs[2]?.stderrText.contains("unclean leader election: \(topic)-0 led by out-of-sync broker 2 (last ISR [1])") == true
        }
        let line = cluster.procs[2]?.stderrText.split(separator: "\n").first { $0.contains("unclean_leader_elections_total=") } ?? ""
        FaultMatrix.report(5, "unclean-election-counted", run: run, [
            "acked": acks.offsets.count, "lost": lost, "elected_after_s": electedAfter, "counted": counted,
        ])
        #expect(lost == 5, "expected exactly the 5 records acked by the old leader alone to be lost, got \(lost)")
        #expect(counted, "no unclean election line in the controller's log:\n\(cluster.logs)")
        #expect(line.hasSuffix("unclean_leader_elections_total=1)"), "\(line)")
    }
}
