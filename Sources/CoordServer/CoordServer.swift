import CoordCore
import Dispatch
import Observability
import Protocol
import Storage
import Transport

/// What the server reports about itself (4lw, tests, and later the quorum's view of this server).
public struct CoordServerState: Sendable, Equatable {
    public var mode: String
    public var lastZxid: Int64
    public var nodeCount: Int
    public var watchCount: Int
    public var watchedPaths: Int
    public var connections: Int
    public var outstanding: Int
    public var sessions: Int
    public var ephemerals: Int
    public var approximateDataSize: Int
    public var received: UInt64
    public var sent: UInt64
    public var minLatencyMs: Double
    public var avgLatencyMs: Double
    public var maxLatencyMs: Double
    public var serverId: Int
    /// Ensemble leader: followers connected / synced.
    public var followers: Int
    /// Synced voting followers only (observers never count toward a quorum).
    public var syncedFollowers: Int
    public var syncedObservers: Int = 0
    public var leaderId: Int?
}

/// coordd's runtime: one event-loop thread runs client networking and the request pipeline
/// (prep -> replicate -> apply -> reply). Every write goes through the quorum runtime (see
/// CoordServer+Quorum): an ensemble's (server.N lines), or standalone a one-voter quorum that
/// elects itself at once and commits each proposal when its own log write is durable.
public final class CoordServer: @unchecked Sendable {
    public let config: ZooConfig
    public let fs: any FileSystem
    let loop: EventLoop
    let logger: @Sendable (String) -> Void
    var quorum: QuorumRuntime?
    /// Replies waiting on the quorum, by request origin.
    var waitingOrigin: [RequestOrigin: OriginWait] = [:]
    /// The last origin tag handed out (see `newOrigin`).
    var originTag: Int32 = 0
    /// Ensemble follower: sessions active since the last report to the leader.
    var touched: Set<Int64> = []
    /// The zxid the tree stands at.
    var appliedZxid = Zxid.zero
    /// Leader: txns it proposed and has not applied yet, with their bytes, in zxid order (they
    /// commit in that order, so apply finds its own at the front and skips decoding it); emptied
    /// when the quorum status changes.
    var proposed = Fifo<(zxid: Int64, txn: CoordTxn, bytes: [UInt8])>(compactAfter: 1024)
    /// Standalone: opened once this server leads its one-voter quorum (`start` waits for it).
    let standaloneServing = DispatchGate()
    /// When this server stopped serving (monotonic ms), for read-only mode.
    var notServingSince: UInt64?
    /// The `clients` fault, when on (CoordServer+ClientFaults).
    var clientFault: ClientFault?
    /// localSessionsEnabled: sessions this server alone knows, and their expiry.
    var localSessions: [Int64: LocalSession] = [:]
    var localTracker: SessionTracker
    var listener: Listener?
    var secureListener: Listener?
    public internal(set) var port = 0
    /// The bound secureClientPort (0 when none is configured).
    public internal(set) var securePort = 0
    public let version = "3.8.0-coordd"

    var tree = DataTree()
    var prep = TxnPrep()
    var watches = WatchManager()
    var tracker: SessionTracker
    /// Error answers waiting for the txns prepped before them to commit (see `CommitBarrier`).
    var heldFailures = CommitBarrier<HeldFailure>()
    var cnxs: [UInt64: ClientCnx] = [:]
    var sessionCnx: [Int64: UInt64] = [:]
    var perHost: [String: Int] = [:]
    var nextCnxId: UInt64 = 1
    var txnsSinceSnapshot = 0
    var stopped = false

    // Counters for srvr/mntr.
    var packetsReceived: UInt64 = 0
    var packetsSent: UInt64 = 0
    var latencyCount: UInt64 = 0
    var latencyTotalMs: Double = 0
    var latencyMinMs: Double = .infinity
    var latencyMaxMs: Double = 0
    /// Auth and SASL packets answered AUTHFAILED, requests refused unauthenticated (mntr zk_auth_failed_count).
    var authFailures: UInt64 = 0
    /// Admin plane (see CoordServer+Admin): history, metrics, the HTTP server when configured.
    public let timeline: Timeline
    let metrics = CoordMetrics()
    var admin: HTTPServer?
    var lastSnapshot: (zxid: Int64, time: Int64)?
    let startedAtMillis = WallClock.millis()

