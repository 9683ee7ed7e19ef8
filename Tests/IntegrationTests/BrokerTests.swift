import CoordClient
import Foundation
import Protocol
import Testing
import Transport

@Suite(.serialized, .ownThreads) struct BrokerTests {
    static var compatDir: String { ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat" }

    @Test(.timeLimit(.minutes(2))) func singleBrokerServesKcat() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let b = "127.0.0.1:\(cluster.port(1))"

        let list = try kcat(["-b", b, "-L"])
        #expect(list.status == 0)
        #expect(list.out.contains("broker 1 at 127.0.0.1:\(cluster.port(1))"), "\(list.out)\(list.err)")

        let keyed = try kcat(["-b", b, "-P", "-t", "events", "-K:"], stdin: "k1:one\nk2:two\nk3:three\n")
        #expect(keyed.status == 0, "\(keyed.err)\n\(cluster.logs)")
        let plain = try kcat(["-b", b, "-P", "-t", "events"], stdin: "four\nfive\n")
        #expect(plain.status == 0, "\(plain.err)")

        let read = try kcat(["-b", b, "-C", "-t", "events", "-o", "beginning", "-e", "-q", "-f", "%o %k=%s\\n"])
        #expect(read.status == 0, "\(read.err)")
        #expect(read.out == "0 k1=one\n1 k2=two\n2 k3=three\n3 =four\n4 =five\n", "\(read.out)\(read.err)")

        let raw = try RawKafka(port: cluster.port(1))
        func offset(_ ts: Int64) throws -> Int64? {
            let r = try raw.call(ListOffsetsRequest(replicaId: -1, topics: [.init(name: "events", partitions: [.init(partitionIndex: 0, timestamp: ts)])]), version: 2)
            return r.topics.first?.partitions.first?.offset
        }
        #expect(try offset(-2) == 0)
        #expect(try offset(-1) == 5)
    }

