import Dispatch
import Foundation
import Protocol
import Synchronization
import Transport

/// What `Consumer.groupMetadata()` answers, for `sendOffsetsToTransaction`: the broker checks the
/// generation and member id when the transaction commits, so a zombie consumer's offsets are refused.
public struct ConsumerGroupMetadata: Sendable, Equatable {
    public var groupId: String
    public var generationId: Int32
    public var memberId: String
    public var groupInstanceId: String?
    public init(groupId: String, generationId: Int32 = -1, memberId: String = "", groupInstanceId: String? = nil) {
        self.groupId = groupId; self.generationId = generationId; self.memberId = memberId
        self.groupInstanceId = groupInstanceId
    }
}

/// Transactions (KIP-98): requires `transactionalId`. Calls block the calling thread (never call them
/// from a delivery callback) and retry CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS and
/// NOT_COORDINATOR until `max.block.ms`. PRODUCER_FENCED / INVALID_PRODUCER_EPOCH are fatal: every
/// later call throws them and the producer must be closed.
extension Producer {
    /// The producer's transaction state (nil without transactional.id).
    public var transactionState: TransactionState? { txn?.state.withLock { $0.state } }

    /// Registers the transactional.id with its coordinator: fences older producers with the same id and
    /// aborts (or completes) what they left open. Call once, before the first transaction.
    public func initTransactions() throws {
        try withTxn { try $0.checkInit() }
        try registerProducerId()
        try withTxn { $0.initialized() }
    }

    /// InitProducerId for the transactional id; the loop adopts the id and epoch (sequences restart).
    private func registerProducerId() throws {
        let id = try withTxn { $0.transactionalId }
        let resp = try coordinatorCall("InitProducerId") { _ in
            InitProducerIdRequest(transactionalId: id, transactionTimeoutMs: Int32(config.transactionTimeoutMs))
        } error: { $0.errorCode }
        txnIds.withLock { $0 = (resp.producerId, resp.producerEpoch) }
        let done = DispatchSemaphore(value: 0)
        cluster.onLoop { [self] in
            adoptProducerId(resp.producerId, epoch: resp.producerEpoch)
            done.signal()
        }
        done.wait()
    }

    public func beginTransaction() throws {
        try withTxn { try $0.begin() }
    }

    /// Adds the consumer's offsets to the open transaction: they become the group's committed offsets
    /// exactly when (and only if) the transaction commits. `offsets` are the next positions to read.
    public func sendOffsetsToTransaction(_ offsets: [TopicPartition: Int64], groupMetadata: ConsumerGroupMetadata) throws {
                let group = groupMetadata.groupId
        guard !group.isEmpty else { throw KafkaError.invalidArgument("sendOffsetsToTransaction needs a group id") }
        let id = try withTxn { $0.transactionalId }
        do {
            if try withTxn({ try $0.checkSendOffsets(group: group) }) {
                _ = try coordinatorCall("AddOffsetsToTxn") { ids in
                    AddOffsetsToTxnRequest(transactionalId: id, producerId: ids.0, producerEpoch: ids.1, groupId: group)
                } error: { $0.errorCode }
                try withTxn { $0.addedGroup(group) }
            }
            guard !offsets.isEmpty else { return }
            let topics = Dictionary(grouping: offsets.keys, by: \.topic).sorted { $0.key < $1.key }.map { t, tps in
                TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic(name: t, partitions: tps.sorted().map {
                    .init(partitionIndex: $0.partition, committedOffset: offsets[$0] ?? 0, committedMetadata: nil)
                })
            }
            _ = try coordinatorCall("TxnOffsetCommit", group: group) { ids in
                TxnOffsetCommitRequest(transactionalId: id, groupId: group, producerId: ids.0, producerEpoch: ids.1,
                                       generationId: groupMetadata.generationId, memberId: groupMetadata.memberId,
                                       groupInstanceId: groupMetadata.groupInstanceId, topics: topics)
            } error: { r in
                r.topics.lazy.flatMap(\.partitions).map(\.errorCode).first { $0.isError } ?? .none
            }
        } catch let e as KafkaError {
            noteTransactionFailure(e)
            throw e
        }
    }

    /// Flushes every record of the transaction, then commits it. A send that failed in the
    /// transaction makes this throw; then call `abortTransaction()`. A timeout may be retried.
    public func commitTransaction(timeoutMs: Int? = nil) throws {
                try withTxn { try $0.beginCommit() }
        try flush(timeoutMs: timeoutMs ?? config.maxBlockMs)
        if let e = try withTxn({ $0.pendingError }) { throw e }
        try endTransaction(commit: true)
    }

    /// Drops the records not yet sent, waits for those in flight, and aborts the transaction:
    /// read_committed consumers never see any of its records, and its offsets are not committed.
    public func abortTransaction(timeoutMs: Int? = nil) throws {
                try withTxn { try $0.beginAbort() }
        let deadline = MonotonicClock.millis() + UInt64(timeoutMs ?? config.maxBlockMs)
        while true {
            let unsent = shared.withLock { $0.accumulator.abortAll() }
            for b in unsent { complete(b, .failure(.broker(.transactionAbortable, "transaction aborted before \(b.tp) was sent"))) }
            if incomplete.load(ordering: .relaxed) == 0 { break }
            guard MonotonicClock.millis() < deadline else { throw KafkaError.timeout("abortTransaction: records in flight") }
            cond.lock()
            _ = cond.wait(until: Date(timeIntervalSinceNow: 0.05))
            cond.unlock()
        }
        try endTransaction(commit: false)
        if sequenceGap.exchange(false, ordering: .relaxed) {
            // Lost sequence numbers would make the next transaction's batches out of order: a new
            // epoch restarts them (as Kafka's producer does, there with KIP-360's epoch bump).
            try registerProducerId()
        }
    }

