import Dispatch
import Foundation
import Protocol
import Synchronization
import Transport

public enum OffsetReset: String, Sendable {
    case earliest, latest, none
}

/// Consumer settings (Kafka's names in comments; Kafka's defaults).
public struct ConsumerConfig: Sendable {
    public var client: ClientConfig
    /// group.id; nil = no group (assign() only, no commits).
    public var groupId: String?
    /// auto.offset.reset
    public var autoOffsetReset: OffsetReset = .latest
    /// enable.auto.commit
    public var enableAutoCommit = true
    /// auto.commit.interval.ms
    public var autoCommitIntervalMs = 5000
    /// session.timeout.ms
    public var sessionTimeoutMs = 45_000
    /// heartbeat.interval.ms
    public var heartbeatIntervalMs = 3000
    /// max.poll.interval.ms (sent as the rebalance timeout)
    public var maxPollIntervalMs = 300_000
    /// fetch.min.bytes
    public var fetchMinBytes = 1
    /// fetch.max.bytes
    public var fetchMaxBytes = 50 << 20
    /// fetch.max.wait.ms
    public var fetchMaxWaitMs = 500
    /// max.partition.fetch.bytes
    public var maxPartitionFetchBytes = 1 << 20
    /// max.poll.records
    public var maxPollRecords = 500
    /// partition.assignment.strategy, in preference order.
    public var assignmentStrategies: [AssignmentStrategy] = [.range, .cooperativeSticky]
    /// isolation.level: false = read_uncommitted.
    public var readCommitted = false

    public init(client: ClientConfig, groupId: String? = nil) {
        self.client = client
        self.groupId = groupId
    }
    public init(bootstrapServers: [String], groupId: String? = nil) {
        self.init(client: ClientConfig(bootstrapServers: bootstrapServers), groupId: groupId)
    }
}

public struct ConsumerRecord: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestamp: Int64
    public var timestampType: TimestampType
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    public init(topic: String, partition: Int32, offset: Int64, timestamp: Int64 = 0, timestampType: TimestampType = .createTime,
                key: [UInt8]? = nil, value: [UInt8]?, headers: [RecordHeader] = []) {
        self.topic = topic; self.partition = partition; self.offset = offset; self.timestamp = timestamp
        self.timestampType = timestampType; self.key = key; self.value = value; self.headers = headers
    }
    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }
}

/// Called on the polling thread around rebalances: revoked before giving partitions up (commit
/// there), assigned after new ones arrive.
public struct RebalanceListener: Sendable {
    public var onRevoked: @Sendable ([TopicPartition]) -> Void
    public var onAssigned: @Sendable ([TopicPartition]) -> Void
    public init(onRevoked: @escaping @Sendable ([TopicPartition]) -> Void = { _ in },
                onAssigned: @escaping @Sendable ([TopicPartition]) -> Void = { _ in }) {
        self.onRevoked = onRevoked; self.onAssigned = onAssigned
    }
}

/// A Kafka consumer. Like Kafka's, it is meant for one thread: call poll/commit/seek from the same
/// thread. Group heartbeats run on their own thread; fetches are pipelined on the client's loop.
public final class Consumer: @unchecked Sendable {
    public let config: ConsumerConfig
    public let cluster: KafkaCluster
    private let ownsCluster: Bool

    struct PartitionState {
        var position: Int64?
        var paused = false
        var highWatermark: Int64 = -1
        var logStartOffset: Int64 = -1
        /// Set when the position must come from the committed offset or auto.offset.reset.
        var reset: OffsetReset?
    }

    private var assignment: [TopicPartition: PartitionState] = [:]
    private var assignmentOrder: [TopicPartition] = []
    private var subscription: [String] = []
    private var listener = RebalanceListener()
    private var group: GroupMembership?
    /// Fetched, not yet returned records per partition, oldest first; at most `prefetchDepth` fetches
    /// deep so the next fetch is in flight while the application works through the previous one.
    private var buffered: [TopicPartition: [BufferedFetch]] = [:]
    private let prefetchDepth = 2
    private var fetchingNodes: Set<Int32> = []
    private var lastAutoCommitMs: UInt64 = MonotonicClock.millis()
    private var rrCursor = 0
    private let inbox = Mutex<[FetchResult]>([])
    private let arrived = DispatchSemaphore(value: 0)
    private var closed = false

    struct FetchResult {
        let node: Int32
        let positions: [TopicPartition: Int64]
        let response: Result<FetchResponse, KafkaError>
    }

