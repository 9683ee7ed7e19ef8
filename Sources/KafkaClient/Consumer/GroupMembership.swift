import Foundation
import Protocol
import Synchronization
import Transport

/// Consumer group membership: coordinator lookup, JoinGroup/SyncGroup (the leader runs the
/// assignor), heartbeats on a background thread, commits, offset fetches, LeaveGroup.
final class GroupMembership: @unchecked Sendable {
    let groupId: String
    let config: ConsumerConfig
    let cluster: KafkaCluster

    struct State {
        var memberId = ""
        var generation: Int32 = -1
        var coordinator: Int32?
        var needsRejoin = true
        var stable = false
        var stopped = false
        var subscription: [String] = []
        var owned: [TopicPartition] = []
        var lastHeartbeatMs: UInt64 = 0
        var leaderCounts: [String: Int32]?
    }
    private let state = Mutex(State())
    private var heartbeatThread: Thread?

    init(groupId: String, config: ConsumerConfig, cluster: KafkaCluster) {
        self.groupId = groupId
        self.config = config
        self.cluster = cluster
    }

    var memberId: String { state.withLock { $0.memberId } }
    var generation: Int32 { state.withLock { $0.generation } }
    var isStable: Bool { state.withLock { $0.stable } }
    var needsRejoin: Bool { state.withLock { $0.needsRejoin } }

    func subscribe(_ topics: [String]) {
        state.withLock {
            if $0.subscription != topics { $0.needsRejoin = true }
            $0.subscription = topics
        }
        if heartbeatThread == nil {
            let t = Thread { [self] in heartbeatLoop() }
            t.name = "kafka-heartbeat-\(groupId)"
            heartbeatThread = t
            t.start()
        }
    }

    func stop() { state.withLock { $0.stopped = true } }

    // MARK: coordinator

    func ensureCoordinator() throws -> Int32 {
        if let c = state.withLock({ $0.coordinator }) { return c }
        var lastError = KafkaError.broker(.coordinatorNotAvailable, groupId)
        for attempt in 0..<10 {
            do {
                let r = try cluster.call(FindCoordinatorRequest.one(groupId, keyType: 0), to: .any).one(groupId)
                if r.errorCode == .none {
                    // A separate connection id (as Kafka's clients do) so JoinGroup never blocks fetches.
                    let id = Int32.max - r.nodeId
                    cluster.registerNode(id, address: HostPort(host: r.host, port: Int(r.port)))
                    state.withLock { $0.coordinator = id }
                    return id
                }
                lastError = .broker(r.errorCode, "FindCoordinator \(groupId)")
                if !r.errorCode.isRetriable { throw lastError }
            } catch let e as KafkaError where e.isRetriable {
                lastError = e
            }
            usleep(UInt32(min(1000, cluster.config.retryBackoffMs * (attempt + 1))) * 1000)
        }
        throw lastError
    }

    private func coordinatorFailed(_ code: ErrorCode?) {
        if code == nil || code!.invalidatesCoordinator { state.withLock { $0.coordinator = nil } }
    }

    // MARK: join / sync

    /// Rejoins if needed and returns the new assignment (nil when nothing changed).
    func ensureActive(deadlineMs: UInt64, revoke: () -> Void) throws -> [TopicPartition]? {
        checkPartitionCounts()
        guard state.withLock({ $0.needsRejoin || !$0.stable }) else { return nil }
        revoke()
        state.withLock { $0.stable = false }
        var lastError: KafkaError = .broker(.rebalanceInProgress, groupId)
        for attempt in 0..<50 {
            do {
                if let a = try joinAndSync() { return a }
                continue
            } catch let e as KafkaError where e.isRetriable || e == .broker(.rebalanceInProgress, "JoinGroup") {
                lastError = e
                if case .broker(let c, _) = e { coordinatorFailed(c) } else { coordinatorFailed(nil) }
            }
            if attempt > 3 && MonotonicClock.millis() > deadlineMs + UInt64(config.maxPollIntervalMs) { break }
            usleep(UInt32(min(1000, cluster.config.retryBackoffMs * (attempt + 1))) * 1000)
        }
        throw lastError
    }

