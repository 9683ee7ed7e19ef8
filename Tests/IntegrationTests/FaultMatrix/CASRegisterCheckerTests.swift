import Testing

/// The linearizability checker of row 10 must tell good histories from broken ones.
@Suite struct CASRegisterCheckerTests {
    typealias R = CASRegister
    static let v0 = R.State(version: 0, value: "init")

    static func op(_ p: Int, _ kind: R.Kind, _ outcome: R.Outcome, _ invoke: Int, _ complete: Int?) -> R.Op {
        .init(process: p, kind: kind, outcome: outcome, invoke: invoke, complete: complete)
    }

    static func ok(_ v: Int32, _ value: String) -> R.Outcome { .ok(.init(version: v, value: value)) }

    @Test func sequentialHistoryIsLinearizable() {
        let h = [
            Self.op(1, .cas(expected: 0, value: "a"), Self.ok(1, "a"), 1, 2),
            Self.op(2, .cas(expected: 0, value: "b"), .fail, 3, 4),
            Self.op(2, .cas(expected: 1, value: "b"), Self.ok(2, "b"), 5, 6),
            Self.op(1, .read, Self.ok(2, "b"), 7, 8),
        ]
        #expect(R.check(h, initial: Self.v0).linearizable)
    }

    @Test func concurrentWritesOrderedByTheirVersions() {
        // Both overlap; the second's expected version says it went after the first.
        let h = [
            Self.op(1, .cas(expected: 1, value: "b"), Self.ok(2, "b"), 1, 4),
            Self.op(2, .cas(expected: 0, value: "a"), Self.ok(1, "a"), 2, 3),
        ]
        #expect(R.check(h, initial: Self.v0).linearizable)
    }

    @Test func anIndeterminateWriteMayOrMayNotHaveHappened() {
        let applied = [
            Self.op(1, .cas(expected: 0, value: "a"), .info, 1, nil),
            Self.op(2, .cas(expected: 1, value: "b"), Self.ok(2, "b"), 5, 6),
        ]
        let dropped = [
            Self.op(1, .cas(expected: 0, value: "a"), .info, 1, nil),
            Self.op(2, .cas(expected: 0, value: "b"), Self.ok(1, "b"), 5, 6),
        ]
        #expect(R.check(applied, initial: Self.v0).linearizable)
        #expect(R.check(dropped, initial: Self.v0).linearizable)
    }

    @Test func twoSuccessfulWritesFromOneVersionAreNotLinearizable() {
        let h = [
            Self.op(1, .cas(expected: 0, value: "a"), Self.ok(1, "a"), 1, 3),
            Self.op(2, .cas(expected: 0, value: "b"), Self.ok(1, "b"), 2, 4),
        ]
        #expect(!R.check(h, initial: Self.v0).linearizable)
    }

    @Test func aFailureWithoutAnyConflictingWriteIsNotLinearizable() {
        // Issue 12's bug: BadVersion for the current version while nothing else committed.
        let h = [
            Self.op(1, .cas(expected: 0, value: "a"), .info, 1, nil),
            Self.op(2, .cas(expected: 0, value: "b"), .fail, 2, 3),
            Self.op(3, .read, Self.ok(0, "init"), 4, 5),
        ]
        #expect(!R.check(h, initial: Self.v0).linearizable)
    }

    @Test func aLostAcknowledgedWriteIsNotLinearizable() {
        let h = [
            Self.op(1, .cas(expected: 0, value: "a"), Self.ok(1, "a"), 1, 2),
            Self.op(1, .read, Self.ok(0, "init"), 3, 4),
        ]
        #expect(!R.check(h, initial: Self.v0).linearizable)
    }

    @Test func realTimeOrderIsRespected() {
        // b completed before a was invoked, yet a's version says a came first.
        let h = [
            Self.op(2, .cas(expected: 1, value: "b"), Self.ok(2, "b"), 1, 2),
            Self.op(1, .cas(expected: 0, value: "a"), Self.ok(1, "a"), 3, 4),
        ]
        let v = R.check(h, initial: Self.v0)
        #expect(!v.linearizable)
        #expect(v.explored >= 1)
    }

    @Test func aLongHistoryIsCheckedQuickly() {
        // 4 processes, 400 overlapping ops with indeterminate ones mixed in.
        var h: [R.Op] = []
        var clock = 0
        var version: Int32 = 0
        for i in 0..<400 {
            let p = i % 4
            clock += 1
            if i % 7 == 3 {
                h.append(Self.op(p, .cas(expected: version - 1, value: "x\(i)"), .fail, clock, clock + 2))
            } else if i % 11 == 5 {
                h.append(Self.op(p, .cas(expected: version, value: "i\(i)"), .info, clock, nil))
                version += 1
            } else {
                h.append(Self.op(p, .cas(expected: version, value: "w\(i)"), Self.ok(version + 1, "w\(i)"), clock, clock + 2))
                version += 1
            }
        }
        let v = R.check(h, initial: Self.v0)
        #expect(v.linearizable, "explored \(v.explored)")
    }
}