    struct BufferedFetch {
        var records: [ConsumerRecord]
        var next = 0
        /// Where to fetch from once these records are consumed (past control/empty batches too).
        var nextOffset: Int64
    }

    public init(config: ConsumerConfig, cluster: KafkaCluster? = nil) throws {
        self.config = config
        if let cluster {
            self.cluster = cluster
            ownsCluster = false
        } else {
            self.cluster = try KafkaCluster(config: config.client)
            ownsCluster = true
        }
        if let g = config.groupId {
            guard !g.isEmpty else { throw KafkaError.invalidArgument("group.id must not be empty") }
            group = GroupMembership(groupId: g, config: config, cluster: self.cluster)
        }
    }

    deinit { if ownsCluster { cluster.close() } }

    // MARK: assignment

    /// Joins the group and consumes what it assigns. Requires group.id.
    public func subscribe(_ topics: [String], listener: RebalanceListener = RebalanceListener()) throws {
        guard let group else { throw KafkaError.invalidArgument("subscribe needs a group.id") }
        guard !topics.isEmpty else { return unsubscribe() }
        subscription = Array(Set(topics)).sorted()
        self.listener = listener
        cluster.track(topics: subscription)
        group.subscribe(subscription)
    }

    public func unsubscribe() {
        if let group, !subscription.isEmpty {
            revokeAll()
            group.leave()
        }
        subscription = []
        setAssignment([])
    }

    /// Manual assignment (no group management; commits still work if group.id is set).
    public func assign(_ partitions: [TopicPartition]) {
        subscription = []
        cluster.track(topics: Array(Set(partitions.map(\.topic))))
        setAssignment(partitions)
    }

    public var assigned: [TopicPartition] { assignmentOrder }
    public var subscribed: [String] { subscription }
    public var memberId: String { group?.memberId ?? "" }

    /// The group, generation and member id, for a transactional producer's `sendOffsetsToTransaction`.
    public func groupMetadata() -> ConsumerGroupMetadata? {
        guard let group, let id = config.groupId else { return nil }
        return ConsumerGroupMetadata(groupId: id, generationId: group.generation, memberId: group.memberId)
    }

    private func setAssignment(_ tps: [TopicPartition]) {
        var next: [TopicPartition: PartitionState] = [:]
        for tp in tps { next[tp] = assignment[tp] ?? PartitionState(reset: group != nil ? nil : config.autoOffsetReset) }
        assignment = next
        assignmentOrder = tps.sorted()
        buffered = buffered.filter { next[$0.key] != nil }
    }

    // MARK: positions

    public func seek(_ tp: TopicPartition, offset: Int64) throws {
        guard assignment[tp] != nil else { throw KafkaError.invalidArgument("\(tp) is not assigned") }
        assignment[tp]?.position = offset
        assignment[tp]?.reset = nil
        buffered[tp] = nil
    }

    public func seekToBeginning(_ tps: [TopicPartition]? = nil) throws { try seekTo(tps, timestamp: -2) }
    public func seekToEnd(_ tps: [TopicPartition]? = nil) throws { try seekTo(tps, timestamp: -1) }

    private func seekTo(_ tps: [TopicPartition]?, timestamp: Int64) throws {
        let list = tps ?? assignmentOrder
        let offsets = try listOffsets(list, timestamp: timestamp)
        for (tp, o) in offsets { try seek(tp, offset: o) }
    }

    /// The offset of the next record poll will return for `tp` (after resolving a pending reset).
    public func position(_ tp: TopicPartition) throws -> Int64 {
        guard assignment[tp] != nil else { throw KafkaError.invalidArgument("\(tp) is not assigned") }
        try resolvePositions()
        guard let p = assignment[tp]?.position else { throw KafkaError.timeout("position of \(tp)") }
        return p
    }

    public func pause(_ tps: [TopicPartition]) {
        for tp in tps where assignment[tp] != nil {
            assignment[tp]?.paused = true
            // Drop what is buffered; its records are fetched again on resume.
            buffered[tp] = nil
        }
    }

    public func resume(_ tps: [TopicPartition]) {
        for tp in tps { assignment[tp]?.paused = false }
    }

    public var paused: [TopicPartition] { assignmentOrder.filter { assignment[$0]?.paused == true } }

