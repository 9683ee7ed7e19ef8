/// Offsets Kafka uses when an epoch or offset is unknown.
public let undefinedEpoch: Int32 = -1
public let undefinedEpochOffset: Int64 = -1

/// The leader-epoch-checkpoint contents: each leader epoch and the first offset written in it.
/// Leaders answer OffsetForLeaderEpoch from it; followers use it to find where their log diverged.
public struct LeaderEpochCache: Equatable, Sendable {
    public private(set) var entries: [(epoch: Int32, startOffset: Int64)] = []

    public init(entries: [(epoch: Int32, startOffset: Int64)] = []) {
        for e in entries { assign(epoch: e.epoch, startOffset: e.startOffset) }
    }

    public static func == (a: LeaderEpochCache, b: LeaderEpochCache) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.epoch == $1.epoch && $0.startOffset == $1.startOffset }
    }

    public var latestEpoch: Int32 { entries.last?.epoch ?? undefinedEpoch }

    /// Records that `epoch` begins at `startOffset`. Older epochs and non-monotonic offsets are ignored,
    /// except that a later epoch at the same or lower offset replaces entries it supersedes.
    public mutating func assign(epoch: Int32, startOffset: Int64) {
        guard epoch >= 0, startOffset >= 0 else { return }
        if let last = entries.last, epoch <= last.epoch { return }
        while let last = entries.last, last.startOffset >= startOffset { entries.removeLast() }
        entries.append((epoch, startOffset))
    }

    /// (largest epoch ≤ requested, the offset where the next epoch starts, or the LEO for the latest).
    public func endOffset(for requested: Int32, logEndOffset: Int64) -> (epoch: Int32, endOffset: Int64) {
        guard let first = entries.first, requested >= first.epoch else { return (undefinedEpoch, undefinedEpochOffset) }
        if requested == latestEpoch { return (requested, logEndOffset) }
        if requested > latestEpoch { return (undefinedEpoch, undefinedEpochOffset) }
        var found = first
        for (i, e) in entries.enumerated() {
            if e.epoch > requested { return (found.epoch, e.startOffset) }
            found = e
            if i == entries.count - 1 { return (e.epoch, logEndOffset) }
        }
        return (found.epoch, logEndOffset)
    }

    /// After truncating the log to `offset`, epochs that start at or past it are gone.
    public mutating func truncate(toEndOffset offset: Int64) {
        while let last = entries.last, last.startOffset >= offset { entries.removeLast() }
    }
}

public struct TruncationDecision: Equatable, Sendable {
    public var truncateTo: Int64
    /// False when another OffsetForLeaderEpoch round is needed with `nextEpochToAsk`.
    public var completed: Bool
    public var nextEpochToAsk: Int32?
}

/// Follower-side decisions on becoming a follower.
public enum FollowerLogic {
    /// What to ask the leader: our latest epoch (nil: no epochs, fall back to the high watermark).
    public static func epochToAsk(_ cache: LeaderEpochCache) -> Int32? {
        cache.latestEpoch == undefinedEpoch ? nil : cache.latestEpoch
    }

    /// Given the leader's OffsetForLeaderEpoch answer for the epoch we asked about, where to truncate.
    public static func truncation(leaderEpoch: Int32, leaderEndOffset: Int64, localCache: LeaderEpochCache,
                                  localLogEndOffset: Int64, highWatermark: Int64) -> TruncationDecision {
        if leaderEndOffset == undefinedEpochOffset {
            // The leader knows nothing older: only committed data is safe to keep.
            return TruncationDecision(truncateTo: min(highWatermark, localLogEndOffset), completed: true)
        }
        if leaderEpoch == undefinedEpoch {
            return TruncationDecision(truncateTo: min(leaderEndOffset, localLogEndOffset), completed: true)
        }
        let mine = localCache.endOffset(for: leaderEpoch, logEndOffset: localLogEndOffset)
        if mine.epoch == undefinedEpoch {
            return TruncationDecision(truncateTo: min(leaderEndOffset, localLogEndOffset), completed: true)
        }
        if mine.epoch != leaderEpoch {
            // We never had the leader's epoch: cut back to where our older epoch ends and ask again.
            return TruncationDecision(truncateTo: min(mine.endOffset, localLogEndOffset), completed: false, nextEpochToAsk: mine.epoch)
        }
        return TruncationDecision(truncateTo: min(leaderEndOffset, mine.endOffset, localLogEndOffset), completed: true)
    }
}
