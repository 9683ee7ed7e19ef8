@testable import BrokerCore

/// The consumers of `GroupSim`: one request in flight each, as Kafka's eager consumer protocol goes.
extension GroupSim {
    mutating func send(_ m: Int, _ req: Request, kind: Kind) {
        let rid = nextRequestId
        nextRequestId += 1
        requestKinds[rid] = (m, members[m].incarnation, kind)
        members[m].outstanding = rid
        members[m].outstandingSince = now
        schedule(netDelay(), .request(member: m, epoch: members[m].knownEpoch, rid, req))
    }

    /// A consumer's timer: join when out of the group, else heartbeat, process and commit.
    mutating func act(_ m: Int) {
        if let rid = members[m].outstanding {
            // request.timeout.ms: give up on the request and start over.
            if now - members[m].outstandingSince > 30_000 {
                requestKinds[rid] = nil
                members[m].outstanding = nil
                rejoin(m)
            }
            return
        }
        let mem = members[m]
        switch mem.phase {
        case .idle:
            members[m].phase = .joining
            let req = JoinGroupRequest(groupId: Self.group, sessionTimeoutMs: Self.sessionMs, rebalanceTimeoutMs: 10_000, memberId: mem.memberId,
                                       protocolType: "consumer", protocols: [GroupProtocol(name: "range", metadata: [0])],
                                       clientId: "c\(m)", clientHost: "/127.0.0.1", apiVersion: 5)
            send(m, .join(req), kind: .join)
        case .joining, .syncing:
            if let s = mem.pendingSync {
                members[m].pendingSync = nil
                send(m, .sync(s), kind: .sync)
            }
        case .stable:
            if now - mem.lastHeartbeat >= 1_000 {
                send(m, .heartbeat(mem.generation, mem.memberId), kind: .heartbeat)
            } else if !mem.owned.isEmpty && now - mem.lastCommit >= 400 {
                var offsets: [TopicPartition: OffsetCommitPartition] = [:]
                let id = nextCommitId
                nextCommitId += 1
                for p in mem.owned {
                    let pos = (mem.positions[p] ?? 0) + Int64(int(0...3))
                    members[m].positions[p] = pos
                    offsets[TopicPartition(Self.topic, p)] = OffsetCommitPartition(offset: pos, metadata: Self.metadata(generation: mem.generation, commitId: id))
                }
                members[m].lastCommit = now
                let req = OffsetCommitRequest(groupId: Self.group, generationId: mem.generation, memberId: mem.memberId, offsets: offsets)
                send(m, .commit(req), kind: .commit(id: id))
            }
        }
    }

    mutating func rejoin(_ m: Int, resetId: Bool = false) {
        members[m].phase = .idle
        members[m].owned = []
        members[m].pendingSync = nil
        if resetId { members[m].memberId = "" }
    }

    mutating func receive(member m: Int, _ rid: GroupRequestID, _ resp: GroupResponse) {
        guard let k = requestKinds.removeValue(forKey: rid), members[m].outstanding == rid else { return }
        members[m].outstanding = nil
        switch resp {
        case .join(let j): onJoin(m, j)
        case .sync(let s):
            if s.error == .noError { onSync(m, s) } else { onError(m, s.error, kind: .sync) }
        case .heartbeat(let e):
            if e == .noError { members[m].lastHeartbeat = now } else { onError(m, e, kind: .heartbeat) }
        case .offsetCommit(let errs):
            guard case .commit(let id) = k.kind else { return }
            if errs.values.allSatisfy({ $0 == .noError }) {
                stats.commitsAcked += 1
                if !durableCommitIds.contains(id) { failures.append("seed \(seed) t=\(now): commit \(id) acknowledged before it was durable") }
            } else if let e = errs.values.first(where: { $0 != .noError }) {
                onError(m, e, kind: k.kind)
            }
        case .leave:
            rejoin(m, resetId: true)
            // Come back a little later as a new member.
            members[m].pausedUntil = now + Int64(int(100...2_000))
        case .offsetDelete, .deleteGroups: break
        }
    }