    /// Log end offsets (-1) or start offsets (-2), or the first offset at/after a timestamp.
    public func listOffsets(_ tps: [TopicPartition], timestamp: Int64) throws -> [TopicPartition: Int64] {
        try OffsetLookup.listOffsets(cluster: cluster, tps, timestamp: timestamp, readCommitted: config.readCommitted)
    }

    // MARK: commits

    /// Commits the current positions (or `offsets`) and waits.
    public func commitSync(_ offsets: [TopicPartition: Int64]? = nil) throws {
        guard let group else { throw KafkaError.invalidArgument("commit needs a group.id") }
        let o = offsets ?? currentPositions()
        guard !o.isEmpty else { return }
        try group.commit(o)
    }

    /// Commits without waiting; `completion` runs on the client's loop thread.
    public func commitAsync(_ offsets: [TopicPartition: Int64]? = nil,
                            completion: @escaping @Sendable (KafkaError?) -> Void = { _ in }) {
        guard let group else { return completion(.invalidArgument("commit needs a group.id")) }
        let o = offsets ?? currentPositions()
        guard !o.isEmpty else { return completion(nil) }
        group.commitAsync(o, completion: completion)
    }

    /// The group's committed offsets for `tps` (nil where none).
    public func committed(_ tps: [TopicPartition]) throws -> [TopicPartition: Int64] {
        guard let group else { throw KafkaError.invalidArgument("committed needs a group.id") }
        return try group.fetchCommitted(tps)
    }

    private func currentPositions() -> [TopicPartition: Int64] {
        var o: [TopicPartition: Int64] = [:]
        for (tp, s) in assignment { if let p = s.position { o[tp] = p } }
        return o
    }

    private func maybeAutoCommit(force: Bool = false) {
        guard config.enableAutoCommit, let group, group.isStable || subscription.isEmpty else { return }
        let now = MonotonicClock.millis()
        guard force || now >= lastAutoCommitMs + UInt64(config.autoCommitIntervalMs) else { return }
        lastAutoCommitMs = now
        let o = currentPositions()
        guard !o.isEmpty else { return }
        if force { try? group.commit(o) } else { group.commitAsync(o) { _ in } }
    }

    // MARK: poll

    /// Returns up to max.poll.records records, waiting up to `timeoutMs` for some to arrive.
    public func poll(timeoutMs: Int) throws -> [ConsumerRecord] {
        guard !closed else { throw KafkaError.closed }
        let deadline = MonotonicClock.millis() + UInt64(max(0, timeoutMs))
        if let group, !subscription.isEmpty {
            if let change = try group.ensureActive(deadlineMs: deadline, revoke: { [self] in revokeAll() }) {
                setAssignment(change)
                listener.onAssigned(change)
            }
            if !group.isStable { return [] }
        }
        maybeAutoCommit()
        while true {
            try resolvePositions()
            drainInbox()
            let out = takeRecords()
            if !out.isEmpty {
                sendFetches()
                return out
            }
            sendFetches()
            let now = MonotonicClock.millis()
            if now >= deadline { return [] }
            if let group, !subscription.isEmpty, group.needsRejoin { return [] }
            _ = arrived.wait(timeout: .now() + .milliseconds(Int(min(deadline - now, 100))))
        }
    }

    private func revokeAll() {
        guard !assignmentOrder.isEmpty else { return }
        maybeAutoCommit(force: true)
        listener.onRevoked(assignmentOrder)
        setAssignment([])
    }

    /// Fills positions from committed offsets (group) or auto.offset.reset.
    private func resolvePositions() throws {
        let missing = assignmentOrder.filter { assignment[$0]?.position == nil }
        guard !missing.isEmpty else { return }
        var toReset: [TopicPartition: OffsetReset] = [:]
        if let group {
            let needCommitted = missing.filter { assignment[$0]?.reset == nil }
            if !needCommitted.isEmpty {
                let committed = try group.fetchCommitted(needCommitted)
                for tp in needCommitted {
                    if let c = committed[tp], c >= 0 { assignment[tp]?.position = c } else { toReset[tp] = config.autoOffsetReset }
                }
            }
        }
        for tp in missing where assignment[tp]?.position == nil {
            toReset[tp] = assignment[tp]?.reset ?? config.autoOffsetReset
        }
        if toReset.values.contains(.none) {
            throw KafkaError.broker(.offsetOutOfRange, "no committed offset and auto.offset.reset=none for \(toReset.filter { $0.value == .none }.keys.sorted())")
        }
        for policy in [OffsetReset.earliest, .latest] {
            let tps = toReset.filter { $0.value == policy }.keys.sorted()
            guard !tps.isEmpty else { continue }
            let offs = try listOffsets(tps, timestamp: policy == .earliest ? -2 : -1)
            for (tp, o) in offs {
                assignment[tp]?.position = o
                assignment[tp]?.reset = nil
            }
        }
    }

