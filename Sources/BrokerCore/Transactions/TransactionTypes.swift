import Protocol

/// A transaction's state, as Kafka's TransactionState names and numbers them (the numbers are
/// what `__transaction_state` records carry).
public enum TxnState: Int8, Sendable, CaseIterable {
    case empty = 0, ongoing = 1, prepareCommit = 2, prepareAbort = 3, completeCommit = 4, completeAbort = 5, dead = 6

    /// The name DescribeTransactions and ListTransactions report.
    public var name: String {
        switch self {
        case .empty: "Empty"
        case .ongoing: "Ongoing"
        case .prepareCommit: "PrepareCommit"
        case .prepareAbort: "PrepareAbort"
        case .completeCommit: "CompleteCommit"
        case .completeAbort: "CompleteAbort"
        case .dead: "Dead"
        }
    }

    public init?(name: String) {
        guard let s = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = s
    }

    /// The states a transaction may move to from this one (Kafka's validPreviousStates, turned around).
    public var successors: Set<TxnState> {
        switch self {
        case .empty: [.empty, .ongoing, .dead]
        case .ongoing: [.ongoing, .prepareCommit, .prepareAbort]
        case .prepareCommit: [.completeCommit]
        case .prepareAbort: [.completeAbort]
        case .completeCommit, .completeAbort: [.empty, .ongoing, .dead]
        case .dead: []
        }
    }
}

/// What the coordinator knows about one transactional id; written whole to `__transaction_state`
/// after every transition (compaction keeps the last one per id).
public struct TxnMetadata: Equatable, Sendable {
    public var transactionalId: String
    public var producerId: Int64
    public var producerEpoch: Int16
    public var timeoutMs: Int32
    public var state: TxnState
    /// The partitions written in the current transaction (empty outside one).
    public var partitions: Set<TopicPartition>
    /// When the current transaction began (first partition added); -1 outside one.
    public var txnStartMs: Int64
    public var lastUpdateMs: Int64

    public init(transactionalId: String, producerId: Int64, producerEpoch: Int16, timeoutMs: Int32, state: TxnState,
                partitions: Set<TopicPartition> = [], txnStartMs: Int64 = -1, lastUpdateMs: Int64) {
        self.transactionalId = transactionalId
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.timeoutMs = timeoutMs
        self.state = state
        self.partitions = partitions
        self.txnStartMs = txnStartMs
        self.lastUpdateMs = lastUpdateMs
    }
}

public typealias TxnRequestID = UInt64

/// The answer to one parked coordinator request.
public enum TxnReply: Equatable, Sendable {
    case initProducerId(ErrorCode, producerId: Int64, producerEpoch: Int16)
    case addPartitions([TopicPartition: ErrorCode])
    case endTxn(ErrorCode)
}

/// Commit or abort markers for every partition of one transaction.
public struct TxnMarkers: Equatable, Sendable {
    public var transactionalId: String
    public var producerId: Int64
    public var producerEpoch: Int16
    public var commit: Bool
    public var partitions: Set<TopicPartition>

    public init(transactionalId: String, producerId: Int64, producerEpoch: Int16, commit: Bool, partitions: Set<TopicPartition>) {
        self.transactionalId = transactionalId
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.commit = commit
        self.partitions = partitions
    }
}

/// What the runtime must do for the coordinator. Each write reports back with its token
/// (`logWritten`, `markersWritten`), so a late answer for a superseded write is ignored.
public enum TxnEffect: Equatable, Sendable {
    /// Append the record to `__transaction_state` partition `partition` (acks=all); a `.dead`
    /// state is written as the id's tombstone.
    case writeLog(TxnMetadata, partition: Int32, token: UInt64)
    /// Append a control batch to each partition (retrying until written or no longer coordinator).
    case writeMarkers(TxnMarkers, token: UInt64)
    case reply(TxnRequestID, TxnReply)
}

/// Coordinator limits, with Kafka's config names and defaults.
public struct TxnCoordinatorConfig: Sendable, Equatable {
    /// transaction.state.log.num.partitions
    public var stateTopicPartitions: Int32 = 50
    /// transaction.max.timeout.ms: the longest transaction.timeout.ms a producer may ask for.
    public var maxTimeoutMs: Int32 = 900_000
    /// Transactional ids one broker keeps (a bound on hostile InitProducerId floods).
    public var maxTransactionalIds = 100_000
    /// Partitions one transaction may span.
    public var maxPartitionsPerTxn = 10_000
    /// transactional.id.expiration.ms: an id with no transaction and no update for this long is removed.
    public var idExpirationMs: Int64 = 604_800_000
    public init() {}
}
