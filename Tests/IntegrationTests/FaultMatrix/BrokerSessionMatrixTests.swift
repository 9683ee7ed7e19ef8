import CoordClient
import Foundation
import KafkaClient
import Protocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Fault matrix rows 9, 14 and 16: a partition leader paused past its coordd session, and the
/// whole coordd ensemble down, under an idempotent acks=all producer.
@Suite(.serialized, .ownThreads) struct BrokerSessionMatrixTests {
    /// A paced idempotent producer on its own thread, recording every delivery report.
    final class PacedProducer: @unchecked Sendable {
        let ledger = AckLedger()
        let producer: Producer
        let topic: String
        private let stop = SyncBox<Bool>(false)
        private let done = DispatchSemaphore(value: 0)
        let sent = SyncBox<Int>(0)

        init(_ servers: [String], topic: String) throws {
            var pc = ProducerConfig(bootstrapServers: servers)
            pc.acks = -1
            pc.enableIdempotence = true
            pc.lingerMs = 2
            pc.deliveryTimeoutMs = 120_000
            producer = try Producer(config: pc)
            self.topic = topic
        }

        func start() {
            Thread { [self] in
                defer { done.signal() }
                var i = 0
                while !stop.get() {
                    let value = "v\(i)"
                    do {
                        try producer.send(ProducerRecord(topic: topic, key: "k\(i % 20)", value: value)) { [ledger] r in ledger.record(value, r) }
                    } catch {
                        ledger.failed.update { $0[value] = "send: \(error)" }
                    }
                    i += 1
                    sent.update { $0 += 1 }
                    usleep(10_000)
                }
            }.start()
        }

        func finish() throws {
            stop.update { $0 = true }
            _ = done.wait(timeout: .now() + 20)
            try producer.flush(timeoutMs: 130_000)
            producer.close()
        }
    }

    static func servers(_ c: BrokerCluster) -> [String] { (1...3).map { "127.0.0.1:\(c.port(Int32($0)))" } }

    /// Rows 9 and 14: SIGSTOP of partition 0's leader past zookeeper.session.timeout.ms. Its
    /// registration goes, leadership moves to an in-sync follower with a newer leader epoch; on
    /// SIGCONT the zombie acknowledges nothing as leader, re-registers and rejoins the ISR; every
    /// acknowledged record is read back once.
    @Test(.timeLimit(.minutes(8))) func row9And14ZombieLeaderPausedPastItsSession() throws {
        for run in 1...FaultMatrix.runs { try zombieOnce(run: run) }
    }

    private func zombieOnce(run: Int) throws {
        let cluster = try BrokerCluster(brokers: 3, extraConfig: "replica.lag.time.max.ms=3000\nmin.insync.replicas=2")
        defer { cluster.cleanup() }
        let zk = try cluster.coordClient()
        defer { zk.close() }
        let topic = "fm-zombie"
        // The victim leads partition 0 and is not the controller (that is row 3).
        let controller = (cluster.znodeJSON(zk, "/controller")?["brokerid"] as? Int).map { Int32($0) } ?? 1
        let victim: Int32 = controller == 3 ? 2 : 3
        let rest = [Int32(1), 2, 3].filter { $0 != victim }
        try GroupSupport.createTopic(cluster, topic, partitions: 1, rf: 3, assignment: [[victim] + rest])
        #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.1) { cluster.partitionState(topic, via: zk).map { $0.leader == Int(victim) && $0.isr.count == 3 } ?? false })
        let epoch0 = cluster.partitionState(topic, via: zk)?.epoch ?? -1

        let p = try PacedProducer(Self.servers(cluster), topic: topic)
        p.start()
        #expect(ProcessHarness.waitUntil(timeout: 30) { p.ledger.acked.get().count >= 100 }, "\(cluster.logs)")
        let pid = try #require(cluster.procs[victim]?.pid)
        let t0 = Date()
        kill(pid, SIGSTOP)
        let expired = ProcessHarness.waitUntil(timeout: 30, interval: 0.05) { !cluster.registered(via: zk).contains(Int(victim)) }
        let expiry = Date().timeIntervalSince(t0)
        let moved = ProcessHarness.waitUntil(timeout: 30, interval: 0.05) {
            cluster.partitionState(topic, via: zk).map { $0.leader != Int(victim) && $0.leader > 0 } ?? false
        }
        let movedAt = Date().timeIntervalSince(t0)
        let state = cluster.partitionState(topic, via: zk)
        #expect(expired, "broker \(victim)'s registration outlived its session")
        #expect(moved, "leadership did not move off the paused broker: \(String(describing: state))\n\(cluster.logs)")
        #expect((state?.epoch ?? -1) > epoch0, "leader epoch did not advance: \(String(describing: state)) from \(epoch0)")
        usleep(1_000_000)

        let contAt = Date()
        kill(pid, SIGCONT)
        // The zombie must not acknowledge an acks=all write as leader of the old epoch.
        var zombieAcks: [String] = []
        var zombieAnswers: [String] = []
        if let raw = try? RawKafka(port: cluster.port(victim)) {
            for i in 0..<5 {
                guard let batch = try? RecordBatch.build([Record(offset: 0, key: nil, value: Array("zombie-\(i)".utf8))], options: RecordBatchOptions()) else { continue }
                let req = ProduceRequest(acks: -1, timeoutMs: 1500, topicData: [.init(name: topic, partitionData: [.init(index: 0, records: batch)])])
                if let r = try? raw.call(req, version: 7).responses.first?.partitionResponses.first {
                    zombieAnswers.append("\(r.errorCode)")
                    if r.errorCode == .none { zombieAcks.append("zombie-\(i)") }
                }
            }
        }
        let back = ProcessHarness.waitUntil(timeout: 40, interval: 0.1) { cluster.registered(via: zk).contains(Int(victim)) }
        let reregistered = Date().timeIntervalSince(contAt)
        let rejoined = ProcessHarness.waitUntil(timeout: 40, interval: 0.1) { cluster.partitionState(topic, via: zk)?.isr.count == 3 }
        let rejoinedAt = Date().timeIntervalSince(contAt)
        try p.finish()
        let got = try cluster.readPartition(topic, brokers: rest, count: p.ledger.acked.get().count, timeout: 30)
        var problems = p.ledger.check(got.filter { !SwiftClientTests.text($0.value).hasPrefix("zombie-") }, text: SwiftClientTests.text)
        let zombieRead = got.map { SwiftClientTests.text($0.value) }.filter { $0.hasPrefix("zombie-") }
        problems += zombieAcks.filter { !zombieRead.contains($0) }.map { "zombie acknowledged \($0), then it was lost" }
        FaultMatrix.report(14, "broker-session-expiry", run: run, [
            "ephemeral_gone_s": expiry, "leader_moved_s": movedAt, "reregistered_after_cont_s": reregistered,
            "isr_rejoined_after_cont_s": rejoinedAt, "produce_outage_s": p.ledger.longestGap(after: t0.addingTimeInterval(-0.5)),
        ])
        FaultMatrix.report(9, "zombie-leader", run: run, [
            "old_epoch": epoch0, "new_epoch": state?.epoch ?? -1, "zombie_acks": zombieAcks.count, "zombie_answers": zombieAnswers.joined(separator: ","),
            "acked": p.ledger.acked.get().count, "failed": p.ledger.failed.get().count,
        ])
        #expect(zombieAcks.isEmpty, "the paused leader acknowledged \(zombieAcks) after SIGCONT: \(zombieAnswers)")
        #expect(back, "broker \(victim) did not re-register after SIGCONT\n\(cluster.logs)")
        #expect(rejoined, "broker \(victim) did not rejoin the ISR: \(String(describing: cluster.partitionState(topic, via: zk)))")
        #expect(cluster.procs[victim]?.isRunning == true, "broker \(victim) died after SIGCONT\n\(cluster.logs)")
        #expect(problems.isEmpty, "\(problems)\n\(cluster.logs)")
    }

