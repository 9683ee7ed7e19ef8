import enum Protocol.Murmur2
import Testing
@testable import BrokerCore

func reg(_ id: BrokerID, ts: Int64 = 0, rack: String? = nil) -> BrokerRegistration {
    BrokerRegistration(id: id, endpoints: [BrokerEndpoint(host: "b\(id)", port: 9090 + id)], rack: rack, timestampMs: ts)
}

/// A controller on broker 1 that has taken over an empty 3-broker cluster.
func freshController(brokers: [BrokerID] = [1, 2, 3], config: ControllerConfig = ControllerConfig()) -> Controller {
    var c = Controller(brokerId: 1, config: config)
    _ = c.handle(.becameController(ControllerContext(epoch: 5, epochZkVersion: 4, liveBrokers: brokers.map { reg($0) },
                                                     topics: [:], partitionStates: [:])))
    return c
}

extension [ControllerEffect] {
    var zkOps: [ZkOp] { compactMap { if case .zkWrite(let op, _) = $0 { return op }; return nil } }
    func leaderAndIsr(to b: BrokerID) -> LeaderAndIsrRequest? {
        for e in self { if case .leaderAndIsr(let to, let r) = e, to == b { return r } }
        return nil
    }
    var leaderAndIsrTargets: [BrokerID] { compactMap { if case .leaderAndIsr(let to, _) = $0 { return to }; return nil } }
    var updateMetadataTargets: [BrokerID] { compactMap { if case .updateMetadata(let to, _) = $0 { return to }; return nil } }
    func updateMetadata(to b: BrokerID) -> UpdateMetadataRequest? {
        for e in self { if case .updateMetadata(let to, let r) = e, to == b { return r } }
        return nil
    }
    func stopReplica(to b: BrokerID) -> StopReplicaRequest? {
        for e in self { if case .stopReplica(let to, let r) = e, to == b { return r } }
        return nil
    }
}

@Suite struct ReplicaAssignmentTests {
    @Test func matchesKafkasDocumentedLayout() throws {
        // The example from Kafka's AdminUtils doc comment: 5 brokers, 10 partitions, RF 3, start 0.
        let brokers = (0..<5).map { BrokerPlacement(id: Int32($0)) }
        let a = try ReplicaAssignment.assign(brokers: brokers, partitions: 10, replicationFactor: 3, startIndex: 0, replicaShift: 0)
        #expect(a[0] == [0, 1, 2])
        #expect(a[4] == [4, 0, 1])
        #expect(a[5] == [0, 2, 3])
        #expect(a[9] == [4, 1, 2])
    }

    @Test func leadersAndReplicasAreSpreadEvenly() throws {
        let brokers = [1, 2, 3].map { BrokerPlacement(id: $0) }
        let a = try ReplicaAssignment.assign(brokers: brokers, partitions: 6, replicationFactor: 3, startIndex: 1, replicaShift: 2)
        var leaders: [BrokerID: Int] = [:]
        for (_, r) in a {
            #expect(Set(r).count == 3)
            leaders[r[0], default: 0] += 1
        }
        #expect(leaders == [1: 2, 2: 2, 3: 2])
    }

