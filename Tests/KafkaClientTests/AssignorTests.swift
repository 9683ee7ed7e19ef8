import Testing
@testable import KafkaClient

struct AssignorTests {
    func tps(_ t: String, _ ps: [Int32]) -> [TopicPartition] { ps.map { TopicPartition(t, $0) } }

    @Test func rangeGivesConsecutiveBlocksExtraToFirstMembers() {
        let members = [MemberSubscription(memberId: "c2", topics: ["a", "b"]), MemberSubscription(memberId: "c1", topics: ["a", "b"])]
        let r = AssignmentStrategy.range.assign(members, partitionsPerTopic: ["a": 3, "b": 3])
        #expect(r["c1"] == tps("a", [0, 1]) + tps("b", [0, 1]))
        #expect(r["c2"] == tps("a", [2]) + tps("b", [2]))
    }

    @Test func rangeOnlyCountsSubscribers() {
        let members = [MemberSubscription(memberId: "m1", topics: ["a"]), MemberSubscription(memberId: "m2", topics: ["b"])]
        let r = AssignmentStrategy.range.assign(members, partitionsPerTopic: ["a": 2, "b": 1])
        #expect(r["m1"] == tps("a", [0, 1]))
        #expect(r["m2"] == tps("b", [0]))
    }

    @Test func roundRobinDealsAcrossTopics() {
        let members = [MemberSubscription(memberId: "c1", topics: ["a", "b"]), MemberSubscription(memberId: "c2", topics: ["a", "b"])]
        let r = AssignmentStrategy.roundRobin.assign(members, partitionsPerTopic: ["a": 3, "b": 3])
        // a-0 c1, a-1 c2, a-2 c1, b-0 c2, b-1 c1, b-2 c2
        #expect(r["c1"] == [TopicPartition("a", 0), TopicPartition("a", 2), TopicPartition("b", 1)])
        #expect(r["c2"] == [TopicPartition("a", 1), TopicPartition("b", 0), TopicPartition("b", 2)])
    }

    @Test func roundRobinSkipsNonSubscribers() {
        let members = [MemberSubscription(memberId: "c1", topics: ["a"]), MemberSubscription(memberId: "c2", topics: ["a", "b"])]
        let r = AssignmentStrategy.roundRobin.assign(members, partitionsPerTopic: ["a": 2, "b": 2])
        #expect(r["c2"]!.contains(TopicPartition("b", 0)) && r["c2"]!.contains(TopicPartition("b", 1)))
        #expect(r["c1"]!.allSatisfy { $0.topic == "a" })
    }

    @Test(arguments: AssignmentStrategy.allCases)
    func everyPartitionAssignedExactlyOnce(strategy: AssignmentStrategy) {
        let members = (1...3).map { MemberSubscription(memberId: "m\($0)", topics: ["x", "y"]) }
        let r = strategy.assign(members, partitionsPerTopic: ["x": 7, "y": 2])
        let all = r.values.flatMap { $0 }
        #expect(all.count == 9 && Set(all).count == 9)
        let sizes = r.values.map(\.count)
        if strategy != .range { #expect(sizes.max()! - sizes.min()! <= 1) }
    }

    @Test func stickyKeepsOwnershipWhenAMemberJoins() {
        let before = [MemberSubscription(memberId: "a", topics: ["t"], owned: tps("t", [0, 1, 2])),
                      MemberSubscription(memberId: "b", topics: ["t"], owned: tps("t", [3, 4, 5])),
                      MemberSubscription(memberId: "c", topics: ["t"])]
        let r = AssignmentStrategy.cooperativeSticky.assign(before, partitionsPerTopic: ["t": 6])
        #expect(r.values.map(\.count).sorted() == [2, 2, 2])
        #expect(Set(r["a"]!).isSubset(of: tps("t", [0, 1, 2])))
        #expect(Set(r["b"]!).isSubset(of: tps("t", [3, 4, 5])))
        #expect(r["c"]!.count == 2)
    }

    @Test func stickyRebalancesAfterALeaveWithoutMovingSurvivors() {
        let members = [MemberSubscription(memberId: "a", topics: ["t"], owned: tps("t", [0, 1])),
                       MemberSubscription(memberId: "b", topics: ["t"], owned: tps("t", [2, 3]))]
        // c owned 4 and 5 and left.
        let r = AssignmentStrategy.sticky.assign(members, partitionsPerTopic: ["t": 6])
        #expect(r["a"]!.starts(with: tps("t", [0, 1])) || Set(tps("t", [0, 1])).isSubset(of: Set(r["a"]!)))
        #expect(Set(tps("t", [2, 3])).isSubset(of: Set(r["b"]!)))
        #expect(r["a"]!.count == 3 && r["b"]!.count == 3)
    }

    @Test func stickyIgnoresStaleOrDuplicateClaims() {
        let members = [MemberSubscription(memberId: "a", topics: ["t"], owned: tps("t", [0, 9])),
                       MemberSubscription(memberId: "b", topics: ["t"], owned: tps("t", [0]))]
        let r = AssignmentStrategy.sticky.assign(members, partitionsPerTopic: ["t": 2])
        #expect(r["a"] == tps("t", [0]))
        #expect(r["b"] == tps("t", [1]))
    }

    @Test func kafkaNamesMap() {
        #expect(AssignmentStrategy(kafkaName: "cooperative-sticky") == .cooperativeSticky)
        #expect(AssignmentStrategy(kafkaName: "org.apache.kafka.clients.consumer.RangeAssignor") == .range)
        #expect(AssignmentStrategy(kafkaName: "roundrobin") == .roundRobin)
        #expect(AssignmentStrategy(kafkaName: "nope") == nil)
    }
}
