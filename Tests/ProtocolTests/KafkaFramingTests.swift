@testable import Protocol
import Foundation
import Testing

@Suite struct KafkaFramingTests {
    @Test func headerVersionsFollowFlexibility() {
        #expect(KafkaAPI.apiVersions.requestHeaderVersion(3) == 2)
        #expect(KafkaAPI.apiVersions.requestHeaderVersion(2) == 1)
        #expect(KafkaAPI.apiVersions.responseHeaderVersion(3) == 0)
        #expect(KafkaAPI.metadata.responseHeaderVersion(8) == 0)
        #expect(KafkaAPI.metadata.responseHeaderVersion(9) == 1)
        #expect(KafkaAPI.produce.requestHeaderVersion(8) == 1)
        #expect(KafkaAPI.produce.requestHeaderVersion(9) == 2)
        #expect(KafkaAPI.offsetDelete.requestHeaderVersion(0) == 1)
        // Flexible among what we implement: ApiVersions v3, SaslAuthenticate v2 and the SCRAM credential
        // APIs and DescribeCluster (flexible from v0, as Kafka defines them), the ACL APIs v2+, and the
        // admin APIs IncrementalAlterConfigs v1, AlterConfigs / DeleteRecords / DescribeLogDirs / ElectLeaders v2+,
        // the transaction APIs from v3 (WriteTxnMarkers v1, Describe/ListTransactions v0), ListGroups v3+,
        // Metadata v9+ (v10-12 carry topic ids), UpdateMetadata v6+ (v7 carries them to brokers),
        // DeleteTopics v4+ (v6 by id), ListOffsets v6+, DescribeGroups v5, DeleteGroups v2, CreatePartitions v2+,
        // ControlledShutdown v3, InitProducerId v2+ (v3-4: KIP-360's expected id and epoch),
        // CreateTopics v5+ (the created topic's settings echoed; v7 its id), and the first flexible
        // version (no new fields) of DescribeConfigs, OffsetForLeaderEpoch, Heartbeat, LeaveGroup (v5:
        // a reason, logged by Kafka, ignored here), FindCoordinator (v3; v4 batches keys), OffsetCommit, OffsetFetch
        // (v8 batches groups), JoinGroup (v6; v9 KIP-814's skipAssignment), SyncGroup (v4; v5 the protocol checked).
        let flexible: Set<KafkaAPI> = [.apiVersions, .saslAuthenticate, .describeUserScramCredentials, .alterUserScramCredentials,
                                       .describeAcls, .createAcls, .deleteAcls, .describeCluster, .incrementalAlterConfigs,
                                       .alterConfigs, .deleteRecords, .describeLogDirs, .electLeaders,
                                       .addPartitionsToTxn, .addOffsetsToTxn, .endTxn, .writeTxnMarkers, .txnOffsetCommit,
                                       .describeTransactions, .listTransactions, .listGroups, .metadata, .updateMetadata,
                                       .deleteTopics, .listOffsets, .describeGroups, .deleteGroups, .createPartitions,
                                       .controlledShutdown, .initProducerId, .createTopics,
                                       .describeConfigs, .offsetForLeaderEpoch, .heartbeat, .leaveGroup, .findCoordinator,
                                       .offsetCommit, .offsetFetch, .joinGroup, .syncGroup]
        for api in KafkaAPI.allCases {
            #expect(api.isFlexible(api.supportedVersions.upperBound) == flexible.contains(api), "\(api.name)")
        }
        #expect(KafkaAPI.saslAuthenticate.requestHeaderVersion(2) == 2 && KafkaAPI.saslAuthenticate.requestHeaderVersion(1) == 1)
    }

