import Testing
@testable import Protocol

@Suite struct JuteTests {
    private func roundTrip(_ req: ZKRequest) throws -> ZKRequest {
        var w = ByteWriter()
        req.write(jute: &w)
        var r = ByteReader(w.bytes)
        let back = try ZKRequest.decode(op: req.opCode, &r)
        #expect(r.isAtEnd)
        return back
    }

    @Test func everyRequestRoundTrips() throws {
        let acl = [ZKACL(perms: 31, id: ZKId(scheme: "digest", id: "u:p"))]
        let reqs: [ZKRequest] = [
            .create(ZKCreate(path: "/a", data: [1, 2], acl: acl, flags: 3)),
            .create2(ZKCreate(path: "/b", data: [], flags: 0)),
            .createContainer(ZKCreate(path: "/c")),
            .createTTL(ZKCreate(path: "/t", flags: 5, ttl: 1234)),
            .delete(path: "/a", version: -1),
            .exists(path: "/x", watch: true),
            .getData(path: "/x", watch: false),
            .setData(path: "/x", data: [9], version: 4),
            .getACL(path: "/x"),
            .setACL(path: "/x", acl: acl, version: 0),
            .getChildren(path: "/", watch: true),
            .getChildren2(path: "/", watch: false),
            .sync(path: "/"),
            .ping,
            .check(path: "/x", version: 7),
            .multi([.create(ZKCreate(path: "/m")), .setData(path: "/m", data: [1], version: -1), .check(path: "/m", version: 1), .delete(path: "/m", version: -1)]),
            .multiRead([.getData(path: "/a", watch: false), .getChildren(path: "/", watch: false)]),
            .auth(type: 0, scheme: "digest", auth: Array("u:p".utf8)),
            .setWatches(ZKSetWatches(relativeZxid: 77, dataWatches: ["/a"], existWatches: ["/b"], childWatches: ["/"])),
            .setWatches2(ZKSetWatches(relativeZxid: 1, persistentWatches: ["/p"], persistentRecursiveWatches: ["/r"])),
            .getEphemerals(prefix: "/"),
            .getAllChildrenNumber(path: "/"),
            .closeSession,
        ]
        for req in reqs {
            #expect(try roundTrip(req) == req)
        }
    }

    @Test func statEncodesTo68BytesInFieldOrder() throws {
        var s = ZKStat()
        s.czxid = 1; s.mzxid = 2; s.ctime = 3; s.mtime = 4; s.version = 5; s.cversion = 6
        s.aversion = 7; s.ephemeralOwner = 8; s.dataLength = 9; s.numChildren = 10; s.pzxid = 11
        let bytes = s.encoded()
        #expect(bytes.count == ZKStat.wireSize)
        #expect(Array(bytes[0..<8]) == [0, 0, 0, 0, 0, 0, 0, 1])
        #expect(Array(bytes[32..<36]) == [0, 0, 0, 5])
        #expect(Array(bytes[60..<68]) == [0, 0, 0, 0, 0, 0, 0, 11])
        #expect(try ZKStat.decode(bytes) == s)
    }

    @Test func connectRequestWithAndWithoutReadOnlyFlag() throws {
        let c = ZKConnectRequest(lastZxidSeen: 5, timeout: 30000, sessionId: 0x1234, password: [UInt8](repeating: 7, count: 16), readOnly: true)
        let bytes = c.encoded()
        #expect(bytes.count == 4 + 8 + 4 + 8 + 4 + 16 + 1)
        #expect(try ZKConnectRequest.decode(bytes) == c)
        // Old clients stop before the flag.
        let old = try ZKConnectRequest.decode(Array(bytes.dropLast()))
        #expect(old.readOnly == false && old.sessionId == 0x1234)
        let resp = ZKConnectResponse(timeout: 4000, sessionId: 9, password: [1, 2])
        #expect(try ZKConnectResponse.decode(resp.encoded()) == resp)
    }