    private func takeRecords() -> [ConsumerRecord] {
        var out: [ConsumerRecord] = []
        guard !assignmentOrder.isEmpty else { return out }
        let n = assignmentOrder.count
        for i in 0..<n {
            guard out.count < config.maxPollRecords else { break }
            let tp = assignmentOrder[(rrCursor + i) % n]
            guard var queue = buffered[tp], assignment[tp]?.paused == false else { continue }
            while out.count < config.maxPollRecords, var b = queue.first {
                let take = min(config.maxPollRecords - out.count, b.records.count - b.next)
                if take > 0 {
                    out.append(contentsOf: b.records[b.next..<b.next + take])
                    b.next += take
                    assignment[tp]?.position = b.records[b.next - 1].offset + 1
                }
                if b.next >= b.records.count {
                    let cur = assignment[tp]?.position ?? 0
                    assignment[tp]?.position = max(cur, b.nextOffset)
                    queue.removeFirst()
                } else {
                    queue[0] = b
                }
            }
            buffered[tp] = queue.isEmpty ? nil : queue
        }
        rrCursor = (rrCursor + 1) % n
        return out
    }

    private func sendFetches() {
        let md = cluster.metadata
        var byNode: [Int32: [TopicPartition]] = [:]
        var needMetadata = false
        for tp in assignmentOrder {
            guard let s = assignment[tp], !s.paused, s.position != nil, (buffered[tp]?.count ?? 0) < prefetchDepth else { continue }
            guard let leader = md.leader(for: tp) else { needMetadata = true; continue }
            if fetchingNodes.contains(leader) { continue }
            byNode[leader, default: []].append(tp)
        }
        if needMetadata { cluster.requestMetadataRefresh() }
        for (node, tps) in byNode {
            var positions: [TopicPartition: Int64] = [:]
            var topics: [String: [FetchRequest.FetchPartition]] = [:]
            for tp in tps {
                guard let pos = fetchPosition(tp) else { continue }
                positions[tp] = pos
                topics[tp.topic, default: []].append(.init(partition: tp.partition, fetchOffset: pos,
                                                           partitionMaxBytes: Int32(config.maxPartitionFetchBytes)))
            }
            let req = FetchRequest(replicaId: -1, maxWaitMs: Int32(config.fetchMaxWaitMs), minBytes: Int32(config.fetchMinBytes),
                                   maxBytes: Int32(config.fetchMaxBytes), isolationLevel: config.readCommitted ? 1 : 0,
                                   sessionId: 0, sessionEpoch: -1,
                                   topics: topics.sorted { $0.key < $1.key }.map { .init(topic: $0.key, partitions: $0.value) })
            fetchingNodes.insert(node)
            let timeout = config.client.requestTimeoutMs + config.fetchMaxWaitMs
            cluster.send(req, to: .node(node), timeoutMs: timeout) { [self, positions] r in
                inbox.withLock { $0.append(FetchResult(node: node, positions: positions, response: r)) }
                arrived.signal()
            }
        }
    }

    /// Where the next fetch for `tp` starts: after what is buffered, else the position.
    private func fetchPosition(_ tp: TopicPartition) -> Int64? {
        buffered[tp]?.last?.nextOffset ?? assignment[tp]?.position
    }

    private func drainInbox() {
        let results = inbox.withLock { q -> [FetchResult] in
            let r = q
            q.removeAll()
            return r
        }
        for r in results {
            fetchingNodes.remove(r.node)
            switch r.response {
            case .failure:
                cluster.requestMetadataRefresh()
            case .success(let resp):
                for t in resp.responses {
                    for p in t.partitions { handlePartition(TopicPartition(t.topic, p.partitionIndex), p, fetchedAt: r.positions) }
                }
            }
        }
    }

