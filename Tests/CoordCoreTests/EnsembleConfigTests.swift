@testable import CoordCore
import Protocol
import Testing

/// /zookeeper/config's text and reconfig's arguments, and the order of prep's reconfig checks.
@Suite struct EnsembleConfigTests {
    static let three = """
        server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181
        server.2=10.0.0.2:2888:3888:participant;0.0.0.0:2181
        server.3=10.0.0.3:2888:3888:participant;0.0.0.0:2181
        version=100000004
        """

    @Test func parsesAndRendersZooKeepersText() throws {
        let c = try EnsembleConfig(text: Self.three)
        #expect(c.version == Zxid(epoch: 1, counter: 4))
        #expect(c.membership == QuorumMembership(voters: [1, 2, 3]))
        #expect(c.text == Self.three)
        // zoo.cfg's short forms come back in normal form: the role always, the client host.
        let s = try EnsembleServer(id: 7, spec: "h:1:2;2181")
        #expect(s.spec == "h:1:2:participant;0.0.0.0:2181")
        #expect(try EnsembleServer(id: 8, spec: "h:1:2:observer").spec == "h:1:2:observer")
        for bad in ["h:1", "h:0:2", "h:1:2:leader", "h:1:2;x", ":1:2", "h:1:2:observer:x"] {
            #expect(throws: EnsembleConfigError.self, "\(bad)") { try EnsembleServer(id: 1, spec: bad) }
        }
        #expect(throws: EnsembleConfigError.self) { try EnsembleConfig(text: "server.x=h:1:2\nversion=0") }
        #expect(throws: EnsembleConfigError.self) { try EnsembleConfig(text: "version=zz") }
    }

    @Test func incrementalAndWholeListChanges() throws {
        let c = try EnsembleConfig(text: Self.three)
        let grown = try c.applying(joining: "server.4=10.0.0.4:2888:3888:observer;2181, server.5=10.0.0.5:2888:3888", leaving: nil, newMembers: nil)
        #expect(grown.membership == QuorumMembership(voters: [1, 2, 3, 5], observers: [4]))
        let shrunk = try grown.applying(joining: nil, leaving: "1,4", newMembers: nil)
        #expect(shrunk.membership == QuorumMembership(voters: [2, 3, 5]))
        let replaced = try c.applying(joining: nil, leaving: nil, newMembers: "server.9=h:1:2")
        #expect(replaced.membership == QuorumMembership(voters: [9]))
        // kazoo's test_bad_input, nothing changing, no voters left, both kinds at once.
        for (j, l, m) in [("some thing", nil, nil), (nil, "1,x", nil), (nil, "7", nil), (nil, "1,2,3", nil),
                          ("server.4=h:1:2", nil, "server.9=h:1:2")] as [(String?, String?, String?)] {
            #expect(throws: EnsembleConfigError.self, "\(j ?? "-") \(l ?? "-") \(m ?? "-")") {
                try c.applying(joining: j, leaving: l, newMembers: m)
            }
        }
    }

    @Test func prepChecksInZooKeepersOrder() throws {
        var prep = TxnPrep()
        var tree = DataTree()
        _ = tree.process(prep.prepCreateSession(sessionId: 5, timeout: 6000, password: [], zxid: 1, time: 0), zxid: 1)
        let current = try EnsembleConfig(text: Self.three)
        func run(_ enabled: Bool, _ current: EnsembleConfig?, _ refusal: ReconfigRefusal?, joining: String? = "server.4=h:1:2",
                 version: Int64 = -1, access: Access = .anonymous) -> Int32 {
            let ctx = ReconfigContext(enabled: enabled, current: current, refusal: { _ in refusal })
            let (o, _) = prep.prepReconfig(joining: joining, leaving: nil, newMembers: nil, curConfigId: version, sessionId: 5, cxid: 1,
                                           zxid: 0x1_0000_0009, time: 0, tree: tree, access: access, context: ctx)
            if case .failed(let e, _) = o { return e }
            return ZKErr.ok
        }
        #expect(run(false, current, nil) == ZKErr.reconfigDisabled)
        #expect(run(true, nil, nil) == ZKErr.unimplemented)
        #expect(run(true, current, .inProgress) == ZKErr.reconfigInProgress)
        #expect(run(true, current, nil, version: 3) == ZKErr.badVersion)
        // Bad arguments before the ACL: kazoo's test_bad_input is not the superuser.
        #expect(run(true, current, nil, joining: "some thing") == ZKErr.badArguments)
        #expect(run(true, current, .newConfigNoQuorum) == ZKErr.newConfigNoQuorum)
        #expect(run(true, current, nil) == ZKErr.noAuth)
        let superuser = Access(ids: [ZKId(scheme: "super", id: "")], policy: AuthPolicy())
        let ctx = ReconfigContext(enabled: true, current: current, refusal: { _ in nil })
        let (o, next) = prep.prepReconfig(joining: "server.4=h:1:2", leaving: nil, newMembers: nil, curConfigId: 0x1_0000_0004, sessionId: 5,
                                          cxid: 1, zxid: 0x1_0000_0009, time: 0, tree: tree, access: superuser, context: ctx)
        guard case .txn(let t) = o, case .setData(let path, let data?, _) = t.op else {
            Issue.record("no txn: \(o)")
            return
        }
        #expect(path == "/zookeeper/config")
        #expect(next?.version == Zxid(epoch: 1, counter: 9))
        #expect(String(decoding: data, as: UTF8.self).hasSuffix("server.4=h:1:2:participant\nversion=100000009"))
    }
}
