/// Where a SASL connection is in Kafka's authentication sequence (SaslServerAuthenticator):
/// [ApiVersions] → SaslHandshake → tokens (raw frames after a v0 handshake, SaslAuthenticate after v1)
/// → complete. Nothing else is allowed before completion; a client that tries is disconnected.
public struct SaslServerSession: Sendable {
    public enum Phase: Equatable, Sendable {
        case handshakeOrVersions
        case handshake
        /// `raw`: a v0 handshake, tokens come as bare length-prefixed frames.
        case authenticate(raw: Bool)
        case complete(user: String)
        case failed
    }

    /// What the request at the head of the connection may be.
    public enum Request: Equatable, Sendable {
        case apiVersions, handshake, authenticate, other
    }

    public enum HandshakeResult: Equatable, Sendable {
        case accepted(enabled: [String])
        /// UNSUPPORTED_SASL_MECHANISM: answer with the enabled list, then close.
        case unsupported(enabled: [String])
    }

    public private(set) var phase = Phase.handshakeOrVersions
    public let enabled: [SaslMechanism]
    public let maxTokenBytes: Int
    private var exchange: SaslServerExchange?
    private let makeExchange: @Sendable (SaslMechanism) -> SaslServerExchange

    public init(enabled: [SaslMechanism], maxTokenBytes: Int = saslDefaultMaxReceiveSize,
                makeExchange: @escaping @Sendable (SaslMechanism) -> SaslServerExchange) {
        self.enabled = enabled
        self.maxTokenBytes = maxTokenBytes
        self.makeExchange = makeExchange
    }

    public var isComplete: Bool { if case .complete = phase { return true } else { return false } }
    public var expectsRawToken: Bool { phase == .authenticate(raw: true) }

    /// Whether a request of this kind may come now; when not, the connection must be closed (and
    /// the session is failed).
    public mutating func admit(_ r: Request) -> Bool {
        let ok: Bool
        switch (phase, r) {
        case (.handshakeOrVersions, .apiVersions), (.handshake, .apiVersions):
            // Clients probe: an unsupported-version ApiVersions answer is followed by a lower version.
            phase = .handshake
            ok = true
        case (.handshakeOrVersions, .handshake), (.handshake, .handshake): ok = true
        case (.authenticate(raw: false), .authenticate): ok = true
        default: ok = false
        }
        if !ok { phase = .failed }
        return ok
    }

    public mutating func handshake(mechanism: String, version: Int16) -> HandshakeResult {
        let names = enabled.map(\.rawValue)
        guard let m = SaslMechanism(rawValue: mechanism), enabled.contains(m) else {
            phase = .failed
            return .unsupported(enabled: names)
        }
        exchange = makeExchange(m)
        phase = .authenticate(raw: version == 0)
        return .accepted(enabled: names)
    }

    /// One client token (raw or from SaslAuthenticate).
    public mutating func authenticate(_ token: [UInt8]) -> SaslStep {
        guard case .authenticate = phase, var ex = exchange else {
            phase = .failed
            return .failure("Unexpected SASL token")
        }
        guard token.count <= maxTokenBytes else {
            phase = .failed
            return .failure("SASL token of \(token.count) bytes exceeds the limit of \(maxTokenBytes)")
        }
        let r = ex.step(token)
        exchange = ex
        switch r {
        case .challenge: break
        case .success(let user, _):
            phase = .complete(user: user)
            exchange = nil
        case .failure:
            phase = .failed
            exchange = nil
        }
        return r
    }
}
