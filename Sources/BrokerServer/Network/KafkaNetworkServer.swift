import Glibc
import Protocol
import Synchronization
import Transport

/// Kafka's network layer: an acceptor hands sockets round-robin to `num.network.threads` event loops;
/// each reads length-prefixed frames and queues them on the request channel. Like Kafka's muting, a
/// connection has one request at a time between its read and its response fully handed to the
/// kernel (responses stay in request order), and its socket is not read meanwhile: a client that
/// pipelines without reading holds at most one read's frames and one response.
public final class KafkaNetworkServer: @unchecked Sendable {
    public let loops: [EventLoop]
    public let channel: RequestChannel
    public let maxRequestBytes: Int
    private var listener: Listener?
    private let nextID = Atomic<UInt64>(1)
    public private(set) var port = 0
    /// Open connections (all loops): for metrics and tests.
    public let openConnections = Atomic<Int>(0)
    /// The `clients` fault (admin /faults/clients): 0 off, -1 no request is taken (clients time out
    /// as behind a dead network), N > 0 every request waits N ms before the handlers get it.
    public let clientFault = Atomic<Int>(0)

    /// Each new connection's listener/SASL state (nil: no state, a bare PLAINTEXT server).
    let makeSecurity: (@Sendable () -> ConnectionSecurity)?
    /// Largest frame before a SASL connection has authenticated (sasl.server.max.receive.size).
    let maxUnauthenticatedBytes: Int

    /// SSL/SASL_SSL listeners: every accepted connection speaks TLS first.
    let tls: TLSContext?
    /// SSL listeners: the principal name for a client certificate's subject, given (subject, peer);
    /// nil fails the authentication (no mapping rule applies).
    let certificatePrincipal: (@Sendable (String, String) -> String?)?

    public init(networkThreads: Int, channel: RequestChannel, maxRequestBytes: Int, name: String = "kafka-network",
                maxUnauthenticatedBytes: Int = 524_288, makeSecurity: (@Sendable () -> ConnectionSecurity)? = nil,
                tls: TLSContext? = nil, certificatePrincipal: (@Sendable (String, String) -> String?)? = nil) {
        self.tls = tls
        self.certificatePrincipal = certificatePrincipal
        loops = (0..<max(1, networkThreads)).map { EventLoop(name: "\(name)-\($0)") }
        self.channel = channel
        self.maxRequestBytes = maxRequestBytes
        self.makeSecurity = makeSecurity
        self.maxUnauthenticatedBytes = min(maxRequestBytes, maxUnauthenticatedBytes)
    }

    /// Binds and starts the loops; returns the bound port (useful with port 0).
    public func start(host: String, port: Int) throws -> Int {
        for l in loops { l.startThread() }
        let acceptLoop = loops[0]
        let l = try Listener(host: host, port: port, loop: acceptLoop)
        listener = l
        self.port = l.port
        var rr = 0
        let loops = self.loops
        l.onAccept = { [unowned self] conn in
            // The accepted socket belongs to loop 0's epoll only after start(); hand the fd to a loop.
            let target = loops[rr % loops.count]
            rr += 1
            if target === acceptLoop {
                self.adopt(conn)
            } else {
                let fd = conn.fd
                target.execute { [unowned self] in
                    self.adopt(Connection(acceptedFD: fd, loop: target))
                }
            }
        }
        let done = Mutex(false)
        acceptLoop.execute { l.start(); done.withLock { $0 = true } }
        while !done.withLock({ $0 }) { usleep(1000) }
        return l.port
    }

    public func stop() {
        if let l = listener {
            let loop = loops[0]
            loop.execute { l.close() }
        }
        for l in loops { l.stop() }
    }

    // Confined to its connection's loop thread.
    private final class ConnectionState: @unchecked Sendable {
        var decoder: FrameDecoder
        /// Frames of the last read behind the one in flight (at most one read buffer's worth).
        var waiting: [[UInt8]] = []
        /// A request is with the handlers.
        var inFlight = false
        /// Its response is queued but not yet all written.
        var flushing = false
        let id: UInt64
        let security: ConnectionSecurity?
        /// The client certificate has been turned into the principal (SSL listeners).
        var certificateSeen = false
        /// The `clients` fault: a recheck is scheduled; then one request is let through.
        var faultScheduled = false
        var faultPass = false
        init(id: UInt64, max: Int, security: ConnectionSecurity?) {
            self.id = id
            self.security = security
            decoder = FrameDecoder(maxFrameBytes: max)
        }
    }

