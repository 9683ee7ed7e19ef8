import Dispatch
import Foundation
import Protocol
import Sasl
import Synchronization
import Transport

/// A ZooKeeper client (Jute protocol) for coordd or Apache ZooKeeper, used by brokerd.
///
/// One event-loop thread owns the socket: it connects to the servers in turn, keeps the session alive
/// with pings, reconnects with the same session id and password after a connection loss, and re-arms
/// watches with SetWatches. Calls are blocking and safe from any thread except the callback queue's
/// own work items being blocked forever (they are not: responses are read on the loop thread).
/// Watch callbacks and session events run on one serial queue, in the order the server sent them.
public final class CoordClient: @unchecked Sendable {
    public typealias Watcher = @Sendable (WatchEvent) -> Void

    public let servers: [(host: String, port: Int)]
    public let chroot: String
    public let requestedTimeoutMs: Int32
    private let loop = EventLoop(name: "coord-client")
    private let callbacks = DispatchQueue(label: "coord-client-callbacks")
    private let onSessionEvent: @Sendable (SessionEvent) -> Void

    // Loop-confined state.
    private var conn: Connection?
    private var decoder = FrameDecoder(maxFrameBytes: 64 << 20)
    private var handshakeDone = false
    /// The session is usable: connected and, with `sasl`, authenticated on this connection.
    private var ready = false
    private let sasl: CoordSaslLogin?
    private var saslClient: DigestMD5Client?
    /// ACL of every node this client creates, by path (without the chroot).
    private let acl: CoordACLPolicy
    /// Why the client stopped for good (SASL refused); start() throws it.
    private let fatal = Mutex<CoordError?>(nil)
    private var serverIndex = 0
    private var sessionID: Int64 = 0
    private var password = [UInt8](repeating: 0, count: 16)
    private var negotiatedTimeoutMs: Int32 = 0
    private var lastZxid: Int64 = 0
    private var nextXid: Int32 = 1
    private var pending: [Pending] = []
    private var pendingHead = 0
    private var waitingForConnection: [Outgoing] = []
    private var dataWatches: [String: [Watcher]] = [:]
    private var existWatches: [String: [Watcher]] = [:]
    private var childWatches: [String: [Watcher]] = [:]
    private var lastHeard: UInt64 = 0
    private var lastSent: UInt64 = 0
    private var closed = false
    private var expired = false
    private var connectAttempts = 0
    /// The fault controls cut this client off (brokerd's `POST /faults/coord`): nothing is sent or
    /// read and no connection is made, so the session dies as behind a dead network.
    private var blackholed = false
    private let tls: TLSContext?

    private let sessionState = Mutex<(id: Int64, connected: Bool, expired: Bool)>((0, false, false))

    private struct Pending {
        let xid: Int32
        let opCode: Int32
        let watchPath: String
        let watchKind: WatchKind?
        let watcher: Watcher?
        let completion: @Sendable (Result<ZKResponse, CoordError>) -> Void
    }

    enum WatchKind: Sendable { case data, exist, child }

    /// `connectString` is ZooKeeper's: "host1:port1,host2:port2[/chroot]".
    /// With `tls`, every connection is TLS (coordd's secureClientPort), the server named by its host in `connectString`.
    /// With `sasl`, every connection logs in with DIGEST-MD5 first; `acl` gives the ACL of each created node.
    public init(connectString: String, sessionTimeoutMs: Int, tls: TLSContext? = nil, sasl: CoordSaslLogin? = nil,
                acl: CoordACLPolicy = .open,
                onSessionEvent: @escaping @Sendable (SessionEvent) -> Void = { _ in }) {
        self.tls = tls
        self.sasl = sasl
        self.acl = acl
        var s = connectString
        var root = ""
        if let slash = s.firstIndex(of: "/") {
            root = String(s[slash...])
            s = String(s[..<slash])
        }
        if root == "/" { root = "" }
        while root.hasSuffix("/") { root.removeLast() }
        chroot = root
        servers = s.split(separator: ",").compactMap { parseHostPort(String($0)) }
        requestedTimeoutMs = Int32(sessionTimeoutMs)
        self.onSessionEvent = onSessionEvent
        // Start from a random server so clients spread over the ensemble.
        serverIndex = servers.isEmpty ? 0 : Int.random(in: 0..<servers.count)
    }

    deinit { loop.stop() }

    public var currentSessionID: Int64 { sessionState.withLock { $0.id } }
    public var isConnected: Bool { sessionState.withLock { $0.connected } }

