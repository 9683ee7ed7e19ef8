import BrokerCore
import Foundation
import Protocol
import Transport

/// Group APIs: each maps its wire version onto the coordinator's request types, runs it through the
/// group runtime and encodes the (possibly delayed) answer.
extension RequestHandler {
    private static func code(_ e: KafkaError) -> ErrorCode { ErrorCode(e.rawValue) }

    /// Kafka's client host: "/<address>" without the port.
    static func clientHost(_ peer: String) -> String {
        guard let colon = peer.lastIndex(of: ":") else { return "/" + peer }
        return "/" + peer[..<colon]
    }

    /// Creates `__consumer_offsets` (compacted; RF capped at the live brokers) if nobody has yet.
    func ensureOffsetsTopic() {
        let live = max(1, liveBrokerPlacements().count)
        let rf = Int32(clamping: max(1, min(config.offsetsTopicReplicationFactor, live)))
        let (e, msg) = createTopic(OffsetsTopicRecords.topic, partitions: Int32(clamping: config.offsetsTopicNumPartitions),
                                   replicationFactor: rf, assignment: nil,
                                   configs: ["cleanup.policy": "compact", "compression.type": "producer", "segment.bytes": "104857600"])
        if e != .none && e != .topicAlreadyExists { logger.error("creating \(OffsetsTopicRecords.topic): \(e) \(msg ?? "")") }
    }

    // MARK: - Membership

