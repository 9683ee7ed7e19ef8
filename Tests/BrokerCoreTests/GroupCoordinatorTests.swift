import Testing
@testable import BrokerCore

/// Collects what a test coordinator emits: responses by request id and every appended record.
struct GroupHarness {
    var gc: GroupCoordinator
    var responses: [GroupRequestID: GroupResponse] = [:]
    var records: [GroupRecord] = []
    var nextId: GroupRequestID = 1
    /// What the next group stores answer (nil: written).
    var storeError: KafkaError?
    /// Keep group stores pending until the test completes them (`heldStores`).
    var holdStores = false
    var heldStores: [(groupId: String, generation: Int32)] = []

    init(delayMs: Int32 = 0) {
        var cfg = GroupConfig()
        cfg.initialRebalanceDelayMs = delayMs
        gc = GroupCoordinator(config: cfg, idSeed: 42)
    }

    mutating func absorb(_ effects: [GroupEffect]) {
        for e in effects {
            switch e {
            case .respond(let r): responses[r.requestId] = r.response
            case .append(let appends, let then):
                for a in appends {
                    #expect(a.records.allSatisfy { GroupCoordinator.partitionFor(groupId: $0.groupId) == a.partition })
                    records += a.records
                }
                for r in then { responses[r.requestId] = r.response }
            case let .storeGroup(a, groupId, generation):
                #expect(a.records.allSatisfy { GroupCoordinator.partitionFor(groupId: $0.groupId) == a.partition })
                records += a.records
                if holdStores { heldStores.append((groupId, generation)); continue }
                absorb(gc.groupStored(groupId: groupId, generation: generation, error: storeError, nowMs: 0))
            }
        }
    }

    mutating func newId() -> GroupRequestID {
        defer { nextId += 1 }
        return nextId
    }

    mutating func join(group: String = "g", member: String = "", client: String = "c", protocols: [GroupProtocol] = [GroupProtocol(name: "range", metadata: [1])],
                       version: Int16 = 5, session: Int32 = 10_000, instance: String? = nil, now: Int64) -> GroupRequestID {
        let id = newId()
        let req = JoinGroupRequest(groupId: group, sessionTimeoutMs: session, rebalanceTimeoutMs: 20_000, memberId: member,
                                   groupInstanceId: instance, protocolType: "consumer", protocols: protocols, clientId: client, clientHost: "/127.0.0.1", apiVersion: version)
        absorb(gc.joinGroup(req, requestId: id, nowMs: now))
        return id
    }

    func joinResponse(_ id: GroupRequestID) -> JoinGroupResponse? {
        if case .join(let r)? = responses[id] { return r }
        return nil
    }

    func syncResponse(_ id: GroupRequestID) -> SyncGroupResponse? {
        if case .sync(let r)? = responses[id] { return r }
        return nil
    }

    /// The v4+ two-step join: get a member id, then join with it.
    mutating func joinWithId(client: String, protocols: [GroupProtocol] = [GroupProtocol(name: "range", metadata: [1])], now: Int64) -> (String, GroupRequestID) {
        let first = join(client: client, protocols: protocols, now: now)
        let memberId = joinResponse(first)?.memberId ?? ""
        let second = join(member: memberId, client: client, protocols: protocols, now: now)
        // An empty group's first round ends on the timer even with no initial delay.
        absorb(gc.tick(nowMs: now))
        return (memberId, second)
    }

    mutating func sync(_ member: String, generation: Int32, assignments: [String: [UInt8]] = [:], instance: String? = nil,
                       now: Int64) -> GroupRequestID {
        let id = newId()
        absorb(gc.syncGroup(SyncGroupRequest(groupId: "g", generationId: generation, memberId: member, groupInstanceId: instance,
                                             assignments: assignments),
                            requestId: id, nowMs: now))
        return id
    }

    mutating func heartbeat(_ member: String, generation: Int32, group: String = "g", instance: String? = nil, now: Int64) -> KafkaError? {
        let id = newId()
        absorb(gc.heartbeat(groupId: group, generationId: generation, memberId: member, groupInstanceId: instance, requestId: id, nowMs: now))
        if case .heartbeat(let e)? = responses[id] { return e }
        return nil
    }

