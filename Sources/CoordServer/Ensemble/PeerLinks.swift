import Protocol
import Transport

/// TCP links between ensemble members, one per pair: the server with the higher id dials (on the
/// peer's quorum port, `server.N=host:peerPort:electionPort`; the election port is not used: votes
/// travel on the same link). Both ends send a `PeerHandshake` first. With `quorum.auth.secretFile`
/// (`PeerAuth`) the dialer then proves it holds the secret, and only once that checks out does the
/// acceptor prove itself back: a link carries quorum traffic only after both proofs. A dropped link
/// is reported (`onLost`) and the dialing side reconnects with backoff. Loop thread only.
final class PeerLinks {
    struct Address {
        var host: String
        var port: Int
    }

    final class Link {
        let conn: Connection
        var decoder: QuorumStreamDecoder
        /// Sent in our handshake; the peer's proof must answer it (empty without authentication).
        let myNonce: [UInt8]
        /// Known at once when we dialed; from the handshake when we accepted.
        var peer: UInt64?
        let dialed: Bool
        /// Monotonic ms of the last bytes read: a live peer sends at least keepalives.
        var lastRead = MonotonicClock.millis()

        init(conn: Connection, peer: UInt64?, dialed: Bool, auth: PeerAuth?) {
            self.conn = conn
            self.peer = peer
            self.dialed = dialed
            decoder = QuorumStreamDecoder(expectProof: auth != nil)
            myNonce = auth?.nonce() ?? []
        }
    }

    /// A link whose writes pile up this much is to a stuck peer: drop it.
    static let maxQueuedBytes = 64 << 20
    /// Accepted connections may take this long to send their handshake...
    static let handshakeMillis = 2000
    /// ...and this many may be waiting for it at once; more are refused.
    static let maxPendingHandshakes = 16
    /// Every link carries at least a keepalive this often...
    static let keepaliveMillis = 250
    /// ...so a link silent this long is dead and a new connection for its id may replace it;
    /// a live one is never displaced by a newcomer claiming the same id.
    static let liveMillis = 1500
    static let keepaliveFrame: [UInt8] = [0, 0, 0, 0]

    let myId: UInt64
    /// Grows as reconfigs add servers (`learn`).
    private(set) var addresses: [UInt64: Address]
    /// With reconfigEnabled a server outside the configuration may connect (a joiner following
    /// as a non-voter); it must dial, so its id must be above ours.
    var acceptUnknownPeers = false
    /// A link silent this long (not even keepalives) is closed, so the quorum hears
    /// `connectionLost` as ZooKeeper's read timeout on its quorum sockets gives it.
    let deadAfterMillis: Int
    let loop: EventLoop
    let auth: PeerAuth?
    let logger: @Sendable (String) -> Void
    var onMessage: ((UInt64, QuorumMessage) -> Void)?
    var onLost: ((UInt64) -> Void)?

    private var listener: Listener?
    private var links: [UInt64: Link] = [:]
    private var accepted: [ObjectIdentifier: Link] = [:]
    private var backoff: [UInt64: Int] = [:]
    private var dialing: Set<UInt64> = []
    private var stopped = false
    private var lostLogged: Set<UInt64> = []
    private var refusedClaims = 0
    /// Peers cut off by the fault controls (`POST /faults/peer`): nothing is sent to or read from
    /// them, keepalives included, so the link dies as a blackholed one would.
    var blackholed: Set<UInt64> = []
    /// Peers whose outgoing messages the fault controls hold for N ms (`POST /faults/peer?mode=delay`):
    /// a slow link, order kept. Taking a peer out sends what it held at once.
    var delays: [UInt64: Int] = [:] {
        didSet { for id in Array(held.keys) where delays[id] == nil { releaseHeld(id, all: true) } }
    }
    private var held: [UInt64: [(due: UInt64, frame: [UInt8])]] = [:]
    private var lastRefusalLog: UInt64 = 0

    init(myId: UInt64, addresses: [UInt64: Address], deadAfterMillis: Int = 10_000, loop: EventLoop, auth: PeerAuth? = nil,
         logger: @escaping @Sendable (String) -> Void) {
        self.myId = myId
        self.auth = auth
        self.addresses = addresses
        self.deadAfterMillis = max(deadAfterMillis, 2 * Self.liveMillis)
        self.loop = loop
        self.logger = logger
    }

    /// Binds our quorum port (all interfaces of the configured host) and dials the lower ids.
    func start(listenHost: String) throws {
        guard let me = addresses[myId] else { return }
        let l = try Listener(host: listenHost, port: me.port, loop: loop)
        l.onAccept = { [unowned self] c in self.accept(c) }
        l.start()
        listener = l
        for id in addresses.keys.sorted() where id < myId { dial(id) }
        scheduleKeepalive(last: MonotonicClock.millis())
    }

