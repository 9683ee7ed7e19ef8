import Foundation
import Protocol
import Testing

/// ElectLeaders (43): after a failover the preferred replica gets leadership back once it is in
/// sync again. confluent-kafka 2.16's elect_leaders fails inside its own binding (SystemError on
/// its argument parsing), so the election goes on the wire; the state is read with confluent-kafka.
@Suite(.serialized, .ownThreads) struct ElectLeadersTests {
    @Test func preferredElectionMovesLeadershipBack() throws {
        let cluster = try BrokerCluster(brokers: 2, extraConfig: "auto.leader.rebalance.enable=false")
        defer { cluster.cleanup() }
        let script = """
        import json, sys, time
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": sys.argv[1]})
        mode = sys.argv[2]
        if mode == "create":
            deadline = time.time() + 60
            while len(a.list_topics(timeout=10).brokers) < 2:
                if time.time() > deadline: sys.exit("fewer than 2 brokers")
                time.sleep(0.5)
            for f in a.create_topics([NewTopic("el", 1, replica_assignment=[[1, 2]])], request_timeout=30).values(): f.result()
        p = a.list_topics("el", timeout=10).topics["el"].partitions[0]
        print(json.dumps({"leader": p.leader, "isr": sorted(p.isrs)}))
        """
        func py(_ mode: String) -> [String: Any] {
            guard let r = try? ProcessHarness.run("/usr/bin/env", ["python3", "-c", script, cluster.bootstrap, mode], timeout: 90) else { return [:] }
            return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? ["out": r.stdout + r.stderr]
        }
        var s = py("create")
        #expect(s["leader"] as? Int == 1, "\(s)")
        cluster.kill9(1)
        #expect(ProcessHarness.waitUntil(timeout: 60, interval: 1) { s = py("state"); return s["leader"] as? Int == 2 }, "\(s)")
        try cluster.startBroker(1)
        #expect(ProcessHarness.waitUntil(timeout: 60, interval: 1) { s = py("state"); return (s["isr"] as? [Int]) == [1, 2] }, "\(s)")
        #expect(s["leader"] as? Int == 2, "leadership moved back without an election: \(s)")
        func elect() -> [ErrorCode] {
            guard let md = try? RawKafka(port: cluster.port(1)).call(MetadataRequest(topics: [], allowAutoTopicCreation: false), version: 2),
                  md.controllerId > 0,
                  let r = try? RawKafka(port: cluster.port(md.controllerId)).call(
                      ElectLeadersRequest(electionType: 0, topicPartitions: [.init(topic: "el", partitionId: [0])], timeoutMs: 30_000), version: 1)
            else { return [] }
            return r.replicaElectionResults.flatMap { $0.partitionResult.map(\.errorCode) }
        }
        var e: [ErrorCode] = []
        // Until the controller is known again (it may have been the killed broker).
        #expect(ProcessHarness.waitUntil(timeout: 60, interval: 1) { e = elect(); return !e.isEmpty }, "\(e)")
        #expect(e == [.none], "\(e)")
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.5) { s = py("state"); return s["leader"] as? Int == 1 }, "\(s)\n\(cluster.logs)")
        #expect(elect() == [.electionNotNeeded], "a second election is not needed")
        // Not the controller: NOT_CONTROLLER, for the client to find the right broker.
        let md = try RawKafka(port: cluster.port(1)).call(MetadataRequest(topics: [], allowAutoTopicCreation: false), version: 2)
        let other: Int32 = md.controllerId == 1 ? 2 : 1
        let wrong = try RawKafka(port: cluster.port(other)).call(ElectLeadersRequest(electionType: 0, topicPartitions: nil, timeoutMs: 1000), version: 1)
        #expect(wrong.errorCode == .notController)
    }
}
