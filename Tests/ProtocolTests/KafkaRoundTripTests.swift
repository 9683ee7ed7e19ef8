@testable import Protocol
import Testing

/// Every API at its lowest, a middle and its highest version: re-encode stability, exact equality at the
/// highest version (samples set every field present there to a non-default value), truncation at every
/// byte, and rejection of versions just outside the range.
@Suite struct KafkaRoundTripTests {
    @Test func produce() throws {
        let req = ProduceRequest(transactionalId: "tx-1", acks: -1, timeoutMs: 30000, topicData: [
            .init(name: "orders", partitionData: [.init(index: 0, records: [1, 2, 3, 4]), .init(index: 1, records: nil)]),
        ])
        try checkRoundTrip(req, versions: spread(.produce), exactAt: 8)
        let resp = ProduceResponse(responses: [
            .init(name: "orders", partitionResponses: [
                .init(index: 0, errorCode: .none, baseOffset: 42, logAppendTimeMs: 1_700_000_000_000, logStartOffset: 7,
                      recordErrors: [.init(batchIndex: 2, batchIndexErrorMessage: "bad")], errorMessage: "oops"),
            ]),
        ], throttleTimeMs: 5)
        try checkRoundTrip(resp, versions: spread(.produce), exactAt: 8)
    }

    @Test func fetch() throws {
        let req = FetchRequest(replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 52_428_800, isolationLevel: 1,
                               sessionId: 0, sessionEpoch: -1, topics: [
                                   .init(topic: "t", partitions: [.init(partition: 3, currentLeaderEpoch: 4, fetchOffset: 100,
                                                                         logStartOffset: 2, partitionMaxBytes: 1_048_576)]),
                               ], forgottenTopicsData: [.init(topic: "old", partitions: [1, 2])], rackId: "rack-a")
        try checkRoundTrip(req, versions: spread(.fetch), exactAt: 11)
        let resp = FetchResponse(throttleTimeMs: 1, errorCode: .none, sessionId: 9, responses: [
            .init(topic: "t", partitions: [
                .init(partitionIndex: 3, errorCode: .none, highWatermark: 120, lastStableOffset: 120, logStartOffset: 2,
                      abortedTransactions: [.init(producerId: 77, firstOffset: 101)], preferredReadReplica: -1,
                      records: [9, 8, 7]),
                .init(partitionIndex: 4, errorCode: .notLeaderOrFollower, highWatermark: -1, abortedTransactions: nil,
                      records: nil),
            ]),
        ])
        try checkRoundTrip(resp, versions: spread(.fetch), exactAt: 11)
    }

    @Test func listOffsets() throws {
        let req = ListOffsetsRequest(replicaId: -1, isolationLevel: 1, topics: [
            .init(name: "t", partitions: [.init(partitionIndex: 0, currentLeaderEpoch: 3, timestamp: -2)]),
        ])
        try checkRoundTrip(req, versions: spread(.listOffsets), exactAt: 5)
        let resp = ListOffsetsResponse(throttleTimeMs: 2, topics: [
            .init(name: "t", partitions: [.init(partitionIndex: 0, errorCode: .none, timestamp: -1, offset: 55, leaderEpoch: 3)]),
        ])
        try checkRoundTrip(resp, versions: spread(.listOffsets), exactAt: 5)
    }

    @Test func metadata() throws {
        let req = MetadataRequest(topics: [.init(name: "a"), .init(name: "b")], allowAutoTopicCreation: false,
                                  includeClusterAuthorizedOperations: true, includeTopicAuthorizedOperations: true)
        try checkRoundTrip(req, versions: spread(.metadata), exactAt: 8)
        try checkRoundTrip(MetadataRequest(topics: nil), versions: [0, 1, 4], exactAt: 0)
        try checkRoundTrip(MetadataRequest(topics: []), versions: [1, 4], exactAt: 4)
        let resp = MetadataResponse(throttleTimeMs: 0, brokers: [
            .init(nodeId: 1, host: "b1", port: 9092, rack: "r1"), .init(nodeId: 2, host: "b2", port: 9093, rack: nil),
        ], clusterId: "cluster", controllerId: 1, topics: [
            .init(errorCode: .none, name: "a", isInternal: true, partitions: [
                .init(errorCode: .none, partitionIndex: 0, leaderId: 1, leaderEpoch: 5, replicaNodes: [1, 2],
                      isrNodes: [1], offlineReplicas: [2]),
            ], topicAuthorizedOperations: 0x0F),
        ], clusterAuthorizedOperations: 0x1F)
        try checkRoundTrip(resp, versions: spread(.metadata), exactAt: 8)
    }