    /// Servers a reconfig added: remember where they are and dial the lower ids among them.
    func learn(_ more: [UInt64: Address]) {
        for (id, a) in more where id != myId && addresses[id] == nil {
            addresses[id] = a
            if id < myId && listener != nil { dial(id) }
        }
    }

    private func scheduleKeepalive(last: UInt64) {
        loop.schedule(afterMillis: Self.keepaliveMillis) { [weak self] in
            guard let self, !self.stopped else { return }
            let now = MonotonicClock.millis()
            // Fired late: this process was paused (or its loop stalled). Its peers' bytes are
            // still unread in the sockets, so their silence proves nothing yet.
            let wasPaused = now > last + UInt64(4 * Self.keepaliveMillis)
            for l in Array(self.links.values) where !l.conn.isClosed {
                if wasPaused {
                    l.lastRead = max(l.lastRead, now)
                } else if now > l.lastRead + UInt64(self.deadAfterMillis) {
                    self.logger("peer link to server \(l.peer ?? 0) silent for \(now - l.lastRead) ms; closing it")
                    l.conn.close()
                    continue
                }
                if l.conn.pendingWriteBytes == 0 && !self.blackholed.contains(l.peer ?? 0) { l.conn.write(Self.keepaliveFrame) }
            }
            self.scheduleKeepalive(last: now)
        }
    }

    func stop() {
        stopped = true
        listener?.close()
        listener = nil
        for l in Array(links.values) + Array(accepted.values) { l.conn.close() }
        links.removeAll()
        accepted.removeAll()
    }

    var connectedPeers: [UInt64] { links.keys.sorted() }

    /// Queues a framed message; dropped when there is no link (the quorum notices the gap).
    func send(to peer: UInt64, _ frame: [UInt8]) {
        if let ms = delays[peer] {
            held[peer, default: []].append((MonotonicClock.millis() + UInt64(ms), frame))
            loop.schedule(afterMillis: ms) { [weak self] in self?.releaseHeld(peer, all: false) }
            return
        }
        write(to: peer, frame)
    }

    /// Sends the held messages to `peer` that are due (or all of them), oldest first.
    private func releaseHeld(_ peer: UInt64, all: Bool) {
        guard var q = held[peer] else { return }
        let now = MonotonicClock.millis()
        let due = all ? q.count : (q.firstIndex { $0.due > now } ?? q.count)
        for i in 0..<due { write(to: peer, q[i].frame) }
        q.removeFirst(due)
        held[peer] = q.isEmpty ? nil : q
    }

    private func write(to peer: UInt64, _ frame: [UInt8]) {
        guard let l = links[peer], !l.conn.isClosed, !blackholed.contains(peer) else { return }
        l.conn.write(frame)
        if l.conn.pendingWriteBytes > Self.maxQueuedBytes {
            logger("peer \(peer): \(l.conn.pendingWriteBytes) bytes queued, dropping the link")
            l.conn.close()
        }
    }

    // MARK: dialing

    private func dial(_ id: UInt64) {
        guard !stopped, links[id] == nil, !dialing.contains(id), let a = addresses[id] else { return }
        dialing.insert(id)
        do {
            let c = try Connection(connectingTo: a.host, port: a.port, loop: loop)
            let link = Link(conn: c, peer: id, dialed: true, auth: auth)
            c.onConnect = { [unowned self] c in
                c.write(PeerHandshake(serverId: self.myId, nonce: link.myNonce).encodeFrame())
                guard self.auth != nil else {
                    self.dialing.remove(id)
                    self.register(link, as: id)
                    return
                }
                self.closeIfNotRegistered(link)
            }
            c.onRead = { [unowned self] _, buf in self.read(link, buf) }
            c.onClose = { [unowned self] _, _ in self.closed(link) }
            c.start()
        } catch {
            dialing.remove(id)
            retry(id)
        }
    }

    private func retry(_ id: UInt64) {
        guard !stopped else { return }
        let delay = backoff[id] ?? 20
        backoff[id] = min(400, delay * 2)
        loop.schedule(afterMillis: delay) { [weak self] in self?.dial(id) }
    }

    // MARK: accepting

    private func accept(_ c: Connection) {
        guard accepted.count < Self.maxPendingHandshakes else {
            noteRefusal("too many peer connections awaiting their handshake; refusing \(c.peer)")
            c.close()
            return
        }
        let link = Link(conn: c, peer: nil, dialed: false, auth: auth)
        accepted[ObjectIdentifier(link)] = link
        c.onRead = { [unowned self] _, buf in self.read(link, buf) }
        c.onClose = { [unowned self] _, _ in self.closed(link) }
        c.start()
        c.write(PeerHandshake(serverId: myId, nonce: link.myNonce).encodeFrame())
        closeIfNotRegistered(link)
    }

