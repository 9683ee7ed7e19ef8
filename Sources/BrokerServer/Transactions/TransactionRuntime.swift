import BrokerCore
import Foundation
import Protocol
import Transport

/// The transaction coordinator runtime: owns the I/O-free `TransactionCoordinator` for the
/// `__transaction_state` partitions this broker leads. It loads a partition's transactional ids by
/// replaying its log on becoming leader, writes the coordinator's records with acks=all, hands
/// marker writes to `TxnMarkerWriter`, aborts timed-out transactions on a timer, and answers
/// parked requests when their records are durable.
///
/// Lock order: this runtime's lock, then the replica manager's (and ProducerStates'). Replies and
/// marker writes run after the lock is released.
final class TransactionRuntime: @unchecked Sendable {
    typealias Reply = @Sendable (TxnReply) -> Void

    let config: BrokerConfig
    let replicas: ReplicaManager
    let logger: Logger
    let markers: TxnMarkerWriter
    private let lock = NSLock()
    private var coordinator: TransactionCoordinator
    private var loads = CoordinatorLoads()
    private var pending: [TxnRequestID: Reply] = [:]
    private var nextRequestId: TxnRequestID = 1
    private var stopped = false
    private var tickerStarted = false
    private let tickerDone = DispatchSemaphore(value: 0)
    private let loader = DispatchQueue(label: "txn-state-loader")
    private let commitTimeoutMs: UInt64 = 5000
    /// Runs on every timer pass, outside the lock (the partitions' hanging-transaction check).
    var onTick: (@Sendable (_ nowMs: Int64) -> Void)?

    init(config: BrokerConfig, replicas: ReplicaManager, markers: TxnMarkerWriter, logger: Logger) {
        self.config = config
        self.replicas = replicas
        self.markers = markers
        self.logger = logger
        var c = TxnCoordinatorConfig()
        c.stateTopicPartitions = Int32(clamping: config.transactionStateLogNumPartitions)
        c.maxTimeoutMs = Int32(clamping: config.transactionMaxTimeoutMs)
        c.idExpirationMs = Int64(config.transactionalIdExpirationMs)
        coordinator = TransactionCoordinator(config: c)
    }

    // MARK: - Lifecycle

    func start() {
        lock.withLock { tickerStarted = true }
        let interval = max(10, min(config.transactionAbortTimedOutCheckIntervalMs, 60_000))
        let t = Thread { [self] in
            var last = WallClock.millis()
            while !lock.withLock({ stopped }) {
                usleep(50_000)
                let now = WallClock.millis()
                guard now - last >= Int64(interval) else { continue }
                last = now
                lock.withLockThenRun { execute(coordinator.tick(nowMs: now)) }
                onTick?(now)
            }
            tickerDone.signal()
        }
        t.name = "txn-coordinator-ticker"
        t.start()
    }

    func stop() {
        let wait = lock.withLock { () -> Bool in
            defer { stopped = true }
            return tickerStarted && !stopped
        }
        markers.stop()
        if wait { _ = tickerDone.wait(timeout: .now() + 2) }
    }

    // MARK: - Ownership

    func partitionFor(_ transactionalId: String) -> Int32 { coordinator.partitionFor(transactionalId) }

    /// Nil when this broker coordinates the id now; else the error to answer. Caller holds the lock.
    private func unavailable(_ transactionalId: String) -> ErrorCode? {
        let p = coordinator.partitionFor(transactionalId)
        if coordinator.isLoaded(p) { return nil }
        return loads.isLoading(p) ? .coordinatorLoadInProgress : .notCoordinator
    }

    func owns(partition p: Int32) -> Bool { lock.withLock { coordinator.isLoaded(p) } }

    func leadershipChanged(led: [TopicPartition], notLed: [TopicPartition]) {
        for tp in notLed where tp.topic == TxnLogRecords.topic { unload(tp.partition) }
        for tp in led where tp.topic == TxnLogRecords.topic { scheduleLoad(tp.partition) }
    }

    private func unload(_ p: Int32) {
        lock.withLockThenRun {
            loads.cancel(p)
            guard coordinator.isLoaded(p) else { return [] }
            return execute(coordinator.unload(partition: p))
        }
    }

    private func scheduleLoad(_ p: Int32) {
        let token: UInt64? = lock.withLock { coordinator.isLoaded(p) ? nil : loads.begin(p) }
        guard let token else { return }
        loader.async { [self] in load(p, token: token) }
    }

