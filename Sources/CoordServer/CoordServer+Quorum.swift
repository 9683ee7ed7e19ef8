#if canImport(Glibc)
import Glibc
#endif
import CoordCore
import Dispatch
import Protocol
import Storage
import Transport

/// A client reply waiting on the quorum, keyed by where the request came from.
struct OriginWait {
    let cnx: ClientCnx
    let reply: PendingReply
    /// Set for `sync`: answered from the tree once the barrier is applied here.
    let sync: ZKRequest?
}

/// Every write, session change and sync goes through the quorum runtime, standalone too: the
/// leader alone runs prep and decides session expiry; every server applies committed txns in zxid
/// order and the server the client is connected to answers it. Standalone (no server.N lines)
/// the quorum has one voter, this server, and no peer links: it elects itself at once and commits
/// a proposal as soon as its own log write is durable (group commit on the storage thread).
extension CoordServer: QuorumApp {
    /// No server.N lines: a one-voter quorum that reports itself as ZooKeeper's standalone mode.
    var isStandalone: Bool { config.servers.isEmpty }
    var myId: UInt64 { UInt64(config.myid ?? 0) }

    /// True when clients may be served.
    var serving: Bool { quorum?.servingNow ?? false }

    /// Recovers the quorum's durable state and starts the runtime. Standalone returns once this
    /// server leads its one-voter quorum (the recovered log applied), so it serves at once.
    func startQuorum() throws -> Int {
        let id: Int
        let me: ZooConfig.ServerEntry?
        if isStandalone {
            if config.quorumSecretFile != nil { logger("quorum.auth.secretFile: standalone mode has no peer links to authenticate") }
            id = config.myid ?? 0
            me = nil
        } else {
            guard let mine = config.myid, let entry = config.servers[mine] else {
                throw ZooConfigError("ensemble configured but myid \(config.myid.map(String.init) ?? "unset") is not one of the server.N lines")
            }
            try config.checkPeerType()
            id = mine
            me = entry
        }
        let rec = try QuorumStorage.recover(fs: fs, snapDir: config.snapDir, logDir: config.logDir, logger: logger)
        if let snap = rec.snapshot { try load(snapshot: snap) }
        appliedZxid = rec.restore.snapshotZxid
        initConfigNode()
        logger("quorum log: \(rec.restore.log.count) txns after the snapshot, epochs accepted \(rec.restore.epochs.acceptedEpoch) current \(rec.restore.epochs.currentEpoch)")
        let (qc, tickMs) = QuorumRuntime.quorumConfig(config, myId: UInt64(id))
        var restore = rec.restore
        // Standalone is a quorum of one whatever a reconfig once wrote into the data.
        if !isStandalone { restoredMembership(&restore) }
        let peer = try QuorumPeer(config: qc, restore: restore, incarnation: UInt64.random(in: 1...UInt64.max))
        let links = isStandalone ? nil : try peerLinks(myId: UInt64(id), log: restore.log)
        let storage = QuorumStorage(loop: loop, log: rec.log, snapshots: rec.snapshots, epochs: rec.epochs, logger: logger)
        let rt = QuorumRuntime(peer: peer, links: links, storage: storage, tickMillis: tickMs, loop: loop, logger: logger)
        rt.app = self
        rt.timeline = timeline
        rt.metrics = metrics
        storage.fsyncObserver = { [metrics] ms in metrics.fsync.observe(ms) }
        quorum = rt

        try listen()
        let box = UncheckedBox(self)
        let host = me.map { config.quorumListenOnAllIPs ? "0.0.0.0" : $0.host }
        let started = DispatchGate()
        loop.execute {
            do {
                try box.value.quorum?.start(listenHost: host)
            } catch {
                box.value.logger("FATAL: cannot start the quorum on \(host ?? "-"):\(me?.peerPort ?? 0): \(error)")
                exit(1)
            }
            started.open()
        }
        scheduleTick()
        scheduleContainerCheck()
        loop.startThread()
        started.wait()
        if let me, let host {
            logger("ensemble \(qc.isObserver ? "observer" : "member") \(id) of \(qc.voters.count) voters, \(qc.observers.count) observers: quorum on \(host):\(me.peerPort), tick \(tickMs) ms, initLimit \(qc.initLimit), syncLimit \(qc.syncLimit) ticks")
        } else {
            // One voter decides at once; serving waits only for its epochs (one fsync).
            standaloneServing.wait()
            logger("standalone: leading a one-voter quorum in epoch \(rt.appStatus.epoch), last zxid \(Self.hex(tree.lastZxid))")
        }
        return port
    }

