import BrokerCore
import Foundation
import Protocol
import Transport

/// How a parked group request is finally answered: the coordinator's response, or nil with the error
/// for the whole request; a non-nil error next to a response replaces its successes (the records
/// behind it could not be written).
typealias GroupReply = @Sendable (_ response: GroupResponse?, _ error: ErrorCode?) -> Void

/// The group coordinator runtime: owns the I/O-free `GroupCoordinator` for the `__consumer_offsets`
/// partitions this broker leads, loads a partition's groups by replaying its log when it becomes
/// leader, unloads them when it stops, writes the coordinator's records with acks=all and answers
/// parked requests (JoinGroup/SyncGroup long polls, commits) when their effects complete.
///
/// Lock order: this runtime's lock, then the replica manager's. The replica manager calls back in
/// (leadership hooks) only after releasing its lock; reply closures never take this lock.
final class GroupRuntime: @unchecked Sendable {
    static let tickIntervalMs: UInt32 = 100

    let config: BrokerConfig
    let replicas: ReplicaManager
    let logger: Logger
    let partitionCount: Int32
    /// offsets.commit.timeout.ms: how long a group append waits for the ISR.
    let commitTimeoutMs: UInt64
    /// offsets.retention.check.interval.ms
    let retentionCheckIntervalMs: Int64
    private let lock = NSLock()
    private var coordinator: GroupCoordinator
    /// Offsets partitions whose groups are loaded here.
    private var owned: Set<Int32> = []
    /// Offsets partitions being loaded.
    private var loads = CoordinatorLoads()
    private var stopped = false
    private let pendingLock = NSLock()
    private var pending: [GroupRequestID: GroupReply] = [:]
    private var nextRequestId: GroupRequestID = 1
    private let loader = DispatchQueue(label: "group-loader")
    /// Where the coordinator hears that a group's assignment was (or was not) written.
    private let storeResults = DispatchQueue(label: "group-store-results")
    private let tickerDone = DispatchSemaphore(value: 0)
    private var tickerStarted = false

    init(config: BrokerConfig, replicas: ReplicaManager, logger: Logger) {
        self.config = config
        self.replicas = replicas
        self.logger = logger
        var gc = GroupConfig()
        gc.minSessionTimeoutMs = Int32(clamping: config.groupMinSessionTimeoutMs)
        gc.maxSessionTimeoutMs = Int32(clamping: config.groupMaxSessionTimeoutMs)
        gc.initialRebalanceDelayMs = Int32(clamping: max(0, config.groupInitialRebalanceDelayMs))
        gc.offsetsTopicPartitions = Int32(clamping: config.offsetsTopicNumPartitions)
        // Keys BrokerConfig does not model; positive integers only, else Kafka's defaults.
        func raw(_ key: String) -> Int? { config.raw[key].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.flatMap { $0 > 0 ? $0 : nil } }
        if let n = raw("group.max.size") { gc.maxGroupSize = n }
        if let n = raw("offset.metadata.max.bytes") { gc.maxOffsetMetadataBytes = n }
        commitTimeoutMs = UInt64(raw("offsets.commit.timeout.ms") ?? 5000)
        retentionCheckIntervalMs = Int64(raw("offsets.retention.check.interval.ms") ?? 600_000)
        partitionCount = gc.offsetsTopicPartitions
        coordinator = GroupCoordinator(config: gc, idSeed: UInt64.random(in: 0...UInt64.max))
    }

    // MARK: - Lifecycle

    /// Starts the session/rebalance timer.
    func start() {
        lock.withLock { tickerStarted = true }
        let t = Thread { [self] in
            var lastExpiry = WallClock.millis()
            while !lock.withLock({ stopped }) {
                usleep(GroupRuntime.tickIntervalMs * 1000)
                let now = WallClock.millis()
                var deferred = apply { c in c.tick(nowMs: now) }
                if now - lastExpiry >= retentionCheckIntervalMs {
                    lastExpiry = now
                    let (ms, overflow) = Int64(config.offsetsRetentionMinutes).multipliedReportingOverflow(by: 60_000)
                    let retention = overflow ? Int64.max : ms
                    deferred += apply { c in c.expireOffsets(nowMs: now, retentionMs: retention) }
                }
                for d in deferred { d() }
            }
            tickerDone.signal()
        }
        t.name = "group-coordinator-ticker"
        t.start()
    }

    func stop() {
        let wait = lock.withLock { () -> Bool in
            defer { stopped = true }
            return tickerStarted && !stopped
        }
        if wait { _ = tickerDone.wait(timeout: .now() + 2) }
    }

