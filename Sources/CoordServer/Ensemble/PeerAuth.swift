import Crypto
import Foundation
import Protocol

/// Quorum peer authentication by shared secret (`quorum.auth.secretFile`). Each side of a peer
/// link sends a fresh nonce in its handshake and answers the other's nonce with
/// HMAC-SHA256(secret, label ‖ role ‖ sender ‖ receiver ‖ receiver's nonce ‖ sender's nonce): a
/// process without the secret cannot claim a server id, and a recorded proof is useless on a new
/// connection because the receiver's nonce is new. The dialer proves first and the acceptor answers
/// only a valid proof, so a server can never be made to sign for a relaying impostor. Pure: no I/O
/// after `load`.
public struct PeerAuth: Sendable {
    static let label = Array("coordd quorum peer v1".utf8)
    /// Short secrets can be guessed offline from one recorded handshake.
    public static let minSecretBytes = 16
    let secret: [UInt8]

    public init(secret: [UInt8]) throws(ZooConfigError) {
        guard secret.count >= Self.minSecretBytes else {
            throw ZooConfigError("quorum.auth.secretFile: the secret must be at least \(Self.minSecretBytes) bytes")
        }
        self.secret = secret
    }

    /// Reads the secret (surrounding whitespace dropped); refuses a file others can read.
    public static func load(path: String) throws(ZooConfigError) -> PeerAuth {
        var st = stat()
        guard stat(path, &st) == 0, let data = FileManager.default.contents(atPath: path) else {
            throw ZooConfigError("quorum.auth.secretFile=\(path): cannot read it")
        }
        if st.st_mode & 0o077 != 0 {
            throw ZooConfigError("quorum.auth.secretFile=\(path): readable by group or others (mode \(String(st.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        var bytes = [UInt8](data)
        while let l = bytes.last, l == 10 || l == 13 || l == 32 || l == 9 { bytes.removeLast() }
        while let f = bytes.first, f == 10 || f == 13 || f == 32 || f == 9 { bytes.removeFirst() }
        return try PeerAuth(secret: bytes)
    }

    public func nonce() -> [UInt8] { Digests.randomBytes(PeerHandshake.nonceBytes) }

    /// What `sender` sends `receiver` to answer the receiver's nonce.
    public func proof(from sender: UInt64, to receiver: UInt64, senderIsDialer: Bool,
                      senderNonce: [UInt8], receiverNonce: [UInt8]) -> PeerProof {
        var msg = Self.label
        msg.append(senderIsDialer ? 1 : 2)
        msg += withUnsafeBytes(of: sender.bigEndian, Array.init)
        msg += withUnsafeBytes(of: receiver.bigEndian, Array.init)
        msg += receiverNonce
        msg += senderNonce
        return PeerProof(mac: Digests.hmac(.sha256, key: secret, msg))
    }

    /// Checks the proof `peer` sent us, answering our `myNonce`.
    public func verify(_ proof: PeerProof, from peer: UInt64, to me: UInt64, peerIsDialer: Bool,
                       peerNonce: [UInt8], myNonce: [UInt8]) -> Bool {
        guard peerNonce.count == PeerHandshake.nonceBytes, myNonce.count == PeerHandshake.nonceBytes else { return false }
        let expected = self.proof(from: peer, to: me, senderIsDialer: peerIsDialer, senderNonce: peerNonce, receiverNonce: myNonce)
        return Digests.constantTimeEqual(expected.mac, proof.mac)
    }
}
