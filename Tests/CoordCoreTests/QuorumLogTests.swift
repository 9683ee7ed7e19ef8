@testable import CoordCore
import Protocol
import Testing

@Suite struct QuorumLogTests {
    func z(_ e: UInt32, _ c: UInt32) -> Zxid { Zxid(epoch: e, counter: c) }
    func txns(_ ids: [(UInt32, UInt32)]) -> [QuorumTxn] {
        ids.map { QuorumTxn(zxid: z($0.0, $0.1), data: [UInt8($0.0), UInt8($0.1)]) }
    }

    @Test func restoreRejectsUnorderedLogsAndDropsEntriesUnderTheSnapshot() throws {
        #expect(throws: QuorumError.self) { try QuorumLog(base: .zero, entries: txns([(1, 2), (1, 1)])) }
        let log = try QuorumLog(base: z(1, 1), entries: txns([(1, 1), (1, 2)]))
        #expect(log.entries.map(\.zxid) == [z(1, 2)])
        #expect(log.lastZxid == z(1, 2))
    }

    @Test func summaryListsTheEndOfEachEpoch() throws {
        let log = try QuorumLog(base: z(1, 1), entries: txns([(1, 2), (1, 3), (3, 1), (4, 1), (4, 2)]))
        #expect(log.summary == LogSummary(base: z(1, 1), lastZxid: z(4, 2), epochEnds: [z(1, 3), z(3, 1), z(4, 2)]))
        #expect(log.lastZxid(inEpoch: 3) == z(3, 1))
        #expect(log.lastZxid(inEpoch: 2) == nil)
        #expect(log.lastZxid(inEpoch: 9) == nil)
    }

    @Test func divergenceFindsDiffTruncAndSnapPoints() throws {
        let leader = try QuorumLog(base: .zero, entries: txns([(1, 1), (1, 2), (1, 3), (3, 1), (3, 2)]))
        // Behind: diff from its last zxid.
        let behind = LogSummary(base: .zero, lastZxid: z(1, 2), epochEnds: [z(1, 2)])
        #expect(leader.divergence(with: behind) == z(1, 2))
        // Uncommitted tail of a failed epoch 2: truncate back to the shared (1,3).
        let diverged = LogSummary(base: .zero, lastZxid: z(2, 4), epochEnds: [z(1, 3), z(2, 4)])
        #expect(leader.divergence(with: diverged) == z(1, 3))
        // Longer in the same epoch than the leader: truncate to the leader's end.
        let longer = LogSummary(base: .zero, lastZxid: z(3, 5), epochEnds: [z(1, 3), z(3, 5)])
        #expect(leader.divergence(with: longer) == z(3, 2))
        // Empty follower.
        #expect(leader.divergence(with: LogSummary(base: .zero, lastZxid: .zero, epochEnds: [])) == .zero)

        var compacted = leader
        compacted.compact(through: z(1, 3))
        #expect(compacted.base == z(1, 3))
        // Its shared point lies in the compacted part: only a snapshot can help.
        #expect(compacted.divergence(with: behind) == nil)
        #expect(compacted.divergence(with: diverged) == z(1, 3))
    }

    @Test func truncateCompactAndSlices() throws {
        var log = try QuorumLog(base: .zero, entries: txns([(1, 1), (1, 2), (2, 1), (2, 2)]))
        #expect(log.entries(after: z(1, 2))?.map(\.zxid) == [z(2, 1), z(2, 2)])
        #expect(log.entries(after: z(1, 9)) == nil)
        #expect(log.entries(from: z(1, 1), through: z(2, 1)).map(\.zxid) == [z(1, 2), z(2, 1)])
        log.truncate(after: z(2, 1))
        #expect(log.lastZxid == z(2, 1))
        log.compact(through: z(1, 5)) // between entries: stops at the last one below
        #expect(log.base == z(1, 2))
        #expect(log.contains(z(1, 2)) && log.contains(z(2, 1)) && !log.contains(z(1, 1)))
        log.compact(through: Zxid(raw: .max))
        #expect(log.entries.isEmpty && log.base == z(2, 1))
        log.truncate(after: Zxid(raw: .max))
        #expect(log.lastZxid == z(2, 1))
    }
}
