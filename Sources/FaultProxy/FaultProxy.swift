import Dispatch
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on loopback that forwards every accepted connection to one target and applies a
/// fault (`FaultMode`) to each direction on command. It runs on its own Transport event loop;
/// the public methods may be called from any thread and return once the change is in effect.
/// Memory is bounded: each direction of a connection holds at most `maxBufferedBytes` (plus
/// one read) before the proxy stops reading from its source, and at most `maxConnections` are
/// carried at once (more are refused with a reset).
public final class FaultProxy: @unchecked Sendable {
    public let targetHost: String
    public let targetPort: Int
    public let maxBufferedBytes: Int
    public let maxConnections: Int
    /// The port the proxy listens on (the one given, or the kernel's pick for 0).
    public let port: Int

    let loop: EventLoop
    private let listener: Listener
    private var control: Listener?
    private var state = FaultProxyState()
    private var tickHandle: TimerHandle?

    public init(listenHost: String = "127.0.0.1", listenPort: Int = 0, targetHost: String = "127.0.0.1", targetPort: Int,
                maxBufferedBytes: Int = 1 << 20, maxConnections: Int = 512) throws {
        self.targetHost = targetHost
        self.targetPort = targetPort
        self.maxBufferedBytes = maxBufferedBytes
        self.maxConnections = maxConnections
        loop = EventLoop(name: "faultproxy-\(listenPort)")
        listener = try Listener(host: listenHost, port: listenPort, loop: loop)
        port = listener.port
        loop.startThread()
        onLoop {
            self.listener.onAccept = { [weak self] c in self?.accept(c) }
            self.listener.start()
            self.scheduleTick()
        }
    }

    deinit { loop.stop() }

    // MARK: commands (any thread)

    public func set(_ mode: FaultMode, _ directions: [FaultDirection] = FaultDirection.allCases) {
        onLoop { self.apply(.set(mode, directions)) }
    }

    /// Resets (RST) every carried connection.
    public func reset() { onLoop { self.apply(.reset) } }

    /// Closes (FIN) every carried connection.
    public func closeAll() { onLoop { self.apply(.close) } }

    public var stats: FaultProxyStats {
        var s = FaultProxyStats()
        onLoop { s = self.currentStats() }
        return s
    }

    /// Runs one control-protocol line and returns the reply ("ok ..." or "error ...").
    public func execute(line: String) -> String {
        var reply = ""
        onLoop { reply = self.run(line: line) }
        return reply
    }

    /// Serves the line protocol on a TCP port (loopback); returns the port.
    @discardableResult
    public func startControl(host: String = "127.0.0.1", port: Int = 0) throws -> Int {
        let l = try Listener(host: host, port: port, loop: loop)
        onLoop {
            self.control = l
            l.onAccept = { [weak self] c in if let self { ControlSession.attach(c, proxy: self) } else { c.close() } }
            l.start()
        }
        return l.port
    }

    /// Closes everything and stops the loop thread.
    public func stop() {
        onLoop {
            self.apply(.close)
            self.listener.close()
            self.control?.close()
            if let t = self.tickHandle { self.loop.cancel(t) }
        }
        loop.stop()
    }

    /// Runs `body` on the loop thread and waits for it.
    private func onLoop(_ body: @escaping () -> Void) {
        if loop.inLoopThread { body(); return }
        let done = DispatchSemaphore(value: 0)
        let task = UnsafeTask(body)
        loop.execute {
            task.body()
            done.signal()
        }
        done.wait()
    }

    // MARK: loop thread

    func run(line: String) -> String {
        switch FaultCommand.parse(line) {
        case .failure(let e): return "error \(e.message)"
        case .success(.status): return "ok " + currentStats().line
        case .success(.help): return "ok " + FaultCommand.usage
        case .success(let c):
            apply(c)
            return "ok " + currentStats().line
        }
    }

    private func apply(_ c: FaultCommand) {
        switch c {
        case .set(let mode, let dirs):
            for d in dirs { state.modes[d.rawValue] = mode }
            for p in state.pairs.values {
                if dirs.contains(.upstream) && mode != .blackhole && p.server == nil { connectServer(p) }
                for d in dirs { pump(p, d) }
            }
        case .reset:
            for p in Array(state.pairs.values) {
                state.resets += 1
                terminate(p, rst: true)
            }
        case .close:
            for p in Array(state.pairs.values) { terminate(p, rst: false) }
        case .status, .help:
            break
        }
    }

