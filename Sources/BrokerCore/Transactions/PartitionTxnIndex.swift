/// A transaction Kafka's consumers must skip: its data sits between `firstOffset` and the abort
/// marker at `lastOffset` (FetchResponse's aborted_transactions).
public struct AbortedTxn: Equatable, Sendable {
    public var producerId: Int64
    public var firstOffset: Int64
    public var lastOffset: Int64
    public init(producerId: Int64, firstOffset: Int64, lastOffset: Int64) {
        self.producerId = producerId
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
    }
}

/// The key of a control record: version int16, then the type (0 abort, 1 commit).
public enum ControlRecordType: Equatable, Sendable {
    case abort, commit

    public init?(key: [UInt8]?) {
        guard let key, key.count >= 4 else { return nil }
        switch Int16(bitPattern: UInt16(key[2]) << 8 | UInt16(key[3])) {
        case 0: self = .abort
        case 1: self = .commit
        default: return nil
        }
    }

    /// The control record's key and value (version 0, coordinator epoch) as the log stores them.
    public func recordKey() -> [UInt8] { [0, 0, 0, self == .commit ? 1 : 0] }
    public static func recordValue(coordinatorEpoch: Int32) -> [UInt8] {
        let e = UInt32(bitPattern: coordinatorEpoch)
        return [0, 0, UInt8(e >> 24), UInt8(e >> 16 & 0xff), UInt8(e >> 8 & 0xff), UInt8(e & 0xff)]
    }
}

/// Per partition: the open transactions (where each began) and the aborted ones, from the batch
/// headers of the log. The last stable offset is the first offset of the oldest open transaction
/// (or the high watermark); read_committed consumers read up to it.
public struct PartitionTxnIndex: Sendable, Equatable {
    /// Aborted transactions kept per partition; older ones are forgotten (their records stay
    /// visible to read_committed consumers that start before them — documented as a limit).
    public static let maxAborted = 10_000

    public private(set) var ongoing: [Int64: Int64] = [:]
    /// When each open transaction was first seen here (wall clock; the rebuild time after a load).
    public private(set) var openedAtMs: [Int64: Int64] = [:]
    /// Oldest first (by marker offset).
    public private(set) var aborted: [AbortedTxn] = []

    public init() {}

    /// Records one batch now in the log. `control` is the marker type of a control batch.
    public mutating func appended(producerId: Int64, isTransactional: Bool, control: ControlRecordType?,
                                  baseOffset: Int64, lastOffset: Int64, nowMs: Int64 = 0) {
        guard producerId >= 0, isTransactional else { return }
        if let control {
            openedAtMs[producerId] = nil
            guard let first = ongoing.removeValue(forKey: producerId) else { return }
            if control == .abort {
                aborted.append(AbortedTxn(producerId: producerId, firstOffset: first, lastOffset: lastOffset))
                if aborted.count > Self.maxAborted { aborted.removeFirst(aborted.count - Self.maxAborted) }
            }
        } else if ongoing[producerId] == nil {
            ongoing[producerId] = baseOffset
            openedAtMs[producerId] = nowMs
        }
    }

    /// Opens a transaction for `producerId` at `offset` before its first batch is appended (the log
    /// end then, at most its real offset), so no reader sees the batch unbounded. False when one
    /// was open already.
    public mutating func begin(producerId: Int64, at offset: Int64, nowMs: Int64 = 0) -> Bool {
        guard ongoing[producerId] == nil else { return false }
        ongoing[producerId] = offset
        openedAtMs[producerId] = nowMs
        return true
    }

    /// Takes back a `begin` whose append failed.
    public mutating func forget(producerId: Int64) {
        ongoing[producerId] = nil
        openedAtMs[producerId] = nil
    }

    /// Producers whose transaction has been open here since before `cutoffMs`: no coordinator will end
    /// them (a client wrote transactional batches outside a transaction, or the coordinator lost it),
    /// and they hold the last stable offset back.
    public func hanging(openedBefore cutoffMs: Int64) -> [Int64] {
        openedAtMs.filter { $0.value < cutoffMs }.map(\.key).sorted()
    }

    public var firstUnstableOffset: Int64? { ongoing.values.min() }

    public func lastStableOffset(highWatermark: Int64) -> Int64 {
        min(highWatermark, firstUnstableOffset ?? highWatermark)
    }

    /// Aborted transactions whose range meets [fetchOffset, upTo).
    public func abortedTransactions(from fetchOffset: Int64, upTo: Int64) -> [AbortedTxn] {
        aborted.filter { $0.lastOffset >= fetchOffset && $0.firstOffset < upTo }
    }

    /// Forgets what retention deleted.
    public mutating func logStartMoved(to logStartOffset: Int64) {
        aborted.removeAll { $0.lastOffset < logStartOffset }
    }
}
