import CoordCore
import Testing
@testable import CoordServer

/// zoo.cfg observers: `server.N=...:observer` plus `peerType=observer` on that server.
@Suite struct ObserverConfigTests {
    let servers = "dataDir=/tmp/x\nclientPort=2181\nserver.1=h1:2888:3888\nserver.2=h2:2888:3888\nserver.3=h3:2888:3888\nserver.4=h4:2888:3888:observer\n"

    func config(_ extra: String, myid: Int) throws -> ZooConfig {
        var c = try ZooConfig.parse(servers + extra)
        c.myid = myid
        return c
    }

    @Test func observersJoinTheQuorumConfigAsNonVoters() throws {
        let c = try config("peerType=observer\n", myid: 4)
        try c.checkPeerType()
        let (qc, _) = QuorumRuntime.quorumConfig(c, myId: 4)
        #expect(qc.voters == [1, 2, 3] && qc.observers == [4] && qc.isObserver && qc.quorumSize == 2)
        // A participant's own view: same lists, not an observer itself.
        let p = try config("", myid: 1)
        try p.checkPeerType()
        #expect(QuorumRuntime.quorumConfig(p, myId: 1).0.observers == [4])
        #expect(try config("peerType=participant\n", myid: 2).peerType == "participant")
    }

    @Test func mismatchesAndUnknownTypesAreRefused() throws {
        #expect(throws: ZooConfigError.self) { try config("", myid: 4).checkPeerType() }
        #expect(throws: ZooConfigError.self) { try config("peerType=observer\n", myid: 1).checkPeerType() }
        #expect(throws: ZooConfigError.self) { try ZooConfig.parse(servers + "peerType=witness\n") }
        var allObservers = try ZooConfig.parse("dataDir=/tmp/x\nclientPort=2181\nserver.1=h1:2888:3888:observer\npeerType=observer\n")
        allObservers.myid = 1
        #expect(throws: ZooConfigError.self) { try allObservers.checkPeerType() }
    }
}