    func handleJoinGroup(_ ctx: RequestContext, _ r: Protocol.JoinGroupRequest, peer: String) {
        let req = BrokerCore.JoinGroupRequest(
            groupId: r.groupId, sessionTimeoutMs: r.sessionTimeoutMs,
            rebalanceTimeoutMs: r.rebalanceTimeoutMs >= 0 ? r.rebalanceTimeoutMs : r.sessionTimeoutMs,
            memberId: r.memberId, groupInstanceId: r.groupInstanceId, protocolType: r.protocolType,
            protocols: r.protocols.map { GroupProtocol(name: $0.name, metadata: $0.metadata) },
            clientId: ctx.header.clientId ?? "", clientHost: RequestHandler.clientHost(peer), apiVersion: ctx.version)
        let memberId = r.memberId
        groups.call(groupId: r.groupId, reply: { resp, err in
            var out = Protocol.JoinGroupResponse(errorCode: err ?? .unknownServerError, memberId: memberId)
            if case .join(let j)? = resp {
                out = Protocol.JoinGroupResponse(
                    errorCode: Self.code(j.error), generationId: j.generationId, protocolType: j.protocolType,
                    protocolName: j.protocolName ?? "", leader: j.leaderId, skipAssignment: j.skipAssignment, memberId: j.memberId,
                    members: j.members.map { .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata) })
                if let err { out.errorCode = err }
            }
            ctx.reply(out)
        }) { c, id, now in c.joinGroup(req, requestId: id, nowMs: now) }
    }

    func handleSyncGroup(_ ctx: RequestContext, _ r: Protocol.SyncGroupRequest) {
        var assignments: [String: [UInt8]] = [:]
        for a in r.assignments where assignments[a.memberId] == nil { assignments[a.memberId] = a.assignment }
        let req = BrokerCore.SyncGroupRequest(groupId: r.groupId, generationId: r.generationId, memberId: r.memberId,
                                              groupInstanceId: r.groupInstanceId, protocolType: r.protocolType,
                                              protocolName: r.protocolName, assignments: assignments)
        groups.call(groupId: r.groupId, reply: { resp, err in
            var out = Protocol.SyncGroupResponse(errorCode: err ?? .unknownServerError)
            if case .sync(let s)? = resp {
                out = Protocol.SyncGroupResponse(errorCode: err ?? Self.code(s.error), protocolType: s.protocolType,
                                                 protocolName: s.protocolName, assignment: err == nil ? s.assignment : [])
            }
            ctx.reply(out)
        }) { c, id, now in c.syncGroup(req, requestId: id, nowMs: now) }
    }

    func handleHeartbeat(_ ctx: RequestContext, _ r: HeartbeatRequest) {
        groups.call(groupId: r.groupId, reply: { resp, err in
            var code = err ?? .unknownServerError
            if case .heartbeat(let e)? = resp, err == nil { code = Self.code(e) }
            ctx.reply(HeartbeatResponse(errorCode: code))
        }) { c, id, now in c.heartbeat(groupId: r.groupId, generationId: r.generationId, memberId: r.memberId,
                                                groupInstanceId: r.groupInstanceId, requestId: id, nowMs: now) }
    }

    func handleLeaveGroup(_ ctx: RequestContext, _ r: Protocol.LeaveGroupRequest) {
        let leaving = ctx.version >= 3
            ? r.members.map { LeaveGroupMember(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId) }
            : [LeaveGroupMember(memberId: r.memberId)]
        let batch = ctx.version >= 3
        groups.call(groupId: r.groupId, reply: { resp, err in
            var out = Protocol.LeaveGroupResponse(errorCode: err ?? .unknownServerError)
            if case .leave(let l)? = resp, err == nil {
                if batch {
                    out.errorCode = Self.code(l.error)
                    out.members = l.members.map { .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, errorCode: Self.code($0.error)) }
                } else {
                    // v0–2 name one member; its error is the request's.
                    out.errorCode = Self.code(l.error != .noError ? l.error : (l.members.first?.error ?? .noError))
                }
            }
            ctx.reply(out)
        }) { c, id, now in c.leaveGroup(groupId: r.groupId, members: leaving, requestId: id, nowMs: now) }
    }

    // MARK: - Offsets

    func handleOffsetCommit(_ ctx: RequestContext, _ r: Protocol.OffsetCommitRequest) {
        var offsets: [TopicPartition: OffsetCommitPartition] = [:]
        var unknown: Set<TopicPartition> = []
        var refused: Set<String> = []
        for t in r.topics {
            if !refused.contains(t.name) && !ctx.access.allows(.topic, t.name) { refused.insert(t.name) }
            if refused.contains(t.name) { continue }
            for p in t.partitions {
                let tp = TopicPartition(t.name, p.partitionIndex)
                // Kafka refuses commits for partitions that do not exist.
                if metadata.partition(tp) == nil { unknown.insert(tp); continue }
                offsets[tp] = OffsetCommitPartition(offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata)
            }
        }
        let req = BrokerCore.OffsetCommitRequest(groupId: r.groupId, generationId: r.generationIdOrMemberEpoch, memberId: r.memberId,
                                                 groupInstanceId: r.groupInstanceId,
                                                 retentionTimeMs: ctx.version <= 4 ? r.retentionTimeMs : -1, offsets: offsets)
        let topics = r.topics
        let unknownTPs = unknown
        let refusedTopics = refused
        groups.call(groupId: r.groupId, allowEmptyId: true, reply: { resp, err in
            var results: [TopicPartition: KafkaError] = [:]
            if case .offsetCommit(let m)? = resp { results = m }
            let out = topics.map { t in
                OffsetCommitResponse.Topic(name: t.name, partitions: t.partitions.map { p in
                    let tp = TopicPartition(t.name, p.partitionIndex)
                    let code: ErrorCode
                    if refusedTopics.contains(t.name) {
                        code = .topicAuthorizationFailed
                    } else if unknownTPs.contains(tp) {
                        code = .unknownTopicOrPartition
                    } else if let err {
                        code = err
                    } else {
                        code = results[tp].map { Self.code($0) } ?? .unknownServerError
                    }
                    return .init(partitionIndex: p.partitionIndex, errorCode: code)
                })
            }
            ctx.reply(OffsetCommitResponse(throttleTimeMs: 0, topics: out))
        }) { c, id, now in c.commitOffsets(req, requestId: id, nowMs: now) }
    }

    func handleOffsetDelete(_ ctx: RequestContext, _ r: OffsetDeleteRequest) {
        let refused = Set(r.topics.map(\.name).filter { !ctx.access.allows(.topic, $0) })
        let tps = r.topics.filter { !refused.contains($0.name) }.flatMap { t in t.partitions.map { TopicPartition(t.name, $0.partitionIndex) } }
        let topics = r.topics
        groups.call(groupId: r.groupId, allowEmptyId: true, reply: { resp, err in
            var top = err ?? .unknownServerError
            var per: [TopicPartition: KafkaError] = [:]
            if case .offsetDelete(let e, let m)? = resp {
                top = err ?? Self.code(e)
                per = m
            }
            let out = top != .none ? [] : topics.map { t in
                OffsetDeleteResponse.Topic(name: t.name, partitions: t.partitions.map { p in
                    .init(partitionIndex: p.partitionIndex, errorCode: refused.contains(t.name) ? .topicAuthorizationFailed
                          : per[TopicPartition(t.name, p.partitionIndex)].map { Self.code($0) } ?? .none)
                })
            }
            ctx.reply(OffsetDeleteResponse(errorCode: top, throttleTimeMs: 0, topics: out))
        }) { c, id, now in c.deleteOffsets(groupId: r.groupId, partitions: tps, requestId: id, nowMs: now) }
    }

    // MARK: - Admin

    func handleDescribeGroups(_ ctx: RequestContext, _ r: DescribeGroupsRequest) {
        let described = groups.read { c, status, _ in
            r.groups.map { id -> DescribeGroupsResponse.DescribedGroup in
                if !ctx.access.allows(.group, id) { return .init(errorCode: .groupAuthorizationFailed, groupId: id) }
                if let e = status(id) { return .init(errorCode: e, groupId: id) }
                guard let d = c.describeGroups([id]).first else { return .init(errorCode: .unknownServerError, groupId: id) }
                return .init(errorCode: Self.code(d.error), groupId: d.groupId, groupState: d.state, protocolType: d.protocolType,
                             protocolData: d.protocolName, members: d.members.map {
                    .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId, clientHost: $0.clientHost,
                          memberMetadata: $0.metadata, memberAssignment: $0.assignment)
                })
            }
        }
        ctx.reply(DescribeGroupsResponse(throttleTimeMs: 0, groups: described))
    }

    func handleListGroups(_ ctx: RequestContext, _ r: ListGroupsRequest) {
        // v4's states filter matches Kafka's state names case-insensitively; an unknown name matches nothing.
        let wanted = r.statesFilter.map { name in GroupState.allCases.filter { $0.rawValue.lowercased() == name.lowercased() } }
        let unmatched = !r.statesFilter.isEmpty && wanted.allSatisfy(\.isEmpty)
        let states = Set(wanted.flatMap { $0 })
        // v5's types filter: every group here is Kafka's "classic" type (no KIP-848 consumer groups).
        let typeMatches = r.typesFilter.isEmpty || r.typesFilter.contains { $0.lowercased() == Self.classicGroupType }
        let (all, anyLoading) = groups.read { c, _, loading in (unmatched || !typeMatches ? [] : c.listGroups(states: states), loading) }
        // DESCRIBE on the cluster lists every group; otherwise only those the principal may describe.
        let everything = ctx.access.quietlyAllows(.cluster, ResourcePattern.clusterName)
        let listed = everything ? all : all.filter { ctx.access.quietlyAllows(.group, $0.groupId) }
        ctx.reply(ListGroupsResponse(throttleTimeMs: 0, errorCode: anyLoading ? .coordinatorLoadInProgress : .none,
                                     groups: listed.map { .init(groupId: $0.groupId, protocolType: $0.protocolType, groupState: $0.state,
                                                                          groupType: Self.classicGroupType) }))
    }

    static let classicGroupType = "classic"

    func handleDeleteGroups(_ ctx: RequestContext, _ r: DeleteGroupsRequest) {
        let names = r.groupsNames
        let denied = Set(names.filter { !ctx.access.allows(.group, $0) })
        groups.callMany(groupIds: names.filter { !denied.contains($0) }, reply: { resp, err, refused in
            var results: [String: KafkaError] = [:]
            if case .deleteGroups(let m)? = resp { results = m }
            let out = names.map { id in
                DeleteGroupsResponse.DeletableGroupResult(
                    groupId: id, errorCode: denied.contains(id) ? .groupAuthorizationFailed : refused[id] ?? err ?? results[id].map { Self.code($0) } ?? .unknownServerError)
            }
            ctx.reply(DeleteGroupsResponse(throttleTimeMs: 0, results: out))
        }) { c, mine, id, now in
            // Kafka's session timers fire at the deadline; the ticker here runs every 100 ms, so a
            // member whose session ended just before this request is expired first (its group may be
            // Empty now, and deletable).
            c.tick(nowMs: now) + c.deleteGroups(mine, requestId: id, nowMs: now)
        }
    }
}
