import Testing
@testable import BrokerCore

@Suite struct ReplicationTests {
    static let tp = TopicPartition("t", 0)

    func leader(isr: [BrokerID] = [1, 2, 3], minIsr: Int = 2, leo: Int64 = 0) -> PartitionLeader {
        let info = PartitionStateInfo(topicPartition: Self.tp, controllerEpoch: 1, leader: 1, leaderEpoch: 3, isr: isr,
                                      zkVersion: 7, replicas: [1, 2, 3])
        return PartitionLeader(topicPartition: Self.tp, localBroker: 1, state: info, logEndOffset: leo, highWatermark: 0,
                               nowMs: 0, config: ReplicationConfig(lagTimeMaxMs: 10_000, minInsyncReplicas: minIsr))
    }

    @Test func highWatermarkIsMinIsrLogEndAndNeverMovesBack() {
        var p = leader()
        #expect(p.appended(logEndOffset: 10).isEmpty)  // followers have not fetched
        #expect(p.followerFetched(2, fetchOffset: 6, nowMs: 1).1.isEmpty)
        let fx = p.followerFetched(3, fetchOffset: 4, nowMs: 1).1
        #expect(fx == [.highWatermarkAdvanced(Self.tp, 4)])
        #expect(p.highWatermark == 4)
        _ = p.followerFetched(3, fetchOffset: 8, nowMs: 2)
        #expect(p.highWatermark == 6)
        // A follower re-fetching from an older offset (after its own truncation) cannot pull the HW back.
        _ = p.followerFetched(2, fetchOffset: 2, nowMs: 3)
        #expect(p.highWatermark == 6)
        #expect(p.followerFetched(9, fetchOffset: 0, nowMs: 3).0 == .notLeaderOrFollower)
        #expect(p.followerFetched(2, fetchOffset: 11, nowMs: 3).0 == .offsetOutOfRange)
    }

    @Test func acksAllWaitsForHighWatermarkThenCompletes() {
        var p = leader()
        var purgatory = ProducePurgatory()
        #expect(p.checkAppend(acks: -1) == .noError)
        _ = p.appended(logEndOffset: 5)
        #expect(purgatory.add(id: 1, requiredOffsets: [Self.tp: 5], timeoutMs: 1000, nowMs: 0) == nil)
        #expect(p.ackStatus(requiredOffset: 5) == .pending)
        _ = p.followerFetched(2, fetchOffset: 5, nowMs: 1)
        #expect(purgatory.check(Self.tp) { p.ackStatus(requiredOffset: $0) }.isEmpty)
        _ = p.followerFetched(3, fetchOffset: 5, nowMs: 1)
        let done = purgatory.check(Self.tp) { p.ackStatus(requiredOffset: $0) }
        #expect(done == [CompletedProduce(id: 1, results: [Self.tp: .noError])])
        #expect(purgatory.count == 0)
        // acks=1 and acks=0 never wait.
        #expect(p.checkAppend(acks: 1) == .noError && p.checkAppend(acks: 0) == .noError)
    }

    @Test func notEnoughReplicasAtAppendAndAfterAppend() {
        let small = leader(isr: [1], minIsr: 2)
        #expect(small.checkAppend(acks: -1) == .notEnoughReplicas)
        #expect(small.checkAppend(acks: 1) == .noError)

        var p = leader(isr: [1, 2], minIsr: 2)
        _ = p.appended(logEndOffset: 3)
        #expect(p.ackStatus(requiredOffset: 3) == .pending)
        // Follower 2 never fetches; after the lag time the leader drops it and the HW advances alone.
        let shrink = p.maybeShrinkIsr(nowMs: 10_001)
        #expect(shrink == [.updateIsr(Self.tp, LeaderAndIsr(leader: 1, leaderEpoch: 3, isr: [1], controllerEpoch: 1), expectedZkVersion: 7)])
        #expect(p.highWatermark == 0)  // not before ZooKeeper has the new ISR
        let fx = p.isrUpdateSucceeded(newZkVersion: 8)
        #expect(fx == [.notifyIsrChange(Self.tp), .highWatermarkAdvanced(Self.tp, 3)])
        #expect(p.ackStatus(requiredOffset: 3) == .done(.notEnoughReplicasAfterAppend))
        #expect(p.zkVersion == 8 && p.isr == [1])
    }

