import Foundation
import Protocol
import Testing
import Transport

/// Consumer groups, committed offsets and idempotent producers against real brokerd processes.
@Suite(.serialized, .ownThreads) struct GroupTests {
    static let fastGroups = "group.initial.rebalance.delay.ms=0"

    @Test(.timeLimit(.minutes(2))) func rawGroupProtocolAndErrorCodes() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.fastGroups + "\ngroup.max.size=2\noffsets.retention.check.interval.ms=200")
        defer { cluster.cleanup() }
        try GroupSupport.createTopic(cluster, "gt", partitions: 2, rf: 1)
        // FindCoordinator v0 (kcat needs it) creates the offsets topic, then answers this broker.
        #expect(GroupSupport.coordinator(cluster, group: "g", via: 1, version: 0) == 1, "\(cluster.logs)")
        #expect(GroupSupport.coordinator(cluster, group: "g", via: 1, version: 2) == 1)
        let raw = try RawKafka(port: cluster.port(1))

        // v4+: the first join is refused with a member id to come back with.
        var req = JoinGroupRequest(groupId: "g", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, protocolType: "consumer",
                                   protocols: [.init(name: "range", metadata: GroupSupport.subscription(["gt"]))])
        let first = try raw.call(req, version: 5)
        #expect(first.errorCode == .memberIdRequired && !first.memberId.isEmpty)
        req.memberId = first.memberId
        let j1 = try raw.call(req, version: 5)
        #expect(j1.errorCode == .none && j1.generationId == 1 && j1.leader == first.memberId && j1.members.count == 1)
        let m1 = j1.memberId
        var bad = req
        bad.sessionTimeoutMs = 1
        #expect(try raw.call(bad, version: 5).errorCode == .invalidSessionTimeout)

        let assignment: [UInt8] = [0, 1, 2, 3]
        let s1 = try raw.call(SyncGroupRequest(groupId: "g", generationId: 1, memberId: m1, assignments: [.init(memberId: m1, assignment: assignment)]), version: 3)
        #expect(s1.errorCode == .none && s1.assignment == assignment)
        #expect(try raw.call(HeartbeatRequest(groupId: "g", generationId: 1, memberId: m1), version: 3).errorCode == .none)
        #expect(try raw.call(HeartbeatRequest(groupId: "g", generationId: 7, memberId: m1), version: 3).errorCode == .illegalGeneration)
        #expect(try raw.call(HeartbeatRequest(groupId: "g", generationId: 1, memberId: "nobody"), version: 3).errorCode == .unknownMemberId)

        // Commits: by the member, with a stale generation, for a partition that does not exist.
        func commit(_ gen: Int32, _ topic: String, _ offset: Int64) throws -> ErrorCode? {
            try raw.call(OffsetCommitRequest(groupId: "g", generationIdOrMemberEpoch: gen, memberId: m1, topics: [
                .init(name: topic, partitions: [.init(partitionIndex: 0, committedOffset: offset, committedMetadata: "meta")])]), version: 7)
                .topics.first?.partitions.first?.errorCode
        }
        #expect(try commit(1, "gt", 42) == ErrorCode.none)
        #expect(try commit(0, "gt", 43) == .illegalGeneration)
        #expect(try commit(1, "no-such-topic", 1) == .unknownTopicOrPartition)
        let all = try GroupSupport.committed(raw, group: "g")
        #expect(all.errorCode == .none)
        #expect(all.topics.map(\.name) == ["gt"])
        #expect(all.topics.first?.partitions.first.map { ($0.committedOffset, $0.metadata) } ?? (0, nil) == (42, "meta"))
        let v1 = try raw.call(OffsetFetchRequest(groupId: "g", topics: [.init(name: "gt", partitionIndexes: [0, 1])]), version: 1)
        #expect(v1.topics.first?.partitions.map(\.committedOffset) == [42, -1])

        let described = try raw.call(DescribeGroupsRequest(groups: ["g", "none"]), version: 4).groups
        #expect(described.first.map { ($0.groupState, $0.protocolData, $0.members.count) } ?? ("", "", 0) == ("Stable", "range", 1))
        #expect(described.last?.groupState == "Dead")
        #expect(try raw.call(ListGroupsRequest(), version: 2).groups.map(\.groupId) == ["g"])
        // v5 (KIP-848's types): every group is "classic"; a "consumer" filter lists none.
        let v5 = try raw.call(ListGroupsRequest(typesFilter: ["Classic"]), version: 5).groups
        #expect(v5.map { "\($0.groupId)/\($0.groupType)/\($0.groupState)" } == ["g/classic/Stable"])
        #expect(try raw.call(ListGroupsRequest(typesFilter: ["consumer"]), version: 5).groups.isEmpty)
        #expect(try raw.call(DeleteGroupsRequest(groupsNames: ["g"]), version: 1).results.first?.errorCode == .nonEmptyGroup)

        // A second member's join is parked until the first rejoins; handlers stay free meanwhile.
        let other = try SharedRaw(port: cluster.port(1))
        let joined = DispatchSemaphore(value: 0)
        let second = LockedBox<JoinGroupResponse?>(nil)
        Thread {
            second.set(try? GroupSupport.join(other.raw, group: "g", topics: ["gt"]))
            joined.signal()
        }.start()
        var sawRebalance = false
        ProcessHarness.waitUntil(timeout: 10, interval: 0.05) {
            sawRebalance = (try? raw.call(HeartbeatRequest(groupId: "g", generationId: 1, memberId: m1), version: 3).errorCode) == .rebalanceInProgress
            return sawRebalance
        }
        #expect(sawRebalance)
        #expect(try commit(1, "gt", 44) == ErrorCode.none, "commits of the old generation are accepted while preparing")
        let j2 = try GroupSupport.join(raw, group: "g", memberId: m1, topics: ["gt"])
        #expect(joined.wait(timeout: .now() + 15) == .success)
        let j2other = second.get()
        #expect(j2.errorCode == .none && j2.generationId == 2 && j2.members.count == 2)
        #expect(j2other?.errorCode == ErrorCode.none && j2other?.generationId == 2 && j2other?.members.isEmpty == true)
        #expect(try GroupSupport.join(try RawKafka(port: cluster.port(1)), group: "g", topics: ["gt"]).errorCode == .groupMaxSizeReached)

        // Batch leave (v3), then the group can be deleted, once.
        let leave = try raw.call(LeaveGroupRequest(groupId: "g", members: [.init(memberId: m1), .init(memberId: j2other?.memberId ?? "?"), .init(memberId: "ghost")]), version: 3)
        #expect(leave.members.map(\.errorCode) == [.none, .none, .unknownMemberId])
        #expect(try raw.call(DescribeGroupsRequest(groups: ["g"]), version: 4).groups.first?.groupState == "Empty")
        let od = try raw.call(OffsetDeleteRequest(groupId: "g", topics: [.init(name: "gt", partitions: [.init(partitionIndex: 0)])]), version: 0)
        #expect(od.errorCode == .none && od.topics.first?.partitions.first?.errorCode == ErrorCode.none)
        #expect(try GroupSupport.committed(raw, group: "g").topics.isEmpty)
        #expect(try raw.call(DeleteGroupsRequest(groupsNames: ["g"]), version: 1).results.first?.errorCode == ErrorCode.none)
        #expect(try raw.call(DeleteGroupsRequest(groupsNames: ["g"]), version: 1).results.first?.errorCode == .groupIdNotFound)
        #expect(try raw.call(LeaveGroupRequest(groupId: "g", memberId: m1), version: 1).errorCode == .unknownMemberId)

        // Bad input: error codes, or a closed connection for what does not parse; the broker stays up.
        var noId = req
        noId.groupId = ""
        noId.memberId = ""
        #expect(try raw.call(noId, version: 5).errorCode == .invalidGroupId)
        #expect(try raw.call(SyncGroupRequest(groupId: "nope", generationId: 1, memberId: "m"), version: 3).errorCode == .unknownMemberId)
        let fc = try raw.call(FindCoordinatorRequest(key: "tx", keyType: 1), version: 2)
        #expect(fc.errorCode == .coordinatorNotAvailable)
        let huge = try raw.call(OffsetCommitRequest(groupId: "solo", generationIdOrMemberEpoch: -1, topics: [
            .init(name: "gt", partitions: [.init(partitionIndex: 0, committedOffset: 1, committedMetadata: String(repeating: "m", count: 5000))])]), version: 7)
        #expect(huge.topics.first?.partitions.first?.errorCode == .offsetMetadataTooLarge)
        let trunc = try RawKafka(port: cluster.port(1))
        var w = ByteWriter()
        w.withInt32LengthPrefix { w in
            w.writeInt16(11); w.writeInt16(5); w.writeInt32(1); w.writeInt16(-1)
            w.writeInt16(1); w.writeUInt8(0x67); w.writeInt32(10_000)  // group "g", then the body stops
        }
        try trunc.socket.sendAll(w.bytes)
        #expect(trunc.closedByPeer())
        var arr = ByteWriter()
        arr.withInt32LengthPrefix { w in
            w.writeInt16(14); w.writeInt16(3); w.writeInt32(1); w.writeInt16(-1)
            w.writeInt16(1); w.writeUInt8(0x67); w.writeInt32(1); w.writeInt16(1); w.writeUInt8(0x6D); w.writeInt16(-1)
            w.writeInt32(Int32.max)  // assignments: a count no frame could hold
        }
        let huge2 = try RawKafka(port: cluster.port(1))
        try huge2.socket.sendAll(arr.bytes)
        #expect(huge2.closedByPeer())
        #expect(try raw.call(HeartbeatRequest(groupId: "g", generationId: 1, memberId: "m"), version: 3).errorCode == .unknownMemberId)

        // OffsetCommit v2's explicit retention: the offset expires at the next retention check.
        let short = try raw.call(OffsetCommitRequest(groupId: "brief", generationIdOrMemberEpoch: -1, retentionTimeMs: 300, topics: [
            .init(name: "gt", partitions: [.init(partitionIndex: 1, committedOffset: 9)])]), version: 2)
        #expect(short.topics.first?.partitions.first?.errorCode == ErrorCode.none)
        #expect(try GroupSupport.committed(raw, group: "brief").topics.first?.partitions.first?.committedOffset == 9)
        #expect(ProcessHarness.waitUntil(timeout: 10, interval: 0.1) {
            (try? GroupSupport.committed(raw, group: "brief"))?.topics.isEmpty == true
        })
        #expect(cluster.procs[1]?.isRunning == true)
    }

    /// Kafka's partitionFor: abs(String.hashCode) % 50.
    static func offsetsPartition(_ group: String) -> Int32 {
        var h: Int32 = 0
        for u in group.utf16 { h = h &* 31 &+ Int32(u) }
        return (h == Int32.min ? 0 : abs(h)) % 50
    }

    @Test(.timeLimit(.minutes(2))) func unreadableOffsetsRecordsAreSkippedWhenLoading() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.fastGroups)
        defer { cluster.cleanup() }
        try GroupSupport.createTopic(cluster, "ct", partitions: 1, rf: 1)
        #expect(GroupSupport.coordinator(cluster, group: "cg", via: 1) == 1)
        let raw = try RawKafka(port: cluster.port(1))
        let commit = try raw.call(OffsetCommitRequest(groupId: "cg", generationIdOrMemberEpoch: -1, topics: [
            .init(name: "ct", partitions: [.init(partitionIndex: 0, committedOffset: 5)])]), version: 7)
        #expect(commit.topics.first?.partitions.first?.errorCode == ErrorCode.none)
        let p = Self.offsetsPartition("cg")

        // Clients may not write the offsets topic.
        let junk = try RecordBatch.build([Record(key: [0xFF], value: [1])])
        let pr = try raw.call(ProduceRequest(acks: 1, timeoutMs: 5000, topicData: [.init(name: "__consumer_offsets", partitionData: [.init(index: p, records: junk)])]), version: 7)
        #expect(pr.responses.first?.partitionResponses.first?.errorCode == .invalidTopicException)

        // So write unreadable records into its log while the broker is down: an unknown key version,
        // a truncated value, a missing key. (kill -9, so the restart recovers the log by reading it.)
        cluster.kill9(1)
        let dir = "\(cluster.dir)/logs-1/__consumer_offsets-\(p)"
        guard let seg = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter({ $0.hasSuffix(".log") }).sorted().last,
              let data = FileManager.default.contents(atPath: dir + "/" + seg) else {
            Issue.record("no segment in \(dir)"); return
        }
        let existing = [UInt8](data)
        let next = try RecordBatch.split(existing).batches.last?.header.nextOffset ?? 0
        var validKey = ByteWriter()
        validKey.writeInt16(1); try validKey.writeKafkaString("cg"); try validKey.writeKafkaString("ct"); validKey.writeInt32(0)
        var o = RecordBatchOptions()
        o.baseOffset = next
        let bad = try RecordBatch.build([
            Record(offset: next, key: [0x00, 0x09, 0x01], value: [1, 2, 3]),
            Record(offset: next + 1, key: validKey.bytes, value: [0x00, 0x03, 0x00]),
            Record(offset: next + 2, key: nil, value: [7]),
        ], options: o)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/" + seg))
        try h.seekToEnd()
        try h.write(contentsOf: Data(bad))
        try h.close()

        try cluster.startBroker(1)
        var fetched: OffsetFetchResponse?
        ProcessHarness.waitUntil(timeout: 30, interval: 0.2) {
            fetched = try? GroupSupport.committed(RawKafka(port: cluster.port(1)), group: "cg")
            return fetched?.errorCode == ErrorCode.none
        }
        #expect(fetched?.topics.first?.partitions.first?.committedOffset == 5, "\(String(describing: fetched))\n\(cluster.logs)")
        #expect(cluster.logs.contains("3 unreadable"), "\(cluster.logs)")
    }

    @Test(.timeLimit(.minutes(3))) func kcatGroupsReadIndependentlyAndOffsetsSurviveRestart() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.fastGroups)
        defer { cluster.cleanup() }
        let b = "127.0.0.1:\(cluster.port(1))"
        let put = try kcat(["-b", b, "-P", "-t", "kg"], stdin: "a\nb\nc\n")
        #expect(put.status == 0, "\(put.err)")
        func groupRead(_ g: String) throws -> [String] {
            let r = try kcat(["-b", b, "-G", g, "kg", "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%s\\n"], timeout: 60)
            #expect(r.status == 0, "\(r.err)\n\(cluster.logs)")
            return r.out.split(separator: "\n").map(String.init)
        }
        #expect(try groupRead("ga") == ["a", "b", "c"])
        #expect(try groupRead("gb") == ["a", "b", "c"], "a second group reads the topic on its own")
        _ = try kcat(["-b", b, "-P", "-t", "kg"], stdin: "d\n")
        #expect(try groupRead("ga") == ["d"], "ga resumes from its committed offset")

        // kill -9 and restart: the offsets come back from __consumer_offsets.
        cluster.kill9(1)
        try cluster.startBroker(1)
        _ = try kcat(["-b", b, "-P", "-t", "kg"], stdin: "e\n")
        #expect(try groupRead("ga") == ["e"], "\(cluster.logs)")
        #expect(try groupRead("gb") == ["d", "e"])
    }

    @Test(.timeLimit(.minutes(3))) func threeKafkaPythonConsumersShareAndTakeOverAPartition() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.fastGroups)
        defer { cluster.cleanup() }
        try GroupSupport.createTopic(cluster, "shared", partitions: 3, rf: 1)
        var members: [ManagedProcess] = []
        defer { for m in members { m.kill9() } }
        for _ in 0..<3 { members.append(try GroupSupport.member(cluster, group: "trio", topic: "shared", kind: "python", seconds: 150)) }
        var spread: [Set<Int32>] = []
        let balanced = ProcessHarness.waitUntil(timeout: 60, interval: 0.2) {
            spread = members.map { GroupSupport.assignment($0) ?? [] }
            return spread.allSatisfy { $0.count == 1 } && spread.reduce(into: Set<Int32>()) { $0.formUnion($1) } == [0, 1, 2]
        }
        #expect(balanced, "assignments \(spread)\n\(members.map(\.stderrText).joined(separator: "\n---\n"))\n\(cluster.logs)")
        guard balanced else { return }

        // kill -9 one: its partition moves to a survivor within the 6 s session timeout (plus a rebalance).
        members[0].kill9()
        let start = Date()
        var after: [Set<Int32>] = []
        let moved = ProcessHarness.waitUntil(timeout: 25, interval: 0.2) {
            after = members.dropFirst().map { GroupSupport.assignment($0) ?? [] }
            return after.reduce(into: Set<Int32>()) { $0.formUnion($1) } == [0, 1, 2] && after.allSatisfy { !$0.isEmpty }
        }
        #expect(moved, "after kill: \(after)\n\(members.dropFirst().map(\.stderrText).joined(separator: "\n---\n"))")
        #expect(Date().timeIntervalSince(start) < 20)
    }

    /// Three brokers, so the coordinator is usually not the broker a client bootstraps from.
    @Test(.timeLimit(.minutes(3))) func confluentAndKafkaPythonConsumersShareAGroup() throws {
        let cluster = try BrokerCluster(brokers: 3, extraConfig: Self.fastGroups)
        defer { cluster.cleanup() }
        try GroupSupport.createTopic(cluster, "mixed", partitions: 4, rf: 2)
        for p in 0..<4 {
            let r = try kcat(["-b", cluster.bootstrap, "-P", "-t", "mixed", "-p", "\(p)"], stdin: "p\(p)-a\np\(p)-b\n")
            #expect(r.status == 0, "\(r.err)")
        }
        let py = try GroupSupport.member(cluster, group: "mix", topic: "mixed", kind: "python", seconds: 120)
        let ck = try GroupSupport.member(cluster, group: "mix", topic: "mixed", kind: "confluent", seconds: 120)
        defer { py.kill9(); ck.kill9() }
        var a: Set<Int32> = [], b: Set<Int32> = []
        var values: Set<String> = []
        let shared = ProcessHarness.waitUntil(timeout: 60, interval: 0.2) {
            a = GroupSupport.assignment(py) ?? []
            b = GroupSupport.assignment(ck) ?? []
            values = Set(GroupSupport.consumed(py) + GroupSupport.consumed(ck))
            return !a.isEmpty && !b.isEmpty && a.isDisjoint(with: b) && a.union(b) == [0, 1, 2, 3] && values.count == 8
        }
        #expect(shared, "python \(a) confluent \(b) values \(values.sorted())\n\(py.stderrText)\n---\n\(ck.stderrText)\n\(cluster.logs)")
    }

    @Test(.timeLimit(.minutes(2))) func idempotentProducerDuplicatesAreAnsweredNotAppended() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        try GroupSupport.createTopic(cluster, "idem", partitions: 1, rf: 1)
        var raw = try RawKafka(port: cluster.port(1))
        let pid = try raw.call(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000), version: 1)
        #expect(pid.errorCode == .none && pid.producerId >= 0)
        func send(seq: Int32, epoch: Int16 = 0, count: Int = 3) throws -> ProduceResponse.PartitionProduceResponse? {
            var o = RecordBatchOptions()
            o.producerId = pid.producerId
            o.producerEpoch = epoch
            o.baseSequence = seq
            let batch = try RecordBatch.build((0..<count).map { Record(offset: Int64($0), key: nil, value: Array("v\(seq)-\($0)".utf8)) }, options: o)
            return try GroupSupport.produce(raw, ProduceRequest(acks: -1, timeoutMs: 5000, topicData: [.init(name: "idem", partitionData: [.init(index: 0, records: batch)])]))
        }
        func logEnd() throws -> Int64? {
            try raw.call(ListOffsetsRequest(replicaId: -1, topics: [.init(name: "idem", partitions: [.init(partitionIndex: 0, timestamp: -1)])]), version: 2)
                .topics.first?.partitions.first?.offset
        }
        #expect(try send(seq: 0).map { ($0.errorCode, $0.baseOffset) } ?? (.unknownServerError, -9) == (.none, 0))
        #expect(try send(seq: 0).map { ($0.errorCode, $0.baseOffset) } ?? (.unknownServerError, -9) == (.none, 0), "a resent batch gets its original offset")
        #expect(try logEnd() == 3)
        #expect(try send(seq: 7)?.errorCode == .outOfOrderSequenceNumber)
        #expect(try send(seq: 3).map { ($0.errorCode, $0.baseOffset) } ?? (.unknownServerError, -9) == (.none, 3))
        #expect(try send(seq: 0, epoch: 1, count: 1)?.errorCode == ErrorCode.none)
        #expect(try send(seq: 6, epoch: 0)?.errorCode == .invalidProducerEpoch)
        #expect(try logEnd() == 7)

        // After kill -9 and a restart the producer state comes back from the log.
        cluster.kill9(1)
        try cluster.startBroker(1)
        var again: ProduceResponse.PartitionProduceResponse?
        ProcessHarness.waitUntil(timeout: 30, interval: 0.2) {
            guard let fresh = try? RawKafka(port: cluster.port(1)) else { return false }
            raw = fresh
            again = try? send(seq: 0, epoch: 1, count: 1)
            return again?.errorCode == ErrorCode.none
        }
        #expect(again?.baseOffset == 6, "\(String(describing: again))\n\(cluster.logs)")
        #expect(try send(seq: 2, epoch: 1, count: 1)?.errorCode == .outOfOrderSequenceNumber)
        #expect(try logEnd() == 7)

        // And a real idempotent producer.
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", GroupSupport.compatDir + "/group_idempotent.py", cluster.bootstrap, "idem2", "300"], timeout: 90)
        #expect(r.status == 0 && r.stdout.contains("OK"), "\(r.stdout)\n\(r.stderr)\n\(cluster.logs)")
    }

    @Test(.timeLimit(.minutes(4))) func idempotentProducerRetriedAcrossLeaderChangeWritesNoDuplicates() throws {
        let cluster = try BrokerCluster(brokers: 3, extraConfig: "replica.lag.time.max.ms=3000\nmin.insync.replicas=2")
        defer { cluster.cleanup() }
        try GroupSupport.createTopic(cluster, "idemfo", partitions: 1, rf: 3)
        let md = try RawKafka(port: cluster.port(1)).call(MetadataRequest(topics: [.init(name: "idemfo")], allowAutoTopicCreation: false), version: 8)
        guard let leader = md.topics.first?.partitions.first?.leaderId, leader > 0 else { Issue.record("no leader: \(md)"); return }
        let producer = try ManagedProcess("/usr/bin/env", ["python3", GroupSupport.compatDir + "/group_idempotent.py", cluster.bootstrap, "idemfo", "2000", "slow"],
                                          stderrPath: cluster.dir + "/idempotent.log")
        defer { producer.kill9() }
        #expect(producer.waitForLine(containing: "HALF", timeout: 60) != nil, "\(producer.stderrText)")
        // Batches in flight to the old leader are retried to the new one, whose producer state came from its log.
        cluster.kill9(leader)
        #expect(ProcessHarness.waitUntil(timeout: 150, interval: 0.2) { !producer.isRunning })
        #expect(producer.stderrText.contains("OK"), "\(producer.stderrText)\n\(cluster.logs)")
    }

    @Test(.timeLimit(.minutes(4))) func groupsAndProducerStateSurviveCoordinatorFailover() throws {
        let cluster = try BrokerCluster(brokers: 3, extraConfig: Self.fastGroups + "\nreplica.lag.time.max.ms=3000\nmin.insync.replicas=2")
        defer { cluster.cleanup() }
        guard let coord = GroupSupport.coordinator(cluster, group: "fg", via: 1) else {
            Issue.record("no coordinator for fg\n\(cluster.logs)"); return
        }
        let others = [Int32(1), 2, 3].filter { $0 != coord }
        // A follower of the group's partition answers NOT_COORDINATOR.
        let notCoord = try RawKafka(port: cluster.port(others[0]))
        #expect(try notCoord.call(HeartbeatRequest(groupId: "fg", generationId: 1, memberId: "x"), version: 3).errorCode == .notCoordinator)

        // The topic's leader is the coordinator's broker, so one kill moves both.
        try GroupSupport.createTopic(cluster, "ft", partitions: 1, rf: 3, assignment: [[coord] + others])
        let raw = try RawKafka(port: cluster.port(coord))
        let j = try GroupSupport.join(raw, group: "fg", topics: ["ft"], sessionTimeoutMs: 30_000)
        #expect(j.errorCode == .none)
        let s = try raw.call(SyncGroupRequest(groupId: "fg", generationId: j.generationId, memberId: j.memberId,
                                              assignments: [.init(memberId: j.memberId, assignment: [9, 9])]), version: 3)
        #expect(s.errorCode == .none)
        let c = try raw.call(OffsetCommitRequest(groupId: "fg", generationIdOrMemberEpoch: j.generationId, memberId: j.memberId, topics: [
            .init(name: "ft", partitions: [.init(partitionIndex: 0, committedOffset: 17, committedMetadata: "x")])]), version: 7)
        #expect(c.topics.first?.partitions.first?.errorCode == ErrorCode.none)

        let pid = try raw.call(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000), version: 1).producerId
        var o = RecordBatchOptions()
        o.producerId = pid
        o.producerEpoch = 0
        o.baseSequence = 0
        let batch = try RecordBatch.build([Record(key: nil, value: Array("once".utf8))], options: o)
        let produce = ProduceRequest(acks: -1, timeoutMs: 10_000, topicData: [.init(name: "ft", partitionData: [.init(index: 0, records: batch)])])
        #expect(try GroupSupport.produce(raw, produce)?.errorCode == ErrorCode.none)

        cluster.kill9(coord)
        var newCoord: Int32?
        ProcessHarness.waitUntil(timeout: 60, interval: 0.3) {
            newCoord = GroupSupport.coordinator(cluster, group: "fg", via: others[0], timeout: 1)
            return newCoord != nil && newCoord != coord
        }
        guard let nc = newCoord, nc != coord else { Issue.record("coordinator did not move\n\(cluster.logs)"); return }

        // The new coordinator replayed the partition: offsets and the group's generation and member.
        let raw2 = try RawKafka(port: cluster.port(nc))
        var fetched: OffsetFetchResponse?
        ProcessHarness.waitUntil(timeout: 20, interval: 0.2) {
            fetched = try? GroupSupport.committed(raw2, group: "fg")
            return fetched?.errorCode == ErrorCode.none
        }
        #expect(fetched?.topics.first?.partitions.first?.committedOffset == 17, "\(String(describing: fetched))\n\(cluster.logs)")
        let d = try raw2.call(DescribeGroupsRequest(groups: ["fg"]), version: 4).groups.first
        #expect(d?.groupState == "Stable" && d?.members.first?.memberId == j.memberId && d?.members.first?.memberAssignment == [9, 9])
        #expect(try raw2.call(HeartbeatRequest(groupId: "fg", generationId: j.generationId, memberId: j.memberId), version: 3).errorCode == ErrorCode.none)

        // The new leader of ft-0 rebuilt producer state from its log: the resent batch is a duplicate.
        var resent: ProduceResponse.PartitionProduceResponse?
        ProcessHarness.waitUntil(timeout: 30, interval: 0.3) {
            for id in others {
                guard let r = try? RawKafka(port: cluster.port(id)).call(produce, version: 7).responses.first?.partitionResponses.first,
                      r.errorCode == .none else { continue }
                resent = r
                return true
            }
            return false
        }
        #expect(resent?.baseOffset == 0, "\(String(describing: resent))\n\(cluster.logs)")
        let read = try kcat(["-b", cluster.bootstrap, "-C", "-t", "ft", "-o", "beginning", "-e", "-q", "-f", "%s\\n"], timeout: 30)
        #expect(read.out == "once\n", "\(read.out)\(read.err)")
    }
}

/// A value shared with a helper thread.
final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func set(_ v: T) { lock.withLock { value = v } }
    func get() -> T { lock.withLock { value } }
}
