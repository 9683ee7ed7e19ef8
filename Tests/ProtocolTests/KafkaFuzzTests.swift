@testable import Protocol
import Testing

/// Random and mutated input must produce values or thrown errors, never traps.
@Suite struct KafkaFuzzTests {
    static let messageTypes: [any KafkaMessage.Type] = [
        ProduceRequest.self, ProduceResponse.self, FetchRequest.self, FetchResponse.self,
        ListOffsetsRequest.self, ListOffsetsResponse.self, MetadataRequest.self, MetadataResponse.self,
        OffsetCommitRequest.self, OffsetCommitResponse.self, OffsetFetchRequest.self, OffsetFetchResponse.self,
        FindCoordinatorRequest.self, FindCoordinatorResponse.self, JoinGroupRequest.self, JoinGroupResponse.self,
        HeartbeatRequest.self, HeartbeatResponse.self, LeaveGroupRequest.self, LeaveGroupResponse.self,
        SyncGroupRequest.self, SyncGroupResponse.self, ApiVersionsRequest.self, ApiVersionsResponse.self,
        CreateTopicsRequest.self, CreateTopicsResponse.self, DeleteTopicsRequest.self, DeleteTopicsResponse.self,
        CreatePartitionsRequest.self, CreatePartitionsResponse.self, DescribeConfigsRequest.self,
        DescribeConfigsResponse.self, InitProducerIdRequest.self, InitProducerIdResponse.self,
        OffsetForLeaderEpochRequest.self, OffsetForLeaderEpochResponse.self, ListGroupsRequest.self,
        ListGroupsResponse.self, DescribeGroupsRequest.self, DescribeGroupsResponse.self, DeleteGroupsRequest.self,
        DeleteGroupsResponse.self, OffsetDeleteRequest.self, OffsetDeleteResponse.self, LeaderAndIsrRequest.self,
        LeaderAndIsrResponse.self, StopReplicaRequest.self, StopReplicaResponse.self, UpdateMetadataRequest.self,
        UpdateMetadataResponse.self,
    ]

    @Test func everyApiHasBothCodecs() {
        let keys = Set(Self.messageTypes.map { $0.api })
        #expect(keys == Set(KafkaAPI.allCases))
    }

    @Test func randomBodiesNeverTrap() {
        var rng = TestRandom(seed: 0xC0FFEE)
        var decodedSomething = 0
        for type in Self.messageTypes {
            for version in type.api.supportedVersions {
                for _ in 0..<150 {
                    let n = Int(rng.next() % 48)
                    // Bias towards small counts and lengths so decoding gets past the first field.
                    let bytes = rng.bytes(n).map { rng.next() % 3 == 0 ? $0 : $0 & 0x03 }
                    if (try? type.decode(bytes, version: version)) != nil { decodedSomething += 1 }
                }
            }
        }
        #expect(decodedSomething > 0)
    }

    @Test func mutatedFramesNeverTrap() throws {
        var rng = TestRandom(seed: 42)
        let seeds: [[UInt8]] = [
            try KafkaRequestFrame.encode(ApiVersionsRequest(clientSoftwareName: "a", clientSoftwareVersion: "1"),
                                         version: 3, correlationId: 1, clientId: "c"),
            try KafkaRequestFrame.encode(MetadataRequest(topics: [.init(name: "t")]), version: 4, correlationId: 2,
                                         clientId: "c"),
            try KafkaRequestFrame.encode(ProduceRequest(acks: 1, timeoutMs: 1, topicData: [
                .init(name: "t", partitionData: [.init(index: 0, records: [1, 2, 3])]),
            ]), version: 7, correlationId: 3, clientId: nil),
        ]
        var parsed = 0
        for seed in seeds {
            let frame = Array(seed[4...])
            for _ in 0..<2000 {
                var m = frame
                for _ in 0..<(1 + Int(rng.next() % 3)) {
                    let i = Int(rng.next() % UInt64(m.count))
                    m[i] = UInt8(truncatingIfNeeded: rng.next())
                }
                if let f = try? KafkaRequestFrame.parse(m) {
                    parsed += 1
                    var r = f.body
                    switch f.api {
                    case .apiVersions: _ = try? ApiVersionsRequest.decode(from: &r, version: f.header.apiVersion)
                    case .metadata: _ = try? MetadataRequest.decode(from: &r, version: f.header.apiVersion)
                    case .produce: _ = try? ProduceRequest.decode(from: &r, version: f.header.apiVersion)
                    default: break
                    }
                }
            }
        }
        #expect(parsed > 0)
    }
}
