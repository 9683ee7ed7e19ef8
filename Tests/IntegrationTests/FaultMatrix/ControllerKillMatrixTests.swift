import CoordClient
import Foundation
import KafkaClient
import Protocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Fault matrix row 3: the controller kill -9'd twice while topics are being created and
/// leaders move (the killed controller leads partitions; on its return the preferred-leader
/// rebalance moves them back). Checker: every topic that exists at the end has a live leader on
/// every partition (none stays offline), and every acks=all record is readable.
@Suite(.serialized, .ownThreads) struct ControllerKillMatrixTests {
    @Test(.timeLimit(.minutes(6))) func row3ControllerKillDuringTopicCreationAndLeaderMoves() throws {
        for run in 1...FaultMatrix.runs { try controllerKillOnce(run: run) }
    }

    static func controller(_ cluster: BrokerCluster, via zk: CoordClient) -> Int32? {
        (cluster.znodeJSON(zk, "\(cluster.chroot)/controller")?["brokerid"] as? Int).map(Int32.init)
    }

    private func controllerKillOnce(run: Int) throws {
        let cluster = try BrokerCluster(brokers: 3, extraConfig: """
            replica.lag.time.max.ms=10000
            min.insync.replicas=2
            auto.leader.rebalance.enable=true
            leader.imbalance.check.interval.seconds=1
            """)
        defer { cluster.cleanup() }
        let zk = try cluster.coordClient()
        defer { zk.close() }
        let base = "fm-ctl"
        try GroupSupport.createTopic(cluster, base, partitions: 3, rf: 3, via: 1)
        let p = try BrokerSessionMatrixTests.PacedProducer(BrokerSessionMatrixTests.servers(cluster), topic: base)
        p.start()
        #expect(ProcessHarness.waitUntil(timeout: 30) { p.ledger.acked.get().count >= 30 }, "\(cluster.logs)")

        // Topic creation on its own thread, through whichever broker answers.
        let created = SyncBox<[String: String]>([:])
        let stopCreating = SyncBox<Bool>(false)
        let creatorDone = DispatchSemaphore(value: 0)
        let ports = (1...3).map { cluster.port(Int32($0)) }
        Thread {
            defer { creatorDone.signal() }
            var i = 0
            while !stopCreating.get() {
                let name = "fm-ctl-t\(i)"
                i += 1
                var outcome = "unreachable"
                for port in ports.shuffled() {
                    guard let raw = try? RawKafka(port: port) else { continue }
                    let t = CreateTopicsRequest.CreatableTopic(name: name, numPartitions: 2, replicationFactor: 3, assignments: [])
                    if let r = try? raw.call(CreateTopicsRequest(topics: [t], timeoutMs: 5000), version: 4) {
                        let code = r.topics.first?.errorCode ?? .unknownServerError
                        outcome = code == .none ? "ok" : "\(code)"
                        break
                    }
                }
                created.update { $0[name] = outcome }
                usleep(100_000)
            }
        }.start()

        var kills: [(controller: Int32, newControllerAfter: Double)] = []
        for _ in 0..<2 {
            _ = ProcessHarness.waitUntil(timeout: 20) { Self.controller(cluster, via: zk) != nil }
            guard let c = Self.controller(cluster, via: zk) else {
                Issue.record("no controller\n\(cluster.logs)")
                break
            }
            usleep(700_000)
            let t0 = Date()
            cluster.kill9(c)
            let moved = ProcessHarness.waitUntil(timeout: 30, interval: 0.05) { Self.controller(cluster, via: zk).map { $0 != c } ?? false }
            #expect(moved, "no new controller after killing \(c)\n\(cluster.logs)")
            kills.append((c, Date().timeIntervalSince(t0)))
            usleep(1_000_000)
            try cluster.startBroker(c)
            // Its preferred leadership comes back (leader moves) while creation goes on.
            usleep(1_500_000)
        }
        stopCreating.update { $0 = true }
        #expect(creatorDone.wait(timeout: .now() + 30) == .success)

        // Every topic in the cluster (acknowledged or not) must end with a live leader everywhere.
        let topics = ((try? zk.getChildren("\(cluster.chroot)/brokers/topics")) ?? []).filter { $0.hasPrefix("fm-ctl-t") }.sorted()
        let acked = created.get().filter { $0.value == "ok" }.keys.sorted()
        let missingTopics = acked.filter { !topics.contains($0) }
        var offline: [String] = []
        let allLed = ProcessHarness.waitUntil(timeout: 40, interval: 0.3) {
            offline = topics.flatMap { t in
                (0..<2).compactMap { part -> String? in
                    let st = cluster.partitionState(t, Int32(part), via: zk)
                    return st.map { $0.leader > 0 && cluster.registered(via: zk).contains($0.leader) } == true ? nil : "\(t)-\(part): \(String(describing: st))"
                }
            }
            return offline.isEmpty
        }
        // Each created topic takes an acks=all write at its leader and serves it back.
        var unwritable: [String] = []
        for t in topics {
            guard let st = cluster.partitionState(t, 0, via: zk), st.leader > 0 else { continue }
            let ok = BrokerStorageTests.produceWhenReady(cluster.port(Int32(st.leader)), t, ["hello-\(t)"], acks: -1) == ErrorCode.none
            let back = ok ? (try? BrokerStorageTests.fetch(cluster.port(Int32(st.leader)), t, at: 0))?.records.map { !$0.isEmpty } ?? false : false
            if !back { unwritable.append(t) }
        }
        try p.finish()
        let got = try cluster.readPartitionsAll(base, partitions: 3, count: p.ledger.acked.get().count)
        let problems = p.ledger.check(got, text: SwiftClientTests.text)
        FaultMatrix.report(3, "controller-kill-topic-creation", run: run, [
            "controllers_killed": kills.map { "\($0.controller)" }.joined(separator: ","),
            "new_controller_s": kills.map { String(format: "%.2f", $0.newControllerAfter) }.joined(separator: ","),
            "topics": topics.count, "acked_creates": acked.count, "failed_creates": created.get().count - acked.count,
            "acked": p.ledger.acked.get().count,
        ])
        #expect(missingTopics.isEmpty, "acknowledged creates missing: \(missingTopics)")
        #expect(allLed, "partitions left without a live leader: \(offline.prefix(10))\n\(cluster.logs)")
        #expect(unwritable.isEmpty, "created topics not writable/readable: \(unwritable)")
        #expect(problems.isEmpty, "\(problems)\n\(cluster.logs)")
    }
}

extension BrokerCluster {
    /// All records of every partition of `topic`, read through every broker.
    func readPartitionsAll(_ topic: String, partitions: Int32, count: Int, timeout: Double = 40) throws -> [ConsumerRecord] {
        try readPartition(topic, brokers: ports.keys.sorted(), count: count, timeout: timeout, partitions: Array(0..<partitions))
    }
}