    @Test func rackAwarePlacementSpansRacks() throws {
        let brokers = [BrokerPlacement(id: 1, rack: "a"), BrokerPlacement(id: 2, rack: "a"), BrokerPlacement(id: 3, rack: "b"),
                       BrokerPlacement(id: 4, rack: "b"), BrokerPlacement(id: 5, rack: "c"), BrokerPlacement(id: 6, rack: "c")]
        let rackOf = Dictionary(uniqueKeysWithValues: brokers.map { ($0.id, $0.rack ?? "") })
        let a = try ReplicaAssignment.assign(brokers: brokers, partitions: 12, replicationFactor: 3, startIndex: 0, replicaShift: 0)
        var leaders: [BrokerID: Int] = [:]
        for (_, r) in a {
            #expect(Set(r.map { rackOf[$0] ?? "" }).count == 3)
            #expect(Set(r).count == 3)
            leaders[r[0], default: 0] += 1
        }
        #expect(leaders.values.allSatisfy { $0 == 2 })
        // RF above the rack count still gives distinct brokers.
        let b = try ReplicaAssignment.assign(brokers: brokers, partitions: 6, replicationFactor: 5, startIndex: 3, replicaShift: 1)
        for (_, r) in b { #expect(Set(r).count == 5) }
    }

    @Test func rejectsBadRequests() {
        let brokers = [1, 2, 3].map { BrokerPlacement(id: $0) }
        #expect(throws: KafkaError.invalidReplicationFactor) {
            try ReplicaAssignment.assign(brokers: brokers, partitions: 1, replicationFactor: 4, startIndex: 0, replicaShift: 0)
        }
        #expect(throws: KafkaError.invalidReplicationFactor) {
            try ReplicaAssignment.assign(brokers: brokers, partitions: 1, replicationFactor: 0, startIndex: 0, replicaShift: 0)
        }
        #expect(throws: KafkaError.invalidPartitions) {
            try ReplicaAssignment.assign(brokers: brokers, partitions: 0, replicationFactor: 1, startIndex: 0, replicaShift: 0)
        }
        #expect(ReplicaAssignment.validateTopicName("orders.v1-x_y"))
        #expect(!ReplicaAssignment.validateTopicName(".."))
        #expect(!ReplicaAssignment.validateTopicName("a/b"))
        #expect(!ReplicaAssignment.validateTopicName(String(repeating: "a", count: 250)))
        #expect(ReplicaAssignment.validateTopicName(String(repeating: "a", count: 249)))
        for bad in ["", ".", "a b", "caf\u{E9}", "a\u{0}b", "tab\t", "x:y"] { #expect(!ReplicaAssignment.validateTopicName(bad), "\(bad)") }
        #expect(ReplicaAssignment.validateTopicName("..."))
    }

    @Test func explicitAssignmentsAreCheckedAgainstLiveBrokers() {
        let live: Set<Int32> = [1, 2, 3]
        #expect(ReplicaAssignment.assignmentProblem([0: [1, 2], 1: [2, 3]], liveBrokers: live) == nil)
        #expect(ReplicaAssignment.assignmentProblem([0: [1, 42]], liveBrokers: live)?.contains("broker 42") == true)
        #expect(ReplicaAssignment.assignmentProblem([0: [1, 1]], liveBrokers: live) != nil)
        #expect(ReplicaAssignment.assignmentProblem([0: [1], 1: [1, 2]], liveBrokers: live) != nil)
        #expect(ReplicaAssignment.assignmentProblem([0: [-1]], liveBrokers: live) != nil)
        #expect(ReplicaAssignment.assignmentProblem([0: []], liveBrokers: live) != nil)
        #expect(ReplicaAssignment.assignmentProblem([0: [1], 2: [2]], liveBrokers: live) != nil)
        #expect(ReplicaAssignment.assignmentProblem([:], liveBrokers: live) != nil)
        // New partitions of an existing topic: numbered after it, with its replication factor.
        #expect(ReplicaAssignment.assignmentProblem([3: [1, 2]], firstPartition: 3, replicationFactor: 2, liveBrokers: live) == nil)
        #expect(ReplicaAssignment.assignmentProblem([3: [1]], firstPartition: 3, replicationFactor: 2, liveBrokers: live) != nil)
        #expect(ReplicaAssignment.assignmentProblem([0: [1, 2]], firstPartition: 3, replicationFactor: 2, liveBrokers: live) != nil)
    }

    @Test func topicNamesCollideWhenDotsAndUnderscoresMeetInMetricNames() {
        #expect(ReplicaAssignment.collidingTopic("abuse_col", existing: ["abuse.col", "other"]) == "abuse.col")
        #expect(ReplicaAssignment.collidingTopic("abuse.col", existing: ["abuse_col"]) == "abuse_col")
        #expect(ReplicaAssignment.collidingTopic("a.b_c", existing: ["a_b.c"]) == "a_b.c")
        #expect(ReplicaAssignment.collidingTopic("abuse.col", existing: ["abuse.col"]) == nil)  // the same topic: TOPIC_ALREADY_EXISTS
        #expect(ReplicaAssignment.collidingTopic("abuse-col", existing: ["abuse.col", "abuse_col"]) == nil)
    }

    @Test func addPartitionsNeverShrinks() throws {
        let brokers = [1, 2, 3].map { BrokerPlacement(id: $0) }
        let existing = try ReplicaAssignment.assign(brokers: brokers, partitions: 3, replicationFactor: 2, startIndex: 0, replicaShift: 0)
        let added = try ReplicaAssignment.addPartitions(existing: existing, newTotal: 5, brokers: brokers)
        #expect(Set(added.keys) == [3, 4])
        #expect(added.values.allSatisfy { $0.count == 2 && Set($0).count == 2 })
        #expect(throws: KafkaError.invalidPartitions) { try ReplicaAssignment.addPartitions(existing: existing, newTotal: 3, brokers: brokers) }
        #expect(throws: KafkaError.invalidPartitions) { try ReplicaAssignment.addPartitions(existing: existing, newTotal: 2, brokers: brokers) }
    }
}