    /// Row 16: every coordd server down (FAULT_MATRIX_COORD_DOWN_S, 20 s in the full matrix).
    /// The brokers keep serving the partitions they have, and re-register when the ensemble is
    /// back; a topic can be created again; every acknowledged record is read back once.
    @Test(.timeLimit(.minutes(8))) func row16AllCoordServersDown() throws {
        for run in 1...FaultMatrix.runs { try coordDownOnce(run: run) }
    }

    private func coordDownOnce(run: Int) throws {
        let down = FaultMatrix.seconds("COORD_DOWN", quick: 6, full: 20)
        let cluster = try BrokerCluster(brokers: 3, coordServers: 3, extraConfig: "replica.lag.time.max.ms=10000\nmin.insync.replicas=2")
        defer { cluster.cleanup() }
        let e = try #require(cluster.ensemble)
        let topic = "fm-nocoord"
        try GroupSupport.createTopic(cluster, topic, partitions: 1, rf: 3)
        let p = try PacedProducer(Self.servers(cluster), topic: topic)
        p.start()
        #expect(ProcessHarness.waitUntil(timeout: 30) { p.ledger.acked.get().count >= 100 }, "\(cluster.logs)")

        let t0 = Date()
        for i in 0..<3 { e.kill9(i) }
        usleep(UInt32(down * 1_000_000))
        let upAt = Date()
        let ackedWhileDown = p.ledger.ackTimes.get().filter { $0 > t0.addingTimeInterval(0.5) && $0 < upAt }.count
        for i in 0..<3 { try e.start(i) }
        #expect(e.waitForLeader(followers: 2, timeout: 30) != nil, "ensemble did not come back:\n\(e.logs)")
        let zk = try cluster.coordClient()
        defer { zk.close() }
        let back = ProcessHarness.waitUntil(timeout: 60, interval: 0.1) { cluster.registered(via: zk) == [1, 2, 3] }
        let reregistered = Date().timeIntervalSince(upAt)
        // The controller works again: a new topic comes online.
        var created = false
        ProcessHarness.waitUntil(timeout: 30, interval: 0.5) {
            created = (try? GroupSupport.createTopic(cluster, "fm-after-\(run)", partitions: 1, rf: 3)) != nil
            return created
        }
        try p.finish()
        let got = try cluster.readPartition(topic, brokers: [1, 2, 3], count: p.ledger.acked.get().count, timeout: 30)
        let problems = p.ledger.check(got, text: SwiftClientTests.text)
        FaultMatrix.report(16, "all-coordd-down", run: run, [
            "down_s": down, "acked_while_down": ackedWhileDown, "reregistered_after_return_s": reregistered,
            "produce_outage_s": p.ledger.longestGap(after: t0), "acked": p.ledger.acked.get().count,
        ])
        #expect(ackedWhileDown > 0, "brokers stopped serving while coordd was down")
        #expect(back, "brokers did not all re-register: \(cluster.registered(via: zk))\n\(cluster.logs)")
        #expect(created, "no topic could be created after the ensemble returned\n\(cluster.logs)")
        #expect(problems.isEmpty, "\(problems)\n\(cluster.logs)")
    }
}
