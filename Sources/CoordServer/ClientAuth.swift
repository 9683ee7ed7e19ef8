import CoordCore
import Protocol
import Sasl

extension CoordServer {
    /// SASL packets one connection may send: DIGEST-MD5 needs two; a failure closes the connection,
    /// so one failed attempt per connection.
    static let maxSaslRounds = 4

    /// Auth and SASL packets, and any request of a connection that enforced authentication refuses,
    /// are answered here at once; true when `req` was one of them.
    func answeredOutsidePipeline(_ cnx: ClientCnx, _ h: ZKRequestHeader, _ req: ZKRequest, now: UInt64) -> Bool {
        switch req {
        case .auth(_, let scheme, let data):
            authenticate(cnx, xid: h.xid, scheme: scheme, data: data, now: now)
        case .sasl(let token):
            saslStep(cnx, xid: h.xid, token: token, now: now)
        default:
            guard !cnx.access.satisfiesEnforcement else { return false }
            refuseUnauthenticated(cnx, xid: h.xid, op: h.type, now: now)
        }
        return true
    }

    /// An auth packet (xid -4): answered at once, as ZooKeeper does outside the request pipeline.
    /// A scheme without a provider answers AUTHFAILED and the connection closes (the session stays).
    func authenticate(_ cnx: ClientCnx, xid: Int32, scheme: String, data: [UInt8], now: UInt64) {
        let p = PendingReply(xid: xid, op: ZKOp.auth, state: .done(err: ZKErr.ok, zxid: 0, response: .empty), now: now)
        if let ids = cnx.access.authenticate(scheme: scheme, data: data, remoteHost: cnx.address) {
            cnx.access.add(ids)
            logger("session \(Self.hex(cnx.sessionId)): auth success for scheme \(scheme) from \(cnx.conn.peer)")
        } else {
            logger("session \(Self.hex(cnx.sessionId)): authentication failed for scheme \(scheme) from \(cnx.conn.peer)")
            noteAuthFailed(scheme: scheme)
            p.state = .done(err: ZKErr.authFailed, zxid: 0, response: .empty)
            p.closeAfter = true
        }
        cnx.enqueue(p)
        drain(cnx)
    }

    /// One SASL token (op 102, the client's own xid): answered at once with the server's next
    /// token (SetSASLResponse). Success adds `sasl:<user>` (and `super` for a superUser); failure
    /// answers AUTHFAILED — SessionClosedRequireAuth when SASL is enforced — and closes.
    func saslStep(_ cnx: ClientCnx, xid: Int32, token: [UInt8], now: UInt64) {
        let p = PendingReply(xid: xid, op: ZKOp.sasl, state: .done(err: ZKErr.ok, zxid: 0, response: .saslToken(nil)), now: now)
        cnx.saslRounds += 1
        let step: SaslStep
        if cnx.saslRounds > Self.maxSaslRounds {
            step = .failure("more than \(Self.maxSaslRounds) SASL packets")
        } else if token.count > DigestMD5.maxResponseBytes {
            step = .failure("SASL token of \(token.count) bytes")
        } else if cnx.access.ids.contains(where: { $0.scheme == "sasl" }) {
            step = .failure("SASL authentication is already complete")
        } else if let users = config.sasl.users {
            var server = cnx.saslServer ?? DigestMD5Server(users: users)
            step = server.step(token)
            cnx.saslServer = server
        } else {
            step = .failure("no JAAS '\(config.sasl.section)' section is configured")
        }
        switch step {
        case .challenge(let c):
            p.state = .done(err: ZKErr.ok, zxid: 0, response: .saslToken(c))
        case .success(let user, let final):
            cnx.saslServer = nil
            cnx.access.add(cnx.access.saslIdentities(user: user))
            logger("session \(Self.hex(cnx.sessionId)): adding SASL authorization for authorizationID: \(user)")
            p.state = .done(err: ZKErr.ok, zxid: 0, response: .saslToken(final))
        case .failure(let why):
            cnx.saslServer = nil
            logger("session \(Self.hex(cnx.sessionId)): client \(cnx.conn.peer) failed to SASL authenticate: \(why)")
            noteAuthFailed(scheme: "sasl")
            let enforced = config.auth.enforcedSchemes.contains("sasl")
            p.state = .done(err: enforced ? ZKErr.sessionClosedRequireSaslAuth : ZKErr.authFailed, zxid: 0, response: .saslToken(nil))
            p.closeAfter = true
        }
        cnx.enqueue(p)
        drain(cnx)
    }

    /// A request of a connection without an identity of an enforced scheme (enforce.auth.schemes,
    /// sessionRequireClientSASLAuth): SessionClosedRequireAuth (-124), then the connection closes.
    func refuseUnauthenticated(_ cnx: ClientCnx, xid: Int32, op: Int32, now: UInt64) {
        logger("session \(Self.hex(cnx.sessionId)): closing \(cnx.conn.peer): not authenticated with \(config.auth.enforcedSchemes.sorted().joined(separator: ","))")
        noteAuthFailed(scheme: "enforced")
        let p = PendingReply(xid: xid, op: op, state: .done(err: ZKErr.sessionClosedRequireSaslAuth, zxid: 0, response: .empty), now: now)
        p.closeAfter = true
        cnx.enqueue(p)
        drain(cnx)
    }

    func noteAuthFailed(scheme: String) {
        authFailures += 1
        metrics.authFailed.inc()
        // A high-rate kind (an attacker can repeat it): one event per second with the count.
        timeline.tally("auth.failed")
    }
}
