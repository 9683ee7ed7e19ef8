import CoordCore
import Protocol
import Transport

/// Replies and watch events on their way to a client, in request order, and reads answered
/// against the current tree when their turn comes.
extension CoordServer {
    func sendNotification(_ cnx: ClientCnx, _ ev: ZKWatcherEvent) {
        guard cnx.phase == .connected else { return }
        if cnx.conn.pendingWriteBytes > cnx.outboundHardCap {
            // Reading already stopped at the soft bound; only watches still add bytes. Drop the
            // client rather than hold its events without bound (it resyncs on reconnect).
            closeNow(cnx, "\(cnx.conn.pendingWriteBytes) bytes of replies and watch events unread")
            return
        }
        let f = ByteWriter.juteFrame { w in
            ZKReplyHeader(xid: ZKXid.notification, zxid: -1, err: 0).write(jute: &w)
            ev.write(jute: &w)
        }
        cnx.send(f)
        packetsSent += 1
    }

    /// Sends every reply at the head of the queue that is ready, stopping at the first that is not.
    func drain(_ cnx: ClientCnx) {
        while let p = cnx.first, !cnx.conn.isClosed {
            var frame: [UInt8]
            switch p.state {
            case .awaitingCommit, .connectAwaitingCommit:
                return
            case .connectDone(let resp):
                frame = ByteWriter.juteFrame { resp.write(jute: &$0) }
            case .done(let err, let zxid, let resp):
                // A failed SASL packet still carries SetSASLResponse(null), as ZooKeeper sends it.
                frame = replyFrame(cnx, xid: p.xid, zxid: zxid ?? tree.lastZxid, err: err, resp, bodyOnError: p.op == ZKOp.sasl)
            case .read(let req):
                let (err, resp) = executeRead(cnx, req, access: p.access)
                frame = replyFrame(cnx, xid: p.xid, zxid: tree.lastZxid, err: err, resp)
            }
            cnx.send(frame)
            packetsSent += 1
            cnx.popFirst()
            if p.op != ZKOp.ping { recordLatency(p.startedNanos, op: p.op) }
            if p.closeAfter {
                cnx.phase = .closing
                cnx.clearQueue()
                cnx.conn.closeAfterFlush()
                return
            }
        }
        if cnx.conn.isReadPaused && !cnx.resumeScheduled && !cnx.overBounds {
            // Not from here: drain runs inside commits, which must not start new requests.
            cnx.resumeScheduled = true
            loop.schedule(afterMillis: 0) { [unowned self] in
                cnx.resumeScheduled = false
                self.resumeReading(cnx)
            }
        }
    }

    /// Goes on with a paused connection once it is back under its bounds (its replies were taken or
    /// left the queue): first the frames it already sent, then the socket.
    func resumeReading(_ cnx: ClientCnx) {
        guard cnx.conn.isReadPaused, cnx.phase != .closing, !cnx.conn.isClosed, !cnx.overBounds else { return }
        cnx.conn.setReadPaused(false)
        var none = FrameDecoder.Input.empty
        handleFrames(cnx, &none)
    }

    func replyFrame(_ cnx: ClientCnx, xid: Int32, zxid: Int64, err: Int32, _ resp: ZKResponse, bodyOnError: Bool = false) -> [UInt8] {
        cnx.lastZxid = zxid
        return ByteWriter.juteFrame { w in
            ZKReplyHeader(xid: xid, zxid: zxid, err: err).write(jute: &w)
            if err == ZKErr.ok || bodyOnError { resp.write(jute: &w) }
        }
    }

    func recordLatency(_ started: UInt64, op: Int32) {
        let ms = Double(MonotonicClock.nanos() &- started) / 1_000_000
        metrics.observeLatency(ms: ms, op: op)
        latencyCount += 1
        latencyTotalMs += ms
        latencyMinMs = min(latencyMinMs, ms)
        latencyMaxMs = max(latencyMaxMs, ms)
    }

    /// Answers a non-write request against the current tree, registering watches on success.
    func executeRead(_ cnx: ClientCnx, _ req: ZKRequest, access: Access) -> (Int32, ZKResponse) {
        switch req {
        case .ping, .auth:
            return (ZKErr.ok, .empty)
        case .whoAmI:
            return (ZKErr.ok, .clientInfo(access.clientInfo))
        case .setWatches(let sw), .setWatches2(let sw):
            for ev in watches.setWatches(sw, watcher: cnx.id, tree: tree) { sendNotification(cnx, ev) }
            return (ZKErr.ok, .empty)
        case .addWatch(let path, let mode):
            // ZooKeeper registers it whether or not the node exists, with no ACL check, and
            // answers an ErrorResponse(0); an unknown mode fails its conversion: MarshallingError.
            guard watches.addPersistentWatch(path, mode: mode, watcher: cnx.id) else { return (ZKErr.marshallingError, .empty) }
            return (ZKErr.ok, .errorResponse(0))
        case .checkWatches(let path, let type):
            return (watches.check(path, type: type, watcher: cnx.id).errorCode, .empty)
        case .removeWatches(let path, let type):
            return (watches.remove(path, type: type, watcher: cnx.id).errorCode, .empty)
        default:
            break
        }
        let r = tree.read(req, sessionId: cnx.sessionId, access: access)
        switch req {
        case .exists(let p, true) where r.err == ZKErr.ok || r.err == ZKErr.noNode:
            watches.addDataWatch(p, watcher: cnx.id)
        case .getData(let p, true) where r.err == ZKErr.ok:
            watches.addDataWatch(p, watcher: cnx.id)
        case .getChildren(let p, true) where r.err == ZKErr.ok, .getChildren2(let p, true) where r.err == ZKErr.ok:
            watches.addChildWatch(p, watcher: cnx.id)
        default:
            break
        }
        return r
    }
}
