import Protocol

/// The transaction coordinator (KIP-98), I/O-free: requests and ticks in, `TxnEffect`s out. It
/// holds the transactional ids of the `__transaction_state` partitions loaded into it.
///
/// Every transition is first written to the state log (`.writeLog`) and applied only when the
/// runtime reports it durable (`logWritten`); while one is in flight the id answers
/// CONCURRENT_TRANSACTIONS. Ending a transaction goes Ongoing → Prepare* (log) → reply and markers
/// (`.writeMarkers`) → Complete* (log). A new InitProducerId, or the transaction timeout, fences the
/// producer: the epoch is bumped and an ongoing transaction aborted.
public struct TransactionCoordinator: Sendable {
    /// A transition written to the log but not yet applied.
    struct Pending: Sendable {
        var target: TxnMetadata
        var token: UInt64
        var reply: (TxnRequestID, TxnReply)?
        /// The id's first record: if it fails, the id was never known.
        var creates = false
    }

    struct Entry: Sendable {
        var metadata: TxnMetadata
        var pending: Pending?
        /// The token of the marker write in flight for a Prepare* state.
        var markerToken: UInt64?
        /// The epoch a KIP-360 InitProducerId bumped from (in memory, as in Kafka): a retry that
        /// names it gets the current epoch again instead of PRODUCER_FENCED.
        var lastProducerEpoch: Int16 = -1
    }

    public let config: TxnCoordinatorConfig
    private var entries: [String: Entry] = [:]
    private var loaded: Set<Int32> = []
    private var nextToken: UInt64 = 1

    public init(config: TxnCoordinatorConfig = TxnCoordinatorConfig()) { self.config = config }

    public static func partitionFor(transactionalId: String, partitions: Int32) -> Int32 {
        let h = javaStringHashCode(transactionalId)
        let positive = h == Int32.min ? 0 : abs(h)
        return partitions > 0 ? positive % partitions : 0
    }

    public func partitionFor(_ transactionalId: String) -> Int32 {
        Self.partitionFor(transactionalId: transactionalId, partitions: config.stateTopicPartitions)
    }

    public func metadata(_ transactionalId: String) -> TxnMetadata? { entries[transactionalId]?.metadata }
    public var transactions: [TxnMetadata] { entries.values.map(\.metadata) }
    public func isLoaded(_ partition: Int32) -> Bool { loaded.contains(partition) }

    // MARK: - Loading

    /// A record read back from the state log while loading (the last one per id wins; nil: tombstone).
    public mutating func replay(_ transactionalId: String, _ m: TxnMetadata?) {
        entries[transactionalId] = m.map { Entry(metadata: $0) }
    }

    /// The partition's records are replayed: serve its ids, and finish transactions caught mid-way
    /// (Prepare* states get their markers written again; markers are idempotent for consumers).
    public mutating func loadCompleted(partition: Int32, nowMs: Int64) -> [TxnEffect] {
        loaded.insert(partition)
        var out: [TxnEffect] = []
        for id in entries.keys.sorted() where partitionFor(id) == partition {
            guard let m = entries[id]?.metadata else { continue }
            if m.state == .prepareCommit || m.state == .prepareAbort { out += sendMarkers(id) }
        }
        return out
    }

    /// This broker no longer coordinates the partition: forget its ids; parked requests get NOT_COORDINATOR.
    public mutating func unload(partition: Int32) -> [TxnEffect] {
        loaded.remove(partition)
        var out: [TxnEffect] = []
        for (id, e) in entries where partitionFor(id) == partition {
            if let (rid, reply) = e.pending?.reply { out.append(.reply(rid, Self.failed(reply, .notCoordinator))) }
            entries[id] = nil
        }
        return out
    }

    // MARK: - Requests