    @Test func nullStringsAndBuffersUseMinusOne() throws {
        var w = ByteWriter()
        w.writeJuteString(nil)
        w.writeJuteBuffer(nil)
        w.writeJuteStrings(nil)
        #expect(w.bytes == [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        var r = ByteReader(w.bytes)
        #expect(try r.readJuteStringOrNil() == nil)
        #expect(try r.readJuteBufferOrNil() == nil)
        #expect(try r.readJuteVector { try $0.readJuteString() } == nil)
    }

    @Test func malformedInputThrowsInsteadOfTrapping() {
        // Huge string length.
        var r1 = ByteReader([0x7f, 0xff, 0xff, 0xff, 0x41])
        #expect(throws: DecodeError.self) { try r1.readJuteString() }
        // Negative length other than -1.
        var r2 = ByteReader([0xff, 0xff, 0xff, 0xfe])
        #expect(throws: DecodeError.invalidLength(-2)) { try r2.readJuteBuffer() }
        // Vector count that cannot fit in what is left.
        var r3 = ByteReader([0x10, 0, 0, 0, 0, 0, 0, 1])
        #expect(throws: DecodeError.self) { try r3.readJuteStrings() }
        // Truncated create, unknown op, bad op inside multi.
        var r4 = ByteReader([0, 0, 0, 2, 0x2f])
        #expect(throws: DecodeError.self) { try ZKRequest.decode(op: ZKOp.create, &r4) }
        var r5 = ByteReader([])
        #expect(throws: JuteError.unknownOp(999)) { try ZKRequest.decode(op: 999, &r5) }
        var w = ByteWriter()
        ZKMultiHeader(type: ZKOp.getData, done: false, err: -1).write(jute: &w)
        var r6 = ByteReader(w.bytes)
        #expect(throws: JuteError.badMultiOp(ZKOp.getData)) { try ZKRequest.decode(op: ZKOp.multi, &r6) }
        // Multi with no end marker.
        var w2 = ByteWriter()
        ZKMultiHeader(type: ZKOp.delete, done: false, err: -1).write(jute: &w2)
        ZKRequest.delete(path: "/a", version: 1).write(jute: &w2)
        var r7 = ByteReader(w2.bytes)
        #expect(throws: DecodeError.self) { try ZKRequest.decode(op: ZKOp.multi, &r7) }
        // Every truncation of a valid request throws.
        var full = ByteWriter()
        ZKRequest.setACL(path: "/abc", acl: ZKACL.openUnsafe, version: 3).write(jute: &full)
        for cut in 0..<full.bytes.count {
            var r = ByteReader(Array(full.bytes[0..<cut]))
            #expect(throws: (any Error).self) { try ZKRequest.decode(op: ZKOp.setACL, &r) }
        }
    }

    @Test func multiResponseFraming() throws {
        var s = ZKStat()
        s.version = 3
        let resp = ZKResponse.multi([.create(path: "/a"), .create2(op: ZKOp.create2, path: "/b", stat: s), .delete, .setData(s), .check, .error(ZKErr.noNode)])
        var w = ByteWriter()
        resp.write(jute: &w)
        // The error result has header type -1 and carries its code both in header and body.
        var r = ByteReader(w.bytes)
        #expect(try ZKResponse.decode(op: ZKOp.multi, &r) == resp)
        #expect(r.isAtEnd)
        let tail = Array(w.bytes.suffix(9 + 4 + 9))
        #expect(tail == [0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0x9b, 0xff, 0xff, 0xff, 0x9b, 0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff])
    }

    @Test func requestFrameHasLengthAndHeader() throws {
        let f = ZKRequest.getData(path: "/x", watch: true).frame(xid: 7)
        #expect(Array(f[0..<4]) == [0, 0, 0, UInt8(f.count - 4)])
        var r = ByteReader(f, offset: 4)
        #expect(try ZKRequestHeader(jute: &r) == ZKRequestHeader(xid: 7, type: ZKOp.getData))
        #expect(try ZKRequest.decode(op: ZKOp.getData, &r) == .getData(path: "/x", watch: true))
    }
}
