@testable import CoordCore
import Protocol
import Testing

/// Direct state-machine tests: inputs in, effects out, no simulator.
@Suite struct QuorumPeerTests {
    func peer(_ id: UInt64, voters: [UInt64] = [1, 2, 3], restore: QuorumRestore = QuorumRestore()) throws -> QuorumPeer {
        var c = QuorumConfig(serverId: id, voters: voters)
        c.settleTicks = 2
        return try QuorumPeer(config: c, restore: restore, incarnation: id * 1000)
    }

    @Test func badConfigAndRestoreAreRejected() {
        #expect(throws: QuorumError.self) { try QuorumPeer(config: QuorumConfig(serverId: 4, voters: [1, 2, 3]), restore: QuorumRestore(), incarnation: 0) }
        #expect(throws: QuorumError.self) { try QuorumPeer(config: QuorumConfig(serverId: 1, voters: [1, 1, 2]), restore: QuorumRestore(), incarnation: 0) }
        let bad = QuorumRestore(epochs: QuorumEpochs(acceptedEpoch: 1, acceptedLeader: 1, currentEpoch: 2))
        #expect(throws: QuorumError.self) { try QuorumPeer(config: QuorumConfig(serverId: 1, voters: [1]), restore: bad, incarnation: 0) }
    }

    @Test func startBroadcastsOwnVote() throws {
        var p = try peer(1, restore: QuorumRestore(epochs: QuorumEpochs(acceptedEpoch: 2, acceptedLeader: 3, currentEpoch: 2),
                                                   log: [QuorumTxn(zxid: Zxid(epoch: 2, counter: 4), data: [])]))
        let fx = p.start()
        #expect(fx.messages.map(\.to) == [2, 3])
        let vote = Vote(leader: 1, zxid: Zxid(epoch: 2, counter: 4), epoch: 2)
        #expect(fx.messages.first?.message == .election(ElectionNotification(round: 1, state: .looking, vote: vote)))
        #expect(p.currentStatus.role == .looking)
    }

    @Test func voteOrderIsEpochThenZxidThenId() {
        let base = Vote(leader: 1, zxid: Zxid(epoch: 1, counter: 5), epoch: 2)
        #expect(Vote(leader: 0, zxid: .zero, epoch: 3).isBetter(than: base))
        #expect(Vote(leader: 0, zxid: Zxid(epoch: 1, counter: 6), epoch: 2).isBetter(than: base))
        #expect(Vote(leader: 2, zxid: base.zxid, epoch: 2).isBetter(than: base))
        #expect(!base.isBetter(than: base))
    }

    @Test func quorumAgreementSettlesAfterTheWindow() throws {
        var p = try peer(3)
        _ = p.start()
        let v3 = Vote(leader: 3, zxid: .zero, epoch: 0)
        _ = p.receive(from: 2, .election(ElectionNotification(round: 1, state: .looking, vote: v3)))
        #expect(p.currentStatus.role == .looking)
        _ = p.tick()
        #expect(p.currentStatus.role == .looking)
        let fx = p.tick()
        #expect(p.currentStatus.role == .leading)
        #expect(fx.statusChanged?.role == .leading)
    }

    @Test func aBetterVoteIsAdoptedAndForwarded() throws {
        var p = try peer(1)
        _ = p.start()
        let better = Vote(leader: 2, zxid: Zxid(epoch: 1, counter: 1), epoch: 1)
        let fx = p.receive(from: 2, .election(ElectionNotification(round: 1, state: .looking, vote: better)))
        #expect(fx.messages.contains { $0.to == 3 && $0.message == .election(ElectionNotification(round: 1, state: .looking, vote: better)) })
    }

    @Test func followerPersistsEpochBeforeAnswering() throws {
        var p = try peer(1)
        _ = p.start()
        let v = Vote(leader: 2, zxid: .zero, epoch: 0)
        _ = p.receive(from: 2, .election(ElectionNotification(round: 1, state: .leading, vote: v)))
        let fx = p.receive(from: 3, .election(ElectionNotification(round: 1, state: .following, vote: v)))
        guard case .session(let session, 0, .followerInfo)? = fx.messages.first(where: { $0.to == 2 })?.message else {
            Issue.record("no FOLLOWERINFO: \(fx.messages)")
            return
        }
        let info = p.receive(from: 2, .session(id: session, seq: 0, .leaderInfo(epoch: 1)))
        #expect(info.storage == [.saveEpochs(QuorumEpochs(acceptedEpoch: 1, acceptedLeader: 2, currentEpoch: 0))])
        #expect(info.messages.count == 1)
        let nl = p.receive(from: 2, .session(id: session, seq: 1, .newLeader(epoch: 1)))
        #expect(nl.storage == [.saveEpochs(QuorumEpochs(acceptedEpoch: 1, acceptedLeader: 2, currentEpoch: 1))])
        guard case .session(_, _, .ackNewLeader(1, .zero))? = nl.messages.first?.message else {
            Issue.record("no NEWLEADER ack")
            return
        }
        // Out-of-order session traffic breaks the session.
        _ = p.receive(from: 2, .session(id: session, seq: 5, .commit(.zero)))
        #expect(p.currentStatus.role == .looking)
    }