    public init(config: ZooConfig, fs: any FileSystem = PosixFileSystem(), logger: @escaping @Sendable (String) -> Void) {
        self.config = config
        self.fs = fs
        self.logger = logger
        self.loop = EventLoop(name: "coordd")
        // On disk only when the admin server is on: tests on an in-memory file system stay off disk.
        timeline = Timeline(daemon: "coordd.\(config.myid ?? 0)", directory: config.adminEnableServer ? config.dataDir + "/timeline" : nil, logger: logger)
        prep.extendedTypesEnabled = config.extendedTypesEnabled
        tracker = SessionTracker(serverId: Int64(config.myid ?? 0), now: WallClock.millis(), tickTime: config.tickTime,
                                 minTimeout: config.effectiveMinSessionTimeout, maxTimeout: config.effectiveMaxSessionTimeout)
        localTracker = tracker
    }

    static func hex(_ v: Int64) -> String { "0x" + String(UInt64(bitPattern: v), radix: 16) }

    // MARK: lifecycle

    /// Recovers from disk, binds the client port and starts serving. Returns the bound port.
    @discardableResult
    public func start() throws -> Int { try startQuorum() }

    func load(snapshot snap: (zxid: Int64, payload: [UInt8])) throws {
        tree = try DataTree(snapshot: snap.payload)
        lastSnapshot = (snap.zxid, -1)
        logger("loaded snapshot at zxid \(Self.hex(snap.zxid)): \(tree.nodeCount) nodes, \(tree.sessions.count) sessions")
    }

    /// Binds the client ports; connections are served once the loop runs.
    func listen() throws {
        if let securePort = config.secureClientPort, let tlsConfig = config.secureClientTLS {
            let tls = try TLSContext(server: tlsConfig, logger: logger)
            let l = try Listener(host: config.secureListenHost, port: securePort, loop: loop)
            l.tls = tls
            l.onAccept = { [unowned self] c in self.accept(c) }
            l.start()
            secureListener = l
            self.securePort = l.port
        }
        guard config.hasClientPort else { return }
        let l = try Listener(host: config.listenHost, port: config.clientPort, loop: loop)
        l.onAccept = { [unowned self] c in self.accept(c) }
        l.start()
        listener = l
        port = l.port
    }

    /// Stops accepting, closes clients, flushes the log. Safe to call from any thread but the loop's.
    public func stop() {
        let done = DispatchSemaphore(value: 0)
        loop.execute { [self] in
            stopped = true
            listener?.close()
            listener = nil
            secureListener?.close()
            secureListener = nil
            for c in Array(cnxs.values) { c.conn.close() }
            quorum?.stop()
            done.signal()
        }
        admin?.stop()
        timeline.stop()
        _ = done.wait(timeout: .now() + 5)
        quorum?.storage.stop()
        loop.stop()
    }

    func stateNow() -> CoordServerState {
        CoordServerState(
            mode: modeName, lastZxid: tree.lastZxid, nodeCount: tree.nodeCount, watchCount: watches.watchCount,
            watchedPaths: watches.watchedPathCount, connections: cnxs.count, outstanding: waitingOrigin.count,
            sessions: tree.sessions.count, ephemerals: tree.ephemerals.reduce(0) { $0 + $1.value.count },
            approximateDataSize: tree.approximateDataSize, received: packetsReceived, sent: packetsSent,
            minLatencyMs: latencyCount == 0 ? 0 : latencyMinMs,
            avgLatencyMs: latencyCount == 0 ? 0 : latencyTotalMs / Double(latencyCount),
            maxLatencyMs: latencyMaxMs, serverId: config.myid ?? 0,
            followers: quorum?.peer.learnerCounts.connected ?? 0, syncedFollowers: quorum?.peer.syncedLearnerKinds.followers ?? 0,
            syncedObservers: quorum?.peer.syncedLearnerKinds.observers ?? 0,
            leaderId: isStandalone ? nil : quorum?.peer.leaderId.map { Int($0) })
    }

    func scheduleTick() {
        let every = max(10, Int(config.tickTime) / 2)
        loop.schedule(afterMillis: every) { [weak self] in
            guard let self, !self.stopped else { return }
            self.expireSessions()
            self.expireLocalSessions()
            self.reportTouches()
            self.scheduleTick()
        }
    }

    // MARK: the write path

