import Protocol

/// Committed offsets of the groups: OffsetCommit, OffsetFetch, OffsetDelete and the periodic
/// retention cleanup. Each change is a record appended to the group's offsets-topic partition.
extension GroupCoordinator {
    public mutating func commitOffsets(_ req: OffsetCommitRequest, requestId: GroupRequestID, nowMs: Int64) -> [GroupEffect] {
        func all(_ e: KafkaError) -> [GroupEffect] {
            [.respond(PendingResponse(requestId: requestId, response: .offsetCommit(req.offsets.mapValues { _ in e })))]
        }
        guard !req.groupId.isEmpty else { return all(.invalidGroupId) }
        if groups[req.groupId] == nil {
            guard req.generationId < 0 else { return all(.illegalGeneration) }
            groups[req.groupId] = ConsumerGroup(groupId: req.groupId)
        }
        guard var g = groups[req.groupId] else { return all(.unknownServerError) }
        if g.state == .dead { return all(.coordinatorNotAvailable) }
        // Kafka's order: member (fenced instance, unknown member), then generation, and only then
        // the state; a commit without member or generation is a standalone one, only for an Empty group.
        if req.generationId >= 0 || !req.memberId.isEmpty || req.groupInstanceId != nil {
            if let e = g.validateCurrentMember(req.memberId, instanceId: req.groupInstanceId) { return all(e) }
            guard var m = g.members[req.memberId] else { return all(.unknownMemberId) }
            guard req.generationId == g.generationId else { return all(.illegalGeneration) }
            // The member has its generation from JoinGroup but not yet its assignment.
            if g.state == .completingRebalance { return all(.rebalanceInProgress) }
            m.heartbeatDeadlineMs = nowMs + Int64(m.sessionTimeoutMs)
            g.members[m.memberId] = m
            groups[g.groupId] = g
        } else if g.state != .empty {
            return all(.unknownMemberId)
        }
        var results: [TopicPartition: KafkaError] = [:]
        var records: [GroupRecord] = []
        for tp in req.offsets.keys.sorted() {
            guard let o = req.offsets[tp] else { continue }
            let metadata = o.metadata ?? ""
            if metadata.utf8.count > config.maxOffsetMetadataBytes {
                results[tp] = .offsetMetadataTooLarge
                continue
            }
            results[tp] = .noError
            let expire = req.retentionTimeMs > 0 ? saturatingAdd(nowMs, req.retentionTimeMs) : nil
            records.append(.offsetCommit(OffsetCommitKey(groupId: req.groupId, topicPartition: tp),
                                         OffsetCommitValue(offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: metadata,
                                                           commitTimestampMs: nowMs, expireTimestampMs: expire)))
        }
        let response = PendingResponse(requestId: requestId, response: .offsetCommit(results))
        guard !records.isEmpty else { return [.respond(response)] }
        for r in records { replay(r, nowMs: nowMs) }
        return [.append([RecordAppend(partition: partitionFor(req.groupId), records: records)], then: [response])]
    }

    /// nil partitions: every committed offset of the group.
    public func fetchOffsets(groupId: String, partitions: [TopicPartition]?) -> [TopicPartition: OffsetFetchPartition] {
        let committed = offsets[groupId] ?? [:]
        let wanted = partitions ?? Array(committed.keys)
        var out: [TopicPartition: OffsetFetchPartition] = [:]
        for tp in wanted {
            if let v = committed[tp] {
                out[tp] = OffsetFetchPartition(offset: v.offset, leaderEpoch: v.leaderEpoch, metadata: v.metadata, error: .noError)
            } else {
                out[tp] = OffsetFetchPartition(offset: -1, leaderEpoch: -1, metadata: "", error: .noError)
            }
        }
        return out
    }

    public mutating func deleteOffsets(groupId: String, partitions: [TopicPartition], requestId: GroupRequestID, nowMs: Int64) -> [GroupEffect] {
        func reply(_ e: KafkaError, _ per: [TopicPartition: KafkaError] = [:]) -> PendingResponse {
            PendingResponse(requestId: requestId, response: .offsetDelete(e, per))
        }
        guard let g = groups[groupId], g.state != .dead else { return [.respond(reply(.groupIdNotFound))] }
        var subscribed: Set<String> = []
        if g.state != .empty {
            guard g.protocolType == "consumer" else { return [.respond(reply(.nonEmptyGroup))] }
            for m in g.orderedMembers { subscribed.formUnion(ConsumerProtocolSubscription.topics(m.metadata(for: g.protocolName)) ?? []) }
        }
        var per: [TopicPartition: KafkaError] = [:]
        var records: [GroupRecord] = []
        for tp in partitions {
            if subscribed.contains(tp.topic) {
                per[tp] = .groupSubscribedToTopic
                continue
            }
            per[tp] = .noError
            if offsets[groupId]?[tp] != nil {
                records.append(.offsetCommit(OffsetCommitKey(groupId: groupId, topicPartition: tp), nil))
            }
        }
        guard !records.isEmpty else { return [.respond(reply(.noError, per))] }
        for r in records { replay(r, nowMs: nowMs) }
        return [.append([RecordAppend(partition: partitionFor(groupId), records: records)], then: [reply(.noError, per)])]
    }

    /// The periodic offsets cleanup (offsets.retention.minutes, KIP-211 rules): offsets of an
    /// Empty group expire counted from when it became empty; a standalone consumer's from each
    /// commit; a Stable consumer group's only for topics it no longer subscribes to. A group left
    /// Empty with no offsets is deleted.
    public mutating func expireOffsets(nowMs: Int64, retentionMs: Int64) -> [GroupEffect] {
        var byPartition: [Int32: [GroupRecord]] = [:]
        for id in offsets.keys.sorted() {
            let g = groups[id]
            let committed = offsets[id] ?? [:]
            // Unknown when any subscription does not parse: then nothing expires, as in Kafka.
            var subscribed: Set<String>?
            if let g, g.state == .stable, g.protocolType == "consumer" {
                var topics: Set<String>? = []
                for m in g.orderedMembers {
                    guard let t = ConsumerProtocolSubscription.topics(m.metadata(for: g.protocolName)) else { topics = nil; break }
                    topics?.formUnion(t)
                }
                subscribed = topics
            }
            var expired: [TopicPartition] = []
            for (tp, v) in committed {
                if let at = v.expireTimestampMs {
                    if nowMs >= at { expired.append(tp) }
                    continue
                }
                let base: Int64?
                if g == nil || g?.protocolType == nil {
                    base = v.commitTimestampMs
                } else if g?.state == .empty {
                    base = g?.stateTimestampMs ?? v.commitTimestampMs
                } else if let subscribed {
                    base = subscribed.contains(tp.topic) ? nil : v.commitTimestampMs
                } else {
                    base = nil
                }
                if let base, saturatingAdd(base, retentionMs) <= nowMs { expired.append(tp) }
            }
            guard !expired.isEmpty else { continue }
            var records: [GroupRecord] = expired.sorted().map { .offsetCommit(OffsetCommitKey(groupId: id, topicPartition: $0), nil) }
            for r in records { replay(r, nowMs: nowMs) }
            if let g, g.state == .empty, offsets[id] == nil {
                records.append(.groupMetadata(groupId: id, nil))
                replay(.groupMetadata(groupId: id, nil), nowMs: nowMs)
            }
            byPartition[partitionFor(id), default: []] += records
        }
        guard !byPartition.isEmpty else { return [] }
        return [.append(byPartition.keys.sorted().map { RecordAppend(partition: $0, records: byPartition[$0] ?? []) }, then: [])]
    }
}
