import Testing
@testable import BrokerCore

/// Static membership (KIP-345) and the order in which Kafka checks member, generation and state.
@Suite struct GroupStaticMembershipTests {
    /// Two static members ("ia", "ib") in a Stable group at generation 1, with assignments [0xA] and [0xB].
    static func stableStaticPair(_ h: inout GroupHarness) throws -> (a: String, b: String) {
        let ja = h.join(instance: "ia", now: 0)
        let jb = h.join(instance: "ib", now: 5)
        // Static members get their member id at once: no MEMBER_ID_REQUIRED round trip.
        #expect(h.joinResponse(ja) == nil)
        h.absorb(h.gc.tick(nowMs: 3_010))
        let a = try #require(h.joinResponse(ja)?.memberId)
        let b = try #require(h.joinResponse(jb)?.memberId)
        #expect(a.hasPrefix("ia-") && b.hasPrefix("ib-"))
        #expect(h.joinResponse(ja)?.leaderId == a && h.joinResponse(ja)?.members.map(\.groupInstanceId) == ["ia", "ib"])
        _ = h.sync(a, generation: 1, assignments: [a: [0xA], b: [0xB]], instance: "ia", now: 3_020)
        _ = h.sync(b, generation: 1, instance: "ib", now: 3_020)
        #expect(h.gc.groups["g"]?.state == .stable)
        return (a, b)
    }

    @Test func rejoinWithSameProtocolsReplacesWithoutRebalance() throws {
        var h = GroupHarness(delayMs: 3_000)
        let (a, b) = try Self.stableStaticPair(&h)
        let recordsBefore = h.records.count
        // The leader restarts: same instance id, empty member id.
        let j = h.join(instance: "ia", now: 4_000)
        let r = try #require(h.joinResponse(j))
        #expect(r.error == .noError && r.generationId == 1 && r.memberId != a && r.memberId.hasPrefix("ia-"))
        // No assignment round: the answer names the old leader id and lists no members.
        #expect(r.leaderId == a && r.members.isEmpty)
        #expect(h.gc.groups["g"]?.state == .stable && h.gc.groups["g"]?.generationId == 1)
        #expect(h.gc.groups["g"]?.leaderId == r.memberId)
        // The new member id is durable with the instance id.
        #expect(h.records.count == recordsBefore + 1)
        let s = h.sync(r.memberId, generation: 1, instance: "ia", now: 4_010)
        #expect(h.syncResponse(s)?.error == .noError && h.syncResponse(s)?.assignment == [0xA])
        // The old incarnation is fenced; the other member did not notice anything.
        #expect(h.heartbeat(a, generation: 1, instance: "ia", now: 4_020) == .fencedInstanceId)
        #expect(h.heartbeat(b, generation: 1, instance: "ib", now: 4_020) == .noError)
        #expect(h.heartbeat(r.memberId, generation: 1, instance: "ia", now: 4_020) == .noError)
        let c = h.commit(OffsetCommitRequest(groupId: "g", generationId: 1, memberId: a, groupInstanceId: "ia",
                                             offsets: [TopicPartition("t", 0): OffsetCommitPartition(offset: 1)]), now: 4_030)
        #expect(c?[TopicPartition("t", 0)] == .fencedInstanceId)
        let sOld = h.sync(a, generation: 1, instance: "ia", now: 4_030)
        #expect(h.syncResponse(sOld)?.error == .fencedInstanceId)
        let jOld = h.join(member: a, instance: "ia", now: 4_040)
        #expect(h.joinResponse(jOld)?.error == .fencedInstanceId)
    }

    /// KIP-814: from JoinGroup v9 the returning static leader is named leader, with the members,
    /// and told to skip the assignment; it keeps the assignment it made.
    @Test func returningStaticLeaderSkipsAssignmentFromV9() throws {
        var h = GroupHarness(delayMs: 3_000)
        let (a, _) = try Self.stableStaticPair(&h)
        let j = h.join(version: 9, instance: "ia", now: 4_000)
        let r = try #require(h.joinResponse(j))
        #expect(r.error == .noError && r.generationId == 1 && r.memberId != a)
        #expect(r.skipAssignment && r.leaderId == r.memberId && r.members.map(\.groupInstanceId) == ["ia", "ib"])
        #expect(h.gc.groups["g"]?.state == .stable)
        let s = h.sync(r.memberId, generation: 1, instance: "ia", now: 4_010)
        #expect(h.syncResponse(s)?.assignment == [0xA], "the returning leader lost its assignment")
    }

    @Test func rejoinWithNewProtocolsRebalances() throws {
        var h = GroupHarness(delayMs: 3_000)
        let (_, b) = try Self.stableStaticPair(&h)
        let j = h.join(protocols: [GroupProtocol(name: "range", metadata: [2])], instance: "ib", now: 4_000)
        #expect(h.joinResponse(j) == nil)
        #expect(h.gc.groups["g"]?.state == .preparingRebalance)
        #expect(h.heartbeat(b, generation: 1, instance: "ib", now: 4_010) == .fencedInstanceId)
    }

