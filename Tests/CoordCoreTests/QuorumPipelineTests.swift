@testable import CoordCore
import Protocol
import Testing

/// The pipeline's gating as the runtime sees it, on a lone voter (standalone coordd).
@Suite struct QuorumPipelineTests {
    /// Hands out every action; returns the last storage job seen.
    func drain(_ p: inout QuorumPipeline) -> (job: UInt64?, actions: [QuorumAction]) {
        var job: UInt64?
        var all: [QuorumAction] = []
        while let a = p.nextAction() {
            if case .store(let j, _) = a { job = j }
            all.append(a)
        }
        return (job, all)
    }

    /// A client write may be prepped at once only by a leader whose establishment is applied and
    /// whose peer still leads in that epoch; its proposal commits once its own append is durable.
    @Test func loneVoterPreparesAtOnceOnlyOnceEstablished() throws {
        var p = QuorumPipeline(peer: try QuorumPeer(config: QuorumConfig(serverId: 1, voters: [1]), restore: QuorumRestore(), incarnation: 1))
        #expect(!p.preparesAtOnce)
        p.start()
        let started = drain(&p).job
        let epochs = try #require(started)
        // The peer leads, but the new epoch is not durable (hence not applied) yet.
        #expect(p.peer.currentStatus.serving && !p.preparesAtOnce)
        p.durable(through: epochs)
        #expect(drain(&p).actions.contains(.statusChanged(QuorumStatus(role: .leading, serving: true, epoch: 1))))
        #expect(p.preparesAtOnce)
        let proposed = p.propose([7], origin: nil)
        let z = try #require(proposed)
        #expect(p.lastZxid == z)
        let appended = drain(&p).job
        let append = try #require(appended)
        p.durable(through: append)
        #expect(drain(&p).actions == [.apply(QuorumTxn(zxid: z, data: [7]))])
        #expect(p.preparesAtOnce && p.lastZxid == z)
    }

    @Test func aVoterOfThreeDoesNotPrepareAtOnceWhileLooking() throws {
        var p = QuorumPipeline(peer: try QuorumPeer(config: QuorumConfig(serverId: 1, voters: [1, 2, 3]), restore: QuorumRestore(), incarnation: 1))
        p.start()
        if let j = drain(&p).job { p.durable(through: j) }
        _ = drain(&p)
        #expect(!p.preparesAtOnce && !p.leaderReady)
    }
}
