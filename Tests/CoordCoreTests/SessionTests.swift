import Protocol
import Testing
@testable import CoordCore

@Suite struct SessionTests {
    @Test func idsCarryServerIdAndAreUnique() {
        var t = SessionTracker(serverId: 3, now: 1_700_000_000_000, tickTime: 2000)
        let a = t.newSessionId()
        let b = t.newSessionId()
        #expect(a >> 56 == 3 && b == a + 1)
        var other = SessionTracker(serverId: 4, now: 1_700_000_000_000, tickTime: 2000)
        #expect(other.newSessionId() != a)
    }

    @Test func timeoutIsClampedToTickBounds() {
        let t = SessionTracker(serverId: 1, now: 0, tickTime: 2000)
        #expect(t.negotiate(1000) == 4000)
        #expect(t.negotiate(10_000) == 10_000)
        #expect(t.negotiate(100_000) == 40_000)
        let c = SessionTracker(serverId: 1, now: 0, tickTime: 2000, minTimeout: 1000, maxTimeout: 5000)
        #expect(c.negotiate(100) == 1000 && c.negotiate(9000) == 5000)
    }

    @Test func sessionsExpireByTimeUnlessTouched() {
        var t = SessionTracker(serverId: 1, now: 0, tickTime: 100)
        t.add(1, timeout: 1000, now: 0)
        t.add(2, timeout: 1000, now: 0)
        #expect(t.expire(now: 900).isEmpty)
        t.touch(2, now: 900)
        #expect(t.expire(now: 1100) == [1])
        #expect(!t.contains(1) && t.contains(2))
        #expect(t.expire(now: 1800).isEmpty)
        #expect(t.expire(now: 2000) == [2])
        let touched = t.touch(2, now: 2000)
        #expect(!touched)
        // A session added after a long idle gap still expires on time.
        t.add(3, timeout: 200, now: 50_000)
        #expect(t.expire(now: 50_100).isEmpty)
        #expect(t.expire(now: 50_300) == [3])
    }

    @Test func expiryClosesSessionAndDeletesItsEphemerals() {
        var h = TreeHarness()
        var tracker = SessionTracker(serverId: 1, now: h.now, tickTime: 100)
        let other: Int64 = 0x22
        h.openSession(other)
        tracker.add(h.session, timeout: 1000, now: h.now)
        tracker.add(other, timeout: 5000, now: h.now)
        _ = h.create("/dir")
        _ = h.create("/dir/e1", flags: ZKCreateFlags.ephemeral)
        _ = h.create("/dir/e2-", flags: ZKCreateFlags.ephemeralSequential)
        _ = h.create("/dir/keep", flags: ZKCreateFlags.ephemeral, session: other)
        _ = h.read(.getChildren(path: "/dir", watch: true), watcher: 4)
        _ = h.read(.exists(path: "/dir/e1", watch: true), watcher: 4)
        #expect(h.tree.ephemerals[h.session]?.count == 2)
        let expired = tracker.expire(now: h.now + 1200)
        #expect(expired == [h.session])
        for id in expired {
            h.zxid += 1
            let t = h.prep.prepCloseSession(sessionId: id, zxid: h.zxid, time: h.now, tree: h.tree)
            let r = h.apply(t)
            #expect(r.closedSession == id)
        }
        #expect(h.read(.getChildren(path: "/dir", watch: false)).response == .children(["keep"]))
        #expect(h.tree.sessions[h.session] == nil && h.tree.sessions[other] != nil)
        #expect(h.tree.ephemerals[h.session] == nil)
        let ev = h.takeEvents().map { $0.event }
        #expect(ev.contains(ZKWatcherEvent(type: ZKEventType.nodeDeleted, path: "/dir/e1")))
        #expect(ev.filter { $0.type == ZKEventType.nodeChildrenChanged }.count == 1)
        // The closed session can no longer write.
        #expect(h.create("/late").err == ZKErr.sessionExpired)
    }

    @Test func closeSessionDeletesEphemeralsStillInFlight() {
        let tree = DataTree()
        var prep = TxnPrep()
        var t = tree
        let s = prep.prepCreateSession(sessionId: 5, timeout: 1000, password: [], zxid: 1, time: 0)
        guard case .txn(let c) = prep.prep(.create(ZKCreate(path: "/e", flags: 1)), sessionId: 5, cxid: 1, zxid: 2, time: 0, tree: tree) else {
            Issue.record("create"); return
        }
        let close = prep.prepCloseSession(sessionId: 5, zxid: 3, time: 0, tree: tree)
        // A later create by the closing session is refused even before the close is applied.
        #expect(prep.prep(.create(ZKCreate(path: "/f")), sessionId: 5, cxid: 2, zxid: 4, time: 0, tree: tree) == .failed(err: ZKErr.sessionExpired, response: .empty))
        _ = t.process(s, zxid: 1)
        _ = t.process(c, zxid: 2)
        _ = t.process(close, zxid: 3)
        #expect(t.node("/e") == nil)
    }
}