    @Test func offsetCommit() throws {
        let req = OffsetCommitRequest(groupId: "g", generationIdOrMemberEpoch: 3, memberId: "m-1", groupInstanceId: "i-1",
                                      topics: [.init(name: "t", partitions: [
                                          .init(partitionIndex: 0, committedOffset: 10, committedLeaderEpoch: 2,
                                                committedMetadata: "meta"),
                                          .init(partitionIndex: 1, committedOffset: 11, committedMetadata: nil),
                                      ])])
        try checkRoundTrip(req, versions: spread(.offsetCommit), exactAt: 7)
        var old = req
        old.groupInstanceId = nil
        old.retentionTimeMs = 86_400_000
        old.topics[0].partitions[0].committedLeaderEpoch = -1
        try checkRoundTrip(old, versions: [2], exactAt: 2)
        let resp = OffsetCommitResponse(throttleTimeMs: 3, topics: [
            .init(name: "t", partitions: [.init(partitionIndex: 0, errorCode: .illegalGeneration)]),
        ])
        try checkRoundTrip(resp, versions: spread(.offsetCommit), exactAt: 7)
    }

    @Test func offsetFetch() throws {
        let req = OffsetFetchRequest(groupId: "g", topics: [.init(name: "t", partitionIndexes: [0, 1, 2])])
        try checkRoundTrip(req, versions: spread(.offsetFetch), exactAt: 5)
        try checkRoundTrip(OffsetFetchRequest(groupId: "g", topics: nil), versions: [2, 5], exactAt: 5)
        #expect(throws: KafkaEncodeError.nullNotAllowed("topics")) {
            _ = try OffsetFetchRequest(groupId: "g", topics: nil).encoded(version: 1)
        }
        let resp = OffsetFetchResponse(throttleTimeMs: 1, topics: [
            .init(name: "t", partitions: [
                .init(partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: 1, metadata: "", errorCode: .none),
                .init(partitionIndex: 1, committedOffset: -1, committedLeaderEpoch: -1, metadata: nil, errorCode: .none),
            ]),
        ], errorCode: .coordinatorLoadInProgress)
        try checkRoundTrip(resp, versions: spread(.offsetFetch), exactAt: 5)
    }

    @Test func findCoordinator() throws {
        try checkRoundTrip(FindCoordinatorRequest(key: "group-1", keyType: 0), versions: spread(.findCoordinator), exactAt: 2)
        try checkRoundTrip(FindCoordinatorRequest(key: "tx", keyType: 1), versions: [1, 2], exactAt: 1)
        let resp = FindCoordinatorResponse(throttleTimeMs: 0, errorCode: .none, errorMessage: "NONE", nodeId: 2,
                                           host: "localhost", port: 9093)
        try checkRoundTrip(resp, versions: spread(.findCoordinator), exactAt: 2)
    }

    @Test func joinGroup() throws {
        let req = JoinGroupRequest(groupId: "g", sessionTimeoutMs: 10000, rebalanceTimeoutMs: 300_000, memberId: "",
                                   groupInstanceId: "static-1", protocolType: "consumer",
                                   protocols: [.init(name: "range", metadata: [0, 1, 0, 0]),
                                               .init(name: "roundrobin", metadata: [])])
        try checkRoundTrip(req, versions: spread(.joinGroup), exactAt: 5)
        let resp = JoinGroupResponse(throttleTimeMs: 0, errorCode: .memberIdRequired, generationId: 4,
                                     protocolName: "range", leader: "m-1", memberId: "m-1", members: [
                                         .init(memberId: "m-1", groupInstanceId: "static-1", metadata: [1, 2]),
                                         .init(memberId: "m-2", groupInstanceId: nil, metadata: []),
                                     ])
        try checkRoundTrip(resp, versions: spread(.joinGroup), exactAt: 5)
    }

    @Test func heartbeatLeaveSync() throws {
        let hb = HeartbeatRequest(groupId: "g", generationId: 2, memberId: "m", groupInstanceId: "i")
        try checkRoundTrip(hb, versions: spread(.heartbeat), exactAt: 3)
        try checkRoundTrip(HeartbeatResponse(throttleTimeMs: 4, errorCode: .rebalanceInProgress),
                           versions: spread(.heartbeat), exactAt: 3)

        try checkRoundTrip(LeaveGroupRequest(groupId: "g", memberId: "m"), versions: [0, 1, 2], exactAt: 2)
        let leave3 = LeaveGroupRequest(groupId: "g", members: [.init(memberId: "m", groupInstanceId: nil),
                                                              .init(memberId: "n", groupInstanceId: "i")])
        try checkRoundTrip(leave3, versions: spread(.leaveGroup), exactAt: 3)
        let leaveResp = LeaveGroupResponse(throttleTimeMs: 1, errorCode: .none, members: [
            .init(memberId: "m", groupInstanceId: nil, errorCode: .unknownMemberId),
        ])
        try checkRoundTrip(leaveResp, versions: spread(.leaveGroup), exactAt: 3)

        let sync = SyncGroupRequest(groupId: "g", generationId: 1, memberId: "m", groupInstanceId: "i",
                                    assignments: [.init(memberId: "m", assignment: [0, 1, 2])])
        try checkRoundTrip(sync, versions: spread(.syncGroup), exactAt: 3)
        try checkRoundTrip(SyncGroupResponse(throttleTimeMs: 1, errorCode: .none, assignment: [0, 1]),
                           versions: spread(.syncGroup), exactAt: 3)
    }

    @Test func adminTopics() throws {
        let create = CreateTopicsRequest(topics: [
            .init(name: "t", numPartitions: 3, replicationFactor: 2, assignments: [], configs: [
                .init(name: "cleanup.policy", value: "compact"), .init(name: "x", value: nil),
            ]),
            .init(name: "u", numPartitions: -1, replicationFactor: -1,
                  assignments: [.init(partitionIndex: 0, brokerIds: [1, 2])], configs: []),
        ], timeoutMs: 5000, validateOnly: true)
        try checkRoundTrip(create, versions: spread(.createTopics), exactAt: 4)
        let createResp = CreateTopicsResponse(throttleTimeMs: 0, topics: [
            .init(name: "t", errorCode: .topicAlreadyExists, errorMessage: "exists"),
            .init(name: "u", errorCode: .none, errorMessage: nil),
        ])
        try checkRoundTrip(createResp, versions: spread(.createTopics), exactAt: 4)

        try checkRoundTrip(DeleteTopicsRequest(topicNames: ["a", "b"], timeoutMs: 100),
                           versions: spread(.deleteTopics), exactAt: 3)
        try checkRoundTrip(DeleteTopicsResponse(throttleTimeMs: 2, responses: [.init(name: "a", errorCode: .none)]),
                           versions: spread(.deleteTopics), exactAt: 3)

        let cp = CreatePartitionsRequest(topics: [
            .init(name: "t", count: 6, assignments: [.init(brokerIds: [1]), .init(brokerIds: [2])]),
            .init(name: "u", count: 2, assignments: nil),
        ], timeoutMs: 100, validateOnly: false)
        try checkRoundTrip(cp, versions: spread(.createPartitions), exactAt: 1)
        let cpResp = CreatePartitionsResponse(throttleTimeMs: 0, results: [
            .init(name: "t", errorCode: .invalidPartitions, errorMessage: "fewer"), .init(name: "u", errorCode: .none),
        ])
        try checkRoundTrip(cpResp, versions: spread(.createPartitions), exactAt: 1)
    }

    @Test func describeConfigs() throws {
        let req = DescribeConfigsRequest(resources: [
            .init(resourceType: 2, resourceName: "t", configurationKeys: ["retention.ms"]),
            .init(resourceType: 4, resourceName: "1", configurationKeys: nil),
        ], includeSynonyms: true, includeDocumentation: true)
        try checkRoundTrip(req, versions: spread(.describeConfigs), exactAt: 3)
        let resp = DescribeConfigsResponse(throttleTimeMs: 0, results: [
            .init(errorCode: .none, errorMessage: nil, resourceType: 2, resourceName: "t", configs: [
                .init(name: "retention.ms", value: "1000", readOnly: false, configSource: 1, isSensitive: false,
                      synonyms: [.init(name: "log.retention.ms", value: nil, source: 5)], configType: 5,
                      documentation: "how long"),
            ]),
        ])
        try checkRoundTrip(resp, versions: spread(.describeConfigs), exactAt: 3)
    }

    @Test func producerAndEpochs() throws {
        try checkRoundTrip(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60000),
                           versions: spread(.initProducerId), exactAt: 1)
        try checkRoundTrip(InitProducerIdResponse(throttleTimeMs: 0, errorCode: .none, producerId: 1000, producerEpoch: 0),
                           versions: spread(.initProducerId), exactAt: 1)
        let ofle = OffsetForLeaderEpochRequest(replicaId: -1, topics: [
            .init(topic: "t", partitions: [.init(partition: 0, currentLeaderEpoch: 5, leaderEpoch: 4)]),
        ])
        try checkRoundTrip(ofle, versions: spread(.offsetForLeaderEpoch), exactAt: 3)
        let ofleResp = OffsetForLeaderEpochResponse(throttleTimeMs: 0, topics: [
            .init(topic: "t", partitions: [.init(errorCode: .fencedLeaderEpoch, partition: 0, leaderEpoch: 4, endOffset: 99)]),
        ])
        try checkRoundTrip(ofleResp, versions: spread(.offsetForLeaderEpoch), exactAt: 3)
    }

    @Test func groupsAdmin() throws {
        try checkRoundTrip(ListGroupsRequest(), versions: spread(.listGroups), exactAt: 2)
        try checkRoundTrip(ListGroupsResponse(throttleTimeMs: 1, errorCode: .none,
                                              groups: [.init(groupId: "g", protocolType: "consumer")]),
                           versions: spread(.listGroups), exactAt: 2)
        try checkRoundTrip(DescribeGroupsRequest(groups: ["g", "h"], includeAuthorizedOperations: true),
                           versions: spread(.describeGroups), exactAt: 4)
        let dg = DescribeGroupsResponse(throttleTimeMs: 0, groups: [
            .init(errorCode: .none, groupId: "g", groupState: "Stable", protocolType: "consumer", protocolData: "range",
                  members: [.init(memberId: "m", groupInstanceId: "i", clientId: "c", clientHost: "/127.0.0.1",
                                  memberMetadata: [1], memberAssignment: [2])], authorizedOperations: 8),
        ])
        try checkRoundTrip(dg, versions: spread(.describeGroups), exactAt: 4)
        try checkRoundTrip(DeleteGroupsRequest(groupsNames: ["g"]), versions: spread(.deleteGroups), exactAt: 1)
        try checkRoundTrip(DeleteGroupsResponse(throttleTimeMs: 0, results: [.init(groupId: "g", errorCode: .nonEmptyGroup)]),
                           versions: spread(.deleteGroups), exactAt: 1)
        try checkRoundTrip(OffsetDeleteRequest(groupId: "g", topics: [.init(name: "t", partitions: [.init(partitionIndex: 1)])]),
                           versions: [0], exactAt: 0)
        try checkRoundTrip(OffsetDeleteResponse(errorCode: .none, throttleTimeMs: 0, topics: [
            .init(name: "t", partitions: [.init(partitionIndex: 1, errorCode: .groupSubscribedToTopic)]),
        ]), versions: [0], exactAt: 0)
    }

    @Test func controllerApis() throws {
        let lai = LeaderAndIsrRequest(controllerId: 1, controllerEpoch: 3, brokerEpoch: 77, topicStates: [
            .init(topicName: "t", partitionStates: [
                .init(partitionIndex: 0, controllerEpoch: 3, leader: 1, leaderEpoch: 2, isr: [1, 2], partitionEpoch: 5,
                      replicas: [1, 2, 3], isNew: true),
            ]),
        ], liveLeaders: [.init(brokerId: 1, hostName: "h", port: 9092)])
        try checkRoundTrip(lai, versions: [2], exactAt: 2)
        try checkRoundTrip(LeaderAndIsrResponse(errorCode: .none, partitionErrors: [
            .init(topicName: "t", partitionIndex: 0, errorCode: .staleControllerEpoch),
        ]), versions: [2], exactAt: 2)
        let stop = StopReplicaRequest(controllerId: 1, controllerEpoch: 3, brokerEpoch: 77, deletePartitions: true,
                                      topics: [.init(name: "t", partitionIndexes: [0, 1])])
        try checkRoundTrip(stop, versions: [1], exactAt: 1)
        try checkRoundTrip(StopReplicaResponse(errorCode: .none, partitionErrors: [
            .init(topicName: "t", partitionIndex: 1, errorCode: .kafkaStorageError),
        ]), versions: [1], exactAt: 1)
        let um = UpdateMetadataRequest(controllerId: 1, controllerEpoch: 3, brokerEpoch: 77, topicStates: [
            .init(topicName: "t", partitionStates: [
                .init(partitionIndex: 0, controllerEpoch: 3, leader: 1, leaderEpoch: 2, isr: [1], zkVersion: 4,
                      replicas: [1, 2], offlineReplicas: [2]),
            ]),
        ], liveBrokers: [.init(id: 1, endpoints: [.init(port: 9092, host: "h", listener: "PLAINTEXT", securityProtocol: 0)],
                               rack: nil)])
        try checkRoundTrip(um, versions: [5], exactAt: 5)
        try checkRoundTrip(UpdateMetadataResponse(errorCode: .none), versions: [5], exactAt: 5)
    }

    @Test func apiVersions() throws {
        try checkRoundTrip(ApiVersionsRequest(clientSoftwareName: "librdkafka", clientSoftwareVersion: "2.16.0"),
                           versions: spread(.apiVersions), exactAt: 3)
        var resp = ApiVersionsResponse.supported()
        resp.throttleTimeMs = 3
        resp.supportedFeatures = [.init(name: "metadata.version", minVersion: 1, maxVersion: 7)]
        resp.finalizedFeaturesEpoch = 9
        resp.finalizedFeatures = [.init(name: "metadata.version", maxVersionLevel: 7, minVersionLevel: 7)]
        resp.zkMigrationReady = true
        try checkRoundTrip(resp, versions: spread(.apiVersions), exactAt: 3)
    }
}
