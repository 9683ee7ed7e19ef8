#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Transport

/// An HTTP/1.1 server on its own event loop thread, so admin traffic never runs on a daemon's
/// request path. Keep-alive and pipelining (answered in order), per-connection limits, and
/// Server-Sent Events. Malformed input gets a 4xx/5xx answer and a close, never a crash.
public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest, HTTPResponder) -> Void

    public let loop: EventLoop
    let limits: HTTPLimits
    let handler: Handler
    let logger: @Sendable (String) -> Void
    private var listener: Listener?
    var conns: [ObjectIdentifier: HTTPConnection] = [:]
    public private(set) var port = 0
    private var stopped = false

    public init(limits: HTTPLimits = HTTPLimits(), name: String = "http", logger: @escaping @Sendable (String) -> Void = { _ in },
                handler: @escaping Handler) {
        self.loop = EventLoop(name: name)
        self.limits = limits
        self.handler = handler
        self.logger = logger
    }

    public convenience init(router: Router, limits: HTTPLimits = HTTPLimits(), name: String = "http",
                            logger: @escaping @Sendable (String) -> Void = { _ in }) {
        self.init(limits: limits, name: name, logger: logger) { req, r in router.handle(req, r) }
    }

    /// Binds host:port (0 picks a free port) and starts the loop thread. Returns the bound port.
    @discardableResult
    public func start(host: String, port: Int) throws -> Int {
        let l = try Listener(host: host, port: port, loop: loop)
        l.onAccept = { [unowned self] c in self.accept(c) }
        l.start()
        listener = l
        self.port = l.port
        scheduleSweep()
        loop.startThread()
        return l.port
    }

    /// Closes the listener and every connection (streams included). Not from the loop thread.
    public func stop() {
        let done = Mutex(false)
        loop.execute { [self] in
            stopped = true
            listener?.close()
            listener = nil
            for c in Array(conns.values) { c.conn.close() }
            done.withLock { $0 = true }
        }
        for _ in 0..<500 where !done.withLock({ $0 }) { usleepMillis(10) }
        loop.stop()
    }

    /// Connections open now (tests, metrics).
    public var connectionCount: Int {
        if loop.inLoopThread { return conns.count }
        let box = Mutex(-1)
        loop.execute { [self] in box.withLock { $0 = conns.count } }
        for _ in 0..<500 where box.withLock({ $0 }) < 0 { usleepMillis(2) }
        return box.withLock { $0 }
    }

    private func accept(_ conn: Connection) {
        conn.start()
        if stopped || conns.count >= limits.maxConnections {
            conn.write(HTTPResponse.error(503, "too many connections").serialized(keepAlive: false, headOnly: false))
            conn.closeAfterFlush()
            return
        }
        let c = HTTPConnection(server: self, conn: conn)
        conns[ObjectIdentifier(c)] = c
        // Strong captures: the connection nils both callbacks when it closes, ending the cycle.
        conn.onRead = { _, buf in c.onRead(buf) }
        conn.onClose = { [unowned self] _, _ in
            c.closed()
            self.conns[ObjectIdentifier(c)] = nil
        }
    }

    private func scheduleSweep() {
        loop.schedule(afterMillis: 500) { [weak self] in
            guard let self, !self.stopped else { return }
            let now = MonotonicClock.millis()
            for c in Array(self.conns.values) { c.sweep(now: now) }
            self.scheduleSweep()
        }
    }
}

func usleepMillis(_ ms: Int) {
    var ts = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    nanosleep(&ts, nil)
}

/// The handle a handler answers through, from any thread, once. A second answer is ignored.
public struct HTTPResponder: Sendable {
    let connection: HTTPConnection
    let sequence: UInt64
    let request: HTTPRequest

    public func respond(_ response: HTTPResponse) {
        let c = connection, s = sequence
        if c.loop.inLoopThread { c.finish(response, sequence: s) } else { c.loop.execute { c.finish(response, sequence: s) } }
    }

    /// Turns the connection into a Server-Sent Events stream; `open` gets the stream on the
    /// server's loop thread, after the response head has been queued.
    public func stream(_ open: @escaping @Sendable (EventStream) -> Void) {
        let c = connection, s = sequence
        let go: @Sendable () -> Void = { if let es = c.startStream(sequence: s) { open(es) } }
        if c.loop.inLoopThread { go() } else { c.loop.execute(go) }
    }
}

/// One client connection: parses requests, dispatches one at a time, writes answers in order.
/// Loop thread only (the responder hops there).
final class HTTPConnection: @unchecked Sendable {
    enum State { case idle, awaiting, streaming, closing }

    unowned let server: HTTPServer
    let conn: Connection
    let loop: EventLoop
    var parser: HTTPParser
    var state = State.idle
    var sequence: UInt64 = 0
    var pendingKeepAlive = true
    var pendingHead = false
    var lastActivity = MonotonicClock.millis()
    var requestStarted: UInt64?
    var windowStart = MonotonicClock.millis()
    var windowCount = 0
    var processing = false
    var stream: EventStream?
    var lastHeartbeat = MonotonicClock.millis()

    init(server: HTTPServer, conn: Connection) {
        self.server = server
        self.conn = conn
        self.loop = conn.loop
        self.parser = HTTPParser(limits: server.limits)
    }