    mutating func commit(_ req: OffsetCommitRequest, now: Int64) -> [TopicPartition: KafkaError]? {
        let id = newId()
        absorb(gc.commitOffsets(req, requestId: id, nowMs: now))
        if case .offsetCommit(let r)? = responses[id] { return r }
        return nil
    }

    /// Three members (v5 joins) in a stable group at generation 1; returns their ids in join order.
    mutating func stableGroupOfThree() -> [String] {
        let (a, ja) = joinWithId(client: "a", now: 0)
        let (b, jb) = joinWithId(client: "b", now: 10)
        let (c, jc) = joinWithId(client: "c", now: 20)
        absorb(gc.tick(nowMs: 3_020))
        for j in [ja, jb, jc] { #expect(joinResponse(j)?.generationId == 1) }
        let s = sync(a, generation: 1, assignments: [a: [0xA], b: [0xB], c: [0xC]], now: 3_030)
        _ = sync(b, generation: 1, now: 3_030)
        _ = sync(c, generation: 1, now: 3_030)
        #expect(syncResponse(s)?.assignment == [0xA])
        return [a, b, c]
    }
}

@Suite struct GroupCoordinatorTests {
    @Test func offsetsPartitionMatchesKafka() {
        // Utils.abs(hashCode) % 50, checked against Java's String.hashCode values.
        #expect(GroupCoordinator.partitionFor(groupId: "my-group") == 12)  // hashCode -1906497762
        #expect(GroupCoordinator.partitionFor(groupId: "group-1") == 49)
        #expect(GroupCoordinator.partitionFor(groupId: "console-consumer-12345") == 6)
        #expect(GroupCoordinator.partitionFor(groupId: "polygenelubricants") == 0)  // hashCode Int32.min
    }

    /// Found by GroupSimulationTests: an assignment handed out before its record was durable let a
    /// coordinator that replayed the topic hand the same generation to another membership.
    @Test func syncWaitsForTheStoreAndAFailedStoreRebalances() throws {
        var h = GroupHarness(delayMs: 3_000)
        h.holdStores = true
        let (a, ja) = h.joinWithId(client: "a", now: 0)
        let (b, _) = h.joinWithId(client: "b", now: 10)
        h.absorb(h.gc.tick(nowMs: 3_020))
        let gen = try #require(h.joinResponse(ja)?.generationId)
        let sb = h.sync(b, generation: gen, now: 3_025)
        let sa = h.sync(a, generation: gen, assignments: [a: [1], b: [2]], now: 3_030)
        let again = h.sync(b, generation: gen, now: 3_035)
        #expect(h.syncResponse(sa) == nil && h.syncResponse(again) == nil)
        #expect(h.gc.groups["g"]?.state == .completingRebalance && h.heldStores.count == 1)
        // The store fails (say NOT_ENOUGH_REPLICAS on __consumer_offsets): the waiters hear it and the group rebalances.
        let failed = h.heldStores.removeFirst()
        h.absorb(h.gc.groupStored(groupId: failed.groupId, generation: failed.generation, error: .coordinatorNotAvailable, nowMs: 3_040))
        #expect(h.syncResponse(sa)?.error == .coordinatorNotAvailable && h.syncResponse(again)?.error == .coordinatorNotAvailable)
        #expect(h.syncResponse(sb)?.error == .rebalanceInProgress)  // replaced by its retry
        #expect(h.gc.groups["g"]?.state == .preparingRebalance)
        let ra = h.join(member: a, client: "a", now: 3_050)
        _ = h.join(member: b, client: "b", now: 3_050)
        let gen2 = try #require(h.joinResponse(ra)?.generationId)
        #expect(gen2 == gen + 1)
        let sa2 = h.sync(a, generation: gen2, assignments: [a: [1], b: [2]], now: 3_060)
        let sb2 = h.sync(b, generation: gen2, now: 3_060)
        #expect(h.syncResponse(sa2) == nil && h.syncResponse(sb2) == nil)
        let ok = h.heldStores.removeFirst()
        h.absorb(h.gc.groupStored(groupId: ok.groupId, generation: ok.generation, error: nil, nowMs: 3_070))
        #expect(h.syncResponse(sa2)?.assignment == [1] && h.syncResponse(sb2)?.assignment == [2])
        #expect(h.gc.groups["g"]?.state == .stable && h.gc.groups["g"]?.generationId == gen2)
        // A late outcome for a voided generation changes nothing.
        #expect(h.gc.groupStored(groupId: "g", generation: gen, error: nil, nowMs: 3_080).isEmpty)
    }