    @Test func timeoutAndLeadershipLossCompleteDelayedProduces() {
        var purgatory = ProducePurgatory()
        let other = TopicPartition("t", 1)
        _ = purgatory.add(id: 7, requiredOffsets: [Self.tp: 5, other: 2], ready: [TopicPartition("x", 0): .unknownTopicOrPartition],
                          timeoutMs: 100, nowMs: 0)
        _ = purgatory.add(id: 8, requiredOffsets: [other: 9], timeoutMs: 500, nowMs: 0)
        #expect(purgatory.check(other) { _ in .done(.noError) }.count == 1)  // id 8 only had `other`
        #expect(purgatory.tick(nowMs: 99).isEmpty)
        let expired = purgatory.tick(nowMs: 100)
        #expect(expired == [CompletedProduce(id: 7, results: [Self.tp: .requestTimedOut, other: .noError,
                                                                TopicPartition("x", 0): .unknownTopicOrPartition])])
        _ = purgatory.add(id: 9, requiredOffsets: [Self.tp: 1], timeoutMs: 100, nowMs: 0)
        #expect(purgatory.fail(Self.tp) == [CompletedProduce(id: 9, results: [Self.tp: .notLeaderOrFollower])])
        #expect(purgatory.count == 0)
        #expect(purgatory.add(id: 10, requiredOffsets: [:], ready: [Self.tp: .notEnoughReplicas], timeoutMs: 1, nowMs: 0)
                == CompletedProduce(id: 10, results: [Self.tp: .notEnoughReplicas]))
    }

    @Test func isrShrinksAfterLagTimeAndExpandsWhenCaughtUp() {
        var p = leader()
        _ = p.appended(logEndOffset: 10)
        _ = p.followerFetched(2, fetchOffset: 10, nowMs: 5_000)
        _ = p.followerFetched(3, fetchOffset: 2, nowMs: 5_000)
        #expect(p.maybeShrinkIsr(nowMs: 10_000).isEmpty)
        // Follower 2 caught up at 5000 → fine at 15000; follower 3 last caught up at 0 (became leader).
        let fx = p.maybeShrinkIsr(nowMs: 10_001)
        #expect(fx == [.updateIsr(Self.tp, LeaderAndIsr(leader: 1, leaderEpoch: 3, isr: [1, 2], controllerEpoch: 1), expectedZkVersion: 7)])
        #expect(p.maybeShrinkIsr(nowMs: 20_000).isEmpty)  // one write at a time
        _ = p.isrUpdateSucceeded(newZkVersion: 8)
        #expect(p.isr == [1, 2] && p.highWatermark == 10)
        // Follower 3 reaches the HW: back in.
        let (_, expand) = p.followerFetched(3, fetchOffset: 10, nowMs: 20_001)
        #expect(expand.first == .updateIsr(Self.tp, LeaderAndIsr(leader: 1, leaderEpoch: 3, isr: [1, 2, 3], controllerEpoch: 1), expectedZkVersion: 8))
        #expect(p.maximalIsr == [1, 2, 3])
        p.isrUpdateFailed()
        #expect(p.isr == [1, 2] && p.pendingIsr == nil)
        _ = p.followerFetched(3, fetchOffset: 10, nowMs: 20_002)
        _ = p.isrUpdateSucceeded(newZkVersion: 9)
        #expect(p.isr == [1, 2, 3])
    }

    @Test func followerCatchingUpToPreviousFetchEndCountsAsCaughtUp() {
        var p = leader()
        _ = p.appended(logEndOffset: 10)
        _ = p.followerFetched(2, fetchOffset: 10, nowMs: 1_000)  // caught up at 1000
        _ = p.appended(logEndOffset: 20)
        _ = p.followerFetched(2, fetchOffset: 10, nowMs: 9_000)  // behind, but reached where the leader was at 1000
        _ = p.appended(logEndOffset: 30)
        _ = p.followerFetched(2, fetchOffset: 20, nowMs: 15_000) // reached the leader's LEO as of 9000
        #expect(p.followers[2]?.lastCaughtUpTimeMs == 9_000)
        _ = p.followerFetched(3, fetchOffset: 30, nowMs: 15_000)
        #expect(p.maybeShrinkIsr(nowMs: 19_000).isEmpty)
        #expect(!p.maybeShrinkIsr(nowMs: 19_001).isEmpty)
    }

    @Test func newerLeaderAndIsrUpdatesAndStaleIsRefused() {
        var p = leader()
        let newer = PartitionStateInfo(topicPartition: Self.tp, controllerEpoch: 2, leader: 1, leaderEpoch: 4, isr: [1, 2],
                                       zkVersion: 9, replicas: [1, 2, 3])
        #expect(p.update(state: newer, nowMs: 5) == .noError)
        #expect(p.leaderEpoch == 4 && p.isr == [1, 2] && p.zkVersion == 9)
        #expect(p.update(state: newer, nowMs: 6) == .staleControllerEpoch)
    }

    @Test func leaderEpochFencing() {
        let p = leader()
        #expect(p.validateLeaderEpoch(3) == .noError)
        #expect(p.validateLeaderEpoch(-1) == .noError)
        #expect(p.validateLeaderEpoch(2) == .fencedLeaderEpoch)
        #expect(p.validateLeaderEpoch(4) == .unknownLeaderEpoch)
    }

    @Test func delayedFetchCompletesOnBytesOrTimeout() {
        var f = FetchPurgatory()
        let r1 = f.add(id: 1, partitions: [Self.tp], minBytes: 1, availableBytes: 10, maxWaitMs: 500, nowMs: 0)
        #expect(r1)
        let r2 = f.add(id: 2, partitions: [Self.tp], minBytes: 100, availableBytes: 0, maxWaitMs: 500, nowMs: 0)
        #expect(!r2)
        let r3 = f.add(id: 3, partitions: [TopicPartition("t", 1)], minBytes: 1, availableBytes: 0, maxWaitMs: 500, nowMs: 0)
        #expect(!r3)
        #expect(f.bytesAvailable(Self.tp, bytes: 60).isEmpty)
        #expect(f.bytesAvailable(Self.tp, bytes: 60) == [2])
        #expect(f.tick(nowMs: 499).isEmpty)
        #expect(f.tick(nowMs: 500) == [3])
        let r4 = f.add(id: 4, partitions: [Self.tp], minBytes: 1, availableBytes: 0, maxWaitMs: 500, nowMs: 0)
        #expect(!r4)
        #expect(f.partitionChanged(Self.tp) == [4])
        #expect(f.count == 0)
    }
}