    /// The peer links to zoo.cfg's servers and to those reconfigs added (in the state or `log`).
    private func peerLinks(myId id: UInt64, log: [QuorumTxn]) throws -> PeerLinks {
        var addrs = reconfiguredAddresses(log: log)
        for (sid, e) in config.servers { addrs[UInt64(sid)] = PeerLinks.Address(host: e.host, port: e.peerPort) }
        let auth = try config.quorumSecretFile.map { path throws(ZooConfigError) in try PeerAuth.load(path: path) }
        logger(auth == nil ? "quorum peers are not authenticated (no quorum.auth.secretFile)" : "quorum peers authenticate with the shared secret in \(config.quorumSecretFile ?? "")")
        let links = PeerLinks(myId: id, addresses: addrs, deadAfterMillis: Int(config.tickTime) * config.syncLimit,
                              loop: loop, auth: auth, logger: logger)
        links.acceptUnknownPeers = config.reconfigEnabled
        return links
    }

    // MARK: client side

    /// On a ready leader (standalone included) the tracker sees it at once; a follower reports it.
    func touchSession(_ sid: Int64) {
        if localSessions[sid] != nil {
            localTracker.touch(sid, now: WallClock.millis())
            return
        }
        if quorum?.leaderReady ?? false {
            tracker.touch(sid, now: WallClock.millis())
        } else {
            touched.insert(sid)
        }
    }

    /// Followers report active sessions to the leader, which alone expires them.
    func reportTouches() {
        guard let q = quorum, !q.leaderReady, q.appStatus.serving, !touched.isEmpty else { return }
        let ids = touched.sorted()
        touched.removeAll(keepingCapacity: true)
        q.submit(ClientRequest(origin: RequestOrigin(server: myId, session: 0, xid: 0), data: EnsembleRequest.touch(ids).encode()))
    }

    /// The leader alone expires sessions, through the quorum like any write.
    func expireSessions() {
        guard let q = quorum, q.leaderReady else { return }
        for sid in tracker.expire(now: WallClock.millis()) {
            guard tree.sessions[sid] != nil || prep.isSessionValid(sid, tree: tree) else { continue }
            logger("expiring session \(Self.hex(sid)), timeout of \(tree.sessions[sid]?.timeout ?? 0)ms exceeded")
            noteSessionExpired(sid)
            proposeTxn(prep.prepCloseSession(sessionId: sid, cxid: 0, zxid: Int64(bitPattern: q.nextZxid.raw), time: WallClock.millis(), tree: tree),
                       origin: nil)
        }
    }

    /// A fresh origin for a request that goes to the quorum. Its `xid` is a tag of this server,
    /// not the client's xid: clients (kazoo) restart xids on reconnect while a request of the
    /// old connection may still be outstanding, and ZooKeeper accepts that. The reply itself
    /// carries the client's xid from its slot in the connection's FIFO.
    private func newOrigin(_ cnx: ClientCnx) -> RequestOrigin {
        while true {
            originTag = originTag == Int32.max ? 1 : originTag + 1
            let o = RequestOrigin(server: myId, session: cnx.sessionId, xid: originTag)
            if waitingOrigin[o] == nil { return o }
        }
    }

    /// Registers a reply slot (in the connection's FIFO) for a request that goes to the quorum.
    private func wait(_ cnx: ClientCnx, _ p: PendingReply, _ origin: RequestOrigin, sync: ZKRequest? = nil) {
        assert(waitingOrigin[origin] == nil)
        p.state = .awaitingCommit
        cnx.enqueue(p)
        waitingOrigin[origin] = OriginWait(cnx: cnx, reply: p, sync: sync)
    }

