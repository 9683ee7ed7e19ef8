/// Shared by the Swift client (where keyed records go) and the broker side (tests, tools), so both
/// agree with Java and librdkafka.
/// Kafka's murmur2 (the Java client's `Utils.murmur2`): seed 0x9747b28c, little-endian 4-byte blocks.
/// Must match bit for bit so keyed records land where Java/librdkafka (murmur2_random) put them.
public enum Murmur2 {
    public static func hash(_ data: [UInt8]) -> Int32 {
        let m: UInt32 = 0x5bd1_e995
        let n = data.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: n)
        var i = 0
        while n - i >= 4 {
            var k = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
            k = k &* m
            k ^= k >> 24
            k = k &* m
            h = h &* m
            h ^= k
            i += 4
        }
        let rest = n - i
        if rest == 3 { h ^= UInt32(data[i + 2]) << 16 }
        if rest >= 2 { h ^= UInt32(data[i + 1]) << 8 }
        if rest >= 1 {
            h ^= UInt32(data[i])
            h = h &* m
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// Kafka's `toPositive`: clears the sign bit (not abs, which overflows on Int32.min).
    public static func toPositive(_ v: Int32) -> Int32 { v & 0x7fff_ffff }

    /// The partition Kafka's default partitioner picks for a key (0 for a nonsensical partition count
    /// rather than a trap).
    public static func partition(key: [UInt8], numPartitions: Int32) -> Int32 {
        guard numPartitions > 0 else { return 0 }
        return toPositive(hash(key)) % numPartitions
    }
}