@Suite struct ControllerTests {
    static let assignment = TopicAssignment(partitions: [0: [1, 2, 3], 1: [2, 3, 1], 2: [3, 1, 2]])

    func withTopic() -> (Controller, [ControllerEffect]) {
        var c = freshController()
        let fx = c.handle(.topicsChanged(["t": Self.assignment]))
        return (c, fx)
    }

    @Test func epochBumpCreatesOrConditionallyIncrements() {
        let first = Controller.epochBump(current: nil, zkVersion: nil)
        #expect(first.epoch == 1)
        #expect(first.op == .create(path: "/controller_epoch", data: Array("1".utf8)))
        let next = Controller.epochBump(current: 7, zkVersion: 3)
        #expect(next.epoch == 8)
        #expect(next.op == .setData(path: "/controller_epoch", data: Array("8".utf8), expectedVersion: 3))
    }

    @Test func newTopicGetsFirstReplicaAsLeaderAndFullIsr() throws {
        let (c, fx) = withTopic()
        let creates = fx.zkOps
        #expect(creates.count == 3)
        let expectedState = LeaderAndIsr(leader: 2, leaderEpoch: 0, isr: [2, 3, 1], controllerEpoch: 5)
        #expect(creates.contains(.create(path: "/brokers/topics/t/partitions/1/state", data: expectedState.encoded())))
        for e in fx { if case .zkWrite(_, let v) = e { #expect(v == 4) } }
        #expect(fx.leaderAndIsrTargets == [1, 2, 3])
        let req = try #require(fx.leaderAndIsr(to: 2))
        #expect(req.controllerEpoch == 5 && req.controllerId == 1)
        #expect(req.partitions.map { $0.leader } == [1, 2, 3])
        #expect(req.partitions.allSatisfy { $0.isNew && $0.zkVersion == 0 && $0.isr.count == 3 })
        #expect(req.liveLeaders.map { $0.id } == [1, 2, 3])
        #expect(fx.updateMetadataTargets == [1, 2, 3])
        #expect(c.states[TopicPartition("t", 2)]?.leaderAndIsr.leader == 3)
    }

    @Test func leaderDeathElectsFromIsrBumpsEpochAndShrinksIsr() throws {
        var (c, _) = withTopic()
        let fx = c.handle(.brokersChanged([reg(2), reg(3)]))
        let p0 = try #require(c.states[TopicPartition("t", 0)])
        #expect(p0.leaderAndIsr == LeaderAndIsr(leader: 2, leaderEpoch: 1, isr: [2, 3], controllerEpoch: 5))
        #expect(p0.zkVersion == 1)
        // Broker 1 was a follower of p1 and p2: they keep their leaders, lose 1 from the ISR.
        #expect(c.states[TopicPartition("t", 1)]?.leaderAndIsr == LeaderAndIsr(leader: 2, leaderEpoch: 1, isr: [2, 3], controllerEpoch: 5))
        #expect(c.states[TopicPartition("t", 2)]?.leaderAndIsr == LeaderAndIsr(leader: 3, leaderEpoch: 1, isr: [3, 2], controllerEpoch: 5))
        #expect(fx.zkOps.contains(.setData(path: "/brokers/topics/t/partitions/0/state",
                                           data: p0.leaderAndIsr.encoded(), expectedVersion: 0)))
        #expect(fx.leaderAndIsrTargets == [2, 3])
        #expect(fx.updateMetadataTargets == [2, 3])
        let um = try #require(fx.updateMetadata(to: 3))
        #expect(um.liveBrokers.map { $0.id } == [2, 3])
        #expect(um.partitions.first { $0.topicPartition.partition == 0 }?.offlineReplicas == [1])
    }

    @Test func noLiveIsrMeansOfflineUntilAnIsrMemberReturns() throws {
        var c = freshController()
        _ = c.handle(.topicsChanged(["solo": TopicAssignment(partitions: [0: [2]])]))
        let tp = TopicPartition("solo", 0)
        _ = c.handle(.brokersChanged([reg(1), reg(3)]))
        #expect(c.states[tp]?.leaderAndIsr == LeaderAndIsr(leader: -1, leaderEpoch: 1, isr: [2], controllerEpoch: 5))
        let back = c.handle(.brokersChanged([reg(1), reg(2), reg(3)]))
        #expect(c.states[tp]?.leaderAndIsr == LeaderAndIsr(leader: 2, leaderEpoch: 2, isr: [2], controllerEpoch: 5))
        #expect(back.leaderAndIsr(to: 2)?.partitions.first?.leader == 2)
    }

    @Test func uncleanElectionPicksAnyLiveReplicaWhenEnabled() {
        var cfg = ControllerConfig()
        cfg.uncleanLeaderElection = true
        var c = freshController(config: cfg)
        let tp = TopicPartition("u", 0)
        _ = c.handle(.topicsChanged(["u": TopicAssignment(partitions: [0: [2, 3]])]))
        // Leader 2 shrank the ISR to itself, then died.
        _ = c.handle(.isrChangeNotification(notifications: [], states: [
            tp: ZkPartitionState(LeaderAndIsr(leader: 2, leaderEpoch: 0, isr: [2], controllerEpoch: 5), zkVersion: 1)]))
        let fx = c.handle(.brokersChanged([reg(1), reg(3)]))
        #expect(c.states[tp]?.leaderAndIsr.leader == 3)
        #expect(c.states[tp]?.leaderAndIsr.isr == [3])
        // The possible loss is reported (counted and logged by the runtime), once.
        #expect(fx.filter { if case .uncleanLeaderElected = $0 { true } else { false } } == [.uncleanLeaderElected(tp, leader: 3, lastIsr: [2])])
        // A clean election reports nothing.
        #expect(!c.handle(.brokersChanged([reg(1), reg(2), reg(3)])).contains { if case .uncleanLeaderElected = $0 { true } else { false } })
    }

    @Test func returningBrokerFollowsThenPreferredLeaderIsRestored() throws {
        var (c, _) = withTopic()
        _ = c.handle(.brokersChanged([reg(2), reg(3)]))
        let tp0 = TopicPartition("t", 0)
        let back = c.handle(.brokersChanged([reg(1), reg(2), reg(3)]))
        // Broker 1 learns every partition it hosts, as a follower (it is not in any ISR).
        let req = try #require(back.leaderAndIsr(to: 1))
        #expect(req.partitions.count == 3)
        #expect(req.partitions.allSatisfy { $0.leader != 1 && !$0.isr.contains(1) })
        #expect(back.updateMetadata(to: 1)?.partitions.count == 3)
        // Not in the ISR yet: the preferred leader check must not move leadership.
        #expect(c.handle(.preferredLeaderCheck).zkOps.isEmpty)
        // The leader (2) expands the ISR and notifies.
        let expanded = ZkPartitionState(LeaderAndIsr(leader: 2, leaderEpoch: 1, isr: [2, 3, 1], controllerEpoch: 5), zkVersion: 2)
        let n = c.handle(.isrChangeNotification(notifications: ["/isr_change_notification/isr_change_0000000001"], states: [tp0: expanded]))
        #expect(n.zkOps == [.delete(path: "/isr_change_notification/isr_change_0000000001")])
        #expect(n.updateMetadata(to: 3)?.partitions.first?.isr == [2, 3, 1])
        let fx = c.handle(.preferredLeaderCheck)
        #expect(c.states[tp0]?.leaderAndIsr == LeaderAndIsr(leader: 1, leaderEpoch: 2, isr: [2, 3, 1], controllerEpoch: 5))
        #expect(fx.zkOps == [.setData(path: ZkPaths.partitionState(tp0), data: c.states[tp0]!.leaderAndIsr.encoded(), expectedVersion: 2)])
        #expect(fx.leaderAndIsrTargets == [1, 2, 3])
    }

    @Test func staleControllerIsFenced() {
        var (c, _) = withTopic()
        let op = ZkOp.setData(path: "/brokers/topics/t/partitions/0/state", data: [], expectedVersion: 0)
        #expect(c.handle(.zkWriteFailed(op, .controllerEpochChanged)) == [.resign])
        #expect(!c.isActive)
        #expect(c.handle(.brokersChanged([reg(2)])).isEmpty)
        #expect(c.electPreferredLeaders([TopicPartition("t", 0)]).results[TopicPartition("t", 0)] == .notController)
        // Brokers refuse the deposed controller's requests too.
        var fence = ControllerFence()
        #expect(fence.admit(controllerId: 2, controllerEpoch: 6) == .noError)
        #expect(fence.admit(controllerId: 1, controllerEpoch: 5) == .staleControllerEpoch)
        #expect(fence.controllerId == 2)
        #expect(ControllerFence.acceptPartition(currentLeaderEpoch: 3, requested: 3) == .staleControllerEpoch)
        #expect(ControllerFence.acceptPartition(currentLeaderEpoch: 3, requested: 4) == .noError)
        #expect(ControllerFence.acceptPartition(currentLeaderEpoch: nil, requested: 0) == .noError)
    }

    @Test func conflictingPartitionWriteTriggersReread() {
        var (c, _) = withTopic()
        let tp = TopicPartition("t", 0)
        let op = ZkOp.setData(path: ZkPaths.partitionState(tp), data: [], expectedVersion: 0)
        #expect(c.handle(.zkWriteFailed(op, .badVersion)) == [.readPartitionStates([tp])])
        let fresh = ZkPartitionState(LeaderAndIsr(leader: 1, leaderEpoch: 0, isr: [1, 2], controllerEpoch: 5), zkVersion: 3)
        let fx = c.handle(.partitionStatesRead([tp: fresh]))
        #expect(c.states[tp] == fresh)
        #expect(fx.leaderAndIsrTargets == [1, 2, 3])
    }

    @Test func failoverElectsForDeadLeadersAndSendsFullMetadata() throws {
        var c = Controller(brokerId: 2)
        let tp = TopicPartition("t", 0)
        let ctx = ControllerContext(
            epoch: 9, epochZkVersion: 8, liveBrokers: [reg(2), reg(3)], topics: ["t": TopicAssignment(partitions: [0: [1, 2, 3]])],
            partitionStates: [tp: ZkPartitionState(LeaderAndIsr(leader: 1, leaderEpoch: 4, isr: [1, 2, 3], controllerEpoch: 8), zkVersion: 7)])
        let fx = c.handle(.becameController(ctx))
        #expect(c.states[tp]?.leaderAndIsr == LeaderAndIsr(leader: 2, leaderEpoch: 5, isr: [2, 3], controllerEpoch: 9))
        #expect(fx.zkOps.count == 1)
        if case .zkWrite(_, let v) = fx[0] { #expect(v == 8) } else { Issue.record("first effect must be the write") }
        #expect(fx.updateMetadata(to: 2)?.partitions.count == 1)
        #expect(fx.leaderAndIsrTargets == [2, 3])
    }

    @Test func controlledShutdownMovesLeadershipAway() throws {
        var (c, _) = withTopic()
        let fx = c.handle(.controlledShutdown(1))
        #expect(c.states[TopicPartition("t", 0)]?.leaderAndIsr.leader == 2)
        #expect(c.states[TopicPartition("t", 1)]?.leaderAndIsr.isr == [2, 3])
        #expect(fx.contains(.controlledShutdownResponse(to: 1, error: .noError, remainingLeaders: [])))
        let stop = try #require(fx.stopReplica(to: 1))
        #expect(stop.partitions.allSatisfy { !$0.deletePartition })
        #expect(stop.partitions.count == 2)
        // While shutting down it is not elected, even by the preferred leader check.
        _ = c.handle(.preferredLeaderCheck)
        #expect(c.states[TopicPartition("t", 0)]?.leaderAndIsr.leader == 2)
        #expect(c.handle(.controlledShutdown(9)).contains(.controlledShutdownResponse(to: 9, error: .brokerNotAvailable, remainingLeaders: [])))
    }

    @Test func deleteTopicStopsReplicasThenRemovesZnodes() throws {
        var (c, _) = withTopic()
        _ = c.handle(.brokersChanged([reg(1), reg(2)]))  // broker 3 is down during the deletion
        let fx = c.handle(.topicDeletionRequested(["t", "ghost"]))
        #expect(fx.zkOps == [.delete(path: "/admin/delete_topics/ghost")])
        #expect(fx.updateMetadata(to: 1)?.partitions.allSatisfy { $0.leader == leaderDuringDelete } == true)
        let stop1 = try #require(fx.stopReplica(to: 1))
        #expect(stop1.partitions.count == 3 && stop1.partitions.allSatisfy { $0.deletePartition })
        #expect(fx.stopReplica(to: 3) == nil)
        let tps = (0..<3).map { TopicPartition("t", Int32($0)) }
        let ok = Dictionary(uniqueKeysWithValues: tps.map { ($0, KafkaError.noError) })
        #expect(c.handle(.stopReplicaResponse(from: 1, results: ok)).zkOps.isEmpty)
        #expect(c.handle(.stopReplicaResponse(from: 2, results: ok)).zkOps.isEmpty)
        // Broker 3 comes back: it gets no leadership for the topic, only the delete.
        let back = c.handle(.brokersChanged([reg(1), reg(2), reg(3)]))
        #expect(back.leaderAndIsr(to: 3) == nil)
        #expect(back.stopReplica(to: 3)?.partitions.count == 3)
        let done = c.handle(.stopReplicaResponse(from: 3, results: ok))
        #expect(done.zkOps == [.delete(path: "/brokers/topics/t", recursive: true), .delete(path: "/config/topics/t"),
                               .delete(path: "/admin/delete_topics/t")])
        #expect(c.topics["t"] == nil && c.states.isEmpty)
        // The controller forgets the topic when its znode vanishes.
        _ = c.handle(.topicsChanged([:]))
        #expect(c.topics.isEmpty)
    }

    @Test func addedPartitionsAreInitialised() {
        var (c, _) = withTopic()
        var grown = Self.assignment
        grown.partitions[3] = [1, 3, 2]
        let fx = c.handle(.topicsChanged(["t": grown]))
        #expect(fx.zkOps == [.create(path: "/brokers/topics/t/partitions/3/state",
                                     data: LeaderAndIsr(leader: 1, leaderEpoch: 0, isr: [1, 3, 2], controllerEpoch: 5).encoded())])
        #expect(fx.leaderAndIsr(to: 1)?.partitions.map { $0.topicPartition } == [TopicPartition("t", 3)])
    }

    @Test func topicCreatedWhileReplicasAreDownStartsWhenTheyReturn() {
        var c = freshController(brokers: [1])
        _ = c.handle(.topicsChanged(["late": TopicAssignment(partitions: [0: [2, 3]])]))
        #expect(c.states.isEmpty)
        _ = c.handle(.brokersChanged([reg(1), reg(3)]))
        #expect(c.states[TopicPartition("late", 0)]?.leaderAndIsr == LeaderAndIsr(leader: 3, leaderEpoch: 0, isr: [3], controllerEpoch: 5))
    }

    @Test func bouncedBrokerIsTreatedAsRestart() {
        var (c, _) = withTopic()
        let fx = c.handle(.brokersChanged([reg(1, ts: 50), reg(2), reg(3)]))
        // Leader of p0 restarted: leadership moved, and it is re-sent its partitions.
        #expect(c.states[TopicPartition("t", 0)]?.leaderAndIsr.leader == 2)
        #expect(fx.leaderAndIsr(to: 1)?.partitions.count == 3)
    }
}

