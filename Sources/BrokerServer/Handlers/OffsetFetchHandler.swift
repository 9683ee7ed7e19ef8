import BrokerCore
import Protocol

/// OffsetFetch: v0–7 name one group, v8+ a batch of groups, each answered on its own (its own
/// authorization, coordinator and error). v7+ `requireStable` answers UNSTABLE_OFFSET_COMMIT for
/// partitions with transactional offsets still waiting for their marker, as Kafka does.
extension RequestHandler {
    /// One group's answer, before it takes the wire shape of a version.
    struct FetchedGroupOffsets {
        var error: ErrorCode = .none
        var topics: [(name: String, partitions: [OffsetFetchResponse.Partition])] = []
    }

    func handleOffsetFetch(_ ctx: RequestContext, _ r: OffsetFetchRequest) {
        guard ctx.version >= 8 else {
            let one = fetchGroupOffsets(ctx, groupId: r.groupId,
                                        topics: r.topics.map { $0.map { ($0.name, $0.partitionIndexes) } },
                                        requireStable: r.requireStable)
            // v2+ carry a top-level error; with it Kafka sends no partitions.
            let topics = (one.error != .none && ctx.version >= 2) ? [] : one.topics.map { OffsetFetchResponse.Topic(name: $0.name, partitions: $0.partitions) }
            return ctx.reply(OffsetFetchResponse(throttleTimeMs: 0, topics: topics, errorCode: one.error))
        }
        var seen: Set<String> = []
        let groups = r.groups.filter { seen.insert($0.groupId).inserted }.map { g -> OffsetFetchResponse.OffsetFetchResponseGroup in
            let one: FetchedGroupOffsets
            if ctx.access.enabled && !ctx.access.allows(.group, g.groupId) {
                one = FetchedGroupOffsets(error: .groupAuthorizationFailed)
            } else {
                one = fetchGroupOffsets(ctx, groupId: g.groupId, topics: g.topics.map { $0.map { ($0.name, $0.partitionIndexes) } },
                                        requireStable: r.requireStable)
            }
            return .init(groupId: g.groupId, topics: one.error != .none ? [] : one.topics.map { t in
                .init(name: t.name, partitions: t.partitions.map {
                    .init(partitionIndex: $0.partitionIndex, committedOffset: $0.committedOffset, committedLeaderEpoch: $0.committedLeaderEpoch,
                          metadata: $0.metadata, errorCode: $0.errorCode)
                })
            }, errorCode: one.error)
        }
        ctx.reply(OffsetFetchResponse(throttleTimeMs: 0, groups: groups))
    }

    /// nil topics: every committed offset the principal may see.
    func fetchGroupOffsets(_ ctx: RequestContext, groupId: String, topics: [(String, [Int32])]?, requireStable: Bool) -> FetchedGroupOffsets {
        // Named topics the principal may not DESCRIBE answer TOPIC_AUTHORIZATION_FAILED; listing all hides them.
        let refused = Set((topics ?? []).map(\.0).filter { !ctx.access.allows(.topic, $0) })
        let wanted = topics.map { ts in ts.filter { !refused.contains($0.0) }.flatMap { t in t.1.map { TopicPartition(t.0, $0) } } }
        let (err, found) = groups.read { c, status, _ -> (ErrorCode?, [TopicPartition: OffsetFetchPartition]) in
            if let e = status(groupId) { return (e, [:]) }
            return (nil, c.fetchOffsets(groupId: groupId, partitions: wanted))
        }
        let unstable = requireStable ? txnOffsets.pendingPartitions(groupId: groupId) : []
        func answer(_ tp: TopicPartition, _ v: OffsetFetchPartition?) -> OffsetFetchResponse.Partition {
            if unstable.contains(tp) {
                return .init(partitionIndex: tp.partition, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: .unstableOffsetCommit)
            }
            return .init(partitionIndex: tp.partition, committedOffset: v?.offset ?? -1, committedLeaderEpoch: v?.leaderEpoch ?? -1,
                         metadata: v?.metadata ?? "", errorCode: err ?? v.map { ErrorCode($0.error.rawValue) } ?? .none)
        }
        var out = FetchedGroupOffsets(error: err ?? .none)
        if let topics {
            out.topics = topics.map { name, parts in
                (name, parts.map { p in
                    refused.contains(name)
                        ? .init(partitionIndex: p, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: .topicAuthorizationFailed)
                        : answer(TopicPartition(name, p), found[TopicPartition(name, p)])
                })
            }
        } else {
            var grouped: [String: [OffsetFetchResponse.Partition]] = [:]
            for tp in found.keys.sorted() where ctx.access.quietlyAllows(.topic, tp.topic) {
                grouped[tp.topic, default: []].append(answer(tp, found[tp]))
            }
            out.topics = grouped.keys.sorted().map { ($0, grouped[$0] ?? []) }
        }
        return out
    }
}
