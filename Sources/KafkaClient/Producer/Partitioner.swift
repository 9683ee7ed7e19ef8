import Protocol
/// Partition choice (I/O-free): explicit partition, murmur2 of the key, or sticky for null keys
/// (KIP-480: stay on one partition until a batch's worth of bytes went there, then switch).
public struct Partitioner: Sendable {
    public let batchSize: Int
    private var sticky: [String: (partition: Int32, bytes: Int)] = [:]
    private var rng: SplitMix64

    public init(batchSize: Int = 16384, seed: UInt64 = 0x5eed) {
        self.batchSize = batchSize
        self.rng = SplitMix64(seed: seed)
    }

    /// `available` are partitions with a live leader (may be empty: then any partition is used).
    public mutating func partition(topic: String, key: [UInt8]?, explicit: Int32?, numPartitions: Int32,
                                   available: [Int32] = []) throws -> Int32 {
        guard numPartitions > 0 else { throw KafkaError.unknownTopic(topic) }
        if let explicit {
            guard explicit >= 0, explicit < numPartitions else {
                throw KafkaError.invalidArgument("partition \(explicit) out of range 0..<\(numPartitions) for \(topic)")
            }
            return explicit
        }
        if let key { return Murmur2.partition(key: key, numPartitions: numPartitions) }
        if let s = sticky[topic], s.partition < numPartitions, s.bytes < batchSize { return s.partition }
        let next = pickNew(previous: sticky[topic]?.partition, numPartitions: numPartitions, available: available)
        sticky[topic] = (next, 0)
        return next
    }

    /// Counts bytes appended to the sticky partition so the switch happens once a batch is full.
    public mutating func recordAppended(topic: String, partition: Int32, bytes: Int) {
        guard var s = sticky[topic], s.partition == partition else { return }
        s.bytes += bytes
        sticky[topic] = s
    }

    private mutating func pickNew(previous: Int32?, numPartitions: Int32, available: [Int32]) -> Int32 {
        var choices = available.filter { $0 < numPartitions }
        if choices.isEmpty { choices = Array(0..<numPartitions) }
        if choices.count > 1, let previous { choices.removeAll { $0 == previous } }
        return choices[Int(rng.next() % UInt64(choices.count))]
    }
}
