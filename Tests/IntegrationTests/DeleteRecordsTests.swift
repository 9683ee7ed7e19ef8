import Foundation
import Protocol
import Testing

/// DeleteRecords (21) through confluent-kafka's AdminClient.delete_records (compat/delete_records.py):
/// the low watermark moves on the leader, the follower follows, and it survives a kill -9.
@Suite(.serialized, .ownThreads) struct DeleteRecordsTests {
    static let script = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/delete_records.py"

    func py(_ cluster: BrokerCluster, _ mode: String) throws -> [String: Any] {
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.script, cluster.bootstrap, "dr", mode], timeout: 120)
        // Polls during a failover fail until a leader is back: only the setup must succeed.
        if mode == "setup" { #expect(r.status == 0, "\(r.stdout)\(r.stderr)") }
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
    }

    @Test func deleteRecordsMovesTheLogStartOnLeaderAndFollowerAndSurvivesRestart() throws {
        let cluster = try BrokerCluster(brokers: 2)
        defer { cluster.cleanup() }
        let d = try py(cluster, "setup")
        #expect(d["low_watermark"] as? Int == 40 && d["earliest"] as? Int == 40, "\(d)")
        #expect(d["beyond_hw"] as? String == "OFFSET_OUT_OF_RANGE", "\(d)")
        #expect(d["lower"] as? Int == 40, "\(d)")
        let leader = Int32(d["leader"] as? Int ?? 1)
        let follower: Int32 = leader == 1 ? 2 : 1
        // The follower learns the new start from its next fetch; then it leads with the same start.
        var e: [String: Any] = [:]
        // Its log-start-offset-checkpoint (written every 5 s) shows it.
        var moved = ProcessHarness.waitUntil(timeout: 60, interval: 0.5) {
            let text = (try? String(contentsOfFile: cluster.logDir(follower) + "/log-start-offset-checkpoint", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").contains("dr 0 40")
        }
        #expect(moved, "follower did not follow the log start\n\(cluster.logs)")
        cluster.kill9(leader)
        moved = moved && ProcessHarness.waitUntil(timeout: 60, interval: 1) {
            e = (try? py(cluster, "earliest")) ?? [:]
            return e["leader"] as? Int == Int(follower)
        }
        #expect(moved && e["earliest"] as? Int == 40, "\(e)\n\(cluster.logs)")
        // The killed leader kept it too (checkpointed when the records were deleted): back in the ISR, it leads again.
        try cluster.startBroker(leader)
        let rejoined = ProcessHarness.waitUntil(timeout: 60, interval: 1) {
            e = (try? py(cluster, "earliest")) ?? [:]
            return (e["isr"] as? [Int])?.count == 2
        }
        #expect(rejoined, "\(e)")
        cluster.kill9(follower)
        let back = ProcessHarness.waitUntil(timeout: 60, interval: 1) {
            e = (try? py(cluster, "earliest")) ?? [:]
            return e["leader"] as? Int == Int(leader)
        }
        #expect(back && e["earliest"] as? Int == 40, "\(e)\n\(cluster.logs)")
    }

    @Test func kafkactlDeleteRecordsFromAnOffsetJsonFile() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let bs = ["--bootstrap-server", cluster.bootstrap]
        let produced = ProcessHarness.waitUntil(timeout: 60, interval: 0.5) {
            (try? SwiftClientCLITests.kafkactl(["console-producer", "--topic", "kd"] + bs, stdin: (0..<10).map { "m\($0)" }.joined(separator: "\n") + "\n"))?.status == 0
        }
        #expect(produced)
        let file = cluster.logDir(1) + "-offsets.json"
        try #"{"partitions":[{"topic":"kd","partition":0,"offset":4}],"version":1}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try SwiftClientCLITests.kafkactl(["delete-records", "--offset-json-file", file] + bs)
        #expect(r.status == 0 && r.out.contains("partition: kd-0\tlow_watermark: 4"), "\(r.out)\(r.err)")
        try #"{"partitions":[{"topic":"kd","partition":0,"offset":99}],"version":1}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let bad = try SwiftClientCLITests.kafkactl(["delete-records", "--offset-json-file", file] + bs)
        #expect(bad.status == 1 && bad.out.contains("kd-0\terror"), "\(bad.out)\(bad.err)")
    }
}
