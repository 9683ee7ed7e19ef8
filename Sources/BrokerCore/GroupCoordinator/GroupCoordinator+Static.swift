/// Static membership (KIP-345): a member with a `group.instance.id` keeps its place across restarts.
/// It rejoins with an empty member id and gets a new one; the old id is fenced (FENCED_INSTANCE_ID)
/// and, when its protocols are unchanged in a Stable group, it takes over the old assignment without
/// a rebalance. Its session timeout still expires it.
extension ConsumerGroup {
    /// The member id currently holding `instanceId`.
    func staticMemberId(_ instanceId: String?) -> String? {
        guard let instanceId else { return nil }
        return memberOrder.first { members[$0]?.groupInstanceId == instanceId }
    }

    /// Kafka's check of a known member: a known instance id must map to this member id
    /// (else FENCED_INSTANCE_ID); an unknown instance id or member id is UNKNOWN_MEMBER_ID.
    func validateCurrentMember(_ memberId: String, instanceId: String?) -> KafkaError? {
        if let instanceId {
            guard let current = staticMemberId(instanceId) else { return .unknownMemberId }
            return current == memberId ? nil : .fencedInstanceId
        }
        return members[memberId] == nil ? .unknownMemberId : nil
    }
}

extension GroupCoordinator {
    /// A static member rejoined with an empty member id while its instance id is held by `oldId`.
    mutating func replaceStaticMember(_ g: inout ConsumerGroup, _ req: JoinGroupRequest, oldId: String, newId: String,
                                      requestId: GroupRequestID, nowMs: Int64, _ effects: inout [GroupEffect]) {
        guard var m = g.members.removeValue(forKey: oldId) else { return }
        if let rid = m.awaitingJoin {
            effects.append(.respond(PendingResponse(requestId: rid, response: .join(.failure(.fencedInstanceId, memberId: oldId)))))
        }
        if let rid = m.awaitingSync {
            effects.append(.respond(PendingResponse(requestId: rid, response: .sync(
                SyncGroupResponse(error: .fencedInstanceId, protocolType: nil, protocolName: nil, assignment: [])))))
        }
        let previousLeader = g.leaderId
        let unchanged = m.protocols == req.protocols
        m.memberId = newId
        m.awaitingJoin = nil
        m.awaitingSync = nil
        m.clientId = req.clientId
        m.clientHost = req.clientHost
        m.protocols = req.protocols
        m.rebalanceTimeoutMs = req.rebalanceTimeoutMs
        m.sessionTimeoutMs = req.sessionTimeoutMs
        m.heartbeatDeadlineMs = nowMs + Int64(req.sessionTimeoutMs)
        g.members[newId] = m
        g.memberOrder = g.memberOrder.map { $0 == oldId ? newId : $0 }
        if g.leaderId == oldId { g.leaderId = newId }

        if g.state == .stable && unchanged {
            // No new round: the member keeps its assignment, which it fetches with SyncGroup. Before
            // v9 the answer names the previous leader so a returning leader does not assign again (a
            // Stable group would not pass a new assignment on); v9+ name it leader with the members and
            // skipAssignment (KIP-814). It is sent once the new member id is durable.
            let isLeader = g.leaderId == newId
            var response = JoinGroupResponse(error: .noError, generationId: g.generationId, protocolType: g.protocolType,
                                             protocolName: g.protocolName, leaderId: previousLeader ?? "", memberId: newId, members: [])
            if req.apiVersion >= 9 && isLeader {
                response.leaderId = newId
                response.members = g.orderedMembers.map {
                    JoinGroupMember(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata(for: g.protocolName))
                }
                response.skipAssignment = true
            }
            effects.append(.append([RecordAppend(partition: partitionFor(g.groupId), records: [.groupMetadata(groupId: g.groupId, g.metadataValue())])],
                                   then: [PendingResponse(requestId: requestId, response: .join(response))]))
            return
        }
        g.members[newId]?.awaitingJoin = requestId
        // CompletingRebalance: the leader must see the new member id; Stable with new protocols: the
        // assignment may change. PreparingRebalance: the join simply waits for the round.
        maybePrepareRebalance(&g, nowMs: nowMs, &effects)
        tryCompleteJoin(&g, nowMs: nowMs, &effects)
    }
}