    /// One JoinGroup + SyncGroup round; nil means "go round again at once".
    private func joinAndSync() throws -> [TopicPartition]? {
        let coord = try ensureCoordinator()
        let (memberId, topics, owned) = state.withLock { ($0.memberId, $0.subscription, $0.owned) }
        let sub = ConsumerProtocolSubscription(version: 1, topics: topics, ownedPartitions: Self.grouped(owned))
        let meta = try sub.encode()
        let req = JoinGroupRequest(groupId: groupId, sessionTimeoutMs: Int32(config.sessionTimeoutMs),
                                   rebalanceTimeoutMs: Int32(config.maxPollIntervalMs), memberId: memberId,
                                   groupInstanceId: nil, protocolType: "consumer",
                                   protocols: config.assignmentStrategies.map { .init(name: $0.rawValue, metadata: meta) })
        let join = try cluster.call(req, to: .node(coord), timeoutMs: config.maxPollIntervalMs + 5000)
        switch join.errorCode {
        case .none:
            break
        case .memberIdRequired:
            state.withLock { $0.memberId = join.memberId }
            return nil
        case .unknownMemberId, .illegalGeneration:
            state.withLock { $0.memberId = ""; $0.generation = -1 }
            return nil
        case .rebalanceInProgress:
            return nil
        default:
            throw KafkaError.broker(join.errorCode, "JoinGroup \(groupId)")
        }
        state.withLock {
            $0.memberId = join.memberId
            $0.generation = join.generationId
        }
        var assignments: [SyncGroupRequest.Assignment] = []
        // skipAssignment (KIP-814): a returning static leader keeps the assignment it made.
        if join.leader == join.memberId && !join.skipAssignment {
            assignments = try leaderAssign(join)
        }
        let sync = try cluster.call(SyncGroupRequest(groupId: groupId, generationId: join.generationId, memberId: join.memberId,
                                                     groupInstanceId: nil, protocolType: "consumer", protocolName: join.protocolName,
                                                     assignments: assignments),
                                    to: .node(coord), timeoutMs: config.maxPollIntervalMs + 5000)
        switch sync.errorCode {
        case .none:
            break
        case .rebalanceInProgress:
            return nil
        case .unknownMemberId, .illegalGeneration:
            state.withLock { $0.memberId = ""; $0.generation = -1 }
            return nil
        default:
            throw KafkaError.broker(sync.errorCode, "SyncGroup \(groupId)")
        }
        var tps: [TopicPartition] = []
        if !sync.assignment.isEmpty {
            let a = try ConsumerProtocolAssignment.decode(sync.assignment)
            tps = a.assignedPartitions.flatMap { t in t.partitions.map { TopicPartition(t.topic, $0) } }.sorted()
        }
        state.withLock {
            $0.owned = tps
            $0.stable = true
            $0.needsRejoin = false
            $0.lastHeartbeatMs = MonotonicClock.millis()
        }
        return tps
    }

    private func leaderAssign(_ join: JoinGroupResponse) throws -> [SyncGroupRequest.Assignment] {
        let strategy = AssignmentStrategy(kafkaName: join.protocolName) ?? .range
        var members: [MemberSubscription] = []
        for m in join.members {
            let s = try ConsumerProtocolSubscription.decode(m.metadata)
            members.append(MemberSubscription(memberId: m.memberId, topics: s.topics,
                                              owned: s.ownedPartitions.flatMap { t in t.partitions.map { TopicPartition(t.topic, $0) } }))
        }
        let topics = Array(Set(members.flatMap(\.topics))).sorted()
        let md = try cluster.refreshMetadata(topics: topics, allowAutoCreate: false)
        var counts: [String: Int32] = [:]
        for t in topics { if let n = md.partitionCount(t) { counts[t] = n } }
        state.withLock { $0.leaderCounts = counts }
        let result = strategy.assign(members, partitionsPerTopic: counts)
        return try members.map { m in
            let a = ConsumerProtocolAssignment(version: 1, assignedPartitions: Self.grouped(result[m.memberId] ?? []))
            return .init(memberId: m.memberId, assignment: try a.encode())
        }
    }