    /// A decoded client request: reads are local; writes and sync go to the quorum.
    func handleQuorumRequest(_ cnx: ClientCnx, xid: Int32, _ req: ZKRequest, frame: [UInt8], _ p: PendingReply) {
        guard let q = quorum else { return }
        if cnx.readOnly { return handleReadOnlyRequest(cnx, req, p) }
        guard q.servingNow else {
            // The quorum moved on (e.g. this process was paused): never answer from a stale tree.
            closeNow(cnx, "server is not serving")
            return
        }
        var local = false
        if !localSessions.isEmpty, localSessionRequest(cnx, req, p, local: &local) { return }
        if case .sync = req {
            let origin = newOrigin(cnx)
            wait(cnx, p, origin, sync: req)
            q.sync(origin)
            return
        }
        guard req.isWrite else {
            cnx.enqueue(p)
            drain(cnx)
            return
        }
        let origin = newOrigin(cnx)
        wait(cnx, p, origin)
        let reconfig: Bool = if case .reconfig = req { true } else { false }
        if !reconfig && q.preparesAtOnce {
            // An established leader (standalone: always) would hand the request straight back to
            // be prepared: prep it here, without encoding and decoding it on the way. (A local
            // session's upgrade, submitted just before, was prepped by that submit already.)
            prepareWrite(req, sessionId: cnx.sessionId, cxid: xid, access: cnx.access, origin: origin,
                         zxid: Int64(bitPattern: q.nextZxid.raw), localSession: local)
            return
        }
        let write: EnsembleRequest = local ? .localWrite(sessionId: cnx.sessionId, ids: cnx.access.ids, frame: frame)
            : .write(sessionId: cnx.sessionId, ids: cnx.access.ids, frame: frame)
        q.submit(ClientRequest(origin: origin, data: write.encode()))
    }

    func handleQuorumConnect(_ cnx: ClientCnx, _ req: ZKConnectRequest, now: UInt64) {
        guard let q = quorum else { return }
        let timeout = tracker.negotiate(req.timeout)
        if req.sessionId == 0 && localSessionsOn { return openLocalSession(cnx, timeout: timeout, now: now) }
        if req.sessionId != 0, resumeLocalSession(cnx, req, timeout: timeout, now: now) { return }
        if req.sessionId == 0 {
            openSession(cnx, timeout: timeout, now: now) { sid, pw, p in
                let origin = RequestOrigin(server: myId, session: sid, xid: 0)
                waitingOrigin[origin] = OriginWait(cnx: cnx, reply: p, sync: nil)
                q.submit(ClientRequest(origin: origin, data: EnsembleRequest.createSession(sessionId: sid, timeout: timeout, password: pw).encode()))
            }
            return
        }
        let sid = req.sessionId
        // Sessions are replicated state: any server can take a client back.
        let info = tree.sessions[sid].flatMap { $0.password == req.password ? $0 : nil }
        resumeSession(cnx, sid, info, timeout: timeout, now: now)
        if info != nil { touchSession(sid) }
    }

    // MARK: QuorumApp

    func quorumInstallSnapshot(zxid: Zxid, data: [UInt8]) {
        do {
            tree = try DataTree(snapshot: data)
        } catch {
            logger("FATAL: snapshot from the leader at \(zxid) does not decode: \(error)")
            exit(1)
        }
        appliedZxid = zxid
        initConfigNode()
        if let c = reconfiguredEnsemble { learnPeers(of: c) }
        prep.reset()
        txnsSinceSnapshot = 0
        logger("state replaced by the leader's snapshot at zxid \(zxid): \(tree.nodeCount) nodes")
        timeline.record("sync.snapshot_installed", clocks: [("epoch", Int64(zxid.epoch)), ("zxid", Int64(bitPattern: zxid.raw))],
                        fields: [("bytes", .int(Int64(data.count))), ("nodes", .int(Int64(tree.nodeCount)))])
    }

