import Protocol
import Testing
@testable import CoordCore

/// TTL nodes (CreateMode 5 and 6, op createTTL, behind extendedTypesEnabled) and the reaping of
/// empty containers and expired TTL nodes, decided as ZooKeeper's PrepRequestProcessor and
/// ContainerManager do; the deletes are ordinary txns the leader preps.
@Suite struct TTLContainerTests {
    static func ttlHarness() -> TreeHarness {
        var h = TreeHarness()
        h.prep.extendedTypesEnabled = true
        return h
    }

    @Test func ttlNeedsExtendedTypes() {
        var h = TreeHarness()
        #expect(h.write(.createTTL(ZKCreate(path: "/t", flags: ZKCreateFlags.persistentWithTTL, ttl: 100))).err == ZKErr.unimplemented)
        #expect(h.create("/t", flags: ZKCreateFlags.persistentSequentialWithTTL).err == ZKErr.unimplemented)
        // A non-TTL mode through createTTL carries no TTL: BadArguments whatever the setting.
        #expect(h.write(.createTTL(ZKCreate(path: "/t", flags: 0, ttl: 100))).err == ZKErr.badArguments)
        #expect(h.write(.createTTL(ZKCreate(path: "/t", flags: 0, ttl: -1))).err == ZKErr.ok)
    }

    @Test func ttlValuesAndModes() {
        var h = Self.ttlHarness()
        for bad in [Int64(0), -1, ZNode.maxTTL + 1] {
            #expect(h.write(.createTTL(ZKCreate(path: "/t", flags: ZKCreateFlags.persistentWithTTL, ttl: bad))).err == ZKErr.badArguments, "ttl \(bad)")
        }
        // Plain create with a TTL mode has no TTL to give.
        #expect(h.create("/t", flags: ZKCreateFlags.persistentWithTTL).err == ZKErr.badArguments)
        let r = h.write(.createTTL(ZKCreate(path: "/t", flags: ZKCreateFlags.persistentWithTTL, ttl: 5000)))
        guard case .pathStat(let p, let st) = r.response else { Issue.record("createTTL answers path and stat: \(r)"); return }
        #expect(p == "/t" && st.ephemeralOwner == Int64(bitPattern: 0xFF00_0000_0000_1388))
        #expect(h.tree.node("/t")?.ttl == 5000 && h.tree.node("/t")?.isEphemeral == false)
        let seq = h.write(.createTTL(ZKCreate(path: "/t/s-", flags: ZKCreateFlags.persistentSequentialWithTTL, ttl: 7)))
        #expect(seq.response == .pathStat("/t/s-0000000000", h.stat("/t/s-0000000000") ?? ZKStat()), "TTL nodes may have children")
        // Not tied to the session: closing it keeps them.
        h.zxid += 1
        _ = h.apply(h.prep.prepCloseSession(sessionId: h.session, zxid: h.zxid, time: h.now, tree: h.tree))
        #expect(h.tree.node("/t") != nil && h.tree.node("/t/s-0000000000") != nil)
        #expect(h.tree.ttls == ["/t", "/t/s-0000000000"])
    }

    @Test func reapCandidatesFollowContainerManager() throws {
        var h = Self.ttlHarness()
        _ = h.write(.createContainer(ZKCreate(path: "/used", flags: ZKCreateFlags.container)))
        _ = h.write(.createContainer(ZKCreate(path: "/fresh", flags: ZKCreateFlags.container)))
        _ = h.create("/used/child")
        _ = h.write(.createTTL(ZKCreate(path: "/ttl", flags: ZKCreateFlags.persistentWithTTL, ttl: 1000)))
        _ = h.create("/plain")
        let t0 = h.now
        // A container that still has a child, a fresh one (cversion 0) and a young TTL node stay.
        #expect(h.tree.reapCandidates(now: t0 + 500).isEmpty)
        _ = h.write(.delete(path: "/used/child", version: -1))
        #expect(h.tree.reapCandidates(now: t0 + 500) == ["/used"])
        #expect(h.tree.reapCandidates(now: t0 + 1001) == ["/ttl", "/used"])
        #expect(h.tree.reapCandidates(now: t0 + 1001, maxNeverUsedIntervalMs: 1000) == ["/fresh", "/ttl", "/used"])
        // A TTL counts from the last modification.
        h.now = t0 + 900
        _ = h.write(.setData(path: "/ttl", data: [1], version: -1))
        #expect(h.tree.reapCandidates(now: t0 + 1001) == ["/used"])
        // The indexes survive a snapshot.
        let back = try DataTree(snapshot: h.tree.serializeSnapshot())
        #expect(back.containers == h.tree.containers && back.ttls == h.tree.ttls && back.containers.count == 2)
    }

    @Test func deleteContainerRechecksAtPrep() {
        var h = Self.ttlHarness()
        _ = h.write(.createContainer(ZKCreate(path: "/c", flags: ZKCreateFlags.container)))
        _ = h.create("/plain")
        // Normal nodes and missing ones are never reaped.
        #expect(h.prep.prepDeleteContainer(path: "/plain", zxid: h.zxid + 1, time: h.now, tree: h.tree) == nil)
        #expect(h.prep.prepDeleteContainer(path: "/none", zxid: h.zxid + 1, time: h.now, tree: h.tree) == nil)
        // A child prepped but not yet applied keeps it.
        guard case .txn(let childTxn) = h.prep.prep(.create(ZKCreate(path: "/c/x")), sessionId: h.session, cxid: 1, zxid: h.zxid + 1,
                                                   time: h.now, tree: h.tree) else { Issue.record("prep"); return }
        #expect(h.prep.prepDeleteContainer(path: "/c", zxid: h.zxid + 2, time: h.now, tree: h.tree) == nil)
        h.zxid += 1
        _ = h.apply(childTxn)
        _ = h.write(.delete(path: "/c/x", version: -1))
        guard let del = h.prep.prepDeleteContainer(path: "/c", zxid: h.zxid + 1, time: h.now, tree: h.tree) else { Issue.record("no delete"); return }
        #expect(del.op == .delete(path: "/c") && del.sessionId == 0)
        // Prepped once: a second check before it applies finds it gone.
        #expect(h.prep.prepDeleteContainer(path: "/c", zxid: h.zxid + 2, time: h.now, tree: h.tree) == nil)
        _ = h.read(.exists(path: "/c", watch: true), watcher: 3)
        h.zxid += 1
        #expect(h.apply(del).err == ZKErr.ok)
        #expect(h.tree.node("/c") == nil && h.tree.containers.isEmpty)
        #expect(h.takeEvents().map(\.event) == [ZKWatcherEvent(type: ZKEventType.nodeDeleted, path: "/c")])
    }
}