    /// The leader rejoins when a subscribed topic's partition count changed (as Kafka's does).
    private func checkPartitionCounts() {
        guard let counts = state.withLock({ $0.leaderCounts }) else { return }
        let md = cluster.metadata
        for (t, n) in counts where (md.partitionCount(t) ?? n) != n {
            state.withLock { $0.needsRejoin = true; $0.leaderCounts = nil }
            return
        }
    }

    static func grouped(_ tps: [TopicPartition]) -> [ConsumerProtocolTopicPartitions] {
        Dictionary(grouping: tps, by: \.topic).sorted { $0.key < $1.key }
            .map { ConsumerProtocolTopicPartitions(topic: $0.key, partitions: $0.value.map(\.partition).sorted()) }
    }

    // MARK: heartbeats

    private func heartbeatLoop() {
        while true {
            usleep(50_000)
            let (stopped, due, gen, member, coord) = state.withLock { s in
                (s.stopped, s.stable && MonotonicClock.millis() >= s.lastHeartbeatMs + UInt64(config.heartbeatIntervalMs),
                 s.generation, s.memberId, s.coordinator)
            }
            if stopped { return }
            guard due, let coord else { continue }
            state.withLock { $0.lastHeartbeatMs = MonotonicClock.millis() }
            do {
                let r = try cluster.call(HeartbeatRequest(groupId: groupId, generationId: gen, memberId: member, groupInstanceId: nil),
                                         to: .node(coord), timeoutMs: config.sessionTimeoutMs)
                switch r.errorCode {
                case .none: break
                case .rebalanceInProgress:
                    state.withLock { $0.needsRejoin = true }
                case .unknownMemberId, .illegalGeneration:
                    state.withLock {
                        if r.errorCode == .unknownMemberId { $0.memberId = "" }
                        $0.generation = -1
                        $0.needsRejoin = true
                        $0.stable = false
                    }
                default:
                    coordinatorFailed(r.errorCode)
                }
            } catch {
                coordinatorFailed(nil)
            }
        }
    }

    // MARK: offsets

    private func commitRequest(_ offsets: [TopicPartition: Int64]) -> OffsetCommitRequest {
        let (gen, member, stable) = state.withLock { ($0.generation, $0.memberId, $0.stable) }
        let topics = Dictionary(grouping: offsets.keys, by: \.topic).sorted { $0.key < $1.key }.map { t, tps in
            OffsetCommitRequest.Topic(name: t, partitions: tps.sorted().map {
                .init(partitionIndex: $0.partition, committedOffset: offsets[$0] ?? 0, committedLeaderEpoch: -1, committedMetadata: "")
            })
        }
        // Outside a generation (manual assignment) Kafka accepts generation -1 with an empty member id.
        return OffsetCommitRequest(groupId: groupId, generationIdOrMemberEpoch: stable ? gen : -1,
                                   memberId: stable ? member : "", groupInstanceId: nil, retentionTimeMs: -1, topics: topics)
    }

    private func commitError(_ r: OffsetCommitResponse) -> ErrorCode? {
        for t in r.topics { for p in t.partitions where p.errorCode.isError { return p.errorCode } }
        return nil
    }

    private func noteCommitError(_ code: ErrorCode) {
        if code == .rebalanceInProgress || code == .illegalGeneration || code == .unknownMemberId {
            state.withLock { $0.needsRejoin = true }
        }
        coordinatorFailed(code)
    }