    func quorumApply(_ qt: QuorumTxn) {
        let zxid = Int64(bitPattern: qt.zxid.raw)
        let txn: CoordTxn
        // A reconfig: the quorum core read its membership; the tree gets the payload.
        let reconfig = QuorumMembership.decode(txnData: qt.data)
        do {
            // This leader's own proposal, the very bytes it proposed: no need to decode them.
            while let p = proposed.first, p.zxid < zxid { proposed.popFirst() }
            if let p = proposed.first, p.zxid == zxid, p.bytes == qt.data {
                proposed.popFirst()
                txn = p.txn
            } else {
                txn = try CoordTxn(bytes: reconfig?.payload ?? qt.data)
            }
        } catch {
            // Skipping it would silently fork this replica from the others.
            logger("FATAL: committed txn \(qt.zxid) cannot be decoded: \(error)")
            exit(1)
        }
        appliedZxid = qt.zxid
        let mine = qt.origin.flatMap { $0.server == myId ? waitingOrigin.removeValue(forKey: $0) : nil }
        let r = apply(txn, zxid: zxid, reply: reconfig == nil ? mine.map { ($0.cnx, $0.reply) } : nil)
        if reconfig != nil { reconfigApplied(r, zxid: qt.zxid, reply: mine) }
        if case .createSession(let timeout, _) = txn.op {
            tracker.add(txn.sessionId, timeout: timeout, now: WallClock.millis())
        }
        if let closed = r.closedSession { touched.remove(closed) }
        releaseHeldFailures(committed: zxid)
    }

    func quorumPrepare(_ request: ClientRequest) {
        guard let q = quorum else { return }
        let decoded: EnsembleRequest
        do {
            decoded = try EnsembleRequest.decode(request.data)
        } catch {
            logger("dropping undecodable request from server \(request.origin.server): \(error)")
            return
        }
        let now = WallClock.millis()
        let zxid = Int64(bitPattern: q.nextZxid.raw)
        switch decoded {
        case .touch(let ids):
            for id in ids { tracker.touch(id, now: now) }
        case .createSession(let sid, let timeout, let pw):
            tracker.add(sid, timeout: timeout, now: now)
            proposeTxn(prep.prepCreateSession(sessionId: sid, timeout: timeout, password: pw, zxid: zxid, time: now), origin: request.origin)
        case .write(let sid, let ids, let frame), .localWrite(let sid, let ids, let frame):
            let local = if case .localWrite = decoded { true } else { false }
            if !local { tracker.touch(sid, now: now) }
            var r = ByteReader(frame)
            guard let h = try? ZKRequestHeader(jute: &r), let req = try? ZKRequest.decode(op: h.type, &r) else {
                prepFailed(request.origin, sessionId: sid, xid: request.origin.xid, err: ZKErr.marshallingError, response: .empty, zxid: zxid)
                return
            }
            // Standalone, prep answers a reconfig ReconfigDisabled, as ZooKeeper's standalone does.
            if case .reconfig = req, !isStandalone {
                prepReconfigRequest(req, request: request, sessionId: sid, cxid: h.xid, access: Access(ids: ids, policy: config.auth)) {
                    prepFailed(request.origin, sessionId: sid, xid: h.xid, err: $0, response: .empty, zxid: zxid)
                }
                return
            }
            prepareWrite(req, sessionId: sid, cxid: h.xid, access: Access(ids: ids, policy: config.auth), origin: request.origin, zxid: zxid,
                         localSession: local)
        }
    }

    /// Leader: preps a client write against the tree and everything proposed before it, then
    /// proposes the txn or answers the failure.
    private func prepareWrite(_ req: ZKRequest, sessionId sid: Int64, cxid: Int32, access: Access, origin: RequestOrigin, zxid: Int64,
                              localSession: Bool) {
        switch prep.prep(req, sessionId: sid, cxid: cxid, zxid: zxid, time: WallClock.millis(), tree: tree, access: access,
                         localSession: localSession) {
        case .txn(let t):
            proposeTxn(t, origin: origin)
        case .failed(let err, let resp):
            prepFailed(origin, sessionId: sid, xid: cxid, err: err, response: resp, zxid: zxid)
        }
    }

    /// Leader: proposes a prepped txn and keeps it for its apply.
    func proposeTxn(_ t: CoordTxn, origin: RequestOrigin?) {
        let bytes = t.serialize()
        if let z = quorum?.propose(bytes, origin: origin) { proposed.append((Int64(bitPattern: z.raw), t, bytes)) }
    }

