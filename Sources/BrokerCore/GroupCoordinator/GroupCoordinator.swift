import Protocol

/// The classic (eager) consumer group coordinator for the groups on the `__consumer_offsets`
/// partitions this broker leads. Every call takes `nowMs` and returns effects: immediate
/// responses, or records to append with the responses that must wait for them.
public struct GroupCoordinator: Sendable {
    public let config: GroupConfig
    public internal(set) var groups: [String: ConsumerGroup] = [:]
    public internal(set) var offsets: [String: [TopicPartition: OffsetCommitValue]] = [:]
    private var ids: SplitMix64

    /// `idSeed` drives member-id UUIDs; the runtime passes a random one, tests a fixed one.
    public init(config: GroupConfig = GroupConfig(), idSeed: UInt64) {
        self.config = config
        self.ids = SplitMix64(seed: idSeed)
    }

    /// The offsets-topic partition that owns `groupId`: Kafka's `Utils.abs(hashCode) % n`
    /// (Utils.abs maps Int32.min to 0 instead of trapping).
    public static func partitionFor(groupId: String, partitions: Int32 = 50) -> Int32 {
        let h = javaStringHashCode(groupId)
        let positive = h == Int32.min ? 0 : abs(h)
        return partitions > 0 ? positive % partitions : 0
    }

    public func partitionFor(_ groupId: String) -> Int32 { Self.partitionFor(groupId: groupId, partitions: config.offsetsTopicPartitions) }

    // MARK: - JoinGroup

    public mutating func joinGroup(_ req: JoinGroupRequest, requestId: GroupRequestID, nowMs: Int64) -> [GroupEffect] {
        func fail(_ e: KafkaError) -> [GroupEffect] {
            [.respond(PendingResponse(requestId: requestId, response: .join(.failure(e, memberId: req.memberId))))]
        }
        guard !req.groupId.isEmpty else { return fail(.invalidGroupId) }
        guard req.sessionTimeoutMs >= config.minSessionTimeoutMs, req.sessionTimeoutMs <= config.maxSessionTimeoutMs else {
            return fail(.invalidSessionTimeout)
        }
        let isNewMember = req.memberId.isEmpty
        if groups[req.groupId] == nil {
            guard isNewMember else { return fail(.unknownMemberId) }
            groups[req.groupId] = ConsumerGroup(groupId: req.groupId)
        }
        guard var g = groups[req.groupId] else { return fail(.unknownServerError) }
        if g.state == .dead { return fail(.coordinatorNotAvailable) }
        if isNewMember && g.members.count + g.pendingMembers.count >= config.maxGroupSize { return fail(.groupMaxSizeReached) }
        guard g.supports(protocolType: req.protocolType, protocols: req.protocols) else {
            // Do not leave behind a group that a rejected join just created.
            if g.members.isEmpty && g.pendingMembers.isEmpty && g.generationId == 0 && offsets[g.groupId] == nil { groups[g.groupId] = nil }
            return fail(.inconsistentGroupProtocol)
        }

        var effects: [GroupEffect] = []
        if isNewMember, let instance = req.groupInstanceId, let oldId = g.staticMemberId(instance) {
            replaceStaticMember(&g, req, oldId: oldId, newId: instance + "-" + ids.nextUUIDString(), requestId: requestId, nowMs: nowMs, &effects)
        } else if isNewMember {
            // A static member's id starts with its instance id; it needs no MEMBER_ID_REQUIRED round trip.
            let memberId = (req.groupInstanceId ?? req.clientId) + "-" + ids.nextUUIDString()
            if req.apiVersion >= 4 && req.groupInstanceId == nil {
                g.pendingMembers[memberId] = nowMs + Int64(req.sessionTimeoutMs)
                groups[req.groupId] = g
                return [.respond(PendingResponse(requestId: requestId, response: .join(.failure(.memberIdRequired, memberId: memberId))))]
            }
            addMember(&g, req, memberId: memberId, requestId: requestId, nowMs: nowMs, &effects)
        } else if g.pendingMembers.removeValue(forKey: req.memberId) != nil {
            addMember(&g, req, memberId: req.memberId, requestId: requestId, nowMs: nowMs, &effects)
        } else if let e = g.validateCurrentMember(req.memberId, instanceId: req.groupInstanceId) {
            effects += fail(e)
        } else if let m = g.members[req.memberId] {
            switch g.state {
            case .preparingRebalance:
                updateMember(&g, req, requestId: requestId, nowMs: nowMs, &effects)
            case .completingRebalance, .stable:
                let same = m.protocols == req.protocols
                if same && (g.state == .completingRebalance || g.leaderId != m.memberId) {
                    // A retried join for the current generation: answer it again.
                    effects.append(.respond(PendingResponse(requestId: requestId, response: .join(joinResponse(g, for: m.memberId)))))
                } else {
                    updateMember(&g, req, requestId: requestId, nowMs: nowMs, &effects)
                }
            case .empty, .dead:
                effects += fail(.unknownMemberId)
            }
        } else {
            effects += fail(.unknownMemberId)
        }
        groups[req.groupId] = g
        return effects
    }