    // MARK: internals

    /// Runs `body` on the transaction state; throws without transactional.id or after a fatal error.
    func withTxn<T>(_ body: (inout TransactionManager) throws -> T) throws -> T {
        guard let txn else { throw KafkaError.invalidArgument("transactional.id is not set") }
        return try txn.state.withLock { t in
            if let e = t.fatalError { throw e }
            return try body(&t)
        }
    }

    /// Before the first record to `tp` in a transaction: AddPartitionsToTxn (blocking, on the caller's thread).
    func ensureInTransaction(_ tp: TopicPartition) throws {
                guard try withTxn({ try $0.checkSend(tp) }) else { return }
        let id = try withTxn { $0.transactionalId }
        do {
            _ = try coordinatorCall("AddPartitionsToTxn") { ids in
                AddPartitionsToTxnRequest(transactionalId: id, producerId: ids.0, producerEpoch: ids.1,
                                          topics: [.init(name: tp.topic, partitions: [tp.partition])])
            } error: { r in
                r.resultsByTopic.lazy.flatMap(\.resultsByPartition).map(\.partitionErrorCode).first { $0.isError } ?? .none
            }
        } catch let e as KafkaError {
            noteTransactionFailure(e)
            throw e
        }
        try withTxn { $0.added([tp]) }
    }

    /// A failure inside the transaction: fatal ones stop the producer, the rest require an abort.
    func noteTransactionFailure(_ e: KafkaError) {
        guard let txn else { return }
        let fatalNow = txn.state.withLock { t -> Bool in
            t.fail(e)
            return t.fatalError != nil
        }
        if fatalNow { fatal.withLock { if $0 == nil { $0 = e } } }
    }

    private func endTransaction(commit: Bool) throws {
                let id = try withTxn { $0.transactionalId }
        do {
            _ = try coordinatorCall("EndTxn") { ids in
                EndTxnRequest(transactionalId: id, producerId: ids.0, producerEpoch: ids.1, committed: commit)
            } error: { $0.errorCode }
        } catch let e as KafkaError {
            if case .broker(let c, _) = e, TransactionManager.classify(c) == .fatal { noteTransactionFailure(e) }
            throw e
        }
        try withTxn { $0.ended() }
    }

    /// Sends a request to the transaction coordinator (or the group's, with `group`), retrying what
    /// KIP-98 says to retry until max.block.ms. `make` gets the current producer id and epoch.
    private func coordinatorCall<R: KafkaRequestMessage>(
        _ what: String, group: String? = nil, _ make: ((Int64, Int16)) -> R, error: (R.Response) -> ErrorCode
    ) throws -> R.Response {
        let key = group ?? config.transactionalId ?? ""
        let keyType: Int8 = group == nil ? 1 : 0
        let deadline = MonotonicClock.millis() + UInt64(config.maxBlockMs)
        var lastError = KafkaError.timeout(what)
        var attempt = 0
        var coordinator: Int32?
        while true {
            if let e = fatal.withLock({ $0 }) { throw e }
            do {
                let node = try coordinator ?? findCoordinator(key: key, keyType: keyType)
                coordinator = node
                let resp = try cluster.call(make(txnIds.withLock { $0 }), to: .node(node))
                let code = error(resp)
                if !code.isError { return resp }
                lastError = .broker(code, "\(what) \(key)")
                switch TransactionManager.classify(code) {
                case .retry: break
                case .refindCoordinator: coordinator = nil
                case .abortable, .fatal: throw lastError
                }
            } catch let e as KafkaError where e.isRetriable {
                lastError = e
                coordinator = nil
            }
            attempt += 1
            let now = MonotonicClock.millis()
            guard now < deadline else { throw lastError }
            let backoff = UInt64(min(config.client.retryBackoffMs * attempt, 1000))
            usleep(UInt32(min(backoff, deadline - now)) * 1000)
        }
    }

    /// FindCoordinator; the coordinator gets its own connection id so EndTxn never waits behind produces.
    private func findCoordinator(key: String, keyType: Int8) throws -> Int32 {
        let r = try cluster.call(FindCoordinatorRequest.one(key, keyType: keyType), to: .any).one(key)
        guard !r.errorCode.isError else { throw KafkaError.broker(r.errorCode, "FindCoordinator \(key)") }
        guard r.nodeId >= 0, r.port > 0, r.port <= 65535 else {
            throw KafkaError.broker(.coordinatorNotAvailable, "FindCoordinator \(key): no node")
        }
        let id = Int32.max &- (keyType == 1 ? 20_000 : 10_000) &- r.nodeId
        cluster.registerNode(id, address: HostPort(host: r.host, port: Int(r.port)))
        return id
    }
}

/// The producer's transaction state behind a lock (a class so the optional stays copyable).
final class TransactionBox: Sendable {
    let state: Mutex<TransactionManager>
    init(_ t: TransactionManager) { state = Mutex(t) }
}