    /// Replays the partition's records (the last per transactional id wins), then serves it.
    private func load(_ p: Int32, token: UInt64) {
        let tp = TopicPartition(TxnLogRecords.topic, p)
        var latest: [String: TxnMetadata?] = [:]
        var skipped = 0
        replicas.scanLocalLog(tp) { h, bytes in
            guard !h.isControl, let (_, records) = try? RecordBatch.records(of: bytes) else { return }
            for r in records {
                guard let key = r.key, let id = try? TxnLogRecords.transactionalId(key: key) else { skipped += 1; continue }
                guard let value = r.value else { latest[id] = .some(nil); continue }
                guard let m = try? TxnLogRecords.metadata(transactionalId: id, value: value) else { skipped += 1; continue }
                latest[id] = m
            }
        }
        let loaded: Bool = lock.withLockThenRun {
            guard loads.finish(p, token: token) else { return (false, []) }
            for (id, m) in latest { coordinator.replay(id, m) }
            return (true, execute(coordinator.loadCompleted(partition: p, nowMs: WallClock.millis())))
        }
        if loaded && !latest.isEmpty {
            logger.info("loaded \(latest.count) transactional ids from \(tp)" + (skipped > 0 ? " (\(skipped) unreadable, skipped)" : ""))
        }
    }

    // MARK: - Requests

    /// Runs one coordinator call for `transactionalId` if this broker coordinates it; `reply` answers once.
    func call(transactionalId: String, reply: @escaping Reply, failure: @escaping @Sendable (ErrorCode) -> Void,
              _ body: (inout TransactionCoordinator, TxnRequestID, Int64) -> [TxnEffect]) {
        let refused: ErrorCode? = lock.withLockThenRun {
            if transactionalId.isEmpty { return (.invalidRequest, []) }
            if let e = unavailable(transactionalId) { return (e, []) }
            let id = nextRequestId
            nextRequestId += 1
            pending[id] = reply
            return (nil, execute(body(&coordinator, id, WallClock.millis())))
        }
        if let refused { failure(refused) }
    }

    /// Read-only access (Describe/ListTransactions); `status` tells whether an id is served here.
    func read<T>(_ body: (TransactionCoordinator, _ status: (String) -> ErrorCode?) -> T) -> T {
        lock.withLock { body(coordinator, { unavailable($0) }) }
    }

    // MARK: - Effects

    /// Starts the effects with the lock held (appends in the coordinator's order); returns the
    /// replies and marker jobs to run after unlocking.
    private func execute(_ effects: [TxnEffect]) -> [() -> Void] {
        var deferred: [() -> Void] = []
        for e in effects {
            switch e {
            case .reply(let id, let r):
                if let reply = pending.removeValue(forKey: id) { deferred.append { reply(r) } }
            case .writeLog(let m, let partition, let token):
                writeLog(m, partition: partition) { [self] err in
                    let next = lock.withLock { execute(coordinator.logWritten(transactionalId: m.transactionalId, token: token, error: err)) }
                    for d in next { d() }
                }
            case .writeMarkers(let mk, let token):
                let p = coordinator.partitionFor(mk.transactionalId)
                deferred.append { [self] in
                    markers.write(mk, stillOwned: { [weak self] in self?.owns(partition: p) ?? false }) { [weak self] in
                        guard let self else { return }
                        let next = lock.withLock {
                            execute(coordinator.markersWritten(transactionalId: mk.transactionalId, token: token, nowMs: WallClock.millis()))
                        }
                        for d in next { d() }
                    }
                }
            }
        }
        return deferred
    }

    /// Appends one state record with acks=all; `done` gets nil once it is replicated, else the error
    /// the coordinator's clients are told. Runs `done` asynchronously when the append parks.
    private func writeLog(_ m: TxnMetadata, partition: Int32, done: @escaping @Sendable (ErrorCode?) -> Void) {
        let tp = TopicPartition(TxnLogRecords.topic, partition)
        let bytes: [UInt8]
        do {
            bytes = try RecordBatch.build([Record(offset: 0, timestamp: WallClock.millis(), key: TxnLogRecords.key(m.transactionalId),
                                                  value: m.state == .dead ? nil : TxnLogRecords.value(m))])
        } catch {
            logger.error("encoding transaction state for \(m.transactionalId): \(error)")
            return DispatchQueue.global().async { done(.unknownServerError) }
        }
        let r = replicas.appendToLeader(tp, records: bytes, acks: -1, knownTopic: true)
        guard r.error == .none else {
            let e = GroupRuntime.mapAppendError(r.error)
            return DispatchQueue.global().async { done(e) }
        }
        if case .done(let e) = replicas.ackStatus(tp, requiredOffset: r.requiredOffset) {
            let code: ErrorCode? = e == .noError ? nil : GroupRuntime.mapAppendError(ErrorCode(e.rawValue))
            return DispatchQueue.global().async { done(code) }
        }
        let deadline = MonotonicClock.millis() + commitTimeoutMs
        replicas.delayed.addProduce(.init(deadline: deadline, waiting: [tp: r.requiredOffset], results: [:]) { codes in
            // Possibly called right here, with this runtime's lock held: answer on another thread.
            let c = codes[tp] ?? .none
            DispatchQueue.global().async { done(c == .none ? nil : GroupRuntime.mapAppendError(c)) }
        })
        replicas.delayed.checkProduces(tp) { [replicas] in replicas.ackStatus($0, requiredOffset: $1) }
    }
}
