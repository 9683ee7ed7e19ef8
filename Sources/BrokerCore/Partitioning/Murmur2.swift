/// Kafka's key partitioner: the Java client's `Utils.murmur2` (seed 0x9747b28c) over the key bytes,
/// made positive with `& 0x7fffffff`, modulo the partition count. Bit-exact with Java so keyed
/// records land in the same partition whichever client wrote them.
public enum KafkaPartitioner {
    public static func murmur2(_ data: [UInt8]) -> Int32 {
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        let length = data.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        let blocks = length / 4
        for i in 0..<blocks {
            let j = i * 4
            var k = UInt32(data[j]) | UInt32(data[j + 1]) << 8 | UInt32(data[j + 2]) << 16 | UInt32(data[j + 3]) << 24
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = blocks * 4
        switch length % 4 {
        case 3:
            h ^= UInt32(data[tail + 2]) << 16
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 2:
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 1:
            h ^= UInt32(data[tail])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// Kafka's `Utils.toPositive`: clears the sign bit (so Int32.min maps to 0, not a trap).
    public static func toPositive(_ x: Int32) -> Int32 { x & 0x7fff_ffff }

    /// The partition the Java client's default partitioner picks for a non-null key
    /// (0 for a nonsensical partition count rather than a trap).
    public static func partition(forKey key: [UInt8], numPartitions: Int32) -> Int32 {
        guard numPartitions > 0 else { return 0 }
        return toPositive(murmur2(key)) % numPartitions
    }
}

/// Java's `String.hashCode` over UTF-16 code units with 32-bit wraparound; Kafka uses it to place
/// a consumer group on a `__consumer_offsets` partition.
public func javaStringHashCode(_ s: String) -> Int32 {
    var h: Int32 = 0
    for unit in s.utf16 { h = h &* 31 &+ Int32(unit) }
    return h
}