    /// A local client gets its error once everything prepped before it has committed (prep saw
    /// those txns, which may yet fail to commit); a remote one through an error txn (the only
    /// channel back to the server it is connected to, as in ZooKeeper), ordered by the quorum.
    private func prepFailed(_ origin: RequestOrigin, sessionId: Int64, xid: Int32, err: Int32, response: ZKResponse, zxid: Int64) {
        if origin.server == myId {
            guard let w = waitingOrigin.removeValue(forKey: origin), let q = quorum else { return }
            let prepared = Int64(bitPattern: q.lastZxid.raw)
            let held = HeldFailure(cnx: w.cnx, reply: w.reply, err: err, response: response)
            if heldFailures.isClear(prepared: prepared, committed: Int64(bitPattern: appliedZxid.raw)) {
                answer(held)
            } else {
                heldFailures.hold(held, untilCommitted: prepared)
            }
            return
        }
        let op: CoordTxnOp
        if err == ZKErr.ok, case .multi(let results) = response {
            op = .multi(results.map { if case .error(let c) = $0 { .error(c) } else { .error(ZKErr.ok) } })
        } else {
            op = .error(err)
        }
        quorum?.propose(CoordTxn(sessionId: sessionId, cxid: xid, time: WallClock.millis(), op: op).serialize(), origin: origin)
    }

    func quorumRefused(_ request: ClientRequest) {
        // No serving leader: the client should try another server.
        guard request.origin.server == myId, let w = waitingOrigin.removeValue(forKey: request.origin) else { return }
        if !w.cnx.conn.isClosed { closeNow(w.cnx, "no quorum to take the request") }
    }

    func quorumSyncFinished(_ origin: RequestOrigin, ok: Bool) {
        guard let w = waitingOrigin.removeValue(forKey: origin) else { return }
        guard ok, let req = w.sync else {
            if !w.cnx.conn.isClosed { closeNow(w.cnx, "no quorum to sync with") }
            return
        }
        w.reply.state = .read(req)
        if !w.cnx.conn.isClosed { drain(w.cnx) }
    }

    func quorumSnapshotState() -> (zxid: Zxid, data: [UInt8]) {
        (appliedZxid, tree.serializeSnapshot())
    }

    func quorumStatusChanged(_ status: QuorumStatus) {
        prep.reset()
        proposed.removeAll()
        touched.removeAll()
        readOnlyStatusChanged(serving: status.serving)
        if status.serving {
            if isStandalone { standaloneServing.open() }
            if status.role == .leading {
                // The leader owns expiry now: every session gets a full timeout from here.
                let now = WallClock.millis()
                for (sid, info) in tree.sessions { tracker.add(sid, timeout: info.timeout, now: now) }
            }
            return
        }
        // Not serving: like ZooKeeper, drop every client so it moves to a server that is. Held
        // error answers go too: the txns they depend on may never commit.
        waitingOrigin.removeAll()
        _ = heldFailures.removeAll()
        for c in Array(cnxs.values) where c.phase != .closing && !c.readOnly {
            closeNow(c, "server is not serving (\(status.role == .looking ? "looking for a leader" : "syncing with the leader"))")
        }
    }

    var modeName: String {
        if isStandalone { return "standalone" }
        guard let q = quorum else { return "looking" }
        let s = q.appStatus
        guard q.servingNow else { return readOnlyActive ? "read-only" : "looking" }
        if s.role == .leading { return "leader" }
        return q.peer.config.isObserver ? "observer" : "follower"
    }
}

extension CoordServer {
    func answer(_ h: HeldFailure) {
        h.reply.state = .done(err: h.err, zxid: nil, response: h.response)
        if !h.cnx.conn.isClosed { drain(h.cnx) }
    }

    func releaseHeldFailures(committed zxid: Int64) {
        if heldFailures.count == 0 { return }
        for h in heldFailures.release(committed: zxid) { answer(h) }
    }
}

/// A one-shot latch across threads.
final class DispatchGate: @unchecked Sendable {
    private let sem = DispatchSemaphore(value: 0)
    func open() { sem.signal() }
    func wait() { sem.wait() }
}