    /// InitProducerId with a transactional id. `freshProducerId` is used when the id is new or its
    /// epoch is exhausted. `expected` (v3+, KIP-360) is the producer id and epoch the client still
    /// holds: a producer recovering from an abortable error keeps its id, and any other is fenced.
    public mutating func initProducerId(transactionalId: String, timeoutMs: Int32, freshProducerId: Int64,
                                        expected: (producerId: Int64, epoch: Int16)? = nil,
                                        requestId: TxnRequestID, nowMs: Int64) -> [TxnEffect] {
        func fail(_ e: ErrorCode) -> [TxnEffect] { [.reply(requestId, .initProducerId(e, producerId: -1, producerEpoch: -1))] }
        guard timeoutMs > 0, timeoutMs <= config.maxTimeoutMs else { return fail(.invalidTransactionTimeout) }
        guard let e = entries[transactionalId] else {
            guard entries.count < config.maxTransactionalIds else { return fail(.coordinatorNotAvailable) }
            let m = TxnMetadata(transactionalId: transactionalId, producerId: freshProducerId, producerEpoch: 0,
                                timeoutMs: timeoutMs, state: .empty, lastUpdateMs: nowMs)
            entries[transactionalId] = Entry(metadata: m)
            return transition(transactionalId, to: m, creates: true,
                              reply: (requestId, .initProducerId(.none, producerId: m.producerId, producerEpoch: 0)))
        }
        if e.pending != nil { return fail(.concurrentTransactions) }
        var m = e.metadata
        if let x = expected, x.producerId != m.producerId { return fail(.producerFenced) }
        switch m.state {
        case .prepareCommit, .prepareAbort, .dead:
            return fail(.concurrentTransactions)
        case .ongoing:
            // A stale epoch must not abort the current producer's transaction.
            if let x = expected, x.epoch != m.producerEpoch { return fail(.producerFenced) }
            // Fence the old producer and abort its transaction; the client retries until it is done.
            var target = m
            target.producerEpoch = Self.bumped(m.producerEpoch)
            target.state = .prepareAbort
            target.lastUpdateMs = nowMs
            return transition(transactionalId, to: target, reply: (requestId, .initProducerId(.concurrentTransactions, producerId: -1, producerEpoch: -1)))
        case .empty, .completeCommit, .completeAbort:
            var last: Int16 = -1
            if m.producerEpoch >= Int16.max - 1 && (expected == nil || expected?.epoch == m.producerEpoch) {
                m.producerId = freshProducerId
                m.producerEpoch = 0
            } else if let x = expected, x.epoch != m.producerEpoch {
                // A retry of a bump whose answer was lost keeps the epoch; any other epoch is a zombie.
                guard x.epoch == e.lastProducerEpoch else { return fail(.producerFenced) }
                last = e.lastProducerEpoch
            } else {
                if expected != nil { last = m.producerEpoch }
                m.producerEpoch += 1
            }
            entries[transactionalId]?.lastProducerEpoch = last
            m.timeoutMs = timeoutMs
            m.state = .empty
            m.partitions = []
            m.txnStartMs = -1
            m.lastUpdateMs = nowMs
            return transition(transactionalId, to: m,
                              reply: (requestId, .initProducerId(.none, producerId: m.producerId, producerEpoch: m.producerEpoch)))
        }
    }

