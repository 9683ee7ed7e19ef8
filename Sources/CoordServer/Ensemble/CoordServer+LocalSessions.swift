import CoordCore
import Protocol
import Transport

/// ZooKeeper's local sessions (`localSessionsEnabled=true`): a new session is created on the
/// server the client connects to, with no txn, and expires there; no other server knows it, so a
/// client that moves to another server finds it expired. Its writes go to the leader marked local
/// (not checked against the replicated sessions). An ephemeral needs a session every server
/// knows: with `localSessionsUpgradingEnabled=true` the session is committed first (a
/// createSession txn, ordered before the write by this server's FIFO to the leader), otherwise the
/// create answers EphemeralOnLocalSession (-120).
struct LocalSession {
    var timeout: Int32
    var password: [UInt8]
}

extension CoordServer {
    /// Standalone too: it is a one-voter quorum with the same session paths.
    var localSessionsOn: Bool { config.localSessionsEnabled }

    func openLocalSession(_ cnx: ClientCnx, timeout: Int32, now: UInt64) {
        let sid = tracker.newSessionId()
        let password = (0..<16).map { _ in UInt8.random(in: 0...255) }
        localSessions[sid] = LocalSession(timeout: timeout, password: password)
        localTracker.add(sid, timeout: timeout, now: WallClock.millis())
        bind(cnx, sid, timeout)
        let resp = ZKConnectResponse(timeout: timeout, sessionId: sid, password: password)
        cnx.enqueue(PendingReply(xid: 0, op: ZKOp.createSession, state: .connectDone(resp), now: now))
        logger("new local session \(Self.hex(sid)) with negotiated timeout \(timeout) for client \(cnx.conn.peer)")
        drain(cnx)
    }

    /// A client back on this server with its local session; false when it is not one of ours.
    func resumeLocalSession(_ cnx: ClientCnx, _ req: ZKConnectRequest, timeout: Int32, now: UInt64) -> Bool {
        guard let s = localSessions[req.sessionId] else { return false }
        if s.password != req.password {
            resumeSession(cnx, req.sessionId, nil, timeout: timeout, now: now)
            return true
        }
        if let old = sessionCnx[req.sessionId], old != cnx.id, let oc = cnxs[old] { closeNow(oc, "session \(Self.hex(req.sessionId)) moved to a new connection") }
        localTracker.add(req.sessionId, timeout: timeout, now: WallClock.millis())
        bind(cnx, req.sessionId, timeout)
        let resp = ZKConnectResponse(timeout: timeout, sessionId: req.sessionId, password: s.password)
        cnx.enqueue(PendingReply(xid: 0, op: ZKOp.createSession, state: .connectDone(resp), now: now))
        drain(cnx)
        return true
    }

    /// A request of a local session before it goes to the quorum: closeSession ends it here; an
    /// ephemeral upgrades it (or is refused). Returns true when the request was answered here, and
    /// in `local` whether it still goes to the leader as a local session's write.
    func localSessionRequest(_ cnx: ClientCnx, _ req: ZKRequest, _ p: PendingReply, local: inout Bool) -> Bool {
        let sid = cnx.sessionId
        guard let s = localSessions[sid] else { return false }
        localTracker.touch(sid, now: WallClock.millis())
        if case .closeSession = req {
            endLocalSession(sid)
            p.state = .done(err: ZKErr.ok, zxid: nil, response: .empty)
            cnx.enqueue(p)
            drain(cnx)
            return true
        }
        guard req.isWrite else { return false }
        if req.createsEphemeral {
            guard config.localSessionsUpgradingEnabled, let q = quorum else {
                p.state = .done(err: ZKErr.ephemeralOnLocalSession, zxid: nil, response: .empty)
                cnx.enqueue(p)
                drain(cnx)
                return true
            }
            // Committed first: the leader takes this server's requests in order.
            endLocalSession(sid)
            logger("upgrading local session \(Self.hex(sid)) to a global one")
            q.submit(ClientRequest(origin: RequestOrigin(server: myId, session: sid, xid: 0),
                                   data: EnsembleRequest.createSession(sessionId: sid, timeout: s.timeout, password: s.password).encode()))
            return false
        }
        local = true
        return false
    }

    func endLocalSession(_ sid: Int64) {
        localSessions[sid] = nil
        localTracker.remove(sid)
    }

    /// Every server expires its own local sessions.
    func expireLocalSessions() {
        guard !localSessions.isEmpty else { return }
        for sid in localTracker.expire(now: WallClock.millis()) where localSessions[sid] != nil {
            logger("expiring local session \(Self.hex(sid))")
            localSessions[sid] = nil
            if let cid = sessionCnx.removeValue(forKey: sid), let c = cnxs[cid], c.phase != .closing { closeNow(c, "local session expired") }
        }
    }
}
