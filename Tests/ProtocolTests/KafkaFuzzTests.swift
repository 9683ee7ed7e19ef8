@testable import Protocol
import Testing

/// Random and mutated input must produce values or thrown errors, never traps.
@Suite struct KafkaFuzzTests {
    static let messageTypes = generatedMessageTypes

    @Test func everyApiHasBothCodecs() {
        let keys = Set(Self.messageTypes.map { $0.api })
        #expect(keys == Set(KafkaAPI.allCases))
    }

    @Test func randomBodiesNeverTrap() {
        var rng = TestRandom(seed: 0xC0FFEE)
        var decodedSomething = 0
        for type in Self.messageTypes {
            for version in type.api.validVersions {
                for _ in 0..<60 {
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

    /// Every generated request decoder at every version gets its sample's encoding mutated, truncated and
    /// given lying lengths; it must return a value or throw, never trap, and finish quickly.
    @Test func everyRequestDecoderSurvivesMutatedSamples() throws {
        var rng = TestRandom(seed: 0x5EED)
        var runs = 0
        let clock = ContinuousClock()
        let started = clock.now
        for sample in generatedRequestSamples {
            let type = Swift.type(of: sample)
            for v in type.api.validVersions {
                let bytes = try sample.encoded(version: v)
                for input in Self.mutations(of: bytes, rng: &rng) {
                    _ = try? type.decode(input, version: v)
                    runs += 1
                }
            }
        }
        #expect(runs > 10_000)
        #expect(clock.now - started < .seconds(120))
    }

    /// A count or length claiming more than the bytes left is refused before anything is allocated.
    @Test func lyingCountsAreRefused() throws {
        for sample in generatedRequestSamples {
            let type = Swift.type(of: sample)
            for v in type.api.validVersions {
                let bytes = try sample.encoded(version: v)
                // Replace the whole tail after each prefix with a huge int32 count / uvarint length.
                for cut in 0..<min(bytes.count, 64) {
                    for lie in [hex("7fffffff"), hex("fffffffe07"), hex("ffff")] {
                        let input = Array(bytes[0..<cut]) + lie
                        if let m = try? type.decode(input, version: v) {
                            // Anything decoded from so few bytes is small.
                            #expect(try m.encoded(version: v).count <= bytes.count + 64)
                        }
                    }
                }
            }
        }
    }

    /// Random byte flips, truncations, 0xff runs and huge int32 counts at every position.
    static func mutations(of bytes: [UInt8], rng: inout TestRandom) -> [[UInt8]] {
        var out: [[UInt8]] = []
        guard !bytes.isEmpty else { return [[], [0xff], [0x7f, 0xff, 0xff, 0xff]] }
        for _ in 0..<40 {
            var m = bytes
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(m.count))
                m[i] = rng.next() % 2 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : 0xff
            }
            if rng.next() % 4 == 0 { m.removeLast(Int(rng.next() % UInt64(m.count))) }
            out.append(m)
        }
        for i in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 24)) {
            var m = bytes
            for (k, b) in [UInt8(0x7f), 0xff, 0xff, 0xff].enumerated() where i + k < m.count { m[i + k] = b }
            out.append(m)
        }
        return out
    }
}