    @Test(.timeLimit(.minutes(2))) func kafkaPythonCreatesProducesAndConsumes() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compatDir + "/broker_board.py", cluster.bootstrap, "1"], timeout: 90)
        #expect(r.status == 0 && r.stdout.contains("OK"), "\(r.stdout)\n\(r.stderr)\n\(cluster.logs)")
    }

    /// The classic deployment: a 3-server coordd ensemble, then 3 brokers; kill a partition leader,
    /// the controller, and the coordd leader, and lose no acknowledged record.
    @Test(.timeLimit(.minutes(4))) func threeBrokersSurviveLeaderAndControllerKills() throws {
        let cluster = try BrokerCluster(brokers: 3, coordServers: 3, extraConfig: "replica.lag.time.max.ms=3000\nmin.insync.replicas=2")
        defer { cluster.cleanup() }
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", Self.compatDir + "/broker_board.py", cluster.bootstrap, "3"], timeout: 90)
        #expect(r.status == 0 && r.stdout.contains("OK"), "\(r.stdout)\n\(r.stderr)\n\(cluster.logs)")
        guard r.status == 0 else { return }

        let zk = try cluster.coordClient()
        defer { zk.close() }
        func partitionState(_ p: Int) -> (leader: Int32, isr: [Int32])? {
            guard let j = cluster.znodeJSON(zk, "/brokers/topics/board/partitions/\(p)/state"),
                  let l = j["leader"] as? Int, let isr = j["isr"] as? [Int] else { return nil }
            return (Int32(l), isr.map { Int32($0) })
        }
        guard let before = partitionState(0) else { Issue.record("no state for board-0"); return }
        let dead = before.leader
        #expect(before.isr.count == 3)

        // A follower refuses produce: NOT_LEADER_OR_FOLLOWER.
        let follower = before.isr.first { $0 != dead } ?? 1
        let batch = try RecordBatch.build([Record(key: Array("k".utf8), value: Array("v".utf8))])
        let produce = ProduceRequest(acks: 1, timeoutMs: 5000, topicData: [.init(name: "board", partitionData: [.init(index: 0, records: batch)])])
        let fr = try RawKafka(port: cluster.port(follower)).call(produce, version: 7)
        #expect(fr.responses.first?.partitionResponses.first?.errorCode == .notLeaderOrFollower)

        cluster.kill9(dead)
        var after: (leader: Int32, isr: [Int32])?
        let moved = ProcessHarness.waitUntil(timeout: 40, interval: 0.2) {
            after = partitionState(0)
            return (after?.leader ?? dead) != dead && (after?.leader ?? -1) >= 0
        }
        #expect(moved, "leader of board-0 did not move off \(dead): \(String(describing: after))\n\(cluster.logs)")
        #expect(after.map { before.isr.contains($0.leader) } == true)
        #expect(ProcessHarness.waitUntil(timeout: 20) { (try? zk.exists("/brokers/ids/\(dead)")) ?? nil == nil })

        // Every acknowledged record is served by the new leaders.
        // (A new leader exposes them once its high watermark catches up, a fetch round later.)
        let want = Set((0..<60).map { "key-\($0)" })
        var keys: Set<String> = []
        var lastErr = ""
        ProcessHarness.waitUntil(timeout: 30, interval: 0.3) {
            guard let read = try? kcat(["-b", cluster.bootstrap, "-C", "-t", "board", "-o", "beginning", "-e", "-q", "-f", "%k\\n"], timeout: 20)
            else { return false }
            keys = Set(read.out.split(separator: "\n").map(String.init))
            lastErr = read.err
            return keys == want
        }
        #expect(keys == want, "got \(keys.count) keys, missing \(want.subtracting(keys).sorted()): \(lastErr)")

        // The restarted broker catches up and rejoins the ISR.
        try cluster.startBroker(dead)
        let rejoined = ProcessHarness.waitUntil(timeout: 40, interval: 0.2) { partitionState(0)?.isr.contains(dead) == true }
        #expect(rejoined, "broker \(dead) did not rejoin the ISR: \(String(describing: partitionState(0)))\n\(cluster.logs)")

        // Killing the controller elects another and bumps /controller_epoch.
        guard let ctrl = cluster.znodeJSON(zk, "/controller")?["brokerid"] as? Int,
              let epochBytes = try? zk.getData("/controller_epoch").data, let epoch = Int(String(decoding: epochBytes, as: UTF8.self)) else {
            Issue.record("no /controller or /controller_epoch"); return
        }
        cluster.kill9(Int32(ctrl))
        var newCtrl = -1
        var newEpoch = -1
        let elected = ProcessHarness.waitUntil(timeout: 40, interval: 0.2) {
            newCtrl = cluster.znodeJSON(zk, "/controller")?["brokerid"] as? Int ?? -1
            newEpoch = (try? zk.getData("/controller_epoch").data).flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? -1
            return newCtrl >= 0 && newCtrl != ctrl && newEpoch > epoch
        }
        #expect(elected, "controller \(ctrl) epoch \(epoch) -> \(newCtrl) epoch \(newEpoch)")

        // Killing the coordd leader: the ensemble elects another, the brokers' sessions survive
        // (their /brokers/ids nodes stay), and produce with acks=all still works.
        guard let ens = cluster.ensemble, let coordLeader = ens.waitForLeader() else { Issue.record("no coordd leader"); return }
        ens.kill9(coordLeader)
        #expect(ens.waitForLeader(followers: 1, timeout: 20) != nil, "no new coordd leader")
        let live = Set(cluster.ports.keys.filter { $0 != Int32(ctrl) }.map { String($0) })
        var ids: Set<String> = []
        let kept = ProcessHarness.waitUntil(timeout: 20, interval: 0.2) {
            ids = Set((try? zk.getChildren("/brokers/ids")) ?? [])
            return ids == live
        }
        #expect(kept, "brokers registered after the coordd failover: \(ids), want \(live)")
        let more = (60..<80).map { "key-\($0):v" }.joined(separator: "\n") + "\n"
        let p = try kcat(["-b", cluster.bootstrap, "-P", "-t", "board", "-K:", "-X", "acks=all"], stdin: more, timeout: 60)
        #expect(p.status == 0, "produce after the coordd failover: \(p.err)")
        let all = Set((0..<80).map { "key-\($0)" })
        var got: Set<String> = []
        ProcessHarness.waitUntil(timeout: 30, interval: 0.3) {
            guard let read = try? kcat(["-b", cluster.bootstrap, "-C", "-t", "board", "-o", "beginning", "-e", "-q", "-f", "%k\\n"], timeout: 20)
            else { return false }
            got = Set(read.out.split(separator: "\n").map(String.init))
            return got == all
        }
        #expect(got == all, "after the coordd failover: missing \(all.subtracting(got).sorted())")
    }

    @Test(.timeLimit(.minutes(2))) func badInputGetsErrorsAndTheBrokerStaysUp() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: "socket.request.max.bytes=100000")
        defer { cluster.cleanup() }
        let port = cluster.port(1)

        // Unknown API key: the connection is closed.
        let a = try RawKafka(port: port)
        var w = ByteWriter()
        w.withInt32LengthPrefix { w in
            w.writeInt16(99); w.writeInt16(0); w.writeInt32(1); w.writeInt16(-1)
        }
        try a.socket.sendAll(w.bytes)
        #expect(a.closedByPeer())

        // ApiVersions at a version we do not know: UNSUPPORTED_VERSION in the v0 layout.
        let b = try RawKafka(port: port)
        var v = ByteWriter()
        v.withInt32LengthPrefix { w in
            w.writeInt16(18); w.writeInt16(77); w.writeInt32(7); w.writeInt16(-1)
        }
        try b.socket.sendAll(v.bytes)
        var r = ByteReader(try b.socket.readFrame())
        #expect(try r.readInt32() == 7)
        #expect(try r.readInt16() == ErrorCode.unsupportedVersion.rawValue)

        // Metadata at an unsupported version: closed.
        let c = try RawKafka(port: port)
        var m = ByteWriter()
        m.withInt32LengthPrefix { w in
            w.writeInt16(3); w.writeInt16(40); w.writeInt32(1); w.writeInt16(-1)
        }
        try c.socket.sendAll(m.bytes)
        #expect(c.closedByPeer())

        // A frame larger than socket.request.max.bytes: closed before reading it.
        let d = try RawKafka(port: port)
        var big = ByteWriter()
        big.writeInt32(50_000_000)
        try d.socket.sendAll(big.bytes + [UInt8](repeating: 0, count: 64))
        #expect(d.closedByPeer())

        // Truncated body: closed.
        let e = try RawKafka(port: port)
        var t = ByteWriter()
        t.withInt32LengthPrefix { w in
            w.writeInt16(0); w.writeInt16(7); w.writeInt32(1); w.writeInt16(-1); w.writeInt16(-1)
        }
        try e.socket.sendAll(t.bytes)
        #expect(e.closedByPeer())

        // Bad topic names and corrupt batches get error codes.
        let ok = try RawKafka(port: port)
        let md = try ok.call(MetadataRequest(topics: [.init(name: "bad name!"), .init(name: String(repeating: "x", count: 250))],
                                             allowAutoTopicCreation: true), version: 8)
        #expect(md.topics.map(\.errorCode) == [.invalidTopicException, .invalidTopicException])
        _ = try kcat(["-b", "127.0.0.1:\(port)", "-P", "-t", "good"], stdin: "x\n")
        var batch = try RecordBatch.build([Record(key: nil, value: Array("payload".utf8))])
        batch[batch.count - 1] ^= 0xFF
        let pr = try ok.call(ProduceRequest(acks: 1, timeoutMs: 5000, topicData: [
            .init(name: "good", partitionData: [.init(index: 0, records: batch)]),
            .init(name: "bad/name", partitionData: [.init(index: 0, records: batch)]),
        ]), version: 7)
        #expect(pr.responses.map { $0.partitionResponses.first?.errorCode } == [.corruptMessage, .invalidTopicException])

        let ct = try ok.call(CreateTopicsRequest(topics: [
            .init(name: "huge", numPartitions: 2_000_000_000, replicationFactor: 1, assignments: [], configs: []),
            .init(name: "..", numPartitions: 1, replicationFactor: 1, assignments: [], configs: []),
            .init(name: "toomany", numPartitions: 1, replicationFactor: 3, assignments: [], configs: []),
        ], timeoutMs: 5000), version: 4)
        #expect(ct.topics.map(\.errorCode) == [.invalidPartitions, .invalidTopicException, .invalidReplicationFactor])

        // Still serving.
        let again = try RawKafka(port: port).call(ApiVersionsRequest(), version: 0)
        #expect(again.errorCode == .none)
        #expect(again.apiKeys.contains { $0.apiKey == 0 && $0.minVersion == 0 && $0.maxVersion == 8 })
        #expect(cluster.procs[1]?.isRunning == true)
    }
}

