import Sasl
import Synchronization

/// One connection's listener and authentication state, shared by its network loop (which raises the
/// frame limit once authenticated) and the handler thread running its (one at a time) requests.
public final class ConnectionSecurity: Sendable {
    public let listener: String
    /// nil on PLAINTEXT listeners: nothing to authenticate.
    private let sasl: Mutex<SaslServerSession?>
    private let authenticated: Atomic<Bool>
    private let user = Mutex<String?>(nil)

    init(listener: String, sasl: SaslServerSession?) {
        self.listener = listener
        self.sasl = Mutex(sasl)
        authenticated = Atomic(sasl == nil)
    }

    public var isAuthenticated: Bool { authenticated.load(ordering: .acquiring) }

    /// Kafka's principal: `User:<name>` after SASL; on SSL listeners `User:` + the client certificate's
    /// subject (RFC 2253, through ssl.principal.mapping.rules); `User:ANONYMOUS` on PLAINTEXT or without a certificate.
    public var principal: String { "User:" + (user.withLock { $0 } ?? "ANONYMOUS") }

    /// SSL listeners: the name the client certificate maps to, once the handshake is over.
    func setCertificatePrincipal(_ name: String) { user.withLock { $0 = name } }

    /// Runs a step of the SASL session; marks the connection authenticated when it completes.
    func withSession<R>(_ body: (inout SaslServerSession) -> R) -> R? {
        sasl.withLock { s -> R? in
            guard var session = s else { return nil }
            let r = body(&session)
            if case .complete(let u) = session.phase {
                user.withLock { $0 = u }
                authenticated.store(true, ordering: .releasing)
            }
            s = session
            return r
        }
    }

    var expectsRawToken: Bool { sasl.withLock { $0?.expectsRawToken ?? false } }
}