    mutating func addMember(_ g: inout ConsumerGroup, _ req: JoinGroupRequest, memberId: String, requestId: GroupRequestID,
                                    nowMs: Int64, _ effects: inout [GroupEffect]) {
        if g.members.isEmpty { g.protocolType = req.protocolType }
        g.members[memberId] = GroupMember(
            memberId: memberId, groupInstanceId: req.groupInstanceId, clientId: req.clientId, clientHost: req.clientHost,
            rebalanceTimeoutMs: req.rebalanceTimeoutMs, sessionTimeoutMs: req.sessionTimeoutMs, protocolType: req.protocolType,
            protocols: req.protocols, awaitingJoin: requestId, heartbeatDeadlineMs: nowMs + config.newMemberJoinTimeoutMs, isNew: true)
        g.memberOrder.append(memberId)
        if g.leaderId == nil { g.leaderId = memberId }
        if g.state == .preparingRebalance, let limit = g.initialDelayLimitMs {
            // Each new joiner during the initial delay buys the group more time, up to the rebalance timeout.
            g.joinDeadlineMs = min(limit, nowMs + Int64(config.initialRebalanceDelayMs))
        }
        maybePrepareRebalance(&g, nowMs: nowMs, &effects)
        tryCompleteJoin(&g, nowMs: nowMs, &effects)
    }

    private mutating func updateMember(_ g: inout ConsumerGroup, _ req: JoinGroupRequest, requestId: GroupRequestID,
                                       nowMs: Int64, _ effects: inout [GroupEffect]) {
        guard var m = g.members[req.memberId] else { return }
        if let old = m.awaitingJoin, old != requestId {
            effects.append(.respond(PendingResponse(requestId: old, response: .join(.failure(.unknownMemberId, memberId: m.memberId)))))
        }
        m.protocols = req.protocols
        m.rebalanceTimeoutMs = req.rebalanceTimeoutMs
        m.sessionTimeoutMs = req.sessionTimeoutMs
        m.awaitingJoin = requestId
        g.members[m.memberId] = m
        maybePrepareRebalance(&g, nowMs: nowMs, &effects)
        tryCompleteJoin(&g, nowMs: nowMs, &effects)
    }

    private func joinResponse(_ g: ConsumerGroup, for memberId: String) -> JoinGroupResponse {
        let isLeader = g.leaderId == memberId
        return JoinGroupResponse(
            error: .noError, generationId: g.generationId, protocolType: g.protocolType, protocolName: g.protocolName,
            leaderId: g.leaderId ?? "", memberId: memberId,
            members: isLeader ? g.orderedMembers.map {
                JoinGroupMember(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata(for: g.protocolName))
            } : [])
    }

    func maybePrepareRebalance(_ g: inout ConsumerGroup, nowMs: Int64, _ effects: inout [GroupEffect]) {
        guard g.state == .stable || g.state == .completingRebalance || g.state == .empty else { return }
        if g.state == .completingRebalance {
            // Assignments of the abandoned generation are void; waiting followers must rejoin.
            for id in g.memberOrder {
                guard var m = g.members[id], let rid = m.awaitingSync else { continue }
                effects.append(.respond(PendingResponse(requestId: rid, response: .sync(
                    SyncGroupResponse(error: .rebalanceInProgress, protocolType: g.protocolType, protocolName: g.protocolName, assignment: [])))))
                m.awaitingSync = nil
                g.members[id] = m
            }
        }
        for id in g.memberOrder { g.members[id]?.assignment = [] }
        // An empty group's first round always waits for the timer, even with a zero delay (as Kafka's
        // delayed join does): members that subscribe together land in one generation.
        if g.state == .empty {
            let limit = nowMs + g.maxRebalanceTimeoutMs
            g.initialDelayLimitMs = limit
            g.joinDeadlineMs = min(limit, nowMs + Int64(config.initialRebalanceDelayMs))
        } else {
            g.initialDelayLimitMs = nil
            g.joinDeadlineMs = nowMs + g.maxRebalanceTimeoutMs
        }
        g.syncDeadlineMs = nil
        g.storingGeneration = nil
        transition(&g, .preparingRebalance, nowMs)
    }

