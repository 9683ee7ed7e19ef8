import CoordCore
import Protocol
import Transport

/// ZooKeeper's read-only mode (`readonlymode.enabled`): a server cut off from the quorum for a
/// while keeps serving reads of its (possibly stale) tree to clients that said `canBeReadOnly`.
/// Writes and syncs get NotReadOnly (-119); new sessions are local to this server and die with
/// their connection; when the quorum is back every read-only connection is closed, so clients
/// reconnect to a server that can write. Other clients are refused as before.
extension CoordServer {
    /// ZooKeeper waits this long after losing the quorum (max(2000 ms, tickTime)) before going read-only.
    var readOnlyDelayMs: UInt64 { UInt64(max(2000, Int(config.tickTime))) }

    var readOnlyActive: Bool {
        guard config.readOnlyModeEnabled, !isStandalone, let since = notServingSince else { return false }
        return MonotonicClock.millis() >= since + readOnlyDelayMs
    }

    func readOnlyStatusChanged(serving: Bool) {
        if !serving {
            if notServingSince == nil { notServingSince = MonotonicClock.millis() }
            return
        }
        notServingSince = nil
        let ro = cnxs.values.filter { $0.readOnly && $0.phase != .closing }
        for c in ro { closeNow(c, "the quorum is back: read-only session ends") }
        if !ro.isEmpty { logger("left read-only mode: closed \(ro.count) read-only connections") }
    }

    func handleReadOnlyConnect(_ cnx: ClientCnx, _ req: ZKConnectRequest, now: UInt64) {
        cnx.readOnly = true
        let timeout = tracker.negotiate(req.timeout)
        var sid = req.sessionId
        var password = req.password
        if sid == 0 {
            // A local session: never committed, so no other server knows it.
            sid = tracker.newSessionId()
            password = (0..<16).map { _ in UInt8.random(in: 0...255) }
        } else if tree.sessions[sid]?.password != req.password {
            return resumeSession(cnx, sid, nil, timeout: timeout, now: now)
        }
        if let old = sessionCnx[sid], old != cnx.id, let oc = cnxs[old] { closeNow(oc, "session \(Self.hex(sid)) moved to a new connection") }
        bind(cnx, sid, timeout)
        let resp = ZKConnectResponse(timeout: timeout, sessionId: sid, password: password, readOnly: true)
        cnx.enqueue(PendingReply(xid: 0, op: ZKOp.createSession, state: .connectDone(resp), now: now))
        logger("read-only session \(Self.hex(sid)) for client \(cnx.conn.peer)")
        drain(cnx)
    }

    /// Reads from the local tree; anything that would need the quorum is NotReadOnly.
    func handleReadOnlyRequest(_ cnx: ClientCnx, _ req: ZKRequest, _ p: PendingReply) {
        switch req {
        case .closeSession:
            p.state = .done(err: ZKErr.ok, zxid: nil, response: .empty)
            p.closeAfter = true
        case .sync:
            p.state = .done(err: ZKErr.notReadOnly, zxid: nil, response: .empty)
        default:
            if req.isWrite { p.state = .done(err: ZKErr.notReadOnly, zxid: nil, response: .empty) }
        }
        cnx.enqueue(p)
        drain(cnx)
    }
}
