import Protocol
import Testing
@testable import CoordCore

@Suite struct TreeTests {
    @Test func freshTreeHasRootAndZookeeperNodes() {
        let t = DataTree()
        #expect(t.read(.getChildren(path: "/", watch: false), sessionId: 0).response == .children(["zookeeper"]))
        #expect(t.read(.getChildren(path: "/zookeeper", watch: false), sessionId: 0).response == .children(["config", "quota"]))
        #expect(t.node("/zookeeper/quota") != nil)
    }

    @Test func createGetSetDeleteWithStats() {
        var h = TreeHarness()
        #expect(h.create("/a", "hello") == (ZKErr.ok, .path("/a")))
        let z1 = h.zxid
        let s = h.stat("/a")!
        #expect(s.czxid == z1 && s.mzxid == z1 && s.pzxid == z1 && s.version == 0 && s.dataLength == 5 && s.ctime == h.now)
        #expect(h.stat("/")!.cversion == 1 && h.stat("/")!.pzxid == z1 && h.stat("/")!.numChildren == 2)
        // create2 answers with the stat.
        let r2 = h.write(.create2(ZKCreate(path: "/a/b", data: [1])))
        #expect(r2.err == ZKErr.ok)
        if case .pathStat(let p, let st) = r2.response { #expect(p == "/a/b" && st.dataLength == 1) } else { Issue.record("no stat") }
        #expect(h.read(.getData(path: "/a", watch: false)).response == .data(Array("hello".utf8), h.stat("/a")!))
        // Conditional set.
        #expect(h.write(.setData(path: "/a", data: [9], version: 3)).err == ZKErr.badVersion)
        #expect(h.write(.setData(path: "/a", data: [9], version: 0)).err == ZKErr.ok)
        #expect(h.stat("/a")!.version == 1 && h.stat("/a")!.mzxid == h.zxid && h.stat("/a")!.czxid == z1)
        #expect(h.write(.setData(path: "/a", data: [8], version: -1)).err == ZKErr.ok)
        #expect(h.stat("/a")!.version == 2)
        // Delete: not empty, bad version, then ok.
        #expect(h.write(.delete(path: "/a", version: -1)).err == ZKErr.notEmpty)
        #expect(h.write(.delete(path: "/a/b", version: 5)).err == ZKErr.badVersion)
        #expect(h.write(.delete(path: "/a/b", version: 0)).err == ZKErr.ok)
        #expect(h.stat("/a")!.pzxid == h.zxid && h.stat("/a")!.numChildren == 0)
        #expect(h.write(.delete(path: "/a", version: 2)).err == ZKErr.ok)
        #expect(h.read(.exists(path: "/a", watch: false)).err == ZKErr.noNode)
        #expect(h.write(.delete(path: "/a", version: -1)).err == ZKErr.noNode)
    }

    @Test func createErrors() {
        var h = TreeHarness()
        #expect(h.create("/x/y").err == ZKErr.noNode)
        #expect(h.create("/x").err == ZKErr.ok)
        #expect(h.create("/x").err == ZKErr.nodeExists)
        #expect(h.create("/e", flags: ZKCreateFlags.ephemeral).err == ZKErr.ok)
        #expect(h.create("/e/child").err == ZKErr.noChildrenForEphemerals)
        #expect(h.create("/bad", flags: 9).err == ZKErr.badArguments)
        #expect(h.write(.create(ZKCreate(path: "/noacl", acl: []))).err == ZKErr.invalidACL)
        #expect(h.write(.createTTL(ZKCreate(path: "/ttl", flags: 5, ttl: 100))).err == ZKErr.unimplemented)
        #expect(h.create("/").err == ZKErr.nodeExists)
        #expect(h.write(.delete(path: "/", version: -1)).err == ZKErr.badArguments)
    }

    @Test func badPathsAreBadArguments() {
        var h = TreeHarness()
        for p in ["", "a", "/a/", "//a", "/a//b", "/a/./b", "/a/..", "/.", "/a\u{0}b", "/a\u{1f}"] {
            #expect(h.create(p).err == ZKErr.badArguments, "path \(p.debugDescription)")
            #expect(h.write(.setData(path: p, data: [], version: -1)).err == ZKErr.badArguments)
        }
        #expect(ZKPath.isValid("/a.b/..c/d.."))
        #expect(ZKPath.isValid("/q/", sequential: true))
        #expect(!ZKPath.isValid("/q/"))
    }

    @Test func sequentialNamesComeFromParentCversion() {
        var h = TreeHarness()
        #expect(h.create("/q").err == ZKErr.ok)
        #expect(h.create("/q/n-", flags: ZKCreateFlags.sequential).response == .path("/q/n-0000000000"))
        #expect(h.create("/q/other").err == ZKErr.ok)
        #expect(h.create("/q/n-", flags: ZKCreateFlags.sequential).response == .path("/q/n-0000000002"))
        #expect(h.create("/q/", flags: ZKCreateFlags.ephemeralSequential).response == .path("/q/0000000003"))
        #expect(h.stat("/q/0000000003")!.ephemeralOwner == h.session)
        #expect(ZKPath.sequenceSuffix(12345678) == "0012345678")
    }

    @Test func aclIsStoredAndVersioned() {
        var h = TreeHarness()
        _ = h.create("/a")
        let acl = [ZKACL(perms: ZKPerms.read, id: ZKId(scheme: "world", id: "anyone"))]
        #expect(h.write(.setACL(path: "/a", acl: acl, version: 1)).err == ZKErr.badVersion)
        #expect(h.write(.setACL(path: "/a", acl: acl, version: 0)).err == ZKErr.ok)
        let r = h.read(.getACL(path: "/a"))
        if case .acl(let got, let st) = r.response { #expect(got == acl && st.aversion == 1) } else { Issue.record("no acl") }
        #expect(h.read(.getACL(path: "/nope")).err == ZKErr.noNode)
    }

    @Test func checkOpAndChildCounting() {
        var h = TreeHarness()
        _ = h.create("/a")
        _ = h.create("/a/b")
        _ = h.create("/a/b/c")
        #expect(h.write(.check(path: "/a", version: 0)).err == ZKErr.ok)
        #expect(h.write(.check(path: "/a", version: 1)).err == ZKErr.badVersion)
        #expect(h.write(.check(path: "/zz", version: 1)).err == ZKErr.noNode)
        #expect(h.read(.getAllChildrenNumber(path: "/a")).response == .count(2))
        #expect(h.read(.getChildren2(path: "/a", watch: false)).response == .children2(["b"], h.stat("/a")!))
    }

    @Test func snapshotRoundTripsNodesSessionsAndZxid() throws {
        var h = TreeHarness()
        _ = h.create("/a", "data")
        _ = h.create("/a/b", flags: ZKCreateFlags.ephemeral)
        _ = h.write(.setData(path: "/a", data: [1, 2, 3], version: -1))
        let bytes = h.tree.serializeSnapshot()
        let back = try DataTree(snapshot: bytes)
        #expect(back.nodes == h.tree.nodes)
        #expect(back.sessions == h.tree.sessions)
        #expect(back.ephemerals == h.tree.ephemerals)
        #expect(back.lastZxid == h.zxid)
        // Every truncation and a version change fail cleanly.
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: (any Error).self) { try DataTree(snapshot: Array(bytes[0..<cut])) }
        }
        var bad = bytes
        bad[0] = 99
        #expect(throws: (any Error).self) { try DataTree(snapshot: bad) }
    }

    @Test func txnBytesRoundTripAndRejectGarbage() throws {
        let t = CoordTxn(sessionId: 5, cxid: 9, time: 123, op: .multi([
            .create(requestOp: ZKOp.create2, path: "/a", data: [1], acl: ZKACL.openUnsafe, ephemeralOwner: 5, parentCVersion: 2),
            .delete(path: "/b"), .setData(path: "/c", data: [], version: 3), .setACL(path: "/d", acl: [], version: 1),
            .check(path: "/e", version: 0), .error(-101)]))
        #expect(try CoordTxn(bytes: t.serialize()) == t)
        let bytes = t.serialize()
        for cut in 0..<bytes.count {
            #expect(throws: (any Error).self) { try CoordTxn(bytes: Array(bytes[0..<cut])) }
        }
        #expect(throws: (any Error).self) { try CoordTxn(bytes: bytes + [0]) }
    }
}
