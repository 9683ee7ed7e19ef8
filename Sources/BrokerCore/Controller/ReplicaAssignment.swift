/// A live broker as the assignment code sees it.
public struct BrokerPlacement: Equatable, Sendable {
    public var id: BrokerID
    public var rack: String?

    public init(id: BrokerID, rack: String? = nil) {
        self.id = id
        self.rack = rack
    }
}

/// Kafka's replica placement for new topics and partitions: round-robin leaders from a start index,
/// followers at a shifting offset so replicas of consecutive partitions land on different brokers,
/// and, when every broker has a rack, brokers interleaved by rack so replicas span racks.
public enum ReplicaAssignment {
    /// - Parameters:
    ///   - startIndex: index of the first partition's leader in the broker list (the runtime picks it
    ///     at random, as Kafka does; tests fix it).
    ///   - replicaShift: initial follower offset (random in Kafka too).
    ///   - firstPartition: id of the first partition to create (non-zero when adding partitions).
    /// Upper bound on partitions created by one request, so a hostile count cannot exhaust memory.
    public static let maxPartitionsPerRequest: Int32 = 100_000

    public static func assign(brokers: [BrokerPlacement], partitions: Int32, replicationFactor: Int32,
                              startIndex: Int, replicaShift: Int, firstPartition: Int32 = 0) throws(KafkaError) -> [Int32: [BrokerID]] {
        guard partitions > 0, partitions <= maxPartitionsPerRequest, firstPartition <= Int32.max - partitions else { throw .invalidPartitions }
        guard replicationFactor > 0 else { throw .invalidReplicationFactor }
        guard Int(replicationFactor) <= brokers.count else { throw .invalidReplicationFactor }
        let rackAware = brokers.allSatisfy { $0.rack != nil } && Set(brokers.map { $0.rack }).count > 1
        let ordered = rackAware ? rackAlternated(brokers) : brokers.sorted { $0.id < $1.id }
        let n = ordered.count
        let start = ((startIndex % n) + n) % n
        var shift = ((replicaShift % n) + n) % n
        let racks = Set(ordered.compactMap { $0.rack }).count
        var out: [Int32: [BrokerID]] = [:]
        var partition = max(0, firstPartition)
        for _ in 0..<partitions {
            if partition > 0 && Int(partition) % n == 0 { shift += 1 }
            let first = (Int(partition) + start) % n
            var replicas = [ordered[first].id]
            if rackAware {
                var usedRacks: Set<String> = [ordered[first].rack ?? ""]
                var used: Set<BrokerID> = [ordered[first].id]
                var k = 0
                // Bounded: within n*n probes every broker has been offered under every shift.
                while replicas.count < Int(replicationFactor) && k < n * n + n {
                    let b = ordered[followerIndex(first: first, shift: shift * racks, j: k, n: n)]
                    let rack = b.rack ?? ""
                    let rackOK = !usedRacks.contains(rack) || usedRacks.count == racks
                    if rackOK && !used.contains(b.id) {
                        replicas.append(b.id)
                        usedRacks.insert(rack)
                        used.insert(b.id)
                    }
                    k += 1
                }
            } else {
                for j in 0..<Int(replicationFactor - 1) {
                    replicas.append(ordered[followerIndex(first: first, shift: shift, j: j, n: n)].id)
                }
            }
            out[partition] = replicas
            partition += 1
        }
        return out
    }

    /// The follower for slot j sits 1...(n-1) places after the leader, never on it.
    static func followerIndex(first: Int, shift: Int, j: Int, n: Int) -> Int {
        guard n > 1 else { return first }
        let step = 1 + (shift + j) % (n - 1)
        return (first + step) % n
    }

    /// Brokers ordered so consecutive entries alternate racks: r1b1, r2b1, r3b1, r1b2, ...
    static func rackAlternated(_ brokers: [BrokerPlacement]) -> [BrokerPlacement] {
        var byRack: [String: [BrokerPlacement]] = [:]
        for b in brokers { byRack[b.rack ?? "", default: []].append(b) }
        let racks = byRack.keys.sorted()
        let lists = racks.map { (byRack[$0] ?? []).sorted { $0.id < $1.id } }
        var out: [BrokerPlacement] = []
        var i = 0
        while out.count < brokers.count {
            for list in lists where i < list.count { out.append(list[i]) }
            i += 1
        }
        return out
    }

    /// Assignment for partitions added to an existing topic (CreatePartitions): same RF as partition 0,
    /// starting where Kafka starts, never fewer partitions than exist.
    public static func addPartitions(existing: [Int32: [BrokerID]], newTotal: Int32, brokers: [BrokerPlacement]) throws(KafkaError) -> [Int32: [BrokerID]] {
        let current = Int32(existing.count)
        guard newTotal > current else { throw .invalidPartitions }
        guard let p0 = existing[0], let p0Leader = p0.first else { throw .invalidReplicaAssignment }
        let sorted = brokers.sorted { $0.id < $1.id }
        let start = max(0, sorted.firstIndex { $0.id >= p0Leader } ?? 0)
        return try assign(brokers: brokers, partitions: newTotal - current, replicationFactor: Int32(p0.count),
                          startIndex: start, replicaShift: start, firstPartition: current)
    }

    /// Kafka's topic name rule: 1...249 of [a-zA-Z0-9._-], not "." or "..".
    /// Why an explicit assignment cannot be used (Kafka's INVALID_REPLICA_ASSIGNMENT), or nil:
    /// partitions numbered `firstPartition`..., each with `replicationFactor` (or the first
    /// partition's count of) distinct replicas, all of them live brokers.
    public static func assignmentProblem(_ a: [Int32: [Int32]], firstPartition: Int32 = 0, replicationFactor: Int? = nil,
                                         liveBrokers: Set<Int32>) -> String? {
        guard !a.isEmpty else { return "no partitions in the replica assignment" }
        guard Set(a.keys) == Set((0..<Int32(a.count)).map { firstPartition + $0 }) else {
            return "partitions must be numbered \(firstPartition)..\(firstPartition + Int32(a.count) - 1)"
        }
        let rf = replicationFactor ?? a[firstPartition]?.count ?? 0
        for p in a.keys.sorted() {
            let rs = a[p] ?? []
            if rs.isEmpty { return "partition \(p) has no replicas" }
            if Set(rs).count != rs.count { return "partition \(p) lists a replica twice: \(rs)" }
            if rs.count != rf { return "partition \(p) has \(rs.count) replicas, others \(rf): all partitions need the same replication factor" }
            if let bad = rs.first(where: { !liveBrokers.contains($0) }) {
                return "partition \(p) is assigned to broker \(bad), which is not a live broker"
            }
        }
        return nil
    }

    /// An existing topic that `name` collides with: equal once '.' reads as '_', as they would share
    /// metric names (Kafka refuses the second with INVALID_TOPIC_EXCEPTION).
    public static func collidingTopic(_ name: String, existing: some Sequence<String>) -> String? {
        func metricName(_ s: String) -> [UInt8] { s.utf8.map { $0 == 0x2E ? 0x5F : $0 } }
        let key = metricName(name)
        return existing.first { $0 != name && metricName($0) == key }
    }

    public static func validateTopicName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 249, name != ".", name != ".." else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }
}
