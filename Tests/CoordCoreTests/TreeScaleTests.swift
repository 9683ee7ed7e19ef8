import Protocol
import Testing
@testable import CoordCore

/// A create or delete under a parent with many children must not copy the parent's child set
/// (it did: the node was copied out of the dictionary, changed and stored back — O(children) per write).
@Suite struct TreeScaleTests {
    static func create(_ tree: inout DataTree, _ path: String, zxid: Int64) -> Int32 {
        let t = CoordTxn(sessionId: 0, cxid: 0, time: 1,
                         op: .create(requestOp: ZKOp.create, path: path, data: [], acl: ZKACL.openUnsafe, ephemeralOwner: 0,
                                     parentCVersion: Int32(truncatingIfNeeded: zxid)))
        return tree.process(t, zxid: zxid).err
    }

    @Test func childSetIsChangedInPlace() {
        var tree = DataTree()
        #expect(Self.create(&tree, "/p", zxid: 1) == ZKErr.ok)
        var zxid: Int64 = 1
        for i in 0..<20_000 {
            zxid += 1
            #expect(Self.create(&tree, "/p/c\(i)", zxid: zxid) == ZKErr.ok)
        }
        // Grow until the set has room, so an insert cannot legitimately reallocate it.
        var i = 20_000
        while let n = tree.node("/p"), n.children.capacity == n.children.count {
            zxid += 1
            _ = Self.create(&tree, "/p/c\(i)", zxid: zxid)
            i += 1
        }
        let before = tree.childStorageIdentity("/p")
        zxid += 1
        #expect(Self.create(&tree, "/p/extra", zxid: zxid) == ZKErr.ok)
        #expect(tree.childStorageIdentity("/p") == before, "create under /p copied its child set")
        zxid += 1
        let del = CoordTxn(sessionId: 0, cxid: 0, time: 1, op: .delete(path: "/p/c7"))
        #expect(tree.process(del, zxid: zxid).err == ZKErr.ok)
        #expect(tree.childStorageIdentity("/p") == before, "delete under /p copied its child set")
        #expect(tree.node("/p")?.children.contains("extra") == true)
        #expect(tree.node("/p")?.children.contains("c7") == false)
    }
}