    /// Runs `body` against the group coordinator. Retriable failures are retried until
    /// request.timeout.ms: a dead coordinator stays advertised until its coordination session
    /// expires, which takes seconds. `body` answers `.failure` for an error the coordinator returned
    /// (after its own bookkeeping); transport failures also forget the coordinator.
    private func withCoordinatorRetries<T>(_ body: (Int32) throws -> Result<T, KafkaError>) throws -> T {
        var lastError = KafkaError.broker(.coordinatorNotAvailable, groupId)
        let deadline = MonotonicClock.millis() + UInt64(max(0, cluster.config.requestTimeoutMs))
        var attempt = 0
        while true {
            do {
                switch try body(try ensureCoordinator()) {
                case .success(let value): return value
                case .failure(let e):
                    lastError = e
                    if !e.isRetriable { throw e }
                }
            } catch let e as KafkaError where e.isRetriable {
                lastError = e
                coordinatorFailed(nil)
            }
            attempt += 1
            let now = MonotonicClock.millis()
            if now >= deadline { throw lastError }
            let backoff = UInt64(min(cluster.config.retryBackoffMs * attempt, 1000))
            usleep(UInt32(min(backoff, deadline - now)) * 1000)
        }
    }

    func commit(_ offsets: [TopicPartition: Int64]) throws {
        try withCoordinatorRetries { coord in
            let r = try cluster.call(commitRequest(offsets), to: .node(coord))
            guard let code = commitError(r) else { return .success(()) }
            noteCommitError(code)
            return .failure(.broker(code, "OffsetCommit \(groupId)"))
        }
    }

    func commitAsync(_ offsets: [TopicPartition: Int64], completion: @escaping @Sendable (KafkaError?) -> Void) {
        guard let coord = state.withLock({ $0.coordinator }) else {
            return completion(.broker(.coordinatorNotAvailable, "no coordinator known yet"))
        }
        cluster.send(commitRequest(offsets), to: .node(coord)) { [self] r in
            switch r {
            case .failure(let e):
                coordinatorFailed(nil)
                completion(e)
            case .success(let resp):
                if let code = commitError(resp) {
                    noteCommitError(code)
                    completion(.broker(code, "OffsetCommit \(groupId)"))
                } else {
                    completion(nil)
                }
            }
        }
    }

    func fetchCommitted(_ tps: [TopicPartition]) throws -> [TopicPartition: Int64] {
        let topics = Dictionary(grouping: tps, by: \.topic).sorted { $0.key < $1.key }
            .map { OffsetFetchRequest.Topic(name: $0.key, partitionIndexes: $0.value.map(\.partition).sorted()) }
        return try withCoordinatorRetries { coord in
            let r = try cluster.call(OffsetFetchRequest.oneGroup(groupId, topics: topics), to: .node(coord)).oneGroup(groupId)
            var code = r.errorCode
            var out: [TopicPartition: Int64] = [:]
            for t in r.topics {
                for p in t.partitions {
                    if p.errorCode.isError { code = p.errorCode }
                    out[TopicPartition(t.name, p.partitionIndex)] = p.committedOffset
                }
            }
            if !code.isError { return .success(out) }
            coordinatorFailed(code)
            return .failure(.broker(code, "OffsetFetch \(groupId)"))
        }
    }

    func leave() {
        let (member, coord) = state.withLock { s -> (String, Int32?) in
            let r = (s.memberId, s.coordinator)
            s.memberId = ""
            s.generation = -1
            s.stable = false
            s.needsRejoin = true
            s.owned = []
            return r
        }
        guard !member.isEmpty, let coord else { return }
        _ = try? cluster.call(LeaveGroupRequest(groupId: groupId, memberId: member, members: [.init(memberId: member)]),
                              to: .node(coord), timeoutMs: 5000)
    }
}