    /// Connects and waits until a session is established (or throws after `timeoutMs`).
    public func start(timeoutMs: Int = 15000) throws {
        guard !servers.isEmpty else { throw CoordError(ZKErr.badArguments, path: "no servers in connect string") }
        loop.startThread()
        loop.execute { [self] in
            connect()
            scheduleTick()
        }
        let deadline = MonotonicClock.millis() + UInt64(timeoutMs)
        while MonotonicClock.millis() < deadline {
            let st = sessionState.withLock { $0 }
            if st.connected { return }
            if st.expired { throw CoordError.sessionExpired }
            if let f = fatal.withLock({ $0 }) { throw f }
            usleep(5000)
        }
        throw CoordError.connectionLoss
    }

    /// Closes the session (its ephemerals go at once) and stops the client.
    public func close() {
        let done = DispatchSemaphore(value: 0)
        loop.execute { [self] in
            if handshakeDone, let c = conn {
                let xid = nextXid
                nextXid &+= 1
                c.write(ZKRequest.closeSession.frame(xid: xid))
                c.closeAfterFlush()
            } else {
                conn?.close()
            }
            closed = true
            conn = nil
            failAll(.connectionLoss)
            done.signal()
        }
        _ = done.wait(timeout: .now() + 2)
        loop.stop()
    }

    /// After `.expired`, starts a fresh session (new id, no ephemerals, no watches).
    public func reopen() {
        loop.execute { [self] in
            expired = false
            sessionID = 0
            password = [UInt8](repeating: 0, count: 16)
            lastZxid = 0
            sessionState.withLock { $0 = (0, false, false) }
            conn?.close()
            conn = nil
            connect()
        }
    }

    // MARK: blocking API

    @discardableResult
    public func create(_ path: String, data: [UInt8] = [], mode: CreateMode = .persistent) throws -> String {
        let r = try call(.create(ZKCreate(path: abs(path), data: data, acl: acl.forPath(path), flags: mode.flags)), path: path)
        guard case .path(let p) = r else { throw CoordError(ZKErr.marshallingError, path: path) }
        return rel(p)
    }

    /// Creates `path` and any missing parents (persistent, empty); existing nodes are fine.
    public func createRecursive(_ path: String, data: [UInt8] = []) throws {
        var prefix = ""
        let parts = path.split(separator: "/")
        for (i, part) in parts.enumerated() {
            prefix += "/" + part
            do {
                try create(prefix, data: i == parts.count - 1 ? data : [])
            } catch let e as CoordError where e.isNodeExists {
            }
        }
    }

    public func delete(_ path: String, version: Int32 = -1) throws {
        _ = try call(.delete(path: abs(path), version: version), path: path)
    }

    /// The node's stat, or nil if it does not exist. A watcher fires on create, change or delete.
    public func exists(_ path: String, watcher: Watcher? = nil) throws -> ZKStat? {
        do {
            let r = try call(.exists(path: abs(path), watch: watcher != nil), path: path, watch: watcher.map { (.exist, $0) })
            guard case .stat(let s) = r else { throw CoordError(ZKErr.marshallingError, path: path) }
            return s
        } catch let e as CoordError where e.isNoNode {
            return nil
        }
    }

    public func getData(_ path: String, watcher: Watcher? = nil) throws -> (data: [UInt8], stat: ZKStat) {
        let r = try call(.getData(path: abs(path), watch: watcher != nil), path: path, watch: watcher.map { (.data, $0) })
        guard case .data(let d, let s) = r else { throw CoordError(ZKErr.marshallingError, path: path) }
        // The Swift client's callers treat null data as empty.
        return (d ?? [], s)
    }

    @discardableResult
    public func setData(_ path: String, data: [UInt8], version: Int32 = -1) throws -> ZKStat {
        let r = try call(.setData(path: abs(path), data: data, version: version), path: path)
        guard case .stat(let s) = r else { throw CoordError(ZKErr.marshallingError, path: path) }
        return s
    }

    public func getChildren(_ path: String, watcher: Watcher? = nil) throws -> [String] {
        let r = try call(.getChildren(path: abs(path), watch: watcher != nil), path: path, watch: watcher.map { (.child, $0) })
        guard case .children(let c) = r else { throw CoordError(ZKErr.marshallingError, path: path) }
        return c
    }

    public func getACL(_ path: String) throws -> (acl: [ZKACL], stat: ZKStat) {
        let r = try call(.getACL(path: abs(path)), path: path)
        guard case .acl(let a, let s) = r else { throw CoordError(ZKErr.marshallingError, path: path) }
        return (a, s)
    }