    /// AddPartitionsToTxn (and AddOffsetsToTxn, with the group's offsets partition).
    public mutating func addPartitions(transactionalId: String, producerId: Int64, producerEpoch: Int16,
                                       partitions: Set<TopicPartition>, requestId: TxnRequestID, nowMs: Int64) -> [TxnEffect] {
        func fail(_ e: ErrorCode) -> [TxnEffect] {
            [.reply(requestId, .addPartitions(Dictionary(uniqueKeysWithValues: partitions.map { ($0, e) })))]
        }
        if let e = check(transactionalId, producerId, producerEpoch) { return fail(e) }
        guard var m = entries[transactionalId]?.metadata else { return fail(.invalidProducerIdMapping) }
        switch m.state {
        case .prepareCommit, .prepareAbort: return fail(.concurrentTransactions)
        case .dead: return fail(.invalidTxnState)
        case .ongoing where partitions.isSubset(of: m.partitions):
            return [.reply(requestId, .addPartitions(Dictionary(uniqueKeysWithValues: partitions.map { ($0, .none) })))]
        case .empty, .ongoing, .completeCommit, .completeAbort: break
        }
        let all = m.state == .ongoing ? m.partitions.union(partitions) : partitions
        guard all.count <= config.maxPartitionsPerTxn else { return fail(.invalidRequest) }
        if m.state != .ongoing { m.txnStartMs = nowMs }
        m.state = .ongoing
        m.partitions = all
        m.lastUpdateMs = nowMs
        return transition(transactionalId, to: m,
                          reply: (requestId, .addPartitions(Dictionary(uniqueKeysWithValues: partitions.map { ($0, .none) }))))
    }

    /// EndTxn: commit or abort the ongoing transaction. A retry of an end already done succeeds.
    public mutating func endTxn(transactionalId: String, producerId: Int64, producerEpoch: Int16, commit: Bool,
                                requestId: TxnRequestID, nowMs: Int64) -> [TxnEffect] {
        func done(_ e: ErrorCode) -> [TxnEffect] { [.reply(requestId, .endTxn(e))] }
        if let e = check(transactionalId, producerId, producerEpoch) {
            // A retried abort after the timeout aborted it: the producer is fenced either way.
            return done(e)
        }
        guard var m = entries[transactionalId]?.metadata else { return done(.invalidProducerIdMapping) }
        switch (m.state, commit) {
        case (.ongoing, _):
            m.state = commit ? .prepareCommit : .prepareAbort
            m.lastUpdateMs = nowMs
            return transition(transactionalId, to: m, reply: (requestId, .endTxn(.none)))
        case (.completeCommit, true), (.completeAbort, false): return done(.none)
        case (.prepareCommit, true), (.prepareAbort, false): return done(.concurrentTransactions)
        default: return done(.invalidTxnState)
        }
    }

    /// Whether a producer may attach consumer offsets (TxnOffsetCommit) to its transaction now.
    public func checkTxnOffsetCommit(transactionalId: String, producerId: Int64, producerEpoch: Int16) -> ErrorCode {
        if let e = check(transactionalId, producerId, producerEpoch) { return e }
        return entries[transactionalId]?.metadata.state == .ongoing ? .none : .invalidTxnState
    }

    /// Aborts transactions older than their timeout, fencing their producers (epoch bump), and
    /// removes ids idle past `idExpirationMs` (Dead, written as a tombstone).
    public mutating func tick(nowMs: Int64) -> [TxnEffect] {
        var out: [TxnEffect] = []
        for id in entries.keys.sorted() {
            guard let e = entries[id], e.pending == nil, e.markerToken == nil else { continue }
            let idle: Set<TxnState> = [.empty, .completeCommit, .completeAbort]
            if idle.contains(e.metadata.state), nowMs - e.metadata.lastUpdateMs > config.idExpirationMs {
                var dead = e.metadata
                dead.state = .dead
                dead.lastUpdateMs = nowMs
                out += transition(id, to: dead, reply: nil)
                continue
            }
            guard e.metadata.state == .ongoing, nowMs - e.metadata.txnStartMs > Int64(e.metadata.timeoutMs) else { continue }
            var target = e.metadata
            target.producerEpoch = Self.bumped(target.producerEpoch)
            target.state = .prepareAbort
            target.lastUpdateMs = nowMs
            out += transition(id, to: target, reply: nil)
        }
        return out
    }

    // MARK: - Completions from the runtime