    func transition(_ g: inout ConsumerGroup, _ s: GroupState, _ nowMs: Int64) {
        g.state = s
        g.stateTimestampMs = nowMs
    }

    func tryCompleteJoin(_ g: inout ConsumerGroup, nowMs: Int64, _ effects: inout [GroupEffect]) {
        guard g.state == .preparingRebalance, g.initialDelayLimitMs == nil else { return }
        if g.pendingMembers.isEmpty && g.members.values.allSatisfy({ $0.awaitingJoin != nil }) {
            completeJoin(&g, nowMs: nowMs, &effects)
        }
    }

    /// Ends the join phase: members that did not rejoin are dropped, the next generation starts.
    private func completeJoin(_ g: inout ConsumerGroup, nowMs: Int64, _ effects: inout [GroupEffect]) {
        for id in g.memberOrder where g.members[id]?.awaitingJoin == nil { removeMember(&g, id, &effects) }
        g.pendingMembers = [:]
        g.joinDeadlineMs = nil
        g.initialDelayLimitMs = nil
        g.generationId &+= 1
        if g.members.isEmpty {
            g.protocolName = nil
            g.leaderId = nil
            transition(&g, .empty, nowMs)
            effects.append(.append([RecordAppend(partition: partitionFor(g.groupId),
                                                 records: [.groupMetadata(groupId: g.groupId, g.metadataValue())])], then: []))
            return
        }
        g.protocolName = g.selectProtocol()
        if let l = g.leaderId, g.members[l] == nil { g.leaderId = nil }
        if g.leaderId == nil { g.leaderId = g.memberOrder.first }
        transition(&g, .completingRebalance, nowMs)
        g.syncDeadlineMs = nowMs + g.maxRebalanceTimeoutMs
        for id in g.memberOrder {
            guard var m = g.members[id], let rid = m.awaitingJoin else { continue }
            effects.append(.respond(PendingResponse(requestId: rid, response: .join(joinResponse(g, for: id)))))
            m.awaitingJoin = nil
            m.isNew = false
            m.heartbeatDeadlineMs = nowMs + Int64(m.sessionTimeoutMs)
            g.members[id] = m
        }
    }

    private func removeMember(_ g: inout ConsumerGroup, _ id: String, _ effects: inout [GroupEffect]) {
        guard let m = g.members.removeValue(forKey: id) else { return }
        g.memberOrder.removeAll { $0 == id }
        if let rid = m.awaitingJoin {
            effects.append(.respond(PendingResponse(requestId: rid, response: .join(.failure(.unknownMemberId, memberId: id)))))
        }
        if let rid = m.awaitingSync {
            effects.append(.respond(PendingResponse(requestId: rid, response: .sync(
                SyncGroupResponse(error: .unknownMemberId, protocolType: nil, protocolName: nil, assignment: [])))))
        }
        if g.leaderId == id { g.leaderId = g.memberOrder.first }
    }

    /// A member left or expired: the rest must rebalance.
    private func memberGone(_ g: inout ConsumerGroup, _ id: String, nowMs: Int64, _ effects: inout [GroupEffect]) {
        removeMember(&g, id, &effects)
        switch g.state {
        case .stable, .completingRebalance: maybePrepareRebalance(&g, nowMs: nowMs, &effects); tryCompleteJoin(&g, nowMs: nowMs, &effects)
        case .preparingRebalance: tryCompleteJoin(&g, nowMs: nowMs, &effects)
        case .empty, .dead: break
        }
    }

    // MARK: - SyncGroup