    /// Applies a committed txn (in zxid order): fires watches, answers the waiting client,
    /// closes a closed session's connection, and every snapCount txns hands a copy of the tree to
    /// the quorum storage to write as a snapshot.
    @discardableResult
    func apply(_ txn: CoordTxn, zxid: Int64, reply: (ClientCnx, PendingReply)?) -> TxnResult {
        let ephemeralsBefore = ephemeralsBeforeClose(txn)
        let r = tree.process(txn, zxid: zxid)
        prep.applied(zxid: zxid)
        let fired = watches.fire(r.triggers)
        for (w, ev) in fired {
            if let c = cnxs[w] { sendNotification(c, ev) }
        }
        noteApplied(txn, r, zxid: zxid, watchesFired: fired.count, ephemeralsBefore: ephemeralsBefore)
        if let (cnx, p) = reply {
            switch p.state {
            case .connectAwaitingCommit(let resp):
                p.state = .connectDone(resp)
            default:
                p.state = .done(err: r.err, zxid: zxid, response: r.response)
            }
            if !cnx.conn.isClosed { drain(cnx) }
        }
        if let closed = r.closedSession {
            tracker.remove(closed)
            if let cid = sessionCnx.removeValue(forKey: closed), let c = cnxs[cid], c.phase != .closing {
                c.phase = .closing
                c.conn.closeAfterFlush()
            }
        }
        txnsSinceSnapshot += 1
        if txnsSinceSnapshot >= config.snapCount {
            txnsSinceSnapshot = 0
            let copy = tree
            quorum?.storage.snapshot(zxid: zxid) { copy.serializeSnapshot() }
            noteSnapshot(zxid: zxid)
        }
        return r
    }

    // MARK: connections

    func accept(_ conn: Connection) {
        let cnx = ClientCnx(id: nextCnxId, conn: conn, maxFrame: config.maxBuffer, auth: config.auth)
        nextCnxId += 1
        if stopped || (config.maxClientCnxns > 0 && perHost[cnx.host, default: 0] >= config.maxClientCnxns) {
            logger("too many connections from \(cnx.host) - max is \(config.maxClientCnxns)")
            conn.close()
            return
        }
        perHost[cnx.host, default: 0] += 1
        cnxs[cnx.id] = cnx
        conn.onRead = { [unowned self] _, buf in self.onRead(cnx, buf) }
        conn.onWriteDrained = { [unowned self] _ in self.resumeReading(cnx) }
        conn.onClose = { [unowned self] _, _ in self.onClosed(cnx) }
        conn.start()
    }

    private func onClosed(_ cnx: ClientCnx) {
        cnxs[cnx.id] = nil
        if let n = perHost[cnx.host] { perHost[cnx.host] = n > 1 ? n - 1 : nil }
        watches.removeWatcher(cnx.id)
        if cnx.sessionId != 0, sessionCnx[cnx.sessionId] == cnx.id { sessionCnx[cnx.sessionId] = nil }
        cnx.clearQueue()
    }

    func closeNow(_ cnx: ClientCnx, _ why: String) {
        logger("closing connection from \(cnx.conn.peer): \(why)")
        cnx.phase = .closing
        cnx.conn.close()
    }

    private func onRead(_ cnx: ClientCnx, _ buf: UnsafeRawBufferPointer) {
        if cnx.phase == .closing { return }
        // Account for time that passed unnoticed (a pause) before answering anything.
        quorum?.catchUp()
        var input = FrameDecoder.Input(buf)
        if cnx.phase == .awaitingFirst {
            let head = cnx.decoder.peek(4, input)
            if head.count < 4 {
                cnx.decoder.keep(&input)
                return
            }
            let word = String(decoding: head, as: UTF8.self)
            if FourLetterWords.all.contains(word) {
                cnx.phase = .closing
                cnx.conn.write(Array(fourLetterWord(word).utf8))
                cnx.conn.closeAfterFlush()
                return
            }
        }
        handleFrames(cnx, &input)
    }

    /// Handles the buffered frames, then those in `input`, until more bytes are needed; past the
    /// connection's bounds it keeps the rest and stops reading until `resumeReading`.
    func handleFrames(_ cnx: ClientCnx, _ input: inout FrameDecoder.Input) {
        if clientFault != nil, clientFaultHolds(cnx, &input) { return }
        while cnx.phase != .closing {
            if cnx.overBounds {
                cnx.decoder.keep(&input)
                cnx.conn.setReadPaused(true)
                return
            }
            switch cnx.decoder.next(&input) {
            case .frame(let f):
                handleFrame(cnx, f)
            case .needMoreData:
                return
            case .tooLarge(let n):
                closeNow(cnx, "frame length \(n) exceeds jute.maxbuffer \(config.maxBuffer)")
                return
            case .negativeLength(let n):
                closeNow(cnx, "negative frame length \(n)")
                return
            }
        }
    }