    @Test func notServingRefusesWritesAndSyncs() throws {
        var p = try peer(1)
        _ = p.start()
        let req = ClientRequest(origin: RequestOrigin(server: 1, session: 1, xid: 1), data: [1])
        #expect(p.submit(req).refused == [req])
        #expect(p.sync(req.origin).syncsRefused == [req.origin])
        #expect(p.propose([1], origin: nil).zxid == nil)
    }

    @Test func singleServerLeadsAndCommitsAtOnce() throws {
        var p = try peer(1, voters: [1])
        let started = p.start()
        #expect(p.currentStatus == QuorumStatus(role: .leading, serving: true, epoch: 1))
        #expect(started.storage.contains(.saveEpochs(QuorumEpochs(acceptedEpoch: 1, acceptedLeader: 1, currentEpoch: 1))))
        let req = ClientRequest(origin: RequestOrigin(server: 1, session: 1, xid: 1), data: [7])
        #expect(p.submit(req).toPrepare == [req])
        let (zxid, fx) = p.propose([7], origin: req.origin)
        #expect(zxid == Zxid(epoch: 1, counter: 1))
        let txn = QuorumTxn(zxid: Zxid(epoch: 1, counter: 1), data: [7], origin: req.origin)
        #expect(fx.storage == [.appendLog([txn])])
        // Alone, its own ack is the quorum: it commits only once its append is durable.
        #expect(fx.committed.isEmpty)
        #expect(p.sync(req.origin).syncsDone.isEmpty)
        let durable = p.localPersisted(through: txn.zxid)
        #expect(durable.committed == [txn])
        #expect(durable.syncsDone == [req.origin])
        #expect(p.localPersisted(through: txn.zxid).isEmpty)
        // Nobody to sync: committed entries leave memory at once, the zxid stays.
        #expect(p.logEntries.isEmpty && p.lastZxid == txn.zxid)
        #expect(p.propose([8], origin: nil).zxid == Zxid(epoch: 1, counter: 2))
    }

    @Test func restartedSingleServerStartsANewEpochAndCommitsItsLog() throws {
        let log = [QuorumTxn(zxid: Zxid(epoch: 1, counter: 1), data: [1]), QuorumTxn(zxid: Zxid(epoch: 1, counter: 2), data: [2])]
        var p = try peer(1, voters: [1], restore: QuorumRestore(epochs: QuorumEpochs(acceptedEpoch: 1, acceptedLeader: 1, currentEpoch: 1),
                                                                 snapshotZxid: .zero, log: log))
        let fx = p.start()
        #expect(fx.committed == log)
        #expect(p.propose([3], origin: nil).zxid == Zxid(epoch: 2, counter: 1))
    }

    /// A standalone data dir from before issue 17: zxids of epoch 0, no epochs file (all zero). The
    /// one voter commits that log at start and proposes in epoch 1, above every old zxid.
    @Test func singleServerTakesAnEpochZeroLogFromTheOldStandalonePath() throws {
        let log = (1...3).map { QuorumTxn(zxid: Zxid(epoch: 0, counter: UInt32($0)), data: [UInt8($0)]) }
        var p = try peer(0, voters: [0], restore: QuorumRestore(snapshotZxid: Zxid(epoch: 0, counter: 1), log: log))
        let fx = p.start()
        #expect(p.currentStatus == QuorumStatus(role: .leading, serving: true, epoch: 1))
        #expect(fx.committed == Array(log.dropFirst()))
        let (z, _) = p.propose([9], origin: nil)
        #expect(z == Zxid(epoch: 1, counter: 1))
        #expect(try #require(z) > log[2].zxid)
    }

    @Test func checkerCatchesDivergenceAndLostCommits() {
        var c = InvariantChecker()
        let a = QuorumTxn(zxid: Zxid(epoch: 1, counter: 1), data: [1])
        c.applied(1, a, position: 0)
        #expect(c.violations.isEmpty)
        c.applied(2, QuorumTxn(zxid: a.zxid, data: [2]), position: 0)
        #expect(c.violations.count == 1)
        c.leaderServing(3, epoch: 2, appliedCount: 0)
        #expect(c.violations.count == 2)
        c.leaderServing(1, epoch: 2, appliedCount: 1)
        #expect(c.violations.count == 3)
        c.logTruncated(1, [a])
        #expect(c.violations.count == 4)
        c.applied(1, QuorumTxn(zxid: .zero, data: []), position: 1)
        #expect(c.violations.count == 5)
    }
}