    // MARK: - Ownership

    func partitionFor(_ groupId: String) -> Int32 { GroupCoordinator.partitionFor(groupId: groupId, partitions: partitionCount) }

    /// Nil when this broker coordinates `groupId` now; else the error to answer with. Caller holds the lock.
    private func unavailable(_ groupId: String) -> ErrorCode? {
        let p = partitionFor(groupId)
        if owned.contains(p) { return nil }
        return loads.isLoading(p) ? .coordinatorLoadInProgress : .notCoordinator
    }

    /// The replica manager's hook: load offsets partitions we now lead, unload those we do not.
    func leadershipChanged(led: [TopicPartition], notLed: [TopicPartition]) {
        for tp in notLed where tp.topic == OffsetsTopicRecords.topic { unload(tp.partition) }
        for tp in led where tp.topic == OffsetsTopicRecords.topic { scheduleLoad(tp.partition) }
    }

    private func unload(_ p: Int32) {
        let unloaded: Bool = lock.withLockThenRun {
            loads.cancel(p)
            guard owned.remove(p) != nil else { return (false, []) }
            return (true, execute(coordinator.unload(partition: p)))
        }
        guard unloaded else { return }
        logger.info("unloaded groups of \(OffsetsTopicRecords.topic)-\(p)")
    }

    private func scheduleLoad(_ p: Int32) {
        let token: UInt64? = lock.withLock { owned.contains(p) ? nil : loads.begin(p) }
        guard let token else { return }
        loader.async { [self] in load(p, token: token) }
    }

    /// Replays the partition's log into the coordinator, unless leadership changed meanwhile.
    private func load(_ p: Int32, token: UInt64) {
        let tp = TopicPartition(OffsetsTopicRecords.topic, p)
        var records: [GroupRecord] = []
        var skipped = 0
        replicas.scanLocalLog(tp) { _, bytes in
            let r = OffsetsTopicRecords.groupRecords(inBatch: bytes)
            records += r.records
            skipped += r.skipped
        }
        let loaded: Bool = lock.withLock {
            guard loads.finish(p, token: token) else { return false }
            let now = WallClock.millis()
            for r in records { coordinator.replay(r, nowMs: now) }
            owned.insert(p)
            return true
        }
        if loaded && !records.isEmpty {
            logger.info("loaded \(records.count) group records from \(tp)" + (skipped > 0 ? " (\(skipped) unreadable, skipped)" : ""))
        }
    }

    // MARK: - Requests

    /// Runs one coordinator call for `groupId` if this broker coordinates it; `reply` answers once.
    /// Only the offset APIs accept an empty group id (Kafka keeps that for old clients).
    func call(groupId: String, allowEmptyId: Bool = false, reply: @escaping GroupReply,
              _ body: (inout GroupCoordinator, GroupRequestID, Int64) -> [GroupEffect]) {
        if groupId.isEmpty && !allowEmptyId { return reply(nil, .invalidGroupId) }
        let refused: ErrorCode? = lock.withLockThenRun {
            if let e = unavailable(groupId) { return (e, []) }
            let id = register(reply)
            return (nil, execute(body(&coordinator, id, WallClock.millis())))
        }
        if let refused { reply(nil, refused) }
    }

    /// Like `call` for requests naming several groups (DeleteGroups): `body` gets the ids this broker
    /// coordinates; the others are reported in `refused`.
    func callMany(groupIds: [String], reply: @escaping @Sendable (GroupResponse?, ErrorCode?, _ refused: [String: ErrorCode]) -> Void,
                  _ body: (inout GroupCoordinator, [String], GroupRequestID, Int64) -> [GroupEffect]) {
        lock.withLockThenRun {
            var refused: [String: ErrorCode] = [:]
            var mine: [String] = []
            for g in groupIds {
                if let e = unavailable(g) { refused[g] = e } else { mine.append(g) }
            }
            let r = refused
            let id = register { resp, err in reply(resp, err, r) }
            return execute(body(&coordinator, mine, id, WallClock.millis()))
        }
    }

    /// Read-only access; `status` tells whether a group is served here (nil) or the error to answer.
    func read<T>(_ body: (GroupCoordinator, _ status: (String) -> ErrorCode?, _ anyLoading: Bool) -> T) -> T {
        lock.withLock { body(coordinator, { unavailable($0) }, !loads.isEmpty) }
    }

