import Crypto

/// The server side of one SCRAM exchange (RFC 5802, RFC 7677; Kafka's ScramSaslServer): client-first →
/// server-first (combined nonce, salt, iterations) → client-final (channel binding "n,,", proof) →
/// server-final (server signature). No channel binding ("p=" is refused); extensions are refused
/// (Kafka's `tokenauth` delegation tokens are not implemented).
public struct ScramServer: Sendable {
    enum State: Sendable {
        case awaitingClientFirst
        case awaitingClientFinal(user: String, credential: ScramCredential, gs2Header: String, clientFirstBare: String, serverFirst: String, nonce: String)
        case done
    }

    public let mechanism: SaslMechanism
    let digest: DigestAlgorithm
    private var state = State.awaitingClientFirst
    private let serverNonce: String
    private let lookup: @Sendable (String) -> ScramCredential?

    /// `lookup` finds a user's stored credential; `serverNonce` is fixed only by tests.
    public init(digest: DigestAlgorithm, mechanism: SaslMechanism, serverNonce: String = Scram.nonce(),
                lookup: @escaping @Sendable (String) -> ScramCredential?) {
        self.digest = digest
        self.mechanism = mechanism
        self.serverNonce = serverNonce
        self.lookup = lookup
    }

    public init?(mechanism: SaslMechanism, lookup: @escaping @Sendable (String) -> ScramCredential?) {
        guard let d = mechanism.scramDigest else { return nil }
        self.init(digest: d, mechanism: mechanism, lookup: lookup)
    }

    var failureMessage: String {
        "Authentication failed during authentication due to invalid credentials with SASL mechanism \(mechanism.rawValue)"
    }

    public mutating func step(_ token: [UInt8]) -> SaslStep {
        switch state {
        case .awaitingClientFirst:
            let r = clientFirst(token)
            if case .challenge = r {} else { state = .done }
            return r
        case .awaitingClientFinal(let user, let cred, let gs2, let bare, let serverFirst, let nonce):
            state = .done
            return clientFinal(token, user: user, credential: cred, gs2Header: gs2, clientFirstBare: bare, serverFirst: serverFirst, nonce: nonce)
        case .done:
            return .failure("SCRAM exchange already finished")
        }
    }

    private mutating func clientFirst(_ token: [UInt8]) -> SaslStep {
        guard let s = String(validating: token, as: UTF8.self) else { return .failure("Invalid SCRAM client first message") }
        // gs2-header = gs2-cbind-flag "," [ authzid ] ","
        let parts = s.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure("Invalid SCRAM client first message") }
        guard parts[0] == "n" || parts[0] == "y" else {
            return .failure("Channel binding is not supported (gs2 flag '\(parts[0])')")
        }
        var authzid: String?
        if !parts[1].isEmpty {
            guard parts[1].hasPrefix("a="), let a = Scram.decodeName(String(parts[1].dropFirst(2))) else {
                return .failure("Invalid SCRAM authzid")
            }
            authzid = a
        }
        let bare = String(parts[2])
        guard let attrs = Scram.attributes(bare), attrs.count >= 2, attrs[0].0 == "n", attrs[1].0 == "r",
              let user = Scram.decodeName(attrs[0].1), !user.isEmpty, !attrs[1].1.isEmpty,
              attrs[1].1.allSatisfy({ $0.isASCII && $0 != "," && ($0.asciiValue ?? 0) > 0x20 }) else {
            return .failure("Invalid SCRAM client first message")
        }
        if attrs.count > 2 { return .failure("SCRAM extensions are not supported") }
        if let authzid, authzid != user { return .failure("Authentication failed: Client requested an authorization id that is different from username") }
        guard let cred = lookup(user), cred.iterations >= SaslMechanism.scramMinIterations else { return .failure(failureMessage) }
        let nonce = attrs[1].1 + serverNonce
        let serverFirst = "r=\(nonce),s=\(Scram.base64(cred.salt)),i=\(cred.iterations)"
        let gs2 = "\(parts[0]),\(parts[1]),"
        state = .awaitingClientFinal(user: user, credential: cred, gs2Header: gs2, clientFirstBare: bare, serverFirst: serverFirst, nonce: nonce)
        return .challenge(Array(serverFirst.utf8))
    }

    private func clientFinal(_ token: [UInt8], user: String, credential cred: ScramCredential, gs2Header: String,
                             clientFirstBare: String, serverFirst: String, nonce: String) -> SaslStep {
        guard let s = String(validating: token, as: UTF8.self), let attrs = Scram.attributes(s), attrs.count >= 3,
              attrs[0].0 == "c", attrs[1].0 == "r", let last = attrs.last, last.0 == "p",
              let proof = Scram.unbase64(last.1) else {
            return .failure("Invalid SCRAM client final message")
        }
        guard Scram.unbase64(attrs[0].1) == Array(gs2Header.utf8) else { return .failure("Invalid SCRAM channel binding") }
        // Kafka only checks that the echoed nonce ends with ours: librdkafka sends client nonce + our
        // combined nonce. The proof covers the message as sent, so nothing is weakened.
        guard attrs[1].1.hasSuffix(nonce) else { return .failure("Invalid SCRAM nonce") }
        guard proof.count == digest.outputSize else { return .failure(failureMessage) }
        guard let pIndex = s.range(of: ",p=", options: .backwards) else { return .failure("Invalid SCRAM client final message") }
        let withoutProof = String(s[..<pIndex.lowerBound])
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let clientSignature = Digests.hmac(digest, key: cred.storedKey, authMessage)
        let clientKey = Scram.xor(proof, clientSignature)
        guard Digests.constantTimeEqual(Digests.hash(digest, clientKey), cred.storedKey) else { return .failure(failureMessage) }
        let serverSignature = Digests.hmac(digest, key: cred.serverKey, authMessage)
        return .success(user: user, final: Array("v=\(Scram.base64(serverSignature))".utf8))
    }
}