    public mutating func syncGroup(_ req: SyncGroupRequest, requestId: GroupRequestID, nowMs: Int64) -> [GroupEffect] {
        func reply(_ e: KafkaError, _ assignment: [UInt8] = [], _ g: ConsumerGroup? = nil) -> GroupEffect {
            .respond(PendingResponse(requestId: requestId, response: .sync(
                SyncGroupResponse(error: e, protocolType: g?.protocolType, protocolName: g?.protocolName, assignment: assignment))))
        }
        guard var g = groups[req.groupId] else { return [reply(.unknownMemberId)] }
        if g.state == .dead { return [reply(.coordinatorNotAvailable)] }
        if let e = g.validateCurrentMember(req.memberId, instanceId: req.groupInstanceId) { return [reply(e)] }
        guard var m = g.members[req.memberId] else { return [reply(.unknownMemberId)] }
        guard req.generationId == g.generationId else { return [reply(.illegalGeneration)] }
        if let t = req.protocolType, t != g.protocolType { return [reply(.inconsistentGroupProtocol)] }
        if let n = req.protocolName, n != g.protocolName { return [reply(.inconsistentGroupProtocol)] }
        switch g.state {
        case .empty, .dead: return [reply(.unknownMemberId)]
        case .preparingRebalance: return [reply(.rebalanceInProgress)]
        case .stable:
            m.heartbeatDeadlineMs = nowMs + Int64(m.sessionTimeoutMs)
            g.members[m.memberId] = m
            groups[g.groupId] = g
            return [reply(.noError, m.assignment, g)]
        case .completingRebalance:
            var effects: [GroupEffect] = []
            if let old = m.awaitingSync, old != requestId { effects.append(.respond(PendingResponse(requestId: old, response: .sync(
                SyncGroupResponse(error: .rebalanceInProgress, protocolType: nil, protocolName: nil, assignment: []))))) }
            m.awaitingSync = requestId
            m.heartbeatDeadlineMs = nowMs + Int64(m.sessionTimeoutMs)
            g.members[m.memberId] = m
            guard m.memberId == g.leaderId else {
                groups[g.groupId] = g
                return effects
            }
            // The group stays CompletingRebalance until its assignment is durable (`groupStored`):
            // a generation nobody can replay must never be handed out.
            guard g.storingGeneration == nil else {
                groups[g.groupId] = g
                return effects
            }
            for id in g.memberOrder { g.members[id]?.assignment = req.assignments[id] ?? [] }
            g.storingGeneration = g.generationId
            g.syncDeadlineMs = nil
            // The record carries the time the group turns Stable, so a replay ends with the same state.
            g.stateTimestampMs = nowMs
            groups[g.groupId] = g
            effects.append(.storeGroup(RecordAppend(partition: partitionFor(g.groupId),
                                                    records: [.groupMetadata(groupId: g.groupId, g.metadataValue())]),
                                       groupId: g.groupId, generation: g.generationId))
            return effects
        }
    }

    // MARK: - Heartbeat and LeaveGroup

    /// Kafka's order: Dead group, then member (fenced instance, unknown member), then generation, then state.
    public mutating func heartbeat(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String? = nil,
                                   requestId: GroupRequestID, nowMs: Int64) -> [GroupEffect] {
        func reply(_ e: KafkaError) -> [GroupEffect] { [.respond(PendingResponse(requestId: requestId, response: .heartbeat(e)))] }
        guard var g = groups[groupId] else { return reply(.unknownMemberId) }
        if g.state == .dead { return reply(.coordinatorNotAvailable) }
        if let e = g.validateCurrentMember(memberId, instanceId: groupInstanceId) { return reply(e) }
        guard var m = g.members[memberId], g.state != .empty else { return reply(.unknownMemberId) }
        guard generationId == g.generationId else { return reply(.illegalGeneration) }
        m.heartbeatDeadlineMs = nowMs + Int64(m.sessionTimeoutMs)
        g.members[memberId] = m
        groups[groupId] = g
        return reply(g.state == .preparingRebalance ? .rebalanceInProgress : .noError)
    }

