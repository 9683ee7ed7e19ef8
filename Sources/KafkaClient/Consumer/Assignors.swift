/// A member's subscription as the group leader sees it.
public struct MemberSubscription: Sendable, Equatable {
    public var memberId: String
    public var topics: [String]
    /// What the member owned before this rebalance (ConsumerProtocolSubscription v1 ownedPartitions).
    public var owned: [TopicPartition]
    public init(memberId: String, topics: [String], owned: [TopicPartition] = []) {
        self.memberId = memberId; self.topics = topics; self.owned = owned
    }
}

/// The leader-side assignment strategies (I/O-free). Results are sorted per member.
public enum AssignmentStrategy: String, Sendable, CaseIterable {
    case range
    case roundRobin = "roundrobin"
    /// Kafka's cooperative-sticky name; we run it eagerly (revoke all, then sticky reassignment).
    case cooperativeSticky = "cooperative-sticky"
    case sticky

    public init?(kafkaName: String) {
        let n = kafkaName.lowercased()
        switch n {
        case "range", "rangeassignor", "org.apache.kafka.clients.consumer.rangeassignor": self = .range
        case "roundrobin", "roundrobinassignor", "org.apache.kafka.clients.consumer.roundrobinassignor": self = .roundRobin
        case "cooperative-sticky", "cooperativestickyassignor", "org.apache.kafka.clients.consumer.cooperativestickyassignor":
            self = .cooperativeSticky
        case "sticky", "stickyassignor", "org.apache.kafka.clients.consumer.stickyassignor": self = .sticky
        default: return nil
        }
    }

    public func assign(_ members: [MemberSubscription], partitionsPerTopic: [String: Int32]) -> [String: [TopicPartition]] {
        switch self {
        case .range: Assignors.range(members, partitionsPerTopic)
        case .roundRobin: Assignors.roundRobin(members, partitionsPerTopic)
        case .cooperativeSticky, .sticky: Assignors.sticky(members, partitionsPerTopic)
        }
    }
}

enum Assignors {
    /// Per topic, consecutive partition ranges; the first `partitions % members` members get one extra.
    static func range(_ members: [MemberSubscription], _ counts: [String: Int32]) -> [String: [TopicPartition]] {
        var out = Dictionary(uniqueKeysWithValues: members.map { ($0.memberId, [TopicPartition]()) })
        let topics = Set(members.flatMap(\.topics)).sorted()
        for t in topics {
            guard let n = counts[t], n > 0 else { continue }
            let subs = members.filter { $0.topics.contains(t) }.map(\.memberId).sorted()
            guard !subs.isEmpty else { continue }
            let per = Int(n) / subs.count, extra = Int(n) % subs.count
            var next = 0
            for (i, m) in subs.enumerated() {
                let take = per + (i < extra ? 1 : 0)
                out[m, default: []] += (next..<next + take).map { TopicPartition(t, Int32($0)) }
                next += take
            }
        }
        return out.mapValues { $0.sorted() }
    }

    /// All partitions in (topic, partition) order dealt to members in turn, skipping non-subscribers.
    static func roundRobin(_ members: [MemberSubscription], _ counts: [String: Int32]) -> [String: [TopicPartition]] {
        var out = Dictionary(uniqueKeysWithValues: members.map { ($0.memberId, [TopicPartition]()) })
        let sorted = members.sorted { $0.memberId < $1.memberId }
        guard !sorted.isEmpty else { return out }
        var cursor = 0
        for tp in allPartitions(members, counts) {
            for step in 0..<sorted.count {
                let m = sorted[(cursor + step) % sorted.count]
                if m.topics.contains(tp.topic) {
                    out[m.memberId, default: []].append(tp)
                    cursor = (cursor + step + 1) % sorted.count
                    break
                }
            }
        }
        return out
    }

    /// Balanced, and keeps each member's previous partitions where balance allows.
    static func sticky(_ members: [MemberSubscription], _ counts: [String: Int32]) -> [String: [TopicPartition]] {
        let sorted = members.sorted { $0.memberId < $1.memberId }
        var out = Dictionary(uniqueKeysWithValues: sorted.map { ($0.memberId, [TopicPartition]()) })
        guard !sorted.isEmpty else { return out }
        let all = allPartitions(members, counts)
        let total = all.count
        let minQ = total / sorted.count
        var maxQuotaSlots = total % sorted.count
        var claimed = Set<TopicPartition>()
        let valid = Set(all)
        // Keep owned partitions, at most minQ each, plus one more for as many members as the remainder allows.
        for m in sorted {
            let keep = m.owned.filter { valid.contains($0) && m.topics.contains($0.topic) && !claimed.contains($0) }.sorted()
            var limit = minQ
            if keep.count > minQ && maxQuotaSlots > 0 { limit += 1; maxQuotaSlots -= 1 }
            let kept = Array(keep.prefix(limit))
            out[m.memberId] = kept
            claimed.formUnion(kept)
        }
        // Deal the rest to the least-loaded eligible member.
        for tp in all where !claimed.contains(tp) {
            let eligible = sorted.filter { $0.topics.contains(tp.topic) }
            guard let best = eligible.min(by: { (out[$0.memberId]?.count ?? 0, $0.memberId) < (out[$1.memberId]?.count ?? 0, $1.memberId) }) else { continue }
            out[best.memberId, default: []].append(tp)
        }
        return out.mapValues { $0.sorted() }
    }

    static func allPartitions(_ members: [MemberSubscription], _ counts: [String: Int32]) -> [TopicPartition] {
        Set(members.flatMap(\.topics)).sorted().flatMap { t in (0..<max(0, counts[t] ?? 0)).map { TopicPartition(t, $0) } }
    }
}