    /// Runs a coordinator mutation without a request (timers); returns what to do after unlocking.
    private func apply(_ body: (inout GroupCoordinator) -> [GroupEffect]) -> [() -> Void] {
        lock.withLock { execute(body(&coordinator)) }
    }

    private func register(_ reply: @escaping GroupReply) -> GroupRequestID {
        pendingLock.withLock {
            let id = nextRequestId
            nextRequestId += 1
            pending[id] = reply
            return id
        }
    }

    private func deliver(_ p: PendingResponse, error: ErrorCode?) {
        guard let reply = pendingLock.withLock({ pending.removeValue(forKey: p.requestId) }) else { return }
        reply(p.response, error)
    }

    // MARK: - Effects

    /// Performs effects with the lock held: appends happen here, in the order the coordinator decided
    /// them; responses are returned as closures to run after unlocking.
    private func execute(_ effects: [GroupEffect]) -> [() -> Void] {
        var deferred: [() -> Void] = []
        for e in effects {
            switch e {
            case .respond(let p):
                deferred.append { [self] in deliver(p, error: nil) }
            case .append(let appends, let then):
                guard !appends.isEmpty else {
                    deferred.append { [self] in for p in then { deliver(p, error: nil) } }
                    continue
                }
                let waiter = AppendWaiter(count: appends.count) { [self] err in
                    for p in then { deliver(p, error: err) }
                }
                for a in appends { append(a, waiter) }
            case let .storeGroup(a, groupId, generation):
                // The waiter may finish inside `append` (this lock held), so the coordinator hears
                // the outcome on another thread.
                append(a, AppendWaiter(count: 1) { [self] err in
                    storeResults.async { [self] in
                        let error = err.map { KafkaError(rawValue: $0.rawValue) ?? .unknownServerError }
                        let after = lock.withLock {
                            execute(coordinator.groupStored(groupId: groupId, generation: generation, error: error, nowMs: WallClock.millis()))
                        }
                        for d in after { d() }
                    }
                })
            }
        }
        return deferred
    }

    /// Appends one coordinator record set to its offsets partition with acks=all; tells `waiter`.
    private func append(_ a: RecordAppend, _ waiter: AppendWaiter) {
        let tp = TopicPartition(OffsetsTopicRecords.topic, a.partition)
        let bytes: [UInt8]
        do {
            bytes = try OffsetsTopicRecords.batch(a.records, timestampMs: WallClock.millis())
        } catch {
            logger.error("encoding group records for \(tp): \(error)")
            waiter.finish(.unknownServerError)
            return
        }
        let r = replicas.appendToLeader(tp, records: bytes, acks: -1, knownTopic: true)
        guard r.error == .none else {
            waiter.finish(GroupRuntime.mapAppendError(r.error))
            return
        }
        if case .done(let e) = replicas.ackStatus(tp, requiredOffset: r.requiredOffset) {
            waiter.finish(e == .noError ? nil : GroupRuntime.mapAppendError(ErrorCode(e.rawValue)))
            return
        }
        let deadline = MonotonicClock.millis() + commitTimeoutMs
        replicas.delayed.addProduce(.init(deadline: deadline, waiting: [tp: r.requiredOffset], results: [:]) { codes in
            let c = codes[tp] ?? .none
            waiter.finish(c == .none ? nil : GroupRuntime.mapAppendError(c))
        })
        replicas.delayed.checkProduces(tp) { [replicas] in replicas.ackStatus($0, requiredOffset: $1) }
    }

    /// Kafka's mapping of a failed offsets-topic append to what group clients are told.
    static func mapAppendError(_ e: ErrorCode) -> ErrorCode {
        switch e {
        case .unknownTopicOrPartition, .notEnoughReplicas, .notEnoughReplicasAfterAppend, .requestTimedOut: return .coordinatorNotAvailable
        case .notLeaderOrFollower, .kafkaStorageError: return .notCoordinator
        case .messageTooLarge, .recordListTooLarge, .invalidFetchSize: return .invalidCommitOffsetSize
        default: return e
        }
    }
}

/// Counts down the appends of one effect; the first error wins.
final class AppendWaiter: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int
    private var error: ErrorCode?
    private let done: @Sendable (ErrorCode?) -> Void

    init(count: Int, done: @escaping @Sendable (ErrorCode?) -> Void) {
        remaining = count
        self.done = done
    }

    func finish(_ e: ErrorCode?) {
        let fire: Bool = lock.withLock {
            if error == nil { error = e }
            remaining -= 1
            return remaining == 0
        }
        if fire { done(lock.withLock { error }) }
    }
}
