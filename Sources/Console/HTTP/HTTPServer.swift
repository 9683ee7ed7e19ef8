import Dispatch
import Synchronization
import Transport

/// A small HTTP/1.1 server on the project's event loop. The loop thread only parses and writes;
/// handlers run on a worker queue because they make blocking calls to the cluster. One request per
/// connection is in flight at a time (reading pauses meanwhile), so a client cannot queue unbounded work.
public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    private let loop = EventLoop(name: "console-http")
    private let workers = DispatchQueue(label: "console-http-workers", attributes: .concurrent)
    /// Bounds concurrent handlers (each may hold a thread in a blocking client call).
    private let slots = DispatchSemaphore(value: 16)
    private let handler: Handler
    private var listener: Listener?
    // Loop-confined.
    private var conns: [ObjectIdentifier: ConnState] = [:]
    public static let maxConnections = 256
    public static let idleTimeoutMs: UInt64 = 30_000

    /// Touched only on the loop thread; it rides along in the worker closure untouched.
    private final class ConnState: @unchecked Sendable {
        let conn: Connection
        init(_ c: Connection) { conn = c }
        var parser = HTTPRequestParser()
        var busy = false
        var lastActive = MonotonicClock.millis()
    }

    public private(set) var port: Int = 0

    public init(handler: @escaping Handler) {
        self.handler = handler
    }

    /// Binds and starts serving on a new thread.
    public func start(host: String, port: Int) throws {
        let l = try Listener(host: host, port: port, loop: loop)
        listener = l
        self.port = l.port
        l.onAccept = { [self] c in accept(c) }
        loop.execute { [self] in
            l.start()
            tick()
        }
        loop.startThread()
    }

    public func stop() {
        let done = DispatchSemaphore(value: 0)
        loop.execute { [self] in
            listener?.close()
            for st in conns.values { st.conn.close() }
            done.signal()
        }
        _ = done.wait(timeout: .now() + 2)
        loop.stop()
    }

    private func accept(_ c: Connection) {
        guard conns.count < Self.maxConnections else { c.close(); return }
        let st = ConnState(c)
        conns[ObjectIdentifier(c)] = st
        c.onRead = { [self] c, bytes in
            st.lastActive = MonotonicClock.millis()
            st.parser.append(bytes)
            process(c, st)
        }
        c.onClose = { [self] c, _ in conns[ObjectIdentifier(c)] = nil }
        c.start()
    }

    private func process(_ c: Connection, _ st: ConnState) {
        guard !st.busy, !c.isClosed else { return }
        switch st.parser.next() {
        case .needMore:
            return
        case .error(let status, let reason):
            c.write(HTTPResponse.text(status, reason + "\n").serialized(keepAlive: false))
            c.closeAfterFlush()
        case .request(let req):
            st.busy = true
            c.setReadPaused(true)
            let h = handler
            let loop = self.loop
            workers.async { [slots] in
                slots.wait()
                let resp = h(req)
                slots.signal()
                loop.execute { [self] in finish(c, st, req, resp) }
            }
        }
    }

    private func finish(_ c: Connection, _ st: ConnState, _ req: HTTPRequest, _ resp: HTTPResponse) {
        guard !c.isClosed else { return }
        st.busy = false
        st.lastActive = MonotonicClock.millis()
        c.write(resp.serialized(keepAlive: req.keepAlive))
        if !req.keepAlive { c.closeAfterFlush(); return }
        c.setReadPaused(false)
        process(c, st)  // a pipelined request may already be buffered
    }

    private func tick() {
        // Idle keep-alive connections and slow senders go after the idle timeout.
        loop.schedule(afterMillis: 1000) { [self] in
            let now = MonotonicClock.millis()
            for st in Array(conns.values) where !st.busy && now - st.lastActive > Self.idleTimeoutMs { st.conn.close() }
            tick()
        }
    }
}