    /// The log write with `token` is durable (`error` nil) or failed.
    public mutating func logWritten(transactionalId: String, token: UInt64, error: ErrorCode?) -> [TxnEffect] {
        guard var e = entries[transactionalId], let p = e.pending, p.token == token else { return [] }
        e.pending = nil
        guard error == nil else {
            // Nothing changed; a brand-new id that never reached the log is forgotten.
            entries[transactionalId] = p.creates ? nil : e
            return p.reply.map { [.reply($0.0, Self.failed($0.1, error ?? .unknownServerError))] } ?? []
        }
        e.metadata = p.target
        // A dead id's tombstone is durable: it is gone (a new InitProducerId starts it afresh).
        entries[transactionalId] = p.target.state == .dead ? nil : e
        var out: [TxnEffect] = p.reply.map { [.reply($0.0, $0.1)] } ?? []
        if p.target.state == .prepareCommit || p.target.state == .prepareAbort { out += sendMarkers(transactionalId) }
        return out
    }

    /// Every marker of the transaction is written: record it complete.
    public mutating func markersWritten(transactionalId: String, token: UInt64, nowMs: Int64) -> [TxnEffect] {
        guard var e = entries[transactionalId], e.markerToken == token, e.pending == nil else { return [] }
        e.markerToken = nil
        entries[transactionalId] = e
        var m = e.metadata
        m.state = m.state == .prepareCommit ? .completeCommit : .completeAbort
        m.partitions = []
        m.txnStartMs = -1
        m.lastUpdateMs = nowMs
        return transition(transactionalId, to: m, reply: nil)
    }

    // MARK: - Helpers

    /// Kafka's order of checks: the id must map to this producer id, at its current epoch, with no
    /// transition in flight.
    private func check(_ id: String, _ producerId: Int64, _ epoch: Int16) -> ErrorCode? {
        guard !id.isEmpty else { return .invalidRequest }
        guard let e = entries[id] else { return loaded.contains(partitionFor(id)) ? .invalidProducerIdMapping : .notCoordinator }
        if e.metadata.producerId != producerId { return .invalidProducerIdMapping }
        if e.metadata.producerEpoch != epoch { return .producerFenced }
        if e.pending != nil || e.markerToken != nil { return .concurrentTransactions }
        return nil
    }

    /// Starts writing `target`; a move the state machine does not allow is refused with INVALID_TXN_STATE.
    private mutating func transition(_ id: String, to target: TxnMetadata, creates: Bool = false,
                                     reply: (TxnRequestID, TxnReply)?) -> [TxnEffect] {
        guard var e = entries[id] else { return [] }
        guard creates || e.metadata.state.successors.contains(target.state) else {
            return reply.map { [.reply($0.0, Self.failed($0.1, .invalidTxnState))] } ?? []
        }
        let token = takeToken()
        e.pending = Pending(target: target, token: token, reply: reply, creates: creates)
        entries[id] = e
        return [.writeLog(target, partition: partitionFor(id), token: token)]
    }

    private mutating func sendMarkers(_ id: String) -> [TxnEffect] {
        guard var e = entries[id] else { return [] }
        let token = takeToken()
        e.markerToken = token
        entries[id] = e
        let m = e.metadata
        return [.writeMarkers(TxnMarkers(transactionalId: id, producerId: m.producerId, producerEpoch: m.producerEpoch,
                                         commit: m.state == .prepareCommit, partitions: m.partitions), token: token)]
    }

    private mutating func takeToken() -> UInt64 {
        defer { nextToken += 1 }
        return nextToken
    }

    static func bumped(_ epoch: Int16) -> Int16 { epoch < Int16.max - 1 ? epoch + 1 : epoch }

    static func failed(_ reply: TxnReply, _ e: ErrorCode) -> TxnReply {
        switch reply {
        case .initProducerId: .initProducerId(e, producerId: -1, producerEpoch: -1)
        case .addPartitions(let ps): .addPartitions(ps.mapValues { _ in e })
        case .endTxn: .endTxn(e)
        }
    }
}