    @Test func memberIdRequiredFlowThenJoin() throws {
        var h = GroupHarness()
        let first = h.join(client: "consumer-1", now: 0)
        let r = try #require(h.joinResponse(first))
        #expect(r.error == .memberIdRequired)
        #expect(r.generationId == -1)
        #expect(r.memberId.hasPrefix("consumer-1-") && r.memberId.count == "consumer-1-".count + 36)
        #expect(h.gc.groups["g"]?.pendingMembers[r.memberId] != nil)
        let second = h.join(member: r.memberId, client: "consumer-1", now: 5)
        #expect(h.joinResponse(second) == nil)
        h.absorb(h.gc.tick(nowMs: 5))
        let joined = try #require(h.joinResponse(second))
        #expect(joined.error == .noError && joined.generationId == 1 && joined.leaderId == r.memberId)
        #expect(joined.members.map { $0.memberId } == [r.memberId])
        // Old clients (v3) get a member id straight away.
        let old = h.join(group: "g2", client: "legacy", version: 3, now: 0)
        h.absorb(h.gc.tick(nowMs: 0))
        #expect(h.joinResponse(old)?.error == .noError)
        // A pending id that is never used lapses after the session timeout.
        let lapsing = h.join(group: "g3", client: "x", now: 0)
        let pid = h.joinResponse(lapsing)?.memberId ?? ""
        h.absorb(h.gc.tick(nowMs: 10_001))
        #expect(h.gc.groups["g3"]?.pendingMembers.isEmpty == true)
        let late = h.join(group: "g3", member: pid, now: 10_002)
        #expect(h.joinResponse(late)?.error == .unknownMemberId)
    }

    @Test func threeMembersJoinSyncAndGetTheirAssignments() throws {
        var h = GroupHarness(delayMs: 3_000)
        let range = GroupProtocol(name: "range", metadata: [1])
        let rr = GroupProtocol(name: "roundrobin", metadata: [2])
        let (a, ja) = h.joinWithId(client: "a", protocols: [range, rr], now: 0)
        let (b, jb) = h.joinWithId(client: "b", protocols: [rr, range], now: 10)
        let (c, jc) = h.joinWithId(client: "c", protocols: [rr, range], now: 20)
        #expect(h.gc.groups["g"]?.state == .preparingRebalance)
        h.absorb(h.gc.tick(nowMs: 3_019))
        #expect(h.joinResponse(ja) == nil)  // still in the initial delay, extended by each joiner
        h.absorb(h.gc.tick(nowMs: 3_020))
        let leader = try #require(h.joinResponse(ja))
        #expect(leader.generationId == 1 && leader.leaderId == a && leader.protocolName == "roundrobin")
        #expect(leader.members.map { $0.memberId } == [a, b, c])
        #expect(leader.members.map { $0.metadata } == [[2], [2], [2]])
        #expect(h.joinResponse(jb)?.members == [] && h.joinResponse(jc)?.leaderId == a)
        #expect(h.gc.groups["g"]?.state == .completingRebalance)

        let sb = h.sync(b, generation: 1, now: 3_100)
        #expect(h.syncResponse(sb) == nil)  // followers wait for the leader
        let sa = h.sync(a, generation: 1, assignments: [a: [0xA], b: [0xB], c: [0xC]], now: 3_200)
        #expect(h.syncResponse(sa)?.assignment == [0xA])
        #expect(h.syncResponse(sb)?.assignment == [0xB])
        let sc = h.sync(c, generation: 1, now: 3_300)
        #expect(h.syncResponse(sc) == SyncGroupResponse(error: .noError, protocolType: "consumer", protocolName: "roundrobin", assignment: [0xC]))
        #expect(h.gc.groups["g"]?.state == .stable)
        // The group metadata record carries the assignments.
        guard case .groupMetadata(_, let value?)? = h.records.last else { Issue.record("no group record"); return }
        #expect(value.generation == 1 && value.leader == a && value.members.map { $0.assignment } == [[0xA], [0xB], [0xC]])
        let d = h.gc.describeGroups(["g", "nope"])
        #expect(d[0].state == "Stable" && d[0].protocolName == "roundrobin" && d[0].members.count == 3)
        #expect(d[1].state == "Dead" && d[1].error == .noError)
        #expect(h.gc.listGroups() == [GroupListing(groupId: "g", protocolType: "consumer", state: "Stable")])
    }

