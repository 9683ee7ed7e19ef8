@testable import Protocol
import Testing

/// The transaction APIs (KIP-98) byte by byte, written out from Kafka's message JSON definitions:
/// classic layouts before v3 (int16 strings, int32 counts), compact ones with tag sections from v3.
@Suite struct KafkaTxnCodecTests {
    @Test func endTxnV0AndV3() throws {
        let req = EndTxnRequest(transactionalId: "tx", producerId: 7, producerEpoch: 2, committed: true)
        let v0 = hex("0002") + ascii("tx") + hex("0000000000000007 0002 01")
        #expect(try req.encoded(version: 0) == v0)
        #expect(try EndTxnRequest.decode(v0, version: 0) == req)
        // v3: compact string (length + 1), then the empty tag section.
        let v3 = hex("03") + ascii("tx") + hex("0000000000000007 0002 01 00")
        #expect(try req.encoded(version: 3) == v3)
        #expect(try EndTxnRequest.decode(v3, version: 3) == req)
        let resp = EndTxnResponse(throttleTimeMs: 0, errorCode: .producerFenced)
        #expect(try resp.encoded(version: 2) == hex("00000000 005a"))
        #expect(try resp.encoded(version: 3) == hex("00000000 005a 00"))
    }

    @Test func addPartitionsToTxnV0() throws {
        let req = AddPartitionsToTxnRequest(transactionalId: "t", producerId: 1, producerEpoch: 0,
                                            topics: [.init(name: "a", partitions: [0, 2])])
        let body = hex("0001") + ascii("t") + hex("0000000000000001 0000") + hex("00000001 0001") + ascii("a")
            + hex("00000002 00000000 00000002")
        #expect(try req.encoded(version: 0) == body)
        #expect(try AddPartitionsToTxnRequest.decode(body, version: 0) == req)
        let resp = AddPartitionsToTxnResponse(throttleTimeMs: 0, resultsByTopic: [
            .init(name: "a", resultsByPartition: [.init(partitionIndex: 2, partitionErrorCode: .concurrentTransactions)]),
        ])
        let rb = hex("00000000 00000001 0001") + ascii("a") + hex("00000001 00000002 0033")
        #expect(try resp.encoded(version: 1) == rb)
        #expect(try AddPartitionsToTxnResponse.decode(rb, version: 1) == resp)
    }

    @Test func addOffsetsAndTxnOffsetCommit() throws {
        let add = AddOffsetsToTxnRequest(transactionalId: "t", producerId: 3, producerEpoch: 1, groupId: "g")
        let ab = hex("0001") + ascii("t") + hex("0000000000000003 0001 0001") + ascii("g")
        #expect(try add.encoded(version: 1) == ab)
        #expect(try AddOffsetsToTxnRequest.decode(ab, version: 1) == add)
        // v3 carries the group member fields and a nullable instance id.
        let commit = TxnOffsetCommitRequest(transactionalId: "t", groupId: "g", producerId: 3, producerEpoch: 1,
                                            generationId: 5, memberId: "m", groupInstanceId: nil, topics: [
            .init(name: "x", partitions: [.init(partitionIndex: 0, committedOffset: 9, committedLeaderEpoch: -1,
                                               committedMetadata: nil)]),
        ])
        let cb = hex("02") + ascii("t") + hex("02") + ascii("g") + hex("0000000000000003 0001 00000005 02") + ascii("m")
            + hex("00") + hex("02 02") + ascii("x") + hex("02 00000000 0000000000000009 ffffffff 00 00 00 00")
        #expect(try commit.encoded(version: 3) == cb)
        #expect(try TxnOffsetCommitRequest.decode(cb, version: 3) == commit)
        // v0 has neither the member fields nor the leader epoch: they decode as defaults.
        let v0 = try TxnOffsetCommitRequest.decode(commit.encoded(version: 0), version: 0)
        #expect(v0.generationId == -1 && v0.memberId == "" && v0.topics[0].partitions[0].committedOffset == 9)
    }

    @Test func writeTxnMarkersV1() throws {
        let req = WriteTxnMarkersRequest(markers: [
            .init(producerId: 4, producerEpoch: 0, transactionResult: false,
                  topics: [.init(name: "a", partitionIndexes: [1])], coordinatorEpoch: 0),
        ])
        let body = hex("02 0000000000000004 0000 00 02 02") + ascii("a") + hex("02 00000001 00 00000000 00 00")
        #expect(try req.encoded(version: 1) == body)
        #expect(try WriteTxnMarkersRequest.decode(body, version: 1) == req)
    }

    @Test func describeAndListTransactions() throws {
        let d = DescribeTransactionsResponse(throttleTimeMs: 0, transactionStates: [
            .init(errorCode: .none, transactionalId: "t", transactionState: "Ongoing", transactionTimeoutMs: 60000,
                  transactionStartTimeMs: 1, producerId: 2, producerEpoch: 3,
                  topicPartitions: [.init(name: "a", partitionIndexes: [0])]),
        ])
        #expect(try DescribeTransactionsResponse.decode(d.encoded(version: 0), version: 0) == d)
        let l = ListTransactionsRequest(stateFilters: ["Ongoing"], producerIdFilters: [5])
        let lb = hex("02 08") + ascii("Ongoing") + hex("02 0000000000000005 00")
        #expect(try l.encoded(version: 0) == lb)
        #expect(try ListTransactionsRequest.decode(lb, version: 0) == l)
    }

    @Test func lyingCountsThrow() {
        // An AddPartitionsToTxn claiming two billion topics in four bytes must fail, not allocate.
        let body = hex("0001") + ascii("t") + hex("0000000000000001 0000 7fffffff")
        #expect(throws: (any Error).self) { _ = try AddPartitionsToTxnRequest.decode(body, version: 0) }
        #expect(throws: (any Error).self) { _ = try EndTxnRequest.decode(hex("0005") + ascii("ab"), version: 0) }
    }
}

@Suite struct KafkaTxnAdvertisingTests {
    /// The transaction APIs are advertised with the client versions brokerd implements.
    @Test func transactionApisAreAdvertised() {
        let adv = Dictionary(uniqueKeysWithValues: ApiVersionsResponse.supported().apiKeys.map { ($0.apiKey, $0) })
        for key: Int16 in 24...26 { #expect(adv[key]?.minVersion == 0 && adv[key]?.maxVersion == 3, "key \(key)") }
        #expect(adv[27]?.maxVersion == 1)
        #expect(adv[28]?.maxVersion == 3)
        #expect(adv[65]?.maxVersion == 0 && adv[66]?.maxVersion == 0)
        // WriteTxnMarkers is inter-broker: left out where only client APIs are listed.
        #expect(!ApiVersionsResponse.supported(includeInterBroker: false).apiKeys.contains { $0.apiKey == 27 })
        let allAdvertised = KafkaAPI.allCases.allSatisfy { $0.info.isAdvertised }
        #expect(allAdvertised)
    }
}