    public mutating func leaveGroup(groupId: String, members: [LeaveGroupMember], requestId: GroupRequestID, nowMs: Int64) -> [GroupEffect] {
        guard var g = groups[groupId] else {
            return [.respond(PendingResponse(requestId: requestId, response: .leave(LeaveGroupResponse(
                error: .noError, members: members.map { LeaveGroupMember(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, error: .unknownMemberId) }))))]
        }
        if g.state == .dead {
            return [.respond(PendingResponse(requestId: requestId, response: .leave(LeaveGroupResponse(error: .coordinatorNotAvailable, members: []))))]
        }
        var effects: [GroupEffect] = []
        var results: [LeaveGroupMember] = []
        for leaving in members {
            var r = leaving
            if leaving.memberId.isEmpty {
                // v3+ lets an admin remove a static member by its instance id alone.
                if let current = g.staticMemberId(leaving.groupInstanceId) {
                    r.error = .noError
                    memberGone(&g, current, nowMs: nowMs, &effects)
                } else {
                    r.error = .unknownMemberId
                }
            } else if g.pendingMembers.removeValue(forKey: leaving.memberId) != nil {
                r.error = .noError
                tryCompleteJoin(&g, nowMs: nowMs, &effects)
            } else if let e = g.validateCurrentMember(leaving.memberId, instanceId: leaving.groupInstanceId) {
                r.error = e
            } else {
                r.error = .noError
                memberGone(&g, leaving.memberId, nowMs: nowMs, &effects)
            }
            results.append(r)
        }
        groups[groupId] = g
        return [.respond(PendingResponse(requestId: requestId, response: .leave(LeaveGroupResponse(error: .noError, members: results))))] + effects
    }

    // MARK: - Timers

    /// Expires sessions, pending member ids, join and sync deadlines.
    public mutating func tick(nowMs: Int64) -> [GroupEffect] {
        var effects: [GroupEffect] = []
        for id in groups.keys.sorted() {
            guard var g = groups[id], g.state != .dead else { continue }
            for (pid, deadline) in g.pendingMembers.sorted(by: { $0.key < $1.key }) where deadline <= nowMs {
                g.pendingMembers[pid] = nil
                tryCompleteJoin(&g, nowMs: nowMs, &effects)
            }
            for mid in g.memberOrder {
                guard let m = g.members[mid], m.heartbeatDeadlineMs <= nowMs else { continue }
                let kept = !m.isNew && (m.awaitingJoin != nil || m.awaitingSync != nil)
                if !kept { memberGone(&g, mid, nowMs: nowMs, &effects) }
            }
            if g.state == .preparingRebalance, let d = g.joinDeadlineMs, d <= nowMs {
                g.initialDelayLimitMs = nil
                completeJoin(&g, nowMs: nowMs, &effects)
            }
            if g.state == .completingRebalance, let d = g.syncDeadlineMs, d <= nowMs {
                // The leader never sent assignments: drop members that did not sync and start over.
                for mid in g.memberOrder where g.members[mid]?.awaitingSync == nil { removeMember(&g, mid, &effects) }
                maybePrepareRebalance(&g, nowMs: nowMs, &effects)
                tryCompleteJoin(&g, nowMs: nowMs, &effects)
            }
            groups[id] = g
        }
        return effects
    }

    // MARK: - Admin

    public mutating func deleteGroups(_ ids: [String], requestId: GroupRequestID, nowMs: Int64) -> [GroupEffect] {
        var results: [String: KafkaError] = [:]
        var byPartition: [Int32: [GroupRecord]] = [:]
        for id in ids {
            guard let g = groups[id], g.state != .dead else { results[id] = .groupIdNotFound; continue }
            guard g.state == .empty else { results[id] = .nonEmptyGroup; continue }
            var records: [GroupRecord] = (offsets[id] ?? [:]).keys.sorted().map {
                .offsetCommit(OffsetCommitKey(groupId: id, topicPartition: $0), nil)
            }
            records.append(.groupMetadata(groupId: id, nil))
            for r in records { replay(r, nowMs: nowMs) }
            byPartition[partitionFor(id), default: []] += records
            results[id] = .noError
        }
        let response = PendingResponse(requestId: requestId, response: .deleteGroups(results))
        guard !byPartition.isEmpty else { return [.respond(response)] }
        return [.append(byPartition.keys.sorted().map { RecordAppend(partition: $0, records: byPartition[$0] ?? []) }, then: [response])]
    }

    public func describeGroups(_ ids: [String]) -> [GroupDescription] {
        ids.map { id in
            guard let g = groups[id] else {
                return GroupDescription(error: .noError, groupId: id, state: GroupState.dead.rawValue, protocolType: "", protocolName: "", members: [])
            }
            let stable = g.state == .stable
            return GroupDescription(
                error: .noError, groupId: id, state: g.state.rawValue, protocolType: g.protocolType ?? "",
                protocolName: stable ? (g.protocolName ?? "") : "",
                members: g.state == .dead ? [] : g.orderedMembers.map {
                    GroupMemberDescription(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId,
                                           clientHost: $0.clientHost, metadata: stable ? $0.metadata(for: g.protocolName) : [],
                                           assignment: stable ? $0.assignment : [])
                })
        }
    }

