import Protocol
import Testing
@testable import CoordCore

@Suite struct PrepTests {
    @Test func multiCommitsAllOps() {
        var h = TreeHarness()
        _ = h.create("/x", "1")
        let r = h.write(.multi([
            .create(ZKCreate(path: "/m", data: [1])),
            .create2(ZKCreate(path: "/m/s-", flags: ZKCreateFlags.sequential)),
            .setData(path: "/x", data: [2], version: 0),
            .check(path: "/x", version: 1),
            .delete(path: "/x", version: 1),
        ]))
        #expect(r.err == ZKErr.ok)
        guard case .multi(let res) = r.response else { Issue.record("not multi"); return }
        #expect(res.count == 5)
        #expect(res[0] == .create(path: "/m"))
        if case .create2(_, let p, let st) = res[1] { #expect(p == "/m/s-0000000000" && st.czxid == h.zxid) } else { Issue.record("create2") }
        if case .setData(let st) = res[2] { #expect(st.version == 1) } else { Issue.record("setData") }
        #expect(res[3] == .check && res[4] == .delete)
        #expect(h.stat("/x") == nil && h.stat("/m/s-0000000000") != nil)
        // All ops of one multi share one zxid.
        #expect(h.stat("/m")!.czxid == h.zxid)
    }

    @Test func failedMultiChangesNothingAndReportsPerOpCodes() {
        var h = TreeHarness()
        _ = h.create("/x", "1")
        let before = h.tree.nodes
        let zxidBefore = h.zxid
        let r = h.write(.multi([
            .create(ZKCreate(path: "/new")),
            .setData(path: "/x", data: [2], version: 0),
            .delete(path: "/missing", version: -1),
            .create(ZKCreate(path: "/new2")),
        ]))
        #expect(r.err == ZKErr.ok)
        #expect(r.response == .multi([.error(0), .error(0), .error(ZKErr.noNode), .error(ZKErr.runtimeInconsistency)]))
        #expect(h.tree.nodes == before)
        #expect(h.zxid == zxidBefore)
        // The failed multi left no pending state behind: /new can be created now.
        #expect(h.create("/new").err == ZKErr.ok)
        #expect(h.prep.pendingCount == 0)
    }

    @Test func multiOpsSeeEarlierOpsOfSameMulti() {
        var h = TreeHarness()
        let r = h.write(.multi([.create(ZKCreate(path: "/a")), .create(ZKCreate(path: "/a/b")), .delete(path: "/a", version: -1)]))
        #expect(r.response == .multi([.error(0), .error(0), .error(ZKErr.notEmpty)]))
        let ok = h.write(.multi([.create(ZKCreate(path: "/a")), .create(ZKCreate(path: "/a/b")), .delete(path: "/a/b", version: 0), .delete(path: "/a", version: 0)]))
        #expect(ok.response == .multi([.create(path: "/a"), .create(path: "/a/b"), .delete, .delete]))
        #expect(h.stat("/a") == nil)
    }

    @Test func applyRollsBackAMultiThatTurnsOutInconsistent() {
        // A txn built by hand (not via prep) whose second op cannot apply.
        var t = DataTree()
        let before = t.nodes
        let txn = CoordTxn(sessionId: 0, cxid: 0, time: 1, op: .multi([
            .create(requestOp: ZKOp.create, path: "/a", data: [], acl: ZKACL.openUnsafe, ephemeralOwner: 0, parentCVersion: 2),
            .delete(path: "/nope"),
        ]))
        let r = t.process(txn, zxid: 5)
        #expect(r.response == .multi([.error(0), .error(ZKErr.noNode)]))
        #expect(r.triggers.isEmpty)
        #expect(t.nodes == before)
        #expect(t.ephemerals.isEmpty)
    }

    @Test func pipelinedWritesAreCheckedAgainstPendingChanges() {
        // Prep several writes before any is applied, as the server does while the log fsyncs.
        let tree = DataTree()
        var prep = TxnPrep()
        _ = prep.prepCreateSession(sessionId: 7, timeout: 5000, password: [], zxid: 1, time: 0)
        func p(_ r: ZKRequest, _ z: Int64) -> PrepOutcome { prep.prep(r, sessionId: 7, cxid: 0, zxid: z, time: 0, tree: tree) }
        guard case .txn = p(.create(ZKCreate(path: "/a")), 2) else { Issue.record("create"); return }
        #expect(p(.create(ZKCreate(path: "/a")), 3) == .failed(err: ZKErr.nodeExists, response: .empty))
        guard case .txn(let t1) = p(.create(ZKCreate(path: "/a/s", flags: ZKCreateFlags.sequential)), 3) else { Issue.record("seq"); return }
        guard case .txn(let t2) = p(.create(ZKCreate(path: "/a/s", flags: ZKCreateFlags.sequential)), 4) else { Issue.record("seq"); return }
        if case .create(_, let p1, _, _, _, _) = t1.op, case .create(_, let p2, _, _, _, _) = t2.op {
            #expect(p1 == "/a/s0000000000" && p2 == "/a/s0000000001")
        }
        #expect(p(.delete(path: "/a", version: -1), 5) == .failed(err: ZKErr.notEmpty, response: .empty))
        guard case .txn = p(.setData(path: "/a", data: [], version: 0), 5) else { Issue.record("set"); return }
        #expect(p(.setData(path: "/a", data: [], version: 0), 6) == .failed(err: ZKErr.badVersion, response: .empty))
        // Unknown sessions are refused.
        #expect(prep.prep(.create(ZKCreate(path: "/b")), sessionId: 99, cxid: 0, zxid: 6, time: 0, tree: tree) == .failed(err: ZKErr.sessionExpired, response: .empty))
        prep.applied(zxid: 5)
        #expect(prep.pendingCount == 0)
    }
}