    private func handlePartition(_ tp: TopicPartition, _ p: FetchResponse.PartitionData, fetchedAt: [TopicPartition: Int64]) {
        // Ignore answers for partitions we gave up or moved since (seek, rebalance).
        guard assignment[tp] != nil, let from = fetchedAt[tp], fetchPosition(tp) == from else { return }
        assignment[tp]?.highWatermark = p.highWatermark
        if p.logStartOffset >= 0 { assignment[tp]?.logStartOffset = p.logStartOffset }
        switch p.errorCode {
        case .none:
            break
        case .offsetOutOfRange:
            // Only a real reset when nothing is buffered ahead of the failed position.
            if buffered[tp] == nil {
                assignment[tp]?.position = nil
                assignment[tp]?.reset = config.autoOffsetReset
            }
            return
        default:
            if p.errorCode.invalidatesMetadata || p.errorCode.isRetriable { cluster.requestMetadataRefresh() }
            return
        }
        guard let bytes = p.records, !bytes.isEmpty else { return }
        do {
            // read_committed: the broker lists the aborted transactions in this range; their records are dropped.
            let aborted = config.readCommitted ? (p.abortedTransactions ?? []).map { (producerId: $0.producerId, firstOffset: $0.firstOffset) } : []
            let (records, next) = try FetchDecoder.decode(bytes, topic: tp.topic, partition: tp.partition, from: from,
                                                          abortedTransactions: aborted)
            if !records.isEmpty || next > from {
                buffered[tp, default: []].append(BufferedFetch(records: records, nextOffset: next))
            }
        } catch {
            // A corrupt batch must not be skipped silently: surface it on the next poll by resetting nothing
            // and stopping this partition's fetches until the caller seeks past it.
            assignment[tp]?.paused = true
            FileHandle.standardError.write(Data("kafka consumer: corrupt data in \(tp) at \(from): \(error); partition paused\n".utf8))
        }
    }

    /// Leaves the group (committing first when auto-commit is on) and closes connections.
    public func close() {
        guard !closed else { return }
        closed = true
        if let group {
            if !subscription.isEmpty { revokeAll() } else { maybeAutoCommit(force: true) }
            group.leave()
            group.stop()
        }
        if ownsCluster { cluster.close() }
    }

    /// Lag per assigned partition: high watermark minus position (from the last fetch).
    public func lag(_ tp: TopicPartition) -> Int64? {
        guard let s = assignment[tp], let p = s.position, s.highWatermark >= 0 else { return nil }
        return max(0, s.highWatermark - p)
    }
}

/// ListOffsets to each partition's leader.
enum OffsetLookup {
    static func listOffsets(cluster: KafkaCluster, _ tps: [TopicPartition], timestamp: Int64, readCommitted: Bool) throws
        -> [TopicPartition: Int64]
    {
        guard !tps.isEmpty else { return [:] }
        var result: [TopicPartition: Int64] = [:]
        var remaining = tps
        for attempt in 0..<6 {
            var md = cluster.metadata
            if remaining.contains(where: { md.leader(for: $0) == nil }) {
                md = try cluster.refreshMetadata(topics: Array(Set(remaining.map(\.topic))))
            }
            var byNode: [Int32: [TopicPartition]] = [:]
            for tp in remaining {
                if let l = md.leader(for: tp) { byNode[l, default: []].append(tp) }
            }
            var failed: [TopicPartition] = []
            var lastError: KafkaError?
            for (node, list) in byNode {
                let topics = Dictionary(grouping: list, by: \.topic).sorted { $0.key < $1.key }.map { t, ps in
                    ListOffsetsRequest.ListOffsetsTopic(name: t, partitions: ps.map { .init(partitionIndex: $0.partition, timestamp: timestamp) })
                }
                do {
                    let resp = try cluster.call(ListOffsetsRequest(replicaId: -1, isolationLevel: readCommitted ? 1 : 0, topics: topics), to: .node(node))
                    for t in resp.topics {
                        for p in t.partitions {
                            let tp = TopicPartition(t.name, p.partitionIndex)
                            if p.errorCode.isError {
                                failed.append(tp)
                                lastError = .broker(p.errorCode, "ListOffsets \(tp)")
                            } else {
                                result[tp] = p.offset
                            }
                        }
                    }
                } catch let e as KafkaError {
                    failed += list
                    lastError = e
                }
            }
            remaining = remaining.filter { result[$0] == nil }
            if remaining.isEmpty { return result }
            if attempt == 5 { throw lastError ?? KafkaError.broker(.leaderNotAvailable, "ListOffsets \(remaining)") }
            if let e = lastError, !e.isRetriable { throw e }
            usleep(UInt32(cluster.config.retryBackoffMs) * 1000 * UInt32(attempt + 1))
            _ = try? cluster.refreshMetadata(topics: Array(Set(remaining.map(\.topic))))
        }
        return result
    }
}