    private func currentStats() -> FaultProxyStats {
        var s = FaultProxyStats()
        s.modes = state.modes
        s.accepted = state.accepted
        s.active = state.pairs.count
        s.refused = state.refused
        s.resets = state.resets
        s.forwarded = state.forwarded
        s.dropped = state.dropped
        return s
    }

    private func accept(_ c: Connection) {
        guard state.pairs.count < maxConnections else {
            state.refused += 1
            Self.setLingerZero(c.fd)
            c.close()
            return
        }
        state.accepted += 1
        state.nextId += 1
        let p = ProxyPair(id: state.nextId, client: c)
        state.pairs[p.id] = p
        c.onRead = { [weak self] _, buf in self?.received(p, .upstream, buf) }
        c.onClose = { [weak self] _, err in self?.sideClosed(p, .upstream, reset: err != nil) }
        c.start()
        // A blackholed direction lets no SYN through either: the target sees the connection
        // only once the partition heals.
        if state.modes[FaultDirection.upstream.rawValue] != .blackhole { connectServer(p) }
        updatePause(p, .upstream)
    }

    private func connectServer(_ p: ProxyPair) {
        guard p.server == nil, !p.flows[0].sourceClosed else { return }
        let s: Connection
        do {
            s = try Connection(connectingTo: targetHost, port: targetPort, loop: loop)
        } catch {
            terminate(p, rst: true)
            return
        }
        p.server = s
        s.onConnect = { [weak self] _ in
            p.serverConnected = true
            self?.pump(p, .upstream)
            self?.updatePause(p, .downstream)
        }
        s.onRead = { [weak self] _, buf in self?.received(p, .downstream, buf) }
        s.onClose = { [weak self] _, err in self?.sideClosed(p, .downstream, reset: err != nil) }
        s.start()
    }

    private func received(_ p: ProxyPair, _ d: FaultDirection, _ buf: UnsafeRawBufferPointer) {
        let mode = state.modes[d.rawValue]
        if mode == .drop {
            state.dropped[d.rawValue] += buf.count
            return
        }
        var due = MonotonicClock.millis()
        if case .delay(let ms) = mode { due += UInt64(ms) }
        p.flows[d.rawValue].append(Array(buf), due: due)
        pump(p, d)
    }

    /// The source of direction `d` hung up: what it sent still goes out (unless blackholed),
    /// then the other side is closed the same way.
    private func sideClosed(_ p: ProxyPair, _ d: FaultDirection, reset: Bool) {
        guard !p.finished else { return }
        p.flows[d.rawValue].sourceClosed = true
        p.flows[d.rawValue].sourceReset = reset
        // Nothing can be delivered to the side that is gone.
        p.flows[1 - d.rawValue].clear()
        if d == .upstream && p.server == nil { finish(p); return }
        pump(p, d)
    }

    func pump(_ p: ProxyPair, _ d: FaultDirection) {
        guard !p.finished else { return }
        let mode = state.modes[d.rawValue]
        let dst = d == .upstream ? (p.serverConnected ? p.server : nil) : p.client
        if mode != .blackhole, let dst, !dst.isClosed {
            let now = MonotonicClock.millis()
            var budget = Int.max
            if case .throttle(let bps) = mode { budget = p.flows[d.rawValue].refill(now: now, bytesPerSecond: bps) }
            while budget > 0, dst.pendingWriteBytes < maxBufferedBytes, let chunk = p.flows[d.rawValue].take(dueBy: now, max: budget) {
                budget -= chunk.count
                if case .throttle = mode { p.flows[d.rawValue].spend(chunk.count) }
                state.forwarded[d.rawValue] += chunk.count
                dst.write(chunk)
            }
            let f = p.flows[d.rawValue]
            if f.sourceClosed && f.isEmpty {
                if f.sourceReset { Self.setLingerZero(dst.fd); dst.close() } else { dst.closeAfterFlush() }
            }
        }
        if p.client.isClosed && (p.server?.isClosed ?? true) { finish(p); return }
        updatePause(p, d)
    }

