@testable import Protocol
import Testing

/// Consumer-group embedded protocols and `__consumer_offsets` record layouts.
@Suite struct KafkaEmbeddedTests {
    @Test func subscriptionGoldenV0AndRoundTrips() throws {
        let v0 = ConsumerProtocolSubscription(version: 0, topics: ["t"])
        #expect(try v0.encode() == hex("0000 00000001 0001 74 ffffffff"))
        #expect(try ConsumerProtocolSubscription.decode(try v0.encode()) == v0)
        let v3 = ConsumerProtocolSubscription(version: 3, topics: ["a", "b"], userData: [1, 2],
                                              ownedPartitions: [.init(topic: "a", partitions: [0, 2])],
                                              generationId: 7, rackId: "r1")
        for v: Int16 in [1, 2, 3] {
            var s = v3
            s.version = v
            if v < 3 { s.rackId = nil }
            if v < 2 { s.generationId = -1 }
            let bytes = try s.encode()
            #expect(try ConsumerProtocolSubscription.decode(bytes) == s)
            for cut in 0..<bytes.count {
                #expect(throws: DecodeError.self) { _ = try ConsumerProtocolSubscription.decode(Array(bytes[0..<cut])) }
            }
        }
    }

    @Test func newerSubscriptionVersionsReadWithOurLayout() throws {
        var bytes = try ConsumerProtocolSubscription(version: 3, topics: ["t"], rackId: "r").encode()
        bytes[1] = 9
        bytes += [0xAA, 0xBB]  // fields a future version appended
        let s = try ConsumerProtocolSubscription.decode(bytes)
        #expect(s.version == 9 && s.topics == ["t"] && s.rackId == "r")
        #expect(throws: DecodeError.self) { _ = try ConsumerProtocolSubscription.decode(hex("ffff 00000000 ffffffff")) }
        #expect(throws: KafkaEncodeError.self) { _ = try ConsumerProtocolSubscription(version: 9, topics: []).encode() }
    }

    @Test func assignment() throws {
        let a = ConsumerProtocolAssignment(version: 1, assignedPartitions: [.init(topic: "t", partitions: [0, 1])],
                                           userData: nil)
        let bytes = try a.encode()
        #expect(bytes == hex("0001 00000001 0001 74 00000002 00000000 00000001 ffffffff"))
        #expect(try ConsumerProtocolAssignment.decode(bytes) == a)
        #expect(try ConsumerProtocolAssignment.decode([]).assignedPartitions.isEmpty)
        for cut in 1..<bytes.count {
            #expect(throws: DecodeError.self) { _ = try ConsumerProtocolAssignment.decode(Array(bytes[0..<cut])) }
        }
    }

    @Test func consumerOffsetsKeys() throws {
        let k = ConsumerOffsetsKey.offsetCommit(group: "g", topic: "t", partition: 2)
        #expect(try k.encode() == hex("0001 0001 67 0001 74 00000002"))
        #expect(try ConsumerOffsetsKey.decode(try k.encode()) == k)
        #expect(try ConsumerOffsetsKey.decode(hex("0000 0001 67 0001 74 00000002")) == k)
        let g = ConsumerOffsetsKey.groupMetadata(group: "grp")
        #expect(try g.encode() == hex("0002 0003 677270"))
        #expect(try ConsumerOffsetsKey.decode(try g.encode()) == g)
        #expect(throws: DecodeError.self) { _ = try ConsumerOffsetsKey.decode(hex("0003 0001 67")) }
    }

    @Test func offsetCommitValues() throws {
        let v1 = OffsetCommitValue(version: 1, offset: 5, metadata: "m", commitTimestamp: 100, expireTimestamp: 200)
        #expect(try v1.encode() == hex("0001 0000000000000005 0001 6d 0000000000000064 00000000000000c8"))
        let v3 = OffsetCommitValue(version: 3, offset: 5, leaderEpoch: 2, metadata: "", commitTimestamp: 100)
        #expect(try v3.encode() == hex("0003 0000000000000005 00000002 0000 0000000000000064"))
        for v in [v1, v3, OffsetCommitValue(version: 0, offset: 1, commitTimestamp: 2),
                  OffsetCommitValue(version: 2, offset: 1, commitTimestamp: 2)] {
            let bytes = try v.encode()
            #expect(try OffsetCommitValue.decode(bytes) == v)
            for cut in 0..<bytes.count {
                #expect(throws: DecodeError.self) { _ = try OffsetCommitValue.decode(Array(bytes[0..<cut])) }
            }
        }
        #expect(throws: DecodeError.self) { _ = try OffsetCommitValue.decode(hex("0004 00")) }
    }

    @Test func groupMetadataValues() throws {
        let member = GroupMetadataValue.Member(memberId: "m", groupInstanceId: "i", clientId: "c", clientHost: "/h",
                                               rebalanceTimeout: 300, sessionTimeout: 10, subscription: [1],
                                               assignment: [2, 3])
        for v: Int16 in 0...3 {
            var m = member
            if v < 3 { m.groupInstanceId = nil }
            if v < 1 { m.rebalanceTimeout = -1 }
            let g = GroupMetadataValue(version: v, protocolType: "consumer", generation: 4, protocolName: "range",
                                       leader: "m", currentStateTimestamp: v >= 2 ? 99 : -1, members: [m])
            let bytes = try g.encode()
            #expect(try GroupMetadataValue.decode(bytes) == g)
            for cut in 0..<bytes.count {
                #expect(throws: DecodeError.self) { _ = try GroupMetadataValue.decode(Array(bytes[0..<cut])) }
            }
        }
        let empty = GroupMetadataValue(version: 3, protocolType: "consumer", generation: 0, protocolName: nil,
                                       leader: nil, currentStateTimestamp: 1, members: [])
        #expect(try empty.encode() == hex("0003 0008") + ascii("consumer") + hex("00000000 ffff ffff 0000000000000001 00000000"))
    }
}