    @Test func heartbeatErrors() {
        var h = GroupHarness(delayMs: 3_000)
        let ids = h.stableGroupOfThree()
        #expect(h.heartbeat(ids[0], generation: 1, now: 4_000) == .noError)
        #expect(h.heartbeat(ids[0], generation: 0, now: 4_000) == .illegalGeneration)
        #expect(h.heartbeat("ghost", generation: 1, now: 4_000) == .unknownMemberId)
        #expect(h.heartbeat(ids[0], generation: 1, group: "other", now: 4_000) == .unknownMemberId)
        let stale = h.sync(ids[1], generation: 7, now: 4_000)
        #expect(h.syncResponse(stale)?.error == .illegalGeneration)
        #expect(h.commit(OffsetCommitRequest(groupId: "g", generationId: 0, memberId: ids[0], offsets: [TopicPartition("t", 0): OffsetCommitPartition(offset: 1)]),
                         now: 4_000) == [TopicPartition("t", 0): .illegalGeneration])
    }

    @Test func sessionExpiryTriggersRebalance() throws {
        var h = GroupHarness(delayMs: 3_000)
        let ids = h.stableGroupOfThree()
        // a and b heartbeat; c goes silent (session 10s, last seen at 3030).
        _ = h.heartbeat(ids[0], generation: 1, now: 12_000)
        _ = h.heartbeat(ids[1], generation: 1, now: 12_000)
        h.absorb(h.gc.tick(nowMs: 13_029))
        #expect(h.gc.groups["g"]?.state == .stable)
        h.absorb(h.gc.tick(nowMs: 13_030))
        #expect(h.gc.groups["g"]?.state == .preparingRebalance)
        #expect(h.gc.groups["g"]?.members[ids[2]] == nil)
        #expect(h.heartbeat(ids[0], generation: 1, now: 13_100) == .rebalanceInProgress)
        let ja = h.join(member: ids[0], client: "a", now: 13_200)
        #expect(h.joinResponse(ja) == nil)
        let jb = h.join(member: ids[1], client: "b", now: 13_300)
        let r = try #require(h.joinResponse(ja))
        #expect(r.generationId == 2 && r.members.count == 2)
        #expect(h.joinResponse(jb)?.generationId == 2)
    }

    @Test func memberThatDoesNotRejoinIsDroppedAtRebalanceTimeout() throws {
        var h = GroupHarness(delayMs: 3_000)
        let ids = h.stableGroupOfThree()
        let _ = h.gc.leaveGroup(groupId: "g", members: [LeaveGroupMember(memberId: ids[2])], requestId: 999, nowMs: 4_000)
        let ja = h.join(member: ids[0], client: "a", now: 4_100)
        h.absorb(h.gc.tick(nowMs: 4_000 + 20_000))
        let r = try #require(h.joinResponse(ja))
        #expect(r.members.map { $0.memberId } == [ids[0]])
        #expect(h.gc.groups["g"]?.members.count == 1)
    }

    @Test func leaveGroupBatchAndDeleteGroups() throws {
        var h = GroupHarness(delayMs: 3_000)
        let ids = h.stableGroupOfThree()
        let del = h.newId()
        h.absorb(h.gc.deleteGroups(["g", "missing"], requestId: del, nowMs: 4_000))
        #expect(h.responses[del] == .deleteGroups(["g": .nonEmptyGroup, "missing": .groupIdNotFound]))
        let leave = h.newId()
        h.absorb(h.gc.leaveGroup(groupId: "g", members: ids.map { LeaveGroupMember(memberId: $0) } + [LeaveGroupMember(memberId: "zz")],
                                 requestId: leave, nowMs: 4_100))
        guard case .leave(let lr)? = h.responses[leave] else { Issue.record("no leave response"); return }
        #expect(lr.members.map { $0.error } == [.noError, .noError, .noError, .unknownMemberId])
        #expect(h.gc.groups["g"]?.state == .empty)
        #expect(h.gc.groups["g"]?.generationId == 2)
        _ = h.commit(OffsetCommitRequest(groupId: "g", offsets: [TopicPartition("t", 0): OffsetCommitPartition(offset: 5)]), now: 4_200)
        let del2 = h.newId()
        h.absorb(h.gc.deleteGroups(["g"], requestId: del2, nowMs: 4_300))
        #expect(h.responses[del2] == .deleteGroups(["g": .noError]))
        #expect(h.records.suffix(2) == [.offsetCommit(OffsetCommitKey(groupId: "g", topicPartition: TopicPartition("t", 0)), nil),
                                       .groupMetadata(groupId: "g", nil)])
        #expect(h.gc.groups["g"] == nil && h.gc.offsets["g"] == nil)
    }

    @Test func offsetCommitAndFetch() throws {
        var h = GroupHarness(delayMs: 3_000)
        let ids = h.stableGroupOfThree()
        let t0 = TopicPartition("t", 0), t1 = TopicPartition("t", 1)
        let id = h.newId()
        let fx = h.gc.commitOffsets(OffsetCommitRequest(groupId: "g", generationId: 1, memberId: ids[1], offsets: [
            t0: OffsetCommitPartition(offset: 42, leaderEpoch: 3, metadata: "m"),
            t1: OffsetCommitPartition(offset: 7, metadata: String(repeating: "x", count: 5_000)),
        ]), requestId: id, nowMs: 5_000)
        // The response rides on the append: nothing is answered before the records are durable.
        #expect(fx.count == 1)
        guard case .append(let appends, let then) = fx.first else { Issue.record("expected an append"); return }
        #expect(appends == [RecordAppend(partition: GroupCoordinator.partitionFor(groupId: "g"), records: [
            .offsetCommit(OffsetCommitKey(groupId: "g", topicPartition: t0),
                          OffsetCommitValue(offset: 42, leaderEpoch: 3, metadata: "m", commitTimestampMs: 5_000))])])
        #expect(then == [PendingResponse(requestId: id, response: .offsetCommit([t0: .noError, t1: .offsetMetadataTooLarge]))])
        h.absorb(fx)
        let fetched = h.gc.fetchOffsets(groupId: "g", partitions: [t0, t1])
        #expect(fetched[t0] == OffsetFetchPartition(offset: 42, leaderEpoch: 3, metadata: "m", error: .noError))
        #expect(fetched[t1]?.offset == -1)
        #expect(h.gc.fetchOffsets(groupId: "g", partitions: nil).keys.sorted() == [t0])
        // Standalone (simple) consumers commit with generation -1 to groups that do not exist.
        #expect(h.commit(OffsetCommitRequest(groupId: "simple", offsets: [t0: OffsetCommitPartition(offset: 1)]), now: 5_000) == [t0: .noError])
        #expect(h.gc.groups["simple"]?.state == .empty)
        #expect(h.commit(OffsetCommitRequest(groupId: "nogroup", generationId: 3, memberId: "m", offsets: [t0: OffsetCommitPartition(offset: 1)]),
                         now: 5_000) == [t0: .illegalGeneration])
        #expect(h.commit(OffsetCommitRequest(groupId: "g", generationId: 1, memberId: "stranger", offsets: [t0: OffsetCommitPartition(offset: 1)]),
                         now: 5_000) == [t0: .unknownMemberId])
    }

    @Test func offsetDeleteRefusesSubscribedTopics() {
        var h = GroupHarness()
        // ConsumerProtocolSubscription v0: version, [topics], user data.
        let sub: [UInt8] = [0, 0, 0, 0, 0, 1, 0, 6] + Array("orders".utf8) + [0xFF, 0xFF, 0xFF, 0xFF]
        let (m, _) = h.joinWithId(client: "a", protocols: [GroupProtocol(name: "range", metadata: sub)], now: 0)
        _ = h.sync(m, generation: 1, assignments: [m: []], now: 1)
        let orders = TopicPartition("orders", 0), other = TopicPartition("other", 0)
        _ = h.commit(OffsetCommitRequest(groupId: "g", generationId: 1, memberId: m, offsets: [orders: .init(offset: 1), other: .init(offset: 2)]), now: 2)
        let id = h.newId()
        h.absorb(h.gc.deleteOffsets(groupId: "g", partitions: [orders, other], requestId: id, nowMs: 3))
        #expect(h.responses[id] == .offsetDelete(.noError, [orders: .groupSubscribedToTopic, other: .noError]))
        #expect(h.gc.fetchOffsets(groupId: "g", partitions: nil).keys.sorted() == [orders])
        let missing = h.newId()
        h.absorb(h.gc.deleteOffsets(groupId: "nope", partitions: [orders], requestId: missing, nowMs: 3))
        #expect(h.responses[missing] == .offsetDelete(.groupIdNotFound, [:]))
    }

    @Test func joinValidation() {
        var h = GroupHarness()
        let noName = h.join(group: "", now: 0)
        let shortSession = h.join(session: 10, now: 0)
        let unknown = h.join(member: "who", now: 0)
        #expect(h.joinResponse(noName)?.error == .invalidGroupId)
        #expect(h.joinResponse(shortSession)?.error == .invalidSessionTimeout)
        #expect(h.joinResponse(unknown)?.error == .unknownMemberId)
        let noProtocols = h.join(group: "fresh", protocols: [], now: 0)
        #expect(h.joinResponse(noProtocols)?.error == .inconsistentGroupProtocol)
        #expect(h.gc.groups["fresh"] == nil)
        _ = h.joinWithId(client: "a", now: 0)
        let other = h.join(client: "b", protocols: [GroupProtocol(name: "sticky", metadata: [])], now: 1)
        #expect(h.joinResponse(other)?.error == .inconsistentGroupProtocol)
    }

    @Test func rebalanceDuringSyncFailsWaitingFollowers() throws {
        var h = GroupHarness()
        let (a, _) = h.joinWithId(client: "a", now: 0)
        // Group is completing generation 1 with a alone; b joins before a syncs.
        let (b, jb) = h.joinWithId(client: "b", now: 5)
        #expect(h.gc.groups["g"]?.state == .preparingRebalance)
        let ja = h.join(member: a, client: "a", now: 6)
        #expect(h.joinResponse(ja)?.generationId == 2 && h.joinResponse(jb)?.generationId == 2)
        let sFollower = h.sync(b, generation: 2, now: 7)
        // a changes its subscription: rebalance, b's pending sync is told to rejoin.
        _ = h.join(member: a, client: "a", protocols: [GroupProtocol(name: "range", metadata: [9])], now: 8)
        #expect(h.syncResponse(sFollower)?.error == .rebalanceInProgress)
    }

    @Test func replayRebuildsIdenticalState() {
        var h = GroupHarness(delayMs: 3_000)
        let ids = h.stableGroupOfThree()
        _ = h.commit(OffsetCommitRequest(groupId: "g", generationId: 1, memberId: ids[0], offsets: [
            TopicPartition("t", 0): .init(offset: 10, leaderEpoch: 1, metadata: "a"), TopicPartition("t", 1): .init(offset: 20)]), now: 4_000)
        _ = h.commit(OffsetCommitRequest(groupId: "g", generationId: 1, memberId: ids[1], offsets: [TopicPartition("t", 0): .init(offset: 11)]), now: 4_100)
        _ = h.commit(OffsetCommitRequest(groupId: "simple", offsets: [TopicPartition("u", 0): .init(offset: 3)]), now: 4_200)
        let id = h.newId()
        h.absorb(h.gc.deleteOffsets(groupId: "simple", partitions: [TopicPartition("u", 0)], requestId: id, nowMs: 4_300))
        _ = h.commit(OffsetCommitRequest(groupId: "simple2", offsets: [TopicPartition("u", 0): .init(offset: 4)]), now: 4_400)

        var reloaded = GroupCoordinator(config: h.gc.config, idSeed: 7)
        for r in h.records { reloaded.replay(r, nowMs: 10_000) }
        #expect(reloaded.durableState == h.gc.durableState)
        #expect(reloaded.durableState.groups.keys.sorted() == ["g", "simple", "simple2"])
        // The reloaded coordinator serves the same members: heartbeats work at the same generation.
        var h2 = h
        h2.gc = reloaded
        #expect(h2.heartbeat(ids[2], generation: 1, now: 10_001) == .noError)
        #expect(reloaded.fetchOffsets(groupId: "g", partitions: [TopicPartition("t", 0)])[TopicPartition("t", 0)]?.offset == 11)
        // Unloading the partition forgets everything that lives there.
        _ = reloaded.unload(partition: GroupCoordinator.partitionFor(groupId: "g"))
        #expect(reloaded.groups["g"] == nil && reloaded.offsets["g"] == nil)
    }
}