@Suite struct FollowerTruncationTests {
    func endOffset(_ c: LeaderEpochCache, _ epoch: Int32, _ leo: Int64) -> [Int64] {
        let r = c.endOffset(for: epoch, logEndOffset: leo)
        return [Int64(r.epoch), r.endOffset]
    }

    @Test func leaderAnswersFromItsEpochCache() {
        let cache = LeaderEpochCache(entries: [(0, 0), (2, 10), (5, 25)])
        #expect(endOffset(cache, 5, 40) == [5, 40])
        #expect(endOffset(cache, 2, 40) == [2, 25])
        #expect(endOffset(cache, 3, 40) == [2, 25])
        #expect(endOffset(cache, 0, 40) == [0, 10])
        #expect(endOffset(cache, 6, 40) == [-1, -1])
        #expect(endOffset(LeaderEpochCache(), 0, 0) == [-1, -1])
        var c = cache
        c.assign(epoch: 4, startOffset: 30)  // older epoch: ignored
        #expect(c == cache)
        c.assign(epoch: 6, startOffset: 25)  // no records in epoch 5: it is superseded
        #expect(c.entries.map { $0.epoch } == [0, 2, 6])
        c.truncate(toEndOffset: 10)
        #expect(c.entries.map { $0.epoch } == [0])
    }

    @Test func divergentFollowerTruncatesToLeadersEndForItsEpoch() {
        // Follower wrote 0..<30 in epochs 0 (0..<10) and 1 (10..<30); the new leader only has epoch 1 up to 20.
        let follower = LeaderEpochCache(entries: [(0, 0), (1, 10)])
        #expect(FollowerLogic.epochToAsk(follower) == 1)
        let d = FollowerLogic.truncation(leaderEpoch: 1, leaderEndOffset: 20, localCache: follower, localLogEndOffset: 30, highWatermark: 15)
        #expect(d == TruncationDecision(truncateTo: 20, completed: true))
        // A shorter follower never truncates above its own end.
        let short = FollowerLogic.truncation(leaderEpoch: 1, leaderEndOffset: 20, localCache: follower, localLogEndOffset: 12, highWatermark: 5)
        #expect(short.truncateTo == 12)
    }

    @Test func leaderWithOlderEpochNeedsAnotherRound() {
        // Follower has epochs 0 and 3; leader's largest epoch ≤ 3 is 2, ending at 18.
        let follower = LeaderEpochCache(entries: [(0, 0), (3, 15)])
        let d = FollowerLogic.truncation(leaderEpoch: 2, leaderEndOffset: 18, localCache: follower, localLogEndOffset: 40, highWatermark: 5)
        #expect(d == TruncationDecision(truncateTo: 15, completed: false, nextEpochToAsk: 0))
        let undefined = FollowerLogic.truncation(leaderEpoch: -1, leaderEndOffset: -1, localCache: follower, localLogEndOffset: 40, highWatermark: 5)
        #expect(undefined.truncateTo == 5)
    }
}
