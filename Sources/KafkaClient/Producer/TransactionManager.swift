import Protocol

/// Where a transactional producer stands (KIP-98). The Producer drives it; it does no I/O.
public enum TransactionState: Equatable, Sendable {
    case uninitialized
    case ready
    case inTransaction
    case committing
    case aborting
    /// A send or offset commit in the open transaction failed: only `abortTransaction()` is allowed.
    case abortableError(KafkaError)
    /// Fenced by a newer producer with the same transactional.id, or refused for good: close the producer.
    case fatalError(KafkaError)
}

/// What a transactional request's error means for the client.
public enum TxnErrorClass: Equatable, Sendable {
    case retry
    /// Look the coordinator up again, then retry.
    case refindCoordinator
    /// The transaction can still be aborted.
    case abortable
    /// The producer can do nothing more (another instance owns the transactional.id).
    case fatal
}

/// The transaction bookkeeping of a producer: which state it is in, which partitions and groups the
/// open transaction has added, and which calls are allowed (I/O-free, unit-tested).
public struct TransactionManager: Sendable {
    public let transactionalId: String
    public private(set) var state: TransactionState = .uninitialized
    public private(set) var partitions: Set<TopicPartition> = []
    public private(set) var groups: Set<String> = []

    public init(transactionalId: String) { self.transactionalId = transactionalId }

    public static func classify(_ code: ErrorCode) -> TxnErrorClass {
        switch code {
        case .concurrentTransactions, .coordinatorLoadInProgress, .unknownTopicOrPartition, .requestTimedOut,
             .notEnoughReplicas, .notEnoughReplicasAfterAppend, .networkException, .leaderNotAvailable,
             .notLeaderOrFollower:
            .retry
        case .notCoordinator, .coordinatorNotAvailable:
            .refindCoordinator
        case .producerFenced, .invalidProducerEpoch, .transactionalIdAuthorizationFailed, .invalidProducerIdMapping,
             .invalidTxnState, .unsupportedForMessageFormat, .unsupportedVersion, .transactionCoordinatorFenced,
             .invalidTransactionTimeout, .clusterAuthorizationFailed:
            .fatal
        default:
            .abortable
        }
    }

    /// Fatal errors come first: they stick whatever else happens.
    public var fatalError: KafkaError? {
        if case .fatalError(let e) = state { return e }
        return nil
    }

    private func refuse(_ what: String) -> KafkaError {
        switch state {
        case .fatalError(let e): e
        case .abortableError(let e): .invalidArgument("\(what): the transaction must be aborted first (\(e))")
        default: .invalidArgument("\(what) is not allowed in state \(state)")
        }
    }

    /// initTransactions(): allowed once, before anything else (again after an interrupted call).
    public func checkInit() throws {
        guard state == .uninitialized else { throw refuse("initTransactions") }
    }

    public mutating func initialized() {
        if fatalError == nil { state = .ready }
    }

    public mutating func begin() throws {
        guard state == .ready else { throw refuse("beginTransaction") }
        state = .inTransaction
        partitions = []
        groups = []
    }

    /// A send: only inside a transaction; answers whether `tp` must be added first.
    public func checkSend(_ tp: TopicPartition) throws -> Bool {
        guard state == .inTransaction else { throw refuse("send") }
        return !partitions.contains(tp)
    }

    public mutating func added(_ tps: [TopicPartition]) { partitions.formUnion(tps) }

    public func checkSendOffsets(group: String) throws -> Bool {
        guard state == .inTransaction else { throw refuse("sendOffsetsToTransaction") }
        return !groups.contains(group)
    }

    public mutating func addedGroup(_ g: String) { groups.insert(g) }

    public mutating func beginCommit() throws {
        guard state == .inTransaction || state == .committing else { throw refuse("commitTransaction") }
        state = .committing
    }

    public mutating func beginAbort() throws {
        switch state {
        case .inTransaction, .aborting, .abortableError: state = .aborting
        default: throw refuse("abortTransaction")
        }
    }

    /// EndTxn answered: a new transaction may begin.
    public mutating func ended() {
        guard fatalError == nil else { return }
        state = .ready
        partitions = []
        groups = []
    }

    /// Records a failure of the open transaction (a send, an AddPartitions, an offset commit).
    public mutating func fail(_ e: KafkaError) {
        if fatalError != nil { return }
        let cls: TxnErrorClass = if case .broker(let c, _) = e { Self.classify(c) } else { .abortable }
        if cls == .fatal {
            state = .fatalError(e)
        } else if state == .inTransaction || state == .committing {
            state = .abortableError(e)
        }
    }

    /// A commit that found an earlier failure: the application must abort.
    public var pendingError: KafkaError? {
        switch state {
        case .abortableError(let e), .fatalError(let e): e
        default: nil
        }
    }
}