    @Test func advertisedRangesMatchTheDesignNote() {
        let adv = Dictionary(uniqueKeysWithValues: ApiVersionsResponse.supported().apiKeys.map { ($0.apiKey, $0) })
        // Produce v0-v2 too (pre-0.11 message sets are up-converted), as Kafka 3.x advertises.
        #expect(adv[0]?.minVersion == 0 && adv[0]?.maxVersion == 8)
        #expect(adv[1]?.minVersion == 4 && adv[1]?.maxVersion == 11)
        #expect(adv[3]?.minVersion == 0 && adv[3]?.maxVersion == 12)
        #expect(adv[10]?.minVersion == 0 && adv[10]?.maxVersion == 4)
        #expect(adv[9]?.maxVersion == 9 && adv[11]?.maxVersion == 9 && adv[14]?.maxVersion == 5)
        #expect(adv[22]?.minVersion == 0 && adv[22]?.maxVersion == 4)
        #expect(adv[18]?.maxVersion == 3)
        for key: Int16 in 29...31 { #expect(adv[key]?.minVersion == 0 && adv[key]?.maxVersion == 3, "ACL API \(key)") }
        #expect(ApiVersionsResponse.supported(includeInterBroker: false).apiKeys.allSatisfy { $0.apiKey < 4 || $0.apiKey > 6 })
    }

    @Test func unknownApiKeyIsTyped() throws {
        let frame = hex("03e7 0000 0000002a ffff")
        #expect(throws: KafkaRequestError.unknownApiKey(
            KafkaRequestHeader(apiKey: 999, apiVersion: 0, correlationId: 42, clientId: nil))) {
            _ = try KafkaRequestFrame.parse(frame)
        }
    }

    @Test func unsupportedVersionIsTyped() throws {
        let fetchV3 = hex("0001 0003 00000009 0001") + ascii("c")
        #expect(throws: KafkaRequestError.unsupportedVersion(.fetch,
            KafkaRequestHeader(apiKey: 1, apiVersion: 3, correlationId: 9, clientId: "c"))) {
            _ = try KafkaRequestFrame.parse(fetchV3)
        }
        // kafka-python's ApiVersions v4 (flexible header) is refused the same way.
        let apiV4 = hex("0012 0004 00000001 0002") + ascii("kp") + hex("00 03") + ascii("kp") + hex("02 33 00")
        #expect(throws: KafkaRequestError.unsupportedVersion(.apiVersions,
            KafkaRequestHeader(apiKey: 18, apiVersion: 4, correlationId: 1, clientId: "kp"))) {
            _ = try KafkaRequestFrame.parse(apiV4)
        }
    }

    @Test func truncatedHeadersThrowDecodeErrors() {
        let frame = hex("0012 0003 00000001 0007") + ascii("rdkafka") + hex("00")
        for cut in 0..<frame.count {
            #expect(throws: DecodeError.self) { _ = try KafkaRequestFrame.parse(Array(frame[0..<cut])) }
        }
    }

    @Test func unknownTaggedFieldsInRequestHeaderAreSkipped() throws {
        // Header v2 with two unknown tags, then the ApiVersions v3 body.
        let frame = hex("0012 0003 00000004 ffff") + hex("02 05 03 010203 07 00")
            + hex("02") + ascii("x") + hex("02") + ascii("1") + hex("00")
        let parsed = try KafkaRequestFrame.parse(frame)
        #expect(try parsed.decodeBody(ApiVersionsRequest.self)
            == ApiVersionsRequest(clientSoftwareName: "x", clientSoftwareVersion: "1"))
        #expect(throws: DecodeError.self) { _ = try parsed.decodeBody(MetadataRequest.self) }
    }

    @Test func unknownTaggedFieldsInBodiesAreSkipped() throws {
        let req = hex("02") + ascii("x") + hex("02") + ascii("1") + hex("02 09 02 aabb 0c 00")
        #expect(try ApiVersionsRequest.decode(req, version: 3)
            == ApiVersionsRequest(clientSoftwareName: "x", clientSoftwareVersion: "1"))
        // Response: known epoch tag (1) between unknown tags 0x20 and 0x40.
        let resp = hex("0000 01 00000000") + hex("03 01 08 0000000000000005 20 01 ff 40 00")
        let decoded = try ApiVersionsResponse.decode(resp, version: 3)
        #expect(decoded.finalizedFeaturesEpoch == 5)
        #expect(decoded.apiKeys.isEmpty)
        // A tag whose declared size overruns the input is refused.
        #expect(throws: DecodeError.self) { _ = try ApiVersionsRequest.decode(hex("01 01 01 05 09 aa"), version: 3) }
    }

    @Test func responseFrameRoundTrip() throws {
        let resp = HeartbeatResponse(throttleTimeMs: 0, errorCode: .rebalanceInProgress)
        let frame = try KafkaResponseFrame.encode(resp, version: 3, correlationId: 77)
        #expect(frame == hex("0000000a 0000004d 00000000 001b"))
        let body = Array(frame[4...])
        #expect(KafkaResponseFrame.correlationId(of: body) == 77)
        let (header, decoded) = try KafkaResponseFrame.decode(HeartbeatResponse.self, frame: body, version: 3)
        #expect(header.correlationId == 77)
        #expect(decoded == resp)
    }

    /// The spliced frame, with the placeholder filled in, must equal the plain encoding.
    @Test func fetchSegmentsSpliceToThePlainEncoding() throws {
        let fileBytes = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var spliced = FetchResponse(throttleTimeMs: 0, errorCode: .none, sessionId: 0, responses: [
            .init(topic: "a", partitions: [
                .init(partitionIndex: 0, highWatermark: 10, lastStableOffset: 10, logStartOffset: 0,
                      abortedTransactions: nil, records: nil, spliceLength: fileBytes.count),
                .init(partitionIndex: 1, errorCode: .offsetOutOfRange, highWatermark: 3, records: nil),
            ]),
            .init(topic: "b", partitions: [
                .init(partitionIndex: 0, highWatermark: 1, records: [1, 2, 3]),
                .init(partitionIndex: 2, highWatermark: 1, records: nil, spliceLength: 0),
            ]),
        ])
        for version: Int16 in [4, 7, 11] {
            let segments = try spliced.encodeFrameSegments(version: version, correlationId: 3)
            var joined: [UInt8] = []
            var refs: [FetchRecordsRef] = []
            for s in segments {
                switch s {
                case .bytes(let b): joined += b
                case .records(let ref, let length):
                    refs.append(ref)
                    joined += ref.topic == "a" ? Array(fileBytes[0..<length]) : []
                }
            }
            #expect(refs.map { "\($0.topic)/\($0.partition)@\($0.topicIndex).\($0.partitionIndex)" } == ["a/0@0.0", "b/2@1.1"])
            var plain = spliced
            plain.responses[0].partitions[0].spliceLength = nil
            plain.responses[0].partitions[0].records = fileBytes
            plain.responses[1].partitions[1].spliceLength = nil
            plain.responses[1].partitions[1].records = []
            #expect(joined == (try KafkaResponseFrame.encode(plain, version: version, correlationId: 3)), "v\(version)")
        }
        #expect(throws: KafkaEncodeError.splicedRecords) { _ = try spliced.encoded(version: 11) }
        spliced.responses[0].partitions[0].spliceLength = -1
        #expect(throws: KafkaEncodeError.self) { _ = try spliced.encodeFrameSegments(version: 11, correlationId: 3) }
    }
}

@Suite struct KafkaRequestDispatchTests {
    @Test func decodesTheTypedBody() throws {
        let req = JoinGroupRequest(groupId: "g", sessionTimeoutMs: 1, rebalanceTimeoutMs: 2, memberId: "",
                                   protocolType: "consumer", protocols: [.init(name: "range", metadata: [1])])
        let frame = try KafkaRequestFrame.encode(req, version: 5, correlationId: 8, clientId: "c")
        let parsed = try KafkaRequestFrame.parse(Array(frame[4...]))
        let typed = try KafkaRequest.decode(parsed)
        #expect(typed == .joinGroup(req))
        #expect(typed.api == .joinGroup)
    }
}
