@testable import Protocol
import Testing

/// Every generated codec at every version of the schema: samples with every field set survive an
/// encode/decode/encode round trip, truncation always throws, and unknown tagged fields are skipped.
@Suite struct KafkaGeneratedCodecTests {
    static func roundTrip<M: KafkaMessage>(_ m: M, _ v: Int16) throws -> ([UInt8], M) {
        let bytes = try m.encoded(version: v)
        let decoded = try M.decode(bytes, version: v)
        return (bytes, decoded)
    }

    @Test func everySampleRoundTripsAtEveryVersion() throws {
        var checked = 0
        for sample in generatedRequestSamples.map({ $0 as any KafkaMessage }) + generatedResponseSamples {
            let api = type(of: sample).api
            for v in api.validVersions {
                let (bytes, decoded) = try Self.roundTrip(sample, v)
                #expect(try decoded.encoded(version: v) == bytes, "\(type(of: sample)) v\(v)")
                // Every strict prefix must fail; sampled so the test stays quick.
                for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 40)) {
                    #expect(throws: (any Error).self, "\(type(of: sample)) v\(v) prefix \(cut)") {
                        _ = try type(of: sample).decode(Array(bytes[0..<cut]), version: v)
                    }
                }
                checked += 1
            }
        }
        #expect(checked > 350)
    }

    /// At the highest version every field of the samples is on the wire, so decoding gives the sample back
    /// (except fields Kafka dropped in later versions, which decode as defaults and re-encode the same).
    @Test func highestVersionKeepsEveryCurrentField() throws {
        let r = ProduceRequest.sample()
        #expect(try ProduceRequest.decode(r.encoded(version: 11), version: 11) == r)
        let f = FetchResponse.sample()
        var expected = f
        for t in expected.responses.indices { expected.responses[t].topic = "" }  // name is v0–12 only
        #expect(try FetchResponse.decode(f.encoded(version: 17), version: 17) == expected)
        let av = ApiVersionsResponse.sample()
        #expect(try ApiVersionsResponse.decode(av.encoded(version: 4), version: 4) == av)
    }

    @Test func unknownTaggedFieldsAreSkippedByEveryFlexibleDecoder() throws {
        var checked = 0
        for m in generatedDefaultMessages {
            let api = type(of: m).api
            for v in api.validVersions where api.isFlexible(v) {
                // Defaults write no tagged fields: the body ends with the empty top-level tag section.
                guard let bytes = try? m.encoded(version: v), bytes.last == 0 else { continue }
                let reference = try type(of: m).decode(bytes, version: v)
                // Tag 1000 (uvarint e8 07), three bytes of data: unknown to every schema.
                let withTag = Array(bytes.dropLast()) + [0x01, 0xe8, 0x07, 0x03, 0xaa, 0xbb, 0xcc]
                let decoded = try type(of: m).decode(withTag, version: v)
                #expect(try decoded.encoded(version: v) == reference.encoded(version: v), "\(type(of: m)) v\(v)")
                checked += 1
            }
        }
        #expect(checked > 80)
    }

    @Test func apiTableKeepsAdvertisedRangesInsideTheCodecs() {
        for api in KafkaAPI.allCases {
            #expect(api.validVersions.contains(api.supportedVersions.lowerBound), "\(api.name)")
            #expect(api.validVersions.contains(api.supportedVersions.upperBound), "\(api.name)")
        }
        #expect(KafkaAPI.produce.validVersions == 0...11 && KafkaAPI.produce.supportedVersions == 0...8)
        #expect(KafkaAPI.fetch.validVersions == 0...17 && KafkaAPI.fetch.firstFlexibleVersion == 12)
        #expect(KafkaAPI.offsetDelete.firstFlexibleVersion == Int16.max)
        #expect(Set(generatedMessageTypes.map { $0.api }) == Set(KafkaAPI.allCases))
    }

    /// Flexible versions the broker does not advertise yet still frame correctly end to end.
    @Test func flexibleRequestFramesParseWithHeaderV2() throws {
        let req = MetadataRequest(topics: [.init(name: "t")], allowAutoTopicCreation: false)
        let frame = try KafkaRequestFrame.encode(req, version: 12, correlationId: 9, clientId: "c")
        // Header v2: key, version, correlation id, int16 client id, empty tag section.
        #expect(Array(frame[4..<16]) == hex("0003 000c 00000009 0001") + ascii("c") + hex("00"))
        var r = ByteReader(Array(frame[16...]))
        #expect(try MetadataRequest.decode(from: &r, version: 12) == req)
        #expect(r.isAtEnd)
    }
}