    @Test func fencedWhileWaitingForJoinAndSessionStillExpires() throws {
        var h = GroupHarness(delayMs: 3_000)
        let (a, b) = try Self.stableStaticPair(&h)
        // b rejoins with its member id (a rebalance), then a new incarnation of b takes over.
        let waiting = h.join(member: b, protocols: [GroupProtocol(name: "range", metadata: [3])], instance: "ib", now: 4_000)
        let replacement = h.join(instance: "ib", now: 4_010)
        #expect(h.joinResponse(waiting)?.error == .fencedInstanceId)
        #expect(h.gc.groups["g"]?.state == .preparingRebalance)
        _ = h.join(member: a, instance: "ia", now: 4_020)
        let r = try #require(h.joinResponse(replacement))
        #expect(r.error == .noError && r.generationId == 2 && r.memberId.hasPrefix("ib-") && r.memberId != b)
        // Static members are not exempt from the session timeout.
        _ = h.heartbeat(r.memberId, generation: 2, instance: "ib", now: 4_020)
        h.absorb(h.gc.tick(nowMs: 4_020 + 10_001))
        #expect(h.gc.groups["g"]?.members.values.contains { $0.groupInstanceId == "ib" } == false)
    }

    @Test func leaveByInstanceIdAndWrongMemberId() throws {
        var h = GroupHarness(delayMs: 3_000)
        let (a, b) = try Self.stableStaticPair(&h)
        h.absorb(h.gc.leaveGroup(groupId: "g", members: [
            LeaveGroupMember(memberId: "", groupInstanceId: "ib"),
            LeaveGroupMember(memberId: "bogus", groupInstanceId: "ia"),
            LeaveGroupMember(memberId: "", groupInstanceId: "nobody"),
        ], requestId: 900, nowMs: 4_000))
        guard case .leave(let l)? = h.responses[900] else { Issue.record("no leave response"); return }
        #expect(l.members.map(\.error) == [.noError, .fencedInstanceId, .unknownMemberId])
        #expect(h.gc.groups["g"]?.members[b] == nil && h.gc.groups["g"]?.members[a] != nil)
        #expect(h.gc.groups["g"]?.state == .preparingRebalance)
    }

    @Test func instanceIdSurvivesReplay() throws {
        var h = GroupHarness(delayMs: 3_000)
        _ = try Self.stableStaticPair(&h)
        let j = h.join(instance: "ia", now: 4_000)
        let newA = try #require(h.joinResponse(j)?.memberId)
        var replayed = GroupCoordinator(config: h.gc.config, idSeed: 7)
        for r in h.records { replayed.replay(r, nowMs: 5_000) }
        #expect(replayed.durableState == h.gc.durableState)
        #expect(replayed.groups["g"]?.staticMemberId("ia") == newA)
        // The failed-over coordinator still replaces by instance id without a rebalance.
        let id: GroupRequestID = 77
        let fx = replayed.joinGroup(JoinGroupRequest(groupId: "g", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000, groupInstanceId: "ia",
                                                     protocolType: "consumer", protocols: [GroupProtocol(name: "range", metadata: [1])],
                                                     clientId: "c", clientHost: "/h", apiVersion: 5), requestId: id, nowMs: 5_010)
        let answered = fx.contains { if case .append(_, let then) = $0 { return then.first?.requestId == id } else { return false } }
        #expect(answered && replayed.groups["g"]?.state == .stable)
    }

    /// librdkafka 0113: Kafka checks member and generation before the state, so a stale
    /// generation during a rebalance is ILLEGAL_GENERATION, not REBALANCE_IN_PROGRESS.
    @Test func commitAndHeartbeatCheckMemberAndGenerationFirst() throws {
        var h = GroupHarness(delayMs: 3_000)
        let ids = h.stableGroupOfThree()
        h.holdStores = true
        let tp = TopicPartition("t", 0)
        // Rebalance to generation 2 and stop in CompletingRebalance (the leader's store is held).
        let j = ids.map { h.join(member: $0, protocols: [GroupProtocol(name: "range", metadata: [9])], now: 5_000) }
        #expect(h.joinResponse(j[0])?.generationId == 2)
        #expect(h.gc.groups["g"]?.state == .completingRebalance)
        func commit(_ member: String, _ gen: Int32) -> KafkaError? {
            h.commit(OffsetCommitRequest(groupId: "g", generationId: gen, memberId: member, offsets: [tp: OffsetCommitPartition(offset: 5)]), now: 5_010)?[tp]
        }
        #expect(commit(ids[1], 1) == .illegalGeneration)
        #expect(commit("stranger", 2) == .unknownMemberId)
        #expect(commit(ids[1], 2) == .rebalanceInProgress)
        #expect(commit("", -1) == .unknownMemberId)
        #expect(h.heartbeat(ids[1], generation: 1, now: 5_010) == .illegalGeneration)
        #expect(h.heartbeat("stranger", generation: 2, now: 5_010) == .unknownMemberId)
        #expect(h.heartbeat(ids[1], generation: 2, now: 5_010) == .noError)
        // PreparingRebalance: a current member's commit is accepted, a stale generation is not.
        _ = h.join(member: ids[2], protocols: [GroupProtocol(name: "range", metadata: [7])], now: 5_020)
        #expect(h.gc.groups["g"]?.state == .preparingRebalance)
        #expect(commit(ids[0], 2) == .noError)
        #expect(commit(ids[0], 1) == .illegalGeneration)
        #expect(h.heartbeat(ids[0], generation: 2, now: 5_030) == .rebalanceInProgress)
    }
}
