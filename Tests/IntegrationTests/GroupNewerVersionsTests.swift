import Foundation
import Protocol
import Testing
import Transport

/// The newest group API versions brokerd advertises, on the wire as a client of that version sends
/// them: batched FindCoordinator (v4) and OffsetFetch (v8+), requireStable (v7+), SyncGroup's
/// protocol checks (v5) and a returning static leader's skipAssignment (JoinGroup v9, KIP-814).
@Suite(.serialized, .ownThreads) struct GroupNewerVersionsTests {
    @Test(.timeLimit(.minutes(2))) func batchedLookupsProtocolChecksAndStaticLeaderReturn() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: GroupTests.fastGroups)
        defer { cluster.cleanup() }
        try GroupSupport.createTopic(cluster, "nv", partitions: 2, rf: 1)
        #expect(GroupSupport.coordinator(cluster, group: "g", via: 1) == 1, "\(cluster.logs)")
        let raw = try RawKafka(port: cluster.port(1))

        // FindCoordinator v4: one answer per key, each with its own error.
        let fc = try raw.call(FindCoordinatorRequest(keyType: 0, coordinatorKeys: ["g", "h"]), version: 4).coordinators
        #expect(fc.map { "\($0.key)/\($0.nodeId)/\($0.errorCode)" } == ["g/1/\(ErrorCode.none)", "h/1/\(ErrorCode.none)"])
        let txnEmpty = try raw.call(FindCoordinatorRequest(keyType: 1, coordinatorKeys: [""]), version: 4).coordinators
        #expect(txnEmpty.map(\.errorCode) == [.invalidRequest])

        // JoinGroup v9 (flexible) as a static member; v7+ answer the protocol type.
        var join = JoinGroupRequest(groupId: "g", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, groupInstanceId: "i1",
                                    protocolType: "consumer", protocols: [.init(name: "range", metadata: GroupSupport.subscription(["nv"]))])
        let j1 = try raw.call(join, version: 9)
        #expect(j1.errorCode == .none && j1.leader == j1.memberId && j1.protocolType == "consumer" && j1.protocolName == "range", "\(j1)")
        #expect(!j1.skipAssignment && j1.members.count == 1)
        let assignment: [UInt8] = [9, 8, 7]
        // SyncGroup v5 checks the protocol type and name it is sent and answers them.
        let wrong = SyncGroupRequest(groupId: "g", generationId: j1.generationId, memberId: j1.memberId, groupInstanceId: "i1",
                                     protocolType: "consumer", protocolName: "roundrobin", assignments: [.init(memberId: j1.memberId, assignment: assignment)])
        #expect(try raw.call(wrong, version: 5).errorCode == .inconsistentGroupProtocol)
        var sync = wrong
        sync.protocolName = "range"
        let s1 = try raw.call(sync, version: 5)
        #expect(s1.errorCode == .none && s1.assignment == assignment && s1.protocolType == "consumer" && s1.protocolName == "range", "\(s1)")

        // The static leader comes back with a new member id and the same protocols: v9 names it
        // leader with the members and skipAssignment; v5 names the previous leader and no members.
        join.memberId = ""
        let j2 = try raw.call(join, version: 9)
        #expect(j2.errorCode == .none && j2.memberId != j1.memberId && j2.generationId == j1.generationId, "\(j2)")
        #expect(j2.skipAssignment && j2.leader == j2.memberId && j2.members.map(\.groupInstanceId) == ["i1"])
        let j3 = try raw.call(join, version: 5)
        #expect(j3.errorCode == .none && j3.leader == j2.memberId && j3.memberId != j2.memberId && j3.members.isEmpty, "\(j3)")
        var again = sync
        again.memberId = j3.memberId
        again.assignments = []
        #expect(try raw.call(again, version: 5).assignment == assignment, "the returning member lost its assignment")

        // OffsetCommit v9, then OffsetFetch v8 and v9 batching two groups.
        let commit = try raw.call(OffsetCommitRequest(groupId: "g", generationIdOrMemberEpoch: j1.generationId, memberId: j3.memberId,
                                                      groupInstanceId: "i1", topics: [
            .init(name: "nv", partitions: [.init(partitionIndex: 0, committedOffset: 42, committedMetadata: "m")])]), version: 9)
        #expect(commit.topics.first?.partitions.map(\.errorCode) == [ErrorCode.none])
        for v: Int16 in [8, 9] {
            let r = try raw.call(OffsetFetchRequest(groups: [
                .init(groupId: "g", topics: nil),
                .init(groupId: "none-yet", topics: [.init(name: "nv", partitionIndexes: [0, 1])]),
            ]), version: v)
            #expect(r.groups.map(\.groupId) == ["g", "none-yet"] && r.groups.allSatisfy { $0.errorCode == .none }, "v\(v): \(r)")
            #expect(r.groups.first?.topics.map { t in t.partitions.map { "\(t.name)-\($0.partitionIndex)@\($0.committedOffset)" } } == [["nv-0@42"]])
            #expect(r.groups.last?.topics.first?.partitions.map(\.committedOffset) == [-1, -1])
        }

        // requireStable (v7+): a transactional commit still waiting for its marker is unstable.
        let txn = try raw.call(TxnOffsetCommitRequest(transactionalId: "tx", groupId: "g", producerId: 77, producerEpoch: 0,
                                                      generationId: -1, memberId: "", groupInstanceId: nil, topics: [
            .init(name: "nv", partitions: [.init(partitionIndex: 1, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: nil)])]), version: 3)
        #expect(txn.topics.first?.partitions.map(\.errorCode) == [ErrorCode.none])
        let only = [OffsetFetchRequest.Topic(name: "nv", partitionIndexes: [0, 1])]
        let stable = try raw.call(OffsetFetchRequest(groupId: "g", topics: only, requireStable: true), version: 7)
        #expect(stable.topics.first?.partitions.map { "\($0.committedOffset)/\($0.errorCode)" } == ["42/\(ErrorCode.none)", "-1/\(ErrorCode.unstableOffsetCommit)"], "\(stable)")
        let loose = try raw.call(OffsetFetchRequest(groupId: "g", topics: only, requireStable: false), version: 7)
        #expect(loose.topics.first?.partitions.map(\.errorCode) == [ErrorCode.none, ErrorCode.none])
    }
}
