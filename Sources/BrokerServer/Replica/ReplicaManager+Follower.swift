import BrokerCore
import Protocol
import Storage

/// The follower side of replication: where to fetch from, truncation after the leader's
/// OffsetForLeaderEpoch answer, appending fetched records and resetting after out-of-range.
extension ReplicaManager {
    struct FollowState {
        var offset: Int64
        var logStart: Int64
        var epoch: Int32
        /// Ask the leader where this epoch ends before fetching.
        var epochToAsk: Int32?
    }

    func followState(_ tp: TopicPartition) -> FollowState? {
        guard let p = partition(tp) else { return nil }
        return p.lock.withLock {
            guard !p.deleted, p.leader == nil, let log = p.onlineLog else { return nil }
            return FollowState(offset: log.logEndOffset, logStart: log.logStartOffset, epoch: p.leaderEpoch, epochToAsk: p.epochToAsk)
        }
    }

    /// Applies the leader's OffsetForLeaderEpoch answer for `asked` (BrokerCore's FollowerLogic
    /// decides): truncates, then either fetching resumes or another, older epoch is asked about.
    /// Ignored if the partition moved on (new leader epoch) since the question was sent.
    func truncateToLeaderEpochEnd(_ tp: TopicPartition, currentLeaderEpoch: Int32, asked: Int32,
                                  leaderEpoch: Int32, leaderEndOffset: Int64) throws {
        guard let p = partition(tp) else { return }
        try p.lock.withLock {
            guard !p.deleted, p.leader == nil, p.leaderEpoch == currentLeaderEpoch, p.epochToAsk == asked,
                  let log = p.onlineLog else { return }
            let cache = BrokerCore.LeaderEpochCache(entries: log.leaderEpochCache.entries.map { ($0.epoch, $0.startOffset) })
            let d = FollowerLogic.truncation(leaderEpoch: leaderEpoch, leaderEndOffset: leaderEndOffset, localCache: cache,
                                             localLogEndOffset: log.logEndOffset, highWatermark: p.followerHW)
            let before = log.logEndOffset
            if d.truncateTo < before {
                do { try log.truncate(to: max(0, d.truncateTo)) } catch {
                    noteFailure(p, "truncation", error)
                    throw error
                }
            }
            logger.info("\(tp): leader has epoch \(leaderEpoch) ending at \(leaderEndOffset) for our epoch \(asked); "
                        + "log end \(before) -> \(log.logEndOffset)\(d.completed ? "" : ", asking again for epoch \(d.nextEpochToAsk ?? -1)")")
            p.followerHW = min(p.followerHW, log.logEndOffset)
            p.epochToAsk = d.completed ? nil : d.nextEpochToAsk
        }
    }

    /// Appends what a follower fetched at `fetchOffset` under `currentLeaderEpoch`; returns the
    /// new log end offset, or nil when the partition changed meanwhile and the data was dropped.
    func appendAsFollower(_ tp: TopicPartition, records: [UInt8], fetchOffset: Int64, currentLeaderEpoch: Int32,
                          leaderHW: Int64, leaderLogStart: Int64) throws -> Int64? {
        guard let p = partition(tp) else { return nil }
        return try p.lock.withLock {
            guard !p.deleted, p.leader == nil, p.leaderEpoch == currentLeaderEpoch, p.epochToAsk == nil,
                  let log = p.onlineLog, log.logEndOffset == fetchOffset else { return nil }
            do {
                if !records.isEmpty {
                    faults.beforeDiskWrite()
                    _ = try log.appendAsFollower(records, now: wallMs)
                    faults.reached(.afterFollowerAppend)
                }
                // The leader's retention moved its start: follow it, as Kafka followers do.
                if leaderLogStart > log.logStartOffset, leaderLogStart <= log.logEndOffset {
                    try log.advanceLogStartOffset(to: leaderLogStart)
                }
            } catch {
                noteFailure(p, "follower append", error)
                throw error
            }
            p.followerHW = max(p.followerHW, min(leaderHW, log.logEndOffset))
            return log.logEndOffset
        }
    }

    /// After OFFSET_OUT_OF_RANGE: restart below the leader's start, or cut back to `offset`.
    func resetFollower(_ tp: TopicPartition, to offset: Int64) throws {
        guard let p = partition(tp) else { return }
        try p.lock.withLock {
            guard !p.deleted, p.leader == nil, let log = p.onlineLog else { return }
            if offset > log.logEndOffset || offset < log.logStartOffset {
                try log.truncateFullyAndStartAt(offset, now: wallMs)
                p.followerHW = offset
            } else {
                try log.truncate(to: offset)
                p.followerHW = min(p.followerHW, offset)
            }
        }
    }
}