    private func adopt(_ conn: Connection) {
        let security = makeSecurity?()
        let unauthenticated = security.map { !$0.isAuthenticated } ?? false
        let st = ConnectionState(id: nextID.add(1, ordering: .relaxed).oldValue,
                                 max: unauthenticated ? maxUnauthenticatedBytes : maxRequestBytes, security: security)
        conn.context = st
        if let tls {
            do { try conn.useTLS(tls) } catch {
                tls.logger?("TLS connection from \(conn.peer): \(error)")
                conn.close()
                return
            }
        }
        openConnections.add(1, ordering: .relaxed)
        conn.onRead = { [unowned self] c, bytes in
            // Bytes arrive only after the handshake: the peer's certificate is known by now.
            if !st.certificateSeen, let map = self.certificatePrincipal {
                st.certificateSeen = true
                if let dn = c.tlsPeerSubject {
                    guard let name = map(dn, c.peer) else {
                        c.close()
                        return
                    }
                    st.security?.setCertificatePrincipal(name)
                }
            }
            if st.decoder.maxFrameBytes != self.maxRequestBytes, st.security?.isAuthenticated == true {
                st.decoder.maxFrameBytes = self.maxRequestBytes
            }
            var input = FrameDecoder.Input(bytes)
            loop: while true {
                switch st.decoder.next(&input) {
                case .frame(let f): st.waiting.append(f)
                case .needMoreData: break loop
                case .tooLarge, .negativeLength:
                    // socket.request.max.bytes: Kafka closes the connection; nothing sane can follow.
                    c.close()
                    return
                }
            }
            self.dispatchNext(c, st)
        }
        conn.onWriteDrained = { [unowned self] c in
            guard st.flushing else { return }
            st.flushing = false
            self.dispatchNext(c, st)
        }
        conn.onClose = { [unowned self] _, _ in
            self.openConnections.subtract(1, ordering: .relaxed)
        }
        conn.start()
    }

    /// Sends the next waiting frame to the handlers, or reads again when none waits (unmute).
    private func dispatchNext(_ conn: Connection, _ st: ConnectionState) {
        guard !conn.isClosed else { return }
        if st.inFlight || st.flushing {
            conn.setReadPaused(true)
            return
        }
        guard !st.waiting.isEmpty else {
            conn.setReadPaused(false)
            return
        }
        conn.setReadPaused(true)
        if holdForFault(conn, st) { return }
        let frame = st.waiting.removeFirst()
        st.inFlight = true
        let loop = conn.loop
        let box = UncheckedBox(conn)
        let req = QueuedRequest(frame: frame, connectionID: st.id, peer: conn.peer, receivedAtNanos: MonotonicClock.nanos(), security: st.security) { [unowned self] parts in
            loop.execute {
                let c = box.value
                if let parts {
                    for p in parts {
                        switch p {
                        case .bytes(let b): c.write(b)
                        case .file(let fd, let off, let n, let owner): c.writeFile(fd: fd, offset: off, count: n, owner: owner)
                        case .close:
                            c.closeAfterFlush()
                            return
                        }
                    }
                }
                // Muted until the flush at the end of this loop turn (or a later writable event)
                // has handed the whole response to the kernel: `onWriteDrained` goes on.
                st.inFlight = false
                if c.pendingWriteBytes > 0 {
                    st.flushing = true
                    return
                }
                self.dispatchNext(c, st)
            }
        }
        if !channel.offer(req) {
            // Handlers are saturated: stay paused and retry shortly (back-pressure).
            st.inFlight = false
            st.waiting.insert(frame, at: 0)
            loop.schedule(afterMillis: 5) { [unowned self] in self.dispatchNext(conn, st) }
        }
    }

    /// The `clients` fault holds the waiting request: a drop rechecks every 50 ms until lifted, a
    /// delay lets it go after N ms. Reading stays paused meanwhile (one read's frames at most wait).
    private func holdForFault(_ conn: Connection, _ st: ConnectionState) -> Bool {
        let fault = clientFault.load(ordering: .relaxed)
        if fault == 0 || (fault > 0 && st.faultPass) {
            st.faultPass = false
            return false
        }
        guard !st.faultScheduled else { return true }
        st.faultScheduled = true
        conn.loop.schedule(afterMillis: fault > 0 ? fault : 50) { [unowned self] in
            st.faultScheduled = false
            st.faultPass = fault > 0
            self.dispatchNext(conn, st)
        }
        return true
    }
}
