import Protocol
import Testing
@testable import CoordCore

/// ZooKeeper keeps null data (a buffer of length -1) apart from empty data, through create,
/// setData, the txn log, snapshots and getData.
@Suite struct NullDataTests {
    @Test func createAndSetKeepNullApartFromEmpty() {
        var h = TreeHarness()
        #expect(h.write(.create(ZKCreate(path: "/null", data: nil))).err == ZKErr.ok)
        #expect(h.create("/empty").err == ZKErr.ok)
        #expect(h.tree.node("/null")?.data == nil)
        #expect(h.tree.node("/empty")?.data == [])
        guard case .data(let d, let s) = h.read(.getData(path: "/null", watch: false)).response else { Issue.record("getData"); return }
        #expect(d == nil && s.dataLength == 0)
        #expect(h.read(.getData(path: "/empty", watch: false)).response == .data([], h.stat("/empty")!))
        // setData to null and back.
        #expect(h.write(.setData(path: "/empty", data: nil, version: -1)).err == ZKErr.ok)
        #expect(h.tree.node("/empty")?.data == nil)
        #expect(h.write(.setData(path: "/null", data: [7], version: -1)).err == ZKErr.ok)
        #expect(h.tree.node("/null")?.data == [7])
        // Inside a multi too.
        #expect(h.write(.multi([.create(ZKCreate(path: "/m", data: nil)), .setData(path: "/null", data: nil, version: -1)])).err == ZKErr.ok)
        #expect(h.tree.node("/m")?.data == nil && h.tree.node("/null")?.data == nil)
    }

    @Test func txnBytesCarryNull() throws {
        let ops: [CoordTxnOp] = [
            .create(requestOp: ZKOp.create, path: "/a", data: nil, acl: ZKACL.openUnsafe, ephemeralOwner: 0, parentCVersion: 1),
            .create(requestOp: ZKOp.create, path: "/b", data: [], acl: ZKACL.openUnsafe, ephemeralOwner: 0, parentCVersion: 2),
            .setData(path: "/a", data: nil, version: 1),
            .setData(path: "/a", data: [], version: 2),
        ]
        for op in ops {
            let t = CoordTxn(sessionId: 1, cxid: 2, time: 3, op: op)
            #expect(try CoordTxn(bytes: t.serialize()) == t)
        }
        // Null is written as length -1, empty as 0: txns logged before null existed read as before.
        let null = CoordTxn(sessionId: 1, cxid: 2, time: 3, op: .setData(path: "/a", data: nil, version: 1)).serialize()
        let empty = CoordTxn(sessionId: 1, cxid: 2, time: 3, op: .setData(path: "/a", data: [], version: 1)).serialize()
        let dataLengthAt = 1 + 8 + 4 + 8 + 4 + 4 + 2
        #expect(Array(null[dataLengthAt..<dataLengthAt + 4]) == [0xff, 0xff, 0xff, 0xff])
        #expect(Array(empty[dataLengthAt..<dataLengthAt + 4]) == [0, 0, 0, 0])
    }

    @Test func snapshotKeepsNull() throws {
        var h = TreeHarness()
        _ = h.write(.create(ZKCreate(path: "/null", data: nil)))
        _ = h.create("/empty")
        _ = h.create("/full", "x")
        let back = try DataTree(snapshot: h.tree.serializeSnapshot())
        #expect(back.node("/null")?.data == nil)
        #expect(back.node("/empty")?.data == [])
        #expect(back.node("/full")?.data == Array("x".utf8))
    }

    @Test func wireNullRoundTrips() throws {
        // A create and a setData with a null buffer decode as nil; getData answers length -1.
        let create = ZKRequest.create(ZKCreate(path: "/n", data: nil))
        var w = ByteWriter(capacity: 64)
        create.write(jute: &w)
        var r = ByteReader(w.bytes)
        #expect(try ZKRequest.decode(op: ZKOp.create, &r) == create)
        var rw = ByteWriter(capacity: 64)
        ZKResponse.data(nil, ZKStat()).write(jute: &rw)
        #expect(Array(rw.bytes.prefix(4)) == [0xff, 0xff, 0xff, 0xff])
        var rr = ByteReader(rw.bytes)
        #expect(try ZKResponse.decode(op: ZKOp.getData, &rr) == .data(nil, ZKStat()))
    }
}