@Suite struct OffsetRetentionTests {
    @Test func emptyAndStandaloneGroupsExpireTheirOffsets() {
        var h = GroupHarness(delayMs: 3_000)
        let ids = h.stableGroupOfThree()
        let t0 = TopicPartition("t", 0)
        _ = h.commit(OffsetCommitRequest(groupId: "g", generationId: 1, memberId: ids[0], offsets: [t0: .init(offset: 5)]), now: 4_000)
        _ = h.commit(OffsetCommitRequest(groupId: "simple", offsets: [t0: .init(offset: 1)]), now: 4_000)
        // The Stable group's subscription is opaque ([1]): its offsets are kept; the standalone consumer's expire.
        h.absorb(h.gc.expireOffsets(nowMs: 4_000 + 1_000, retentionMs: 1_000))
        #expect(h.gc.offsets["simple"] == nil && h.gc.groups["simple"] == nil)
        #expect(h.records.suffix(2) == [.offsetCommit(OffsetCommitKey(groupId: "simple", topicPartition: t0), nil), .groupMetadata(groupId: "simple", nil)])
        #expect(h.gc.offsets["g"]?[t0]?.offset == 5)
        // Everyone leaves at 10s: the group's offsets live on for the retention period from then.
        _ = h.gc.leaveGroup(groupId: "g", members: ids.map { LeaveGroupMember(memberId: $0) }, requestId: 500, nowMs: 10_000)
        h.absorb(h.gc.expireOffsets(nowMs: 10_999, retentionMs: 1_000))
        #expect(h.gc.offsets["g"]?[t0] != nil)
        h.absorb(h.gc.expireOffsets(nowMs: 11_000, retentionMs: 1_000))
        #expect(h.gc.offsets["g"] == nil && h.gc.groups["g"] == nil)
    }
}

extension OffsetRetentionTests {
    @Test func stableConsumerGroupKeepsOnlySubscribedTopics() {
        var h = GroupHarness()
        let sub: [UInt8] = [0, 0, 0, 0, 0, 1, 0, 6] + Array("orders".utf8) + [0xFF, 0xFF, 0xFF, 0xFF]
        let (m, _) = h.joinWithId(client: "a", protocols: [GroupProtocol(name: "range", metadata: sub)], now: 0)
        _ = h.sync(m, generation: 1, assignments: [m: []], now: 1)
        let orders = TopicPartition("orders", 0), old = TopicPartition("old", 0)
        _ = h.commit(OffsetCommitRequest(groupId: "g", generationId: 1, memberId: m, offsets: [orders: .init(offset: 1), old: .init(offset: 2)]), now: 2)
        h.absorb(h.gc.expireOffsets(nowMs: 1_002, retentionMs: 1_000))
        #expect(h.gc.offsets["g"].map { Array($0.keys) } == [orders])
        #expect(h.gc.groups["g"]?.state == .stable)
    }
}