    /// Makes the next read on this client see everything committed before the call (linearizable).
    public func sync(_ path: String = "/") throws {
        _ = try call(.sync(path: abs(path)), path: path)
    }

    /// Runs `ops` atomically; throws the first failing op's error (as ZooKeeper's `multi` does).
    @discardableResult
    public func multi(_ ops: [CoordOp]) throws -> [ZKMultiResult] {
        let reqs: [ZKRequest] = ops.map {
            switch $0 {
            case .create(let p, let d, let m): .create(ZKCreate(path: abs(p), data: d, acl: acl.forPath(p), flags: m.flags))
            case .delete(let p, let v): .delete(path: abs(p), version: v)
            case .setData(let p, let d, let v): .setData(path: abs(p), data: d, version: v)
            case .check(let p, let v): .check(path: abs(p), version: v)
            }
        }
        let r = try call(.multi(reqs), path: nil)
        guard case .multi(let results) = r else { throw CoordError(ZKErr.marshallingError) }
        return results.map {
            if case .create(let p) = $0 { return .create(path: rel(p)) }
            return $0
        }
    }

    // MARK: async core

    private func call(_ req: ZKRequest, path: String?, watch: (WatchKind, Watcher)? = nil) throws -> ZKResponse {
        let slot = ResultSlot()
        submit(req, watch: watch) { r in slot.fill(r) }
        let timeout = max(Int(requestedTimeoutMs), 2000)
        guard let result = slot.wait(timeoutMs: timeout) else {
            throw CoordError(ZKErr.operationTimeout, path: path)
        }
        switch result {
        case .success(let r): return r
        case .failure(let e): throw CoordError(e.code, path: path)
        }
    }

    /// A request encoded on the caller's thread; the loop only adds the header with its xid.
    private struct Outgoing: Sendable {
        let opCode: Int32
        let body: [UInt8]
        let watchPath: String
        let watchKind: WatchKind?
        let watcher: Watcher?
        let completion: @Sendable (Result<ZKResponse, CoordError>) -> Void
    }

    private func submit(_ req: ZKRequest, watch: (WatchKind, Watcher)?, completion: @escaping @Sendable (Result<ZKResponse, CoordError>) -> Void) {
        var w = ByteWriter(capacity: 64)
        req.write(jute: &w)
        let out = Outgoing(opCode: req.opCode, body: w.bytes, watchPath: req.watchPath, watchKind: watch?.0, watcher: watch?.1, completion: completion)
        loop.execute { [self] in
            if closed { out.completion(.failure(.connectionLoss)); return }
            if expired { out.completion(.failure(.sessionExpired)); return }
            guard ready, let c = conn else {
                waitingForConnection.append(out)
                return
            }
            send(out, on: c)
        }
    }

    /// Cuts the client off from every server (true) or lets it reconnect (false); for fault study.
    public func setBlackholed(_ on: Bool) {
        loop.execute { [self] in blackholed = on }
    }

    private func send(_ out: Outgoing, on c: Connection) {
        let xid = nextXid
        nextXid = nextXid == Int32.max ? 1 : nextXid + 1
        pending.append(Pending(xid: xid, opCode: out.opCode, watchPath: out.watchPath, watchKind: out.watchKind, watcher: out.watcher, completion: out.completion))
        var w = ByteWriter(capacity: out.body.count + 12)
        w.writeInt32(Int32(out.body.count + 8))
        w.writeInt32(xid)
        w.writeInt32(out.opCode)
        w.writeBytes(out.body)
        if !blackholed { c.write(w.bytes) }
        lastSent = MonotonicClock.millis()
    }

    // MARK: connection management (loop thread)

    private func connect() {
        guard !closed, !expired, conn == nil else { return }
        if blackholed {
            loop.schedule(afterMillis: 100) { [self] in connect() }
            return
        }
        let server = servers[serverIndex % servers.count]
        serverIndex += 1
        connectAttempts += 1
        decoder = FrameDecoder(maxFrameBytes: 64 << 20)
        handshakeDone = false
        do {
            let c = try Connection(connectingTo: server.host, port: server.port, loop: loop)
            if let tls { try c.useTLS(tls, serverName: server.host) }
            conn = c
            c.onConnect = { [self] c in
                let req = ZKConnectRequest(lastZxidSeen: lastZxid, timeout: requestedTimeoutMs, sessionId: sessionID, password: password)
                var w = ByteWriter(capacity: 64)
                w.withInt32LengthPrefix { req.write(jute: &$0) }
                c.write(w.bytes)
                lastHeard = MonotonicClock.millis()
            }
            c.onRead = { [self] c, bytes in
                if blackholed { return }
                decoder.append(bytes)
                lastHeard = MonotonicClock.millis()
                while case .frame(let f) = decoder.next() {
                    handleFrame(f, from: c)
                    if c.isClosed { return }
                }
            }
            c.onClose = { [self] c, _ in connectionLost(c) }
            lastHeard = MonotonicClock.millis()
            c.start()
        } catch {
            loop.schedule(afterMillis: 100) { [self] in connect() }
        }
    }