    public func listGroups(states: Set<GroupState> = []) -> [GroupListing] {
        groups.values.filter { $0.state != .dead && (states.isEmpty || states.contains($0.state)) }
            .sorted { $0.groupId < $1.groupId }
            .map { GroupListing(groupId: $0.groupId, protocolType: $0.protocolType ?? "", state: $0.state.rawValue) }
    }

    // MARK: - Loading

    /// Applies one record from `__consumer_offsets`. The live paths use it for offsets too, so a
    /// coordinator that replays the log ends where the one that wrote it stood.
    public mutating func replay(_ record: GroupRecord, nowMs: Int64) {
        switch record {
        case .offsetCommit(let key, let value):
            if let value {
                offsets[key.groupId, default: [:]][key.topicPartition] = value
                if groups[key.groupId] == nil { groups[key.groupId] = ConsumerGroup(groupId: key.groupId) }
            } else {
                offsets[key.groupId]?[key.topicPartition] = nil
                if offsets[key.groupId]?.isEmpty == true { offsets[key.groupId] = nil }
            }
        case .groupMetadata(let id, let value):
            guard let value else {
                groups[id] = nil
                return
            }
            var g = ConsumerGroup(groupId: id)
            g.protocolType = value.protocolType.isEmpty ? nil : value.protocolType
            g.generationId = value.generation
            g.protocolName = value.protocolName
            g.leaderId = value.leader
            g.stateTimestampMs = value.currentStateTimestampMs
            for r in value.members {
                g.members[r.memberId] = GroupMember(
                    memberId: r.memberId, groupInstanceId: r.groupInstanceId, clientId: r.clientId, clientHost: r.clientHost,
                    rebalanceTimeoutMs: r.rebalanceTimeoutMs, sessionTimeoutMs: r.sessionTimeoutMs, protocolType: value.protocolType,
                    protocols: [GroupProtocol(name: value.protocolName ?? "", metadata: r.subscription)], assignment: r.assignment,
                    heartbeatDeadlineMs: nowMs + Int64(r.sessionTimeoutMs))
                g.memberOrder.append(r.memberId)
            }
            g.state = g.members.isEmpty ? .empty : .stable
            groups[id] = g
        }
    }

    /// This broker stopped leading an offsets partition: forget its groups and fail their waiters.
    public mutating func unload(partition: Int32) -> [GroupEffect] {
        var effects: [GroupEffect] = []
        for id in groups.keys.sorted() where partitionFor(id) == partition {
            guard let g = groups.removeValue(forKey: id) else { continue }
            for m in g.orderedMembers {
                if let rid = m.awaitingJoin {
                    effects.append(.respond(PendingResponse(requestId: rid, response: .join(.failure(.notCoordinator, memberId: m.memberId)))))
                }
                if let rid = m.awaitingSync {
                    effects.append(.respond(PendingResponse(requestId: rid, response: .sync(
                        SyncGroupResponse(error: .notCoordinator, protocolType: nil, protocolName: nil, assignment: [])))))
                }
            }
        }
        for id in offsets.keys where partitionFor(id) == partition { offsets[id] = nil }
        return effects
    }

    /// Everything that must survive failover, for comparing a replayed coordinator to the original.
    public struct DurableState: Equatable, Sendable {
        public var groups: [String: GroupMetadataValue]
        public var states: [String: GroupState]
        public var offsets: [String: [TopicPartition: OffsetCommitValue]]
    }

    public var durableState: DurableState {
        DurableState(groups: groups.mapValues { $0.metadataValue() }, states: groups.mapValues { $0.state }, offsets: offsets)
    }
}

/// Reads the topic list from a "consumer" protocol subscription (version, topics, user data).
enum ConsumerProtocolSubscription {
    static func topics(_ bytes: [UInt8]) -> [String]? {
        var r = ByteReader(bytes)
        guard let _ = try? r.readInt16(), let n = try? r.readInt32(), n >= 0, n <= 100_000 else { return nil }
        var out: [String] = []
        for _ in 0..<n {
            guard let len = try? r.readInt16(), len >= 0, let raw = try? r.readBytes(Int(len)) else { return nil }
            out.append(String(decoding: raw, as: UTF8.self))
        }
        return out
    }
}