    func onRead(_ buf: UnsafeRawBufferPointer) {
        lastActivity = MonotonicClock.millis()
        switch state {
        case .closing: return
        case .streaming: return  // a stream's client has nothing more to say; ignore it
        case .idle, .awaiting: break
        }
        if requestStarted == nil { requestStarted = lastActivity }
        parser.append(buf)
        if state == .awaiting, parser.bufferedBytes > server.limits.maxHeaderBytes + server.limits.maxBodyBytes {
            conn.setReadPaused(true)  // pipelined too far ahead; wait for the answer in flight
            return
        }
        processBuffered()
    }

    func processBuffered() {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        while state == .idle, !conn.isClosed {
            switch parser.next() {
            case .needMore:
                if parser.bufferedBytes == 0 { requestStarted = nil }
                return
            case .error(let status, let why):
                reject(status, why)
                return
            case .request(var req):
                requestStarted = parser.bufferedBytes == 0 ? nil : MonotonicClock.millis()
                let now = MonotonicClock.millis()
                if now >= windowStart + 1000 { windowStart = now; windowCount = 0 }
                windowCount += 1
                if windowCount > server.limits.requestsPerSecond {
                    reject(429, "more than \(server.limits.requestsPerSecond) requests per second on one connection")
                    return
                }
                req.peer = conn.peer
                sequence += 1
                state = .awaiting
                pendingKeepAlive = req.keepAlive
                pendingHead = req.method == "HEAD"
                server.handler(req, HTTPResponder(connection: self, sequence: sequence, request: req))
            }
        }
    }

    private func reject(_ status: Int, _ why: String) {
        server.logger("http \(conn.peer): \(status) \(why)")
        state = .closing
        conn.write(HTTPResponse.error(status, why).serialized(keepAlive: false, headOnly: false))
        conn.closeAfterFlush()
    }

    func finish(_ response: HTTPResponse, sequence s: UInt64) {
        guard s == sequence, state == .awaiting, !conn.isClosed else { return }
        conn.write(response.serialized(keepAlive: pendingKeepAlive, headOnly: pendingHead))
        lastActivity = MonotonicClock.millis()
        if !pendingKeepAlive {
            state = .closing
            conn.closeAfterFlush()
            return
        }
        state = .idle
        if conn.isReadPaused { conn.setReadPaused(false) }
        processBuffered()
    }

    func startStream(sequence s: UInt64) -> EventStream? {
        guard s == sequence, state == .awaiting, !conn.isClosed else { return nil }
        state = .streaming
        conn.write(Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n\r\n: stream open\n\n".utf8))
        let es = EventStream(connection: self)
        stream = es
        return es
    }

    /// Stream bytes from the loop thread; a reader too far behind is dropped (bounded memory).
    func streamWrite(_ bytes: [UInt8]) {
        guard state == .streaming, !conn.isClosed else { return }
        if conn.pendingWriteBytes > server.limits.maxStreamBacklogBytes {
            server.logger("http \(conn.peer): event stream reader is \(conn.pendingWriteBytes) bytes behind; closing")
            conn.close()
            return
        }
        conn.write(bytes)
    }

    func closed() {
        state = .closing
        stream?.markClosed()
        stream = nil
    }

    func sweep(now: UInt64) {
        let l = server.limits
        switch state {
        case .closing, .awaiting:
            return
        case .streaming:
            // Comments keep proxies from timing the stream out and find dead readers.
            if now >= lastHeartbeat + 15_000 {
                lastHeartbeat = now
                streamWrite(Array(": keep-alive\n\n".utf8))
            }
        case .idle:
            if let started = requestStarted, now > started + UInt64(l.requestTimeoutMillis) {
                reject(408, "request not complete within \(l.requestTimeoutMillis) ms")
            } else if requestStarted == nil, now > lastActivity + UInt64(l.idleTimeoutMillis) {
                conn.close()
            }
        }
    }
}

/// A Server-Sent Events stream. `send` works from any thread; after the client goes away it does
/// nothing and `onClose` has run.
public final class EventStream: @unchecked Sendable {
    private let connection: HTTPConnection
    private let state = Mutex<(closed: Bool, onClose: (@Sendable () -> Void)?)>((false, nil))

    init(connection: HTTPConnection) { self.connection = connection }

    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Runs `f` once when the stream ends (at once if it already has).
    public func onClose(_ f: @escaping @Sendable () -> Void) {
        let run = state.withLock { s -> Bool in
            if s.closed { return true }
            s.onClose = f
            return false
        }
        if run { f() }
    }

    public func send(event: String? = nil, id: String? = nil, data: String) {
        var out = ""
        if let id { out += "id: \(Self.oneLine(id))\n" }
        if let event { out += "event: \(Self.oneLine(event))\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) { out += "data: \(line)\n" }
        out += "\n"
        write(Array(out.utf8))
    }

    public func close() {
        let c = connection
        c.loop.execute { c.conn.close() }
    }

    private func write(_ bytes: [UInt8]) {
        if isClosed { return }
        let c = connection
        if c.loop.inLoopThread { c.streamWrite(bytes) } else { c.loop.execute { c.streamWrite(bytes) } }
    }

    func markClosed() {
        let f = state.withLock { s -> (@Sendable () -> Void)? in
            s.closed = true
            defer { s.onClose = nil }
            return s.onClose
        }
        f?()
    }

    static func oneLine(_ s: String) -> String { s.filter { $0 != "\n" && $0 != "\r" } }
}
