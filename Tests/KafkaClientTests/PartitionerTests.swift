import Protocol
import Testing
@testable import KafkaClient

struct Murmur2Tests {
    /// Kafka's UtilsTest.testMurmur2 vectors (Java ints).
    @Test(arguments: [
        ("21", Int32(-973_932_308)),
        ("foobar", -790_332_482),
        ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
        ("abc", 479_470_107),
    ])
    func kafkaVectors(input: String, expected: Int32) {
        #expect(Murmur2.hash(Array(input.utf8)) == expected)
    }

    @Test func toPositiveClearsSignBitOnly() {
        #expect(Murmur2.toPositive(-1) == Int32.max)
        #expect(Murmur2.toPositive(Int32.min) == 0)
        #expect(Murmur2.toPositive(42) == 42)
    }

    @Test func keyedPartitionMatchesJavaFormula() {
        // toPositive(-973932308) % 6 computed by hand: (-973932308 & 0x7fffffff) = 1173551340; % 6 = 0.
        #expect(Murmur2.partition(key: Array("21".utf8), numPartitions: 6) == 1_173_551_340 % 6)
        #expect(Murmur2.partition(key: [], numPartitions: 1) == 0)
    }
}

struct PartitionerTests {
    @Test func explicitPartitionWinsAndIsChecked() throws {
        var p = Partitioner()
        #expect(try p.partition(topic: "t", key: Array("k".utf8), explicit: 2, numPartitions: 3) == 2)
        #expect(throws: KafkaError.self) { try p.partition(topic: "t", key: nil, explicit: 3, numPartitions: 3) }
        #expect(throws: KafkaError.self) { try p.partition(topic: "t", key: nil, explicit: -1, numPartitions: 3) }
        #expect(throws: KafkaError.self) { try p.partition(topic: "t", key: nil, explicit: nil, numPartitions: 0) }
    }

    @Test func keyedRecordsAreStable() throws {
        var p = Partitioner()
        let k = Array("order-17".utf8)
        let first = try p.partition(topic: "t", key: k, explicit: nil, numPartitions: 12)
        for _ in 0..<10 { #expect(try p.partition(topic: "t", key: k, explicit: nil, numPartitions: 12) == first) }
        #expect(first == Murmur2.partition(key: k, numPartitions: 12))
    }

    @Test func nullKeysStickUntilABatchIsFull() throws {
        var p = Partitioner(batchSize: 100, seed: 7)
        let a = try p.partition(topic: "t", key: nil, explicit: nil, numPartitions: 4)
        p.recordAppended(topic: "t", partition: a, bytes: 60)
        #expect(try p.partition(topic: "t", key: nil, explicit: nil, numPartitions: 4) == a)
        p.recordAppended(topic: "t", partition: a, bytes: 60)
        let b = try p.partition(topic: "t", key: nil, explicit: nil, numPartitions: 4)
        #expect(b != a)
        #expect((0..<4).contains(b))
    }

    @Test func stickyPrefersPartitionsWithLeaders() throws {
        var p = Partitioner(batchSize: 1, seed: 3)
        for _ in 0..<20 {
            let x = try p.partition(topic: "t", key: nil, explicit: nil, numPartitions: 6, available: [1, 4])
            #expect(x == 1 || x == 4)
            p.recordAppended(topic: "t", partition: x, bytes: 10)
        }
    }
}