extension BrokerTests {
    /// CreatePartitions rewrites the topic's assignment znode; the controller sees it through a data
    /// watch and brings the new partitions online with leaders, and they take records.
    @Test(.timeLimit(.minutes(2))) func createPartitionsBringsNewPartitionsOnline() throws {
        let cluster = try BrokerCluster(brokers: 2)
        defer { cluster.cleanup() }
        let port = cluster.port(1)
        let created = try RawKafka(port: port).call(CreateTopicsRequest(topics: [.init(name: "grow", numPartitions: 1, replicationFactor: 2)], timeoutMs: 10_000), version: 4)
        #expect(created.topics.first?.errorCode == ErrorCode.none)
        for round in 1...2 {
            let count = Int32(1 + round * 2)
            let r = try RawKafka(port: port).call(CreatePartitionsRequest(topics: [.init(name: "grow", count: count)], timeoutMs: 10_000), version: 1)
            #expect(r.results.first?.errorCode == ErrorCode.none, "round \(round): \(String(describing: r.results.first))")
            var leaders: [Int32] = []
            let online = ProcessHarness.waitUntil(timeout: 20, interval: 0.2) {
                guard let md = try? RawKafka(port: port).call(MetadataRequest(topics: [.init(name: "grow")], allowAutoTopicCreation: false), version: 8),
                      let t = md.topics.first else { return false }
                leaders = t.partitions.sorted { $0.partitionIndex < $1.partitionIndex }.map(\.leaderId)
                return leaders.count == Int(count) && leaders.allSatisfy { $0 >= 0 }
            }
            #expect(online, "round \(round): leaders \(leaders)\n\(cluster.logs)")
        }
        let lines = (0..<50).map { "k\($0):v\($0)" }.joined(separator: "\n") + "\n"
        let p = try kcat(["-b", cluster.bootstrap, "-P", "-t", "grow", "-K:"], stdin: lines, timeout: 30)
        #expect(p.status == 0, "\(p.err)")
        let c = try kcat(["-b", cluster.bootstrap, "-C", "-t", "grow", "-o", "beginning", "-e", "-q", "-f", "%p\\n"], timeout: 30)
        let parts = Set(c.out.split(separator: "\n").compactMap { Int($0) })
        #expect(parts.count == 5 && c.out.split(separator: "\n").count == 50, "partitions used: \(parts)")
    }
}