    private func handleFrame(_ cnx: ClientCnx, _ frame: [UInt8]) {
        cnx.received += 1
        packetsReceived += 1
        let now = MonotonicClock.nanos()
        if cnx.phase == .awaitingFirst {
            handleConnect(cnx, frame, now: now)
            return
        }
        var r = ByteReader(frame)
        guard let h = try? ZKRequestHeader(jute: &r) else { closeNow(cnx, "truncated request header"); return }
        if cnx.sessionId != 0 { touchSession(cnx.sessionId) }
        let req: ZKRequest
        do {
            req = try ZKRequest.decode(op: h.type, &r)
        } catch JuteError.unknownOp(let op) {
            // ZooKeeper answers Unimplemented and then drops the connection.
            logger("unknown op \(op) from \(cnx.conn.peer)")
            let p = PendingReply(xid: h.xid, op: h.type, state: .done(err: ZKErr.unimplemented, zxid: nil, response: .empty), now: now)
            p.closeAfter = true
            cnx.enqueue(p)
            drain(cnx)
            return
        } catch {
            closeNow(cnx, "malformed request (op \(h.type)): \(error)")
            return
        }
        if answeredOutsidePipeline(cnx, h, req, now: now) { return }
        let p = PendingReply(xid: h.xid, op: h.type, state: .read(req), now: now)
        p.access = cnx.access
        if case .closeSession = req { p.closeAfter = true }
        handleQuorumRequest(cnx, xid: h.xid, req, frame: frame, p)
    }

    private func handleConnect(_ cnx: ClientCnx, _ frame: [UInt8], now: UInt64) {
        guard let req = try? ZKConnectRequest.decode(frame) else { closeNow(cnx, "malformed ConnectRequest"); return }
        if req.lastZxidSeen > tree.lastZxid {
            closeNow(cnx, "refusing session request: client has seen zxid \(Self.hex(req.lastZxidSeen)), our last zxid is \(Self.hex(tree.lastZxid))")
            return
        }
        cnx.phase = .connected
        if !serving && readOnlyActive && req.readOnly { return handleReadOnlyConnect(cnx, req, now: now) }
        guard serving else { closeNow(cnx, "server is not currently serving requests"); return }
        handleQuorumConnect(cnx, req, now: now)
    }

    /// A new session for `cnx`: fresh id and password, bound at once; its ConnectResponse waits
    /// for the createSession commit, which `commit` sets going.
    func openSession(_ cnx: ClientCnx, timeout: Int32, now: UInt64,
                     commit: (_ sid: Int64, _ password: [UInt8], _ reply: PendingReply) -> Void) {
        let sid = tracker.newSessionId()
        var pw = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 { pw[i] = UInt8.random(in: 0...255) }
        bind(cnx, sid, timeout)
        let p = PendingReply(xid: 0, op: ZKOp.createSession,
                             state: .connectAwaitingCommit(ZKConnectResponse(timeout: timeout, sessionId: sid, password: pw)), now: now)
        cnx.enqueue(p)
        commit(sid, pw, p)
        logger("new session \(Self.hex(sid)) with negotiated timeout \(timeout) for client \(cnx.conn.peer)")
    }

    /// A client back with session `sid`: rebinds it when `info` is that session, found valid by
    /// the caller (its older connection is closed); otherwise refuses it with timeout 0 and closes.
    func resumeSession(_ cnx: ClientCnx, _ sid: Int64, _ info: SessionInfo?, timeout: Int32, now: UInt64) {
        if let info {
            if let old = sessionCnx[sid], old != cnx.id, let oc = cnxs[old] { closeNow(oc, "session \(Self.hex(sid)) moved to a new connection") }
            bind(cnx, sid, timeout)
            cnx.enqueue(PendingReply(xid: 0, op: ZKOp.createSession,
                                     state: .connectDone(ZKConnectResponse(timeout: timeout, sessionId: sid, password: info.password)), now: now))
            logger("renewed session \(Self.hex(sid)) with negotiated timeout \(timeout) for client \(cnx.conn.peer)")
        } else {
            logger("invalid session \(Self.hex(sid)) for client \(cnx.conn.peer), probably expired")
            let p = PendingReply(xid: 0, op: ZKOp.createSession,
                                 state: .connectDone(ZKConnectResponse(timeout: 0, sessionId: 0, password: [UInt8](repeating: 0, count: 16))), now: now)
            p.closeAfter = true
            cnx.enqueue(p)
        }
        drain(cnx)
    }

    func bind(_ cnx: ClientCnx, _ sid: Int64, _ timeout: Int32) {
        cnx.sessionId = sid
        cnx.timeout = timeout
        sessionCnx[sid] = cnx.id
    }
}