    private func connectionLost(_ c: Connection) {
        guard conn === c else { return }
        conn = nil
        let wasConnected = ready
        handshakeDone = false
        ready = false
        saslClient = nil
        failPending(.connectionLoss)
        if wasConnected {
            sessionState.withLock { $0.connected = false }
            deliver(.disconnected)
        }
        if !closed && !expired {
            // Back off a little once every server has been tried.
            let delay = connectAttempts % max(1, servers.count) == 0 ? 100 : 5
            loop.schedule(afterMillis: delay) { [self] in connect() }
        }
    }

    private func scheduleTick() {
        loop.schedule(afterMillis: 50) { [self] in
            guard !closed else { return }
            let now = MonotonicClock.millis()
            let timeout = UInt64(negotiatedTimeoutMs > 0 ? negotiatedTimeoutMs : requestedTimeoutMs)
            if let c = conn {
                if now - lastHeard > timeout * 2 / 3 {
                    // The server went quiet: try another before the session times out.
                    c.close()
                } else if ready && !blackholed && now - lastSent > timeout / 3 {
                    c.write(ZKRequest.ping.frame(xid: ZKXid.ping))
                    lastSent = now
                }
            }
            scheduleTick()
        }
    }

    private func handleFrame(_ f: [UInt8], from c: Connection) {
        var r = ByteReader(f)
        if !handshakeDone {
            guard let resp = try? ZKConnectResponse(jute: &r) else { c.close(); return }
            if resp.timeout <= 0 || (sessionID != 0 && resp.sessionId != sessionID) {
                expired = true
                sessionState.withLock { $0 = ($0.id, false, true) }
                c.close()
                conn = nil
                failAll(.sessionExpired)
                dataWatches.removeAll(); existWatches.removeAll(); childWatches.removeAll()
                deliver(.expired)
                return
            }
            handshakeDone = true
            connectAttempts = 0
            sessionID = resp.sessionId
            password = resp.password
            negotiatedTimeoutMs = resp.timeout
            if let sasl {
                let client = DigestMD5Client(user: sasl.user, password: sasl.password)
                let first = client.initialResponse
                saslClient = client
                sendSasl(first, final: false, on: c)
            } else {
                sessionReady(on: c)
            }
            return
        }
        guard let header = try? ZKReplyHeader(jute: &r) else { c.close(); return }
        if debugCoord { FileHandle.standardError.write(Data(("coord-client: reply xid \(header.xid) err \(header.err) pending \(pending.count - pendingHead)\n").utf8)) }
        if header.zxid > 0 { lastZxid = max(lastZxid, header.zxid) }
        switch header.xid {
        case ZKXid.ping, ZKXid.setWatches, ZKXid.auth:
            return
        case ZKXid.notification:
            guard let ev = try? ZKWatcherEvent(jute: &r) else { c.close(); return }
            fireWatches(ev)
            return
        default:
            break
        }
        guard pendingHead < pending.count else { c.close(); return }
        let p = pending[pendingHead]
        pendingHead += 1
        compactPending()
        guard p.xid == header.xid else {
            // Replies must come in request order; anything else means the stream is broken.
            c.close()
            return
        }
        if header.err != ZKErr.ok {
            if header.err == ZKErr.noNode, p.watchKind == .exist, let w = p.watcher {
                existWatches[p.watchPath, default: []].append(w)
            }
            p.completion(.failure(CoordError(header.err)))
            return
        }
        let resp: ZKResponse
        do {
            resp = try ZKResponse.decode(op: p.opCode, &r)
        } catch {
            p.completion(.failure(CoordError(ZKErr.marshallingError)))
            return
        }
        if let kind = p.watchKind, let w = p.watcher {
            let path = p.watchPath
            switch kind {
            case .data: dataWatches[path, default: []].append(w)
            case .exist: dataWatches[path, default: []].append(w)
            case .child: childWatches[path, default: []].append(w)
            }
        }
        p.completion(.success(resp))
    }