    mutating func onJoin(_ m: Int, _ j: JoinGroupResponse) {
        switch j.error {
        case .memberIdRequired:
            members[m].memberId = j.memberId
            members[m].phase = .idle
        case .noError:
            members[m].memberId = j.memberId
            members[m].joinedGeneration = j.generationId
            members[m].phase = .syncing
            var assignments: [String: [UInt8]] = [:]
            if j.leaderId == j.memberId {
                let ids = j.members.map { $0.memberId }.sorted()
                for (i, p) in Self.partitions.enumerated() where !ids.isEmpty { assignments[ids[i % ids.count], default: []].append(UInt8(p)) }
            }
            members[m].pendingSync = SyncGroupRequest(groupId: Self.group, generationId: j.generationId, memberId: j.memberId,
                                                      protocolType: "consumer", protocolName: "range", assignments: assignments)
            act(m)
        default:
            onError(m, j.error, kind: .join)
        }
    }

    mutating func onSync(_ m: Int, _ s: SyncGroupResponse) {
        let gen = members[m].joinedGeneration
        let owned = s.assignment.map { Int32($0) }
        members[m].generation = gen
        members[m].owned = owned
        members[m].phase = .stable
        members[m].lastHeartbeat = now
        members[m].lastCommit = now
        recordAssignment(generation: gen, memberId: members[m].memberId, owned: owned)
        // OffsetFetch: start from the committed offsets.
        let committed = coordinator.fetchOffsets(groupId: Self.group, partitions: owned.map { TopicPartition(Self.topic, $0) })
        members[m].positions = [:]
        for p in owned { members[m].positions[p] = max(0, committed[TopicPartition(Self.topic, p)]?.offset ?? 0) }
    }

    mutating func onError(_ m: Int, _ e: KafkaError, kind: Kind) {
        switch e {
        case .rebalanceInProgress, .illegalGeneration:
            rejoin(m)
        case .unknownMemberId:
            rejoin(m, resetId: true)
        case .notCoordinator, .coordinatorNotAvailable:
            // FindCoordinator, then carry on (a join or sync starts over).
            members[m].knownEpoch = epoch
            if kind == .join || kind == .sync { rejoin(m) }
        default:
            failures.append("seed \(seed) t=\(now): consumer \(m) got unexpected \(e) for \(kind)")
        }
    }

    // MARK: - Healing

    /// Faults stop, everyone comes back; within a minute the group must settle.
    mutating func healAndSettle() {
        faultsOn = false
        zombie = nil
        for m in members.indices {
            members[m].pausedUntil = 0
            if !members[m].alive { restart(m) }
        }
        let end = now + 60_000
        while now < end, failures.isEmpty, step() {}
        guard failures.isEmpty else { return }
        guard let g = coordinator.groups[Self.group], g.state == .stable else {
            return failures.append("seed \(seed): group not stable a minute after healing: \(String(describing: coordinator.groups[Self.group]?.state))")
        }
        var owners: [Int32: Int] = [:]
        for (i, mem) in members.enumerated() {
            guard mem.phase == .stable, mem.generation == g.generationId, g.members[mem.memberId] != nil else {
                failures.append("seed \(seed): consumer \(i) (\(mem.phase), generation \(mem.generation)) not in the settled generation \(g.generationId)")
                continue
            }
            for p in mem.owned { owners[p, default: 0] += 1 }
        }
        if g.members.count != members.count { failures.append("seed \(seed): settled group has \(g.members.count) members, not \(members.count)") }
        if owners.keys.sorted() != Self.partitions || owners.values.contains(where: { $0 != 1 }) {
            failures.append("seed \(seed): settled assignment owners \(owners.sorted { $0.key < $1.key })")
        }
    }
}
