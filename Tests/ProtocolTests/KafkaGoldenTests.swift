@testable import Protocol
import Testing

/// Byte vectors written out by hand from the message JSON specs (field order, widths, nullability).
@Suite struct KafkaGoldenTests {
    /// librdkafka opens every connection with this: ApiVersions v3, request header v2.
    @Test func apiVersionsV3RequestAsLibrdkafkaSendsIt() throws {
        let frame = hex("0012 0003 00000001") + hex("0007") + ascii("rdkafka") + hex("00")
            + hex("0b") + ascii("librdkafka") + hex("06") + ascii("2.0.2") + hex("00")
        let parsed = try KafkaRequestFrame.parse(frame)
        #expect(parsed.api == .apiVersions)
        #expect(parsed.header == KafkaRequestHeader(apiKey: 18, apiVersion: 3, correlationId: 1, clientId: "rdkafka"))
        let body = try parsed.decodeBody(ApiVersionsRequest.self)
        #expect(body == ApiVersionsRequest(clientSoftwareName: "librdkafka", clientSoftwareVersion: "2.0.2"))
        let encoded = try KafkaRequestFrame.encode(body, version: 3, correlationId: 1, clientId: "rdkafka")
        #expect(encoded == hex(String(format: "%08x", frame.count)) + frame)
    }

    /// kcat -L asks Metadata v4; topics as a classic int32 array of int16 strings, then the auto-create flag.
    @Test func metadataV4Request() throws {
        let body = hex("00000002") + hex("0004") + ascii("test") + hex("0003") + ascii("abc") + hex("00")
        let req = MetadataRequest(topics: [.init(name: "test"), .init(name: "abc")], allowAutoTopicCreation: false)
        #expect(try req.encoded(version: 4) == body)
        #expect(try MetadataRequest.decode(body, version: 4) == req)
        // All topics: a null array from v1 on, an empty one at v0.
        #expect(try MetadataRequest(topics: nil).encoded(version: 4) == hex("ffffffff 01"))
        #expect(try MetadataRequest(topics: nil).encoded(version: 0) == hex("00000000"))
    }

    /// kcat -P sends Produce v7; the record batch travels as opaque int32-length bytes.
    @Test func produceV7WithRecords() throws {
        let records: [UInt8] = [0xde, 0xad, 0xbe, 0xef, 0x01]
        let body = hex("ffff") + hex("ffff") + hex("00007530") + hex("00000001") + hex("0002") + ascii("t1")
            + hex("00000001") + hex("00000000") + hex("00000005") + records
        let req = ProduceRequest(transactionalId: nil, acks: -1, timeoutMs: 30000,
                                 topicData: [.init(name: "t1", partitionData: [.init(index: 0, records: records)])])
        #expect(try req.encoded(version: 7) == body)
        #expect(try ProduceRequest.decode(body, version: 7) == req)
        // A full frame carries header v1: key 0, version 7, correlation id, client id.
        let frame = try KafkaRequestFrame.encode(req, version: 7, correlationId: 5, clientId: nil)
        #expect(Array(frame[4..<14]) == hex("0000 0007 00000005 ffff"))
        #expect(Array(frame[14...]) == body)
    }

    @Test func produceV8Response() throws {
        let resp = ProduceResponse(responses: [.init(name: "t", partitionResponses: [
            .init(index: 1, errorCode: .none, baseOffset: 10, logAppendTimeMs: -1, logStartOffset: 0,
                  recordErrors: [], errorMessage: nil),
        ])], throttleTimeMs: 0)
        let expected = hex("00000001 0001") + ascii("t") + hex("00000001 00000001 0000 000000000000000a")
            + hex("ffffffffffffffff 0000000000000000 00000000 ffff 00000000")
        #expect(try resp.encoded(version: 8) == expected)
    }

    /// kafka-python opens with ApiVersions v4; we answer error 35 in the v0 layout with our range.
    @Test func unsupportedApiVersionsAnswer() throws {
        let frame = ApiVersionsResponse.unsupportedVersionFrame(correlationId: 7)
        #expect(frame == hex("00000010 00000007 0023 00000001 0012 0000 0003"))
        var r = ByteReader(Array(frame[8...]))
        let answer = try ApiVersionsResponse.decodeAnswer(from: &r, requestedVersion: 3)
        #expect(answer.errorCode == .unsupportedVersion)
        #expect(answer.apiKeys == [.init(apiKey: 18, minVersion: 0, maxVersion: 3)])
    }

    /// ApiVersions v3 response: compact array, per-entry tags, throttle, top-level tags; header v0.
    @Test func apiVersionsV3Response() throws {
        let resp = ApiVersionsResponse(apiKeys: [.init(apiKey: 0, minVersion: 3, maxVersion: 8)], throttleTimeMs: 0)
        let frame = try KafkaResponseFrame.encode(resp, version: 3, correlationId: 1)
        #expect(frame == hex("00000013 00000001 0000 02 0000 0003 0008 00 00000000 00"))
    }
}
