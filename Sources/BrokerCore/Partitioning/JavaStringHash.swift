/// Java's `String.hashCode` over UTF-16 code units with 32-bit wraparound; Kafka uses it to place
/// a consumer group on a `__consumer_offsets` partition.
public func javaStringHashCode(_ s: String) -> Int32 {
    var h: Int32 = 0
    for unit in s.utf16 { h = h &* 31 &+ Int32(unit) }
    return h
}
