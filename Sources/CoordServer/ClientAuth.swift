import CoordCore
import Protocol

extension CoordServer {
    /// An auth packet (xid -4): answered at once, as ZooKeeper does outside the request pipeline.
    /// A scheme without a provider answers AUTHFAILED and the connection closes (the session stays).
    func authenticate(_ cnx: ClientCnx, xid: Int32, scheme: String, data: [UInt8], now: UInt64) {
        let p = PendingReply(xid: xid, op: ZKOp.auth, state: .done(err: ZKErr.ok, zxid: 0, response: .empty), now: now)
        if let ids = cnx.access.authenticate(scheme: scheme, data: data, remoteHost: cnx.address) {
            cnx.access.add(ids)
            logger("session \(Self.hex(cnx.sessionId)): auth success for scheme \(scheme) from \(cnx.conn.peer)")
        } else {
            logger("session \(Self.hex(cnx.sessionId)): authentication failed for scheme \(scheme) from \(cnx.conn.peer)")
            authFailures += 1
            p.state = .done(err: ZKErr.authFailed, zxid: 0, response: .empty)
            p.closeAfter = true
        }
        cnx.enqueue(p)
        drain(cnx)
    }
}
