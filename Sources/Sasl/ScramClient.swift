import Crypto

public struct SaslClientError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// The client side of a SCRAM exchange: first message, answer to the server's challenge (proof),
/// then a check of the server's signature so a fake server is noticed.
public struct ScramClient: Sendable {
    let digest: DigestAlgorithm
    let user: String
    let password: String
    let clientNonce: String
    private var clientFirstBare = ""
    private var expectedServerSignature: [UInt8] = []

    public init(digest: DigestAlgorithm, user: String, password: String, clientNonce: String = Scram.nonce()) {
        self.digest = digest
        self.user = user
        self.password = password
        self.clientNonce = clientNonce
    }

    public mutating func firstMessage() -> [UInt8] {
        clientFirstBare = "n=\(Scram.encodeName(user)),r=\(clientNonce)"
        return Array("n,,\(clientFirstBare)".utf8)
    }

    public mutating func finalMessage(serverFirst token: [UInt8]) throws(SaslClientError) -> [UInt8] {
        guard let s = String(validating: token, as: UTF8.self), let attrs = Scram.attributes(s), attrs.count >= 3,
              attrs[0].0 == "r", attrs[1].0 == "s", attrs[2].0 == "i" else {
            throw SaslClientError("invalid SCRAM server first message")
        }
        let nonce = attrs[0].1
        guard nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count else { throw SaslClientError("SCRAM server nonce does not extend ours") }
        guard let salt = Scram.unbase64(attrs[1].1), !salt.isEmpty else { throw SaslClientError("invalid SCRAM salt") }
        guard let iterations = Int(attrs[2].1), iterations >= SaslMechanism.scramMinIterations,
              iterations <= 1_000_000 else { throw SaslClientError("SCRAM iteration count \(attrs[2].1) out of range") }
        let withoutProof = "c=biws,r=\(nonce)"
        let salted = Scram.saltedPassword(digest, password: password, salt: salt, iterations: iterations)
        let clientKey = Digests.hmac(digest, key: salted, Array("Client Key".utf8))
        let storedKey = Digests.hash(digest, clientKey)
        let authMessage = Array("\(clientFirstBare),\(s),\(withoutProof)".utf8)
        let proof = Scram.xor(clientKey, Digests.hmac(digest, key: storedKey, authMessage))
        let serverKey = Digests.hmac(digest, key: salted, Array("Server Key".utf8))
        expectedServerSignature = Digests.hmac(digest, key: serverKey, authMessage)
        return Array("\(withoutProof),p=\(Scram.base64(proof))".utf8)
    }

    public func verify(serverFinal token: [UInt8]) throws(SaslClientError) {
        guard let s = String(validating: token, as: UTF8.self) else { throw SaslClientError("invalid SCRAM server final message") }
        if s.hasPrefix("e=") { throw SaslClientError("SCRAM server error: \(s.dropFirst(2))") }
        guard s.hasPrefix("v="), let sig = Scram.unbase64(String(s.dropFirst(2))),
              !expectedServerSignature.isEmpty, Digests.constantTimeEqual(sig, expectedServerSignature) else {
            throw SaslClientError("SCRAM server signature does not match: not the server holding our credential")
        }
    }
}
