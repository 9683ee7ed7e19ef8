import Foundation
import Protocol
import Testing
@testable import CoordServer

@Suite struct PeerAuthTests {
    let auth = try! PeerAuth(secret: Array("0123456789abcdef-ensemble".utf8))
    let other = try! PeerAuth(secret: Array("0123456789abcdef-another!".utf8))

    @Test func aProofChecksOutOnlyForItsIdsNoncesRoleAndSecret() {
        let n1 = auth.nonce(), n2 = auth.nonce()
        #expect(n1 != n2 && n1.count == PeerHandshake.nonceBytes)
        let p = auth.proof(from: 3, to: 1, senderIsDialer: true, senderNonce: n1, receiverNonce: n2)
        #expect(auth.verify(p, from: 3, to: 1, peerIsDialer: true, peerNonce: n1, myNonce: n2))
        // Another secret, another claimed id, a replay on a new connection (new nonce), or a proof
        // made by the acceptor offered as a dialer's: all refused.
        #expect(!other.verify(p, from: 3, to: 1, peerIsDialer: true, peerNonce: n1, myNonce: n2))
        #expect(!auth.verify(p, from: 2, to: 1, peerIsDialer: true, peerNonce: n1, myNonce: n2))
        #expect(!auth.verify(p, from: 3, to: 1, peerIsDialer: true, peerNonce: n1, myNonce: auth.nonce()))
        #expect(!auth.verify(p, from: 3, to: 1, peerIsDialer: false, peerNonce: n1, myNonce: n2))
        #expect(!auth.verify(p, from: 3, to: 1, peerIsDialer: true, peerNonce: [], myNonce: n2))
    }

    @Test func shortSecretsAndOpenFilesAreRefused() throws {
        #expect(throws: ZooConfigError.self) { try PeerAuth(secret: Array("short".utf8)) }
        let dir = NSTemporaryDirectory() + "peerauth-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/secret"
        try "  a-long-enough-shared-secret\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        #expect(throws: ZooConfigError.self) { try PeerAuth.load(path: path) }
        chmod(path, 0o600)
        let loaded = try PeerAuth.load(path: path)
        #expect(loaded.secret == Array("a-long-enough-shared-secret".utf8))
        #expect(throws: ZooConfigError.self) { try PeerAuth.load(path: dir + "/missing") }
    }

    @Test func configTakesTheSecretFileAndRefusesQuorumSASL() throws {
        let base = "dataDir=/tmp/x\nclientPort=2181\n"
        #expect(try ZooConfig.parse(base + "quorum.auth.secretFile=/etc/coordd/secret\n").quorumSecretFile == "/etc/coordd/secret")
        #expect(throws: ZooConfigError.self) { try ZooConfig.parse(base + "quorum.auth.enableSasl=true\n") }
        #expect(try ZooConfig.parse(base + "quorum.auth.enableSasl=false\n").quorumSecretFile == nil)
    }
}