@Suite struct TopicAdminTests {
    @Test func createTopicWritesConfigThenAssignment() throws {
        let a: [Int32: [BrokerID]] = [0: [1, 2], 1: [2, 1]]
        let ops = try TopicAdmin.createTopic(name: "orders", assignment: a, config: ["retention.ms": "1000"], existing: [])
        #expect(ops == [.create(path: "/config/topics/orders", data: TopicConfigPayload(config: ["retention.ms": "1000"]).encoded()),
                        .create(path: "/brokers/topics/orders", data: TopicAssignment(partitions: a).encoded())])
        #expect(throws: KafkaError.topicAlreadyExists) { try TopicAdmin.createTopic(name: "orders", assignment: a, existing: ["orders"]) }
        #expect(throws: KafkaError.invalidTopic) { try TopicAdmin.createTopic(name: "bad name", assignment: a, existing: []) }
        #expect(throws: KafkaError.invalidReplicaAssignment) { try TopicAdmin.createTopic(name: "x", assignment: [0: [1, 1]], existing: []) }
        #expect(throws: KafkaError.invalidReplicaAssignment) { try TopicAdmin.createTopic(name: "x", assignment: [1: [1]], existing: []) }
        #expect(throws: KafkaError.invalidReplicaAssignment) { try TopicAdmin.createTopic(name: "x", assignment: [0: [1], 1: [1, 2]], existing: []) }
    }

    @Test func createPartitionsDeleteAndConfigChange() throws {
        let current = TopicAssignment(partitions: [0: [1, 2]])
        let op = try TopicAdmin.createPartitions(topic: "t", current: current, zkVersion: 3, added: [1: [2, 1]])
        #expect(op == .setData(path: "/brokers/topics/t", data: TopicAssignment(partitions: [0: [1, 2], 1: [2, 1]]).encoded(), expectedVersion: 3))
        #expect(throws: KafkaError.invalidReplicaAssignment) { try TopicAdmin.createPartitions(topic: "t", current: current, zkVersion: 3, added: [0: [1]]) }
        #expect(throws: KafkaError.invalidPartitions) { try TopicAdmin.createPartitions(topic: "t", current: current, zkVersion: 3, added: [:]) }
        #expect(TopicAdmin.deleteTopic("t") == .create(path: "/admin/delete_topics/t", data: []))
        let cfg = TopicAdmin.alterTopicConfig(topic: "t", config: ["cleanup.policy": "compact"], configZkVersion: 0)
        #expect(cfg.count == 2)
        #expect(cfg[1] == .create(path: "/config/changes/config_change_", data: Array(#"{"version":2,"entity_path":"topics/t"}"#.utf8), sequential: true))
    }

    @Test func hugePartitionCountsAreRefused() {
        #expect(throws: KafkaError.invalidPartitions) {
            try ReplicaAssignment.assign(brokers: [BrokerPlacement(id: 1)], partitions: Int32.max, replicationFactor: 1, startIndex: 0, replicaShift: 0)
        }
        #expect(Murmur2.partition(key: [1], numPartitions: 0) == 0)
    }
}