    /// Connected (and authenticated): watches re-armed, then the requests that waited.
    private func sessionReady(on c: Connection) {
        ready = true
        sessionState.withLock { $0 = (sessionID, true, false) }
        rearmWatches(on: c)
        let queued = waitingForConnection
        waitingForConnection.removeAll()
        for q in queued { send(q, on: c) }
        deliver(.connected(server: c.peer))
    }

    /// One SASL token; its reply (on the loop thread) carries the server's next token. DIGEST-MD5
    /// takes two: the empty first one (the answer is the challenge), then our digest-response (the
    /// answer is rspauth, which proves the server knows the password too).
    private func sendSasl(_ token: [UInt8], final: Bool, on c: Connection) {
        var w = ByteWriter(capacity: token.count + 8)
        ZKRequest.sasl(token: token).write(jute: &w)
        let out = Outgoing(opCode: ZKOp.sasl, body: w.bytes, watchPath: "", watchKind: nil, watcher: nil) { [self] r in
            guard conn === c, var client = saslClient else { return }
            do {
                guard case .success(.saslToken(let t)) = r else {
                    if case .failure(let e) = r, e.code == ZKErr.connectionLoss { return }
                    throw SaslClientError("SASL login refused by the server")
                }
                if final {
                    try client.verify(final: t ?? [])
                    saslClient = nil
                    sessionReady(on: c)
                } else {
                    let response = try client.respond(challenge: t ?? [])
                    saslClient = client
                    sendSasl(response, final: true, on: c)
                }
            } catch {
                saslFailed(c, "\(error)")
            }
        }
        send(out, on: c)
    }

    /// A refused login is final (retrying the same password cannot succeed): the client stops.
    private func saslFailed(_ c: Connection, _ why: String) {
        if debugCoord { FileHandle.standardError.write(Data("coord-client: SASL failed: \(why)\n".utf8)) }
        fatal.withLock { $0 = CoordError(ZKErr.authFailed, path: why) }
        closed = true
        conn = nil
        c.close()
        failAll(CoordError(ZKErr.authFailed))
        deliver(.authFailed)
    }

    private func fireWatches(_ ev: ZKWatcherEvent) {
        var fire: [Watcher] = []
        let path = ev.path
        switch ev.type {
        case ZKEventType.nodeCreated, ZKEventType.nodeDataChanged:
            fire += dataWatches.removeValue(forKey: path) ?? []
            fire += existWatches.removeValue(forKey: path) ?? []
        case ZKEventType.nodeDeleted:
            fire += dataWatches.removeValue(forKey: path) ?? []
            fire += existWatches.removeValue(forKey: path) ?? []
            fire += childWatches.removeValue(forKey: path) ?? []
        case ZKEventType.nodeChildrenChanged:
            fire += childWatches.removeValue(forKey: path) ?? []
        default:
            return
        }
        let kind: WatchEvent.Kind
        switch ev.type {
        case ZKEventType.nodeCreated: kind = .created
        case ZKEventType.nodeDeleted: kind = .deleted
        case ZKEventType.nodeDataChanged: kind = .dataChanged
        default: kind = .childrenChanged
        }
        let event = WatchEvent(kind: kind, path: rel(path))
        for w in fire { callbacks.async { w(event) } }
    }

    private func rearmWatches(on c: Connection) {
        guard !dataWatches.isEmpty || !existWatches.isEmpty || !childWatches.isEmpty else { return }
        let sw = ZKSetWatches(relativeZxid: lastZxid, dataWatches: Array(dataWatches.keys),
                              existWatches: Array(existWatches.keys), childWatches: Array(childWatches.keys))
        c.write(ZKRequest.setWatches(sw).frame(xid: ZKXid.setWatches))
    }

    private func failPending(_ e: CoordError) {
        let ps = pending[pendingHead...]
        pending.removeAll()
        pendingHead = 0
        for p in ps { p.completion(.failure(e)) }
    }

    private func failAll(_ e: CoordError) {
        failPending(e)
        let q = waitingForConnection
        waitingForConnection.removeAll()
        for w in q { w.completion(.failure(e)) }
    }

    private func compactPending() {
        if pendingHead > 64 && pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
    }

    private func deliver(_ e: SessionEvent) {
        let cb = onSessionEvent
        callbacks.async { cb(e) }
    }

    private func abs(_ path: String) -> String {
        chroot.isEmpty ? path : (path == "/" ? chroot : chroot + path)
    }

    private func rel(_ path: String) -> String {
        guard !chroot.isEmpty, path.hasPrefix(chroot) else { return path }
        let s = String(path.dropFirst(chroot.count))
        return s.isEmpty ? "/" : s
    }
}
