/// The second half of SyncGroup: the leader's assignment reached (or failed to reach) the offsets
/// topic. As in Kafka, members hear their assignment only once it is durable; a failed store voids
/// the generation and the group rebalances, so a coordinator that replays the topic after a
/// failover never meets a generation that was handed out but not written.
extension GroupCoordinator {
    public mutating func groupStored(groupId: String, generation: Int32, error: KafkaError?, nowMs: Int64) -> [GroupEffect] {
        guard var g = groups[groupId], g.state == .completingRebalance, g.generationId == generation,
              g.storingGeneration == generation else { return [] }
        g.storingGeneration = nil
        var effects: [GroupEffect] = []
        if let error, error != .noError {
            for id in g.memberOrder {
                guard var m = g.members[id], let rid = m.awaitingSync else { continue }
                effects.append(.respond(PendingResponse(requestId: rid, response: .sync(
                    SyncGroupResponse(error: error, protocolType: nil, protocolName: nil, assignment: [])))))
                m.awaitingSync = nil
                g.members[id] = m
            }
            maybePrepareRebalance(&g, nowMs: nowMs, &effects)
        } else {
            g.state = .stable  // stamped when the leader's assignment came (the stored record's time)
            for id in g.memberOrder {
                guard var m = g.members[id], let rid = m.awaitingSync else { continue }
                effects.append(.respond(PendingResponse(requestId: rid, response: .sync(
                    SyncGroupResponse(error: .noError, protocolType: g.protocolType, protocolName: g.protocolName, assignment: m.assignment)))))
                m.awaitingSync = nil
                g.members[id] = m
            }
        }
        groups[groupId] = g
        return effects
    }
}
