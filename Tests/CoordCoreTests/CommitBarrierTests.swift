import CoordCore
import Testing

@Suite struct CommitBarrierTests {
    @Test func answersWaitForEverythingPreparedBeforeThem() {
        var b = CommitBarrier<String>()
        #expect(b.isClear(prepared: 5, committed: 5))
        #expect(!b.isClear(prepared: 6, committed: 5))
        b.hold("B", untilCommitted: 6)
        // Nothing prepared is pending for C, but B is held: C must not overtake it.
        #expect(!b.isClear(prepared: 6, committed: 6) || b.count == 0)
        b.hold("C", untilCommitted: 4)
        b.hold("D", untilCommitted: 8)
        #expect(b.release(committed: 5).isEmpty)
        #expect(b.release(committed: 6) == ["B", "C"])
        #expect(b.release(committed: 7).isEmpty)
        #expect(b.release(committed: 9) == ["D"])
        #expect(b.count == 0)
    }

    @Test func leadershipLossDropsEverythingHeld() {
        var b = CommitBarrier<Int>()
        for i in 0..<300 { b.hold(i, untilCommitted: Int64(i)) }
        #expect(b.release(committed: 279).count == 280)
        #expect(b.removeAll() == Array(280..<300))
        #expect(b.count == 0 && b.release(committed: 1000).isEmpty)
    }
}
