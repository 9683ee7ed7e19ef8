import BrokerCore
import CoordClient
import Foundation
import Protocol
import Sasl

/// SASL before authentication (Kafka's SaslServerAuthenticator): ApiVersions, SaslHandshake and the
/// tokens (raw after a v0 handshake, SaslAuthenticate after v1); anything else closes the connection.
extension RequestHandler {
    func handleUnauthenticated(_ q: QueuedRequest, _ sec: ConnectionSecurity) {
        if sec.expectsRawToken {
            let step = sec.withSession { $0.authenticate(q.frame) } ?? .failure("no SASL session")
            switch step {
            case .challenge(let b), .success(_, let b):
                if case .success(let u, _) = step { logger.info("authenticated \(q.peer) as User:\(u) on \(sec.listener)") }
                var w = ByteWriter()
                w.writeInt32(Int32(b.count))
                w.writeBytes(b)
                q.respond([.bytes(w.bytes)])
            case .failure(let m):
                // v0 has no error frame: Kafka closes the connection.
                logger.info("SASL authentication of \(q.peer) failed: \(m)")
                q.respond([.close])
            }
            return
        }
        guard q.frame.count >= 2 else { q.respond([.close]); return }
        let key = Int16(bitPattern: UInt16(q.frame[0]) << 8 | UInt16(q.frame[1]))
        let kind: SaslServerSession.Request
        switch KafkaAPI(rawValue: key) {
        case .apiVersions: kind = .apiVersions
        case .saslHandshake: kind = .handshake
        case .saslAuthenticate: kind = .authenticate
        default: kind = .other
        }
        guard sec.withSession({ $0.admit(kind) }) == true else {
            logger.info("closing connection from \(q.peer): \(KafkaAPI(rawValue: key)?.name ?? "api \(key)") before SASL authentication")
            q.respond([.close])
            return
        }
        if kind == .apiVersions {
            // Answered like any ApiVersions (the state machine already moved on).
            handleAuthenticatedFrame(q)
            return
        }
        let frame: KafkaRequestFrame
        let request: KafkaRequest
        do {
            frame = try KafkaRequestFrame.parse(q.frame)
            request = try KafkaRequest.decode(frame)
        } catch {
            logger.info("closing connection from \(q.peer): malformed SASL request: \(error)")
            q.respond([.close])
            return
        }
        let ctx = RequestContext(header: frame.header, api: frame.api, respond: q.respond)
        switch request {
        case .saslHandshake(let r):
            switch sec.withSession({ $0.handshake(mechanism: r.mechanism, version: ctx.version) }) {
            case .accepted(let names)?:
                ctx.reply(SaslHandshakeResponse(errorCode: .none, mechanisms: names))
            case .unsupported(let names)?:
                replyThenClose(ctx, SaslHandshakeResponse(errorCode: .unsupportedSaslMechanism, mechanisms: names))
            case nil: q.respond([.close])
            }
        case .saslAuthenticate(let r):
            let step = sec.withSession { $0.authenticate(r.authBytes) } ?? .failure("no SASL session")
            switch step {
            case .challenge(let b): ctx.reply(SaslAuthenticateResponse(errorCode: .none, authBytes: b))
            case .success(let u, let b):
                logger.info("authenticated \(q.peer) as User:\(u) on \(sec.listener)")
                ctx.reply(SaslAuthenticateResponse(errorCode: .none, authBytes: b))
            case .failure(let m):
                authFailureLog("SASL authentication of \(q.peer) on \(sec.listener) failed: \(m)")
                onAuthenticationFailed?(sec.listener)
                replyThenClose(ctx, SaslAuthenticateResponse(errorCode: .saslAuthenticationFailed, errorMessage: m))
            }
        default:
            q.respond([.close])
        }
    }

    private func handleAuthenticatedFrame(_ q: QueuedRequest) {
        var plain = q
        plain.security = nil
        handle(plain)
    }

    private func replyThenClose<M: KafkaMessage>(_ ctx: RequestContext, _ m: M) {
        if let b = try? KafkaResponseFrame.encode(m, version: ctx.version, correlationId: ctx.correlationId) {
            ctx.respond([.bytes(b), .close])
        } else {
            ctx.respond([.close])
        }
    }

    /// A SCRAM user's stored credential, read from `/config/users/<user>` (nil: unknown user or coordd away).
    func scramCredential(user: String, mechanism: SaslMechanism) -> ScramCredential? {
        guard let c = session.connectedClient, let (d, _) = try? c.getData(ScramUsers.path(user)),
              let p = try? TopicConfigPayload.decode(d), let v = p.config[mechanism.rawValue] else { return nil }
        return ScramCredential.parseKafkaConfigValue(v)
    }
}

/// `/config/users/<sanitized user>`: Kafka URL-encodes entity names (Sanitizer) in ZK paths.
enum ScramUsers {
    static func sanitize(_ name: String) -> String {
        var out = ""
        for b in name.utf8 {
            let c = Character(Unicode.Scalar(b))
            if b < 0x80, c.isLetter || c.isNumber || c == "." || c == "_" || c == "-" {
                out.append(c)
            } else {
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }

    static func desanitize(_ s: String) -> String? { s.removingPercentEncoding }

    static func path(_ user: String) -> String { "/config/users/" + sanitize(user) }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