    /// Bounds the handshake (and the proofs) of a new link in time.
    private func closeIfNotRegistered(_ link: Link) {
        loop.schedule(afterMillis: Self.handshakeMillis) { [weak self, weak link] in
            guard let self, let link, !link.conn.isClosed else { return }
            if let id = link.peer, self.links[id] === link { return }
            self.noteRefusal("peer connection \(link.conn.peer) did not complete its handshake in \(Self.handshakeMillis) ms; closing")
            link.conn.close()
        }
    }

    /// Logs refusals at most once a second (an attacker may cause many).
    private func noteRefusal(_ why: String) {
        refusedClaims += 1
        let now = MonotonicClock.millis()
        guard now >= lastRefusalLog + 1000 else { return }
        lastRefusalLog = now
        logger(why + (refusedClaims > 1 ? " (\(refusedClaims) peer connections refused so far)" : ""))
    }

    private func register(_ link: Link, as id: UInt64) {
        if let old = links[id], old !== link {
            // The peer restarted or redialed: the old stream may have lost messages.
            links[id] = nil
            old.conn.close()
            onLost?(id)
        }
        links[id] = link
        lostLogged.remove(id)
    }

    // MARK: reading

    private func read(_ link: Link, _ buf: UnsafeRawBufferPointer) {
        if let p = link.peer, blackholed.contains(p) { return }
        link.lastRead = MonotonicClock.millis()
        link.decoder.append(buf)
        while !link.conn.isClosed {
            let m: QuorumMessage?
            do {
                let before = link.decoder.peer
                let hadProof = link.decoder.proof != nil
                m = try link.decoder.next()
                if before == nil, let who = link.decoder.peer {
                    if auth == nil {
                        guard handshake(link, from: who) else { return }
                    } else if link.dialed {
                        // The dialer proves first, and only to the server it meant to reach.
                        guard checkDialedPeer(link, who) else { return }
                        link.conn.write(proof(link, to: who).encodeFrame())
                    }
                }
                if let auth, !hadProof, let p = link.decoder.proof, let who = link.decoder.peer {
                    guard auth.verify(p, from: who, to: myId, peerIsDialer: !link.dialed,
                                      peerNonce: link.decoder.peerNonce, myNonce: link.myNonce) else {
                        noteRefusal("peer connection from \(link.conn.peer) claiming server \(who) failed quorum authentication (another secret?); closing")
                        link.conn.close()
                        return
                    }
                    if link.dialed {
                        dialing.remove(who)
                        backoff[who] = nil
                        register(link, as: who)
                    } else {
                        guard handshake(link, from: who) else { return }
                        link.conn.write(proof(link, to: who).encodeFrame())
                    }
                }
            } catch {
                logger("peer link \(link.conn.peer): \(error); closing it")
                link.conn.close()
                return
            }
            guard let msg = m, let from = link.peer else { return }
            onMessage?(from, msg)
        }
    }

    private func proof(_ link: Link, to peer: UInt64) -> PeerProof {
        guard let auth else { preconditionFailure("proofs only with quorum authentication") }
        return auth.proof(from: myId, to: peer, senderIsDialer: link.dialed, senderNonce: link.myNonce, receiverNonce: link.decoder.peerNonce)
    }

    private func checkDialedPeer(_ link: Link, _ who: UInt64) -> Bool {
        guard who == link.peer else {
            logger("peer at \(link.conn.peer) says it is server \(who), expected \(link.peer ?? 0); closing")
            link.conn.close()
            return false
        }
        return true
    }

    /// Checks who is on the other end; false when the link was refused.
    private func handshake(_ link: Link, from who: UInt64) -> Bool {
        if link.dialed {
            guard checkDialedPeer(link, who) else { return false }
            backoff[who] = nil
            return true
        }
        accepted[ObjectIdentifier(link)] = nil
        guard who != myId, who > myId, addresses[who] != nil || acceptUnknownPeers else {
            noteRefusal("refusing peer connection from \(link.conn.peer) claiming server \(who)")
            link.conn.close()
            return false
        }
        if let live = links[who], !live.conn.isClosed, MonotonicClock.millis() < live.lastRead + UInt64(Self.liveMillis) {
            // Unauthenticated, a second claim of an id must not cut off the peer that holds it.
            noteRefusal("refusing a second connection from \(link.conn.peer) claiming server \(who): its link is alive")
            link.conn.close()
            return false
        }
        link.peer = who
        register(link, as: who)
        return true
    }

    private func closed(_ link: Link) {
        accepted[ObjectIdentifier(link)] = nil
        if link.dialed, let id = link.peer { dialing.remove(id) }
        guard let id = link.peer else { return }
        if links[id] === link {
            links[id] = nil
            if !lostLogged.contains(id) {
                logger("lost connection to server \(id)")
                lostLogged.insert(id)
            }
            onLost?(id)
        }
        if link.dialed { retry(id) }
    }
}
