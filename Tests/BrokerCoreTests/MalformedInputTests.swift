import struct Protocol.SplitMix64
import Testing
@testable import BrokerCore

/// Decoders of znode payloads face whatever is in coordd: random and mutated bytes must give
/// a value or a thrown error, never a trap.
@Suite struct MalformedInputTests {
    static let samples: [[UInt8]] = [
        BrokerRegistration(id: 1, endpoints: [BrokerEndpoint(host: "h", port: 1)], rack: "r", timestampMs: 5).encoded(),
        ControllerRegistration(brokerId: 1, timestampMs: 2).encoded(),
        TopicAssignment(partitions: [0: [1, 2], 1: [2, 1]]).encoded(),
        LeaderAndIsr(leader: 1, leaderEpoch: 2, isr: [1, 2], controllerEpoch: 3).encoded(),
        TopicConfigPayload(config: ["a": "b"]).encoded(),
        IsrChangePayload.encode([TopicPartition("t", 1)]),
        ClusterIdPayload(id: "abc").encoded(),
        ProducerIdBlock(brokerId: 1, firstId: 0, lastId: 9).encoded(),
    ]

    func decodeAll(_ b: [UInt8]) {
        _ = try? JSON.parse(b)
        _ = try? BrokerRegistration.decode(id: 1, b)
        _ = try? ControllerRegistration.decode(b)
        _ = try? ControllerEpochPayload.decode(b)
        _ = try? TopicAssignment.decode(b)
        _ = try? LeaderAndIsr.decode(b)
        _ = try? TopicConfigPayload.decode(b)
        _ = try? ConfigChangePayload.decode(b)
        _ = try? IsrChangePayload.decode(b)
        _ = try? ClusterIdPayload.decode(b)
        _ = try? ProducerIdBlock.decode(b)
        _ = ConsumerProtocolSubscription.topics(b)
    }

    @Test func mutatedAndTruncatedPayloadsNeverTrap() {
        var rng = SplitMix64(seed: 99)
        var decodedSomething = 0
        for sample in Self.samples {
            for cut in 0...sample.count { decodeAll(Array(sample.prefix(cut))) }
            for _ in 0..<300 {
                var b = sample
                for _ in 0..<(1 + Int(rng.next() % 4)) where !b.isEmpty {
                    let i = Int(rng.next() % UInt64(b.count))
                    b[i] = UInt8(truncatingIfNeeded: rng.next())
                }
                decodeAll(b)
                if (try? JSON.parse(b)) != nil { decodedSomething += 1 }
            }
        }
        for _ in 0..<500 {
            let n = Int(rng.next() % 64)
            decodeAll((0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
        // Some mutations (inside strings) stay valid JSON: the loop really exercised the decoders.
        #expect(decodedSomething > 0)
    }

    @Test func hostileNumbersAreRejected() {
        #expect(throws: (any Error).self) { try LeaderAndIsr.decode(Array(#"{"controller_epoch":1,"leader":1,"leader_epoch":4294967296,"isr":[]}"#.utf8)) }
        #expect(throws: (any Error).self) { try ProducerIdBlock.decode(Array(#"{"broker":1,"block_start":"10","block_end":"5"}"#.utf8)) }
        #expect(throws: (any Error).self) { try BrokerEndpoint.parse("PLAINTEXT://h:99999") }
        #expect(ConsumerProtocolSubscription.topics([0, 0, 0x7F, 0xFF, 0xFF, 0xFF]) == nil)
        #expect(ConsumerProtocolSubscription.topics([0, 0, 0, 0, 0, 1, 0x7F, 0xFF]) == nil)
    }
}