    private func updatePause(_ p: ProxyPair, _ d: FaultDirection) {
        guard let src = d == .upstream ? p.client : p.server, !src.isClosed else { return }
        let dst = d == .upstream ? p.server : p.client
        let buffered = p.flows[d.rawValue].bytes + (dst?.pendingWriteBytes ?? 0)
        let waitingForTarget = d == .upstream && !p.serverConnected
        src.setReadPaused(state.modes[d.rawValue] == .blackhole || buffered >= maxBufferedBytes || (waitingForTarget && buffered > 0))
    }

    private func terminate(_ p: ProxyPair, rst: Bool) {
        p.finished = true
        for c in [p.client, p.server].compactMap({ $0 }) where !c.isClosed {
            c.onClose = nil
            if rst { Self.setLingerZero(c.fd) }
            c.close()
        }
        state.pairs[p.id] = nil
    }

    private func finish(_ p: ProxyPair) {
        terminate(p, rst: false)
    }

    /// Held data, deferred connects and throttling need time to pass; idle proxies tick slowly.
    private func scheduleTick() {
        let busy = state.pairs.values.contains { p in
            FaultDirection.allCases.contains { d in !p.flows[d.rawValue].isEmpty && state.modes[d.rawValue] != .blackhole }
        }
        tickHandle = loop.schedule(afterMillis: busy ? 5 : 50) { [weak self] in
            guard let self else { return }
            for p in Array(self.state.pairs.values) {
                if p.server == nil && self.state.modes[0] != .blackhole { self.connectServer(p) }
                for d in FaultDirection.allCases { self.pump(p, d) }
            }
            self.scheduleTick()
        }
    }

    static func setLingerZero(_ fd: Int32) {
        var l = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
    }
}

struct FaultProxyState {
    var modes: [FaultMode] = [.pass, .pass]
    var pairs: [Int: ProxyPair] = [:]
    var nextId = 0
    var accepted = 0
    var refused = 0
    var resets = 0
    var forwarded = [0, 0]
    var dropped = [0, 0]
}

/// One carried connection: the accepted client side and the connection to the target.
final class ProxyPair {
    let id: Int
    let client: Connection
    var server: Connection?
    var serverConnected = false
    var finished = false
    var flows = [Flow(), Flow()]

    init(id: Int, client: Connection) {
        self.id = id
        self.client = client
    }
}

/// Bytes read from one side and not yet written to the other, each chunk with the time it may go.
struct Flow {
    private var chunks: [(due: UInt64, bytes: [UInt8])] = []
    private var head = 0
    private(set) var bytes = 0
    var sourceClosed = false
    var sourceReset = false
    private var tokens = 0.0
    private var lastRefill: UInt64 = 0

    var isEmpty: Bool { bytes == 0 }

    mutating func append(_ b: [UInt8], due: UInt64) {
        chunks.append((due, b))
        bytes += b.count
    }

    /// Up to `max` bytes of the first chunk, if it is due.
    mutating func take(dueBy now: UInt64, max: Int) -> [UInt8]? {
        guard head < chunks.count, chunks[head].due <= now else { return nil }
        let c = chunks[head].bytes
        let out: [UInt8]
        if c.count <= max {
            out = c
            chunks[head].bytes = []
            head += 1
            if head == chunks.count || head > 64 {
                chunks.removeFirst(head)
                head = 0
            }
        } else {
            out = Array(c[0..<max])
            chunks[head].bytes = Array(c[max...])
        }
        bytes -= out.count
        return out
    }

    mutating func clear() {
        chunks.removeAll()
        head = 0
        bytes = 0
    }

    /// Token bucket holding at most a tenth of a second's worth (at least one small chunk).
    mutating func refill(now: UInt64, bytesPerSecond: Int) -> Int {
        let cap = max(Double(bytesPerSecond) / 10, 512)
        if lastRefill == 0 { lastRefill = now; tokens = min(cap, Double(bytesPerSecond) / 100) }
        tokens = min(cap, tokens + Double(bytesPerSecond) * Double(now - lastRefill) / 1000)
        lastRefill = now
        return Int(tokens)
    }

    mutating func spend(_ n: Int) { tokens -= Double(n) }
}

/// Lets a closure that is only ever run on the loop thread cross to it.
final class UnsafeTask: @unchecked Sendable {
    let body: () -> Void
    init(_ b: @escaping () -> Void) { body = b }
}
