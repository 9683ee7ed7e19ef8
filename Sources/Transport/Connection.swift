#if canImport(Glibc)
import CLinux
import Glibc
#endif

/// One TCP connection owned by an event loop. Reads are delivered as byte chunks; writes are queued
/// (bytes or file regions for `sendfile`) and flushed at the end of the loop iteration.
/// All methods must be called on the loop's thread.
public final class Connection: FDHandler, Flushable, @unchecked Sendable {
    enum Chunk {
        case bytes([UInt8], Int)
        /// A region of an open file; `owner` keeps the descriptor alive until it is sent.
        case file(fd: Int32, offset: Int, count: Int, owner: AnyObject?)
    }

    public let fd: Int32
    public unowned let loop: EventLoop
    public let peer: String
    public private(set) var isClosed = false
    public private(set) var isConnecting: Bool
    /// Opaque per-connection state for the protocol layer.
    public var context: AnyObject?

    public var onConnect: ((Connection) -> Void)?
    public var onRead: ((Connection, UnsafeRawBufferPointer) -> Void)?
    public var onClose: ((Connection, SocketError?) -> Void)?
    /// Called when a flush has handed every queued byte to the kernel (for back-pressure: read or
    /// dispatch more only once the peer has taken what it was sent).
    public var onWriteDrained: ((Connection) -> Void)?

    var queue: [Chunk] = []
    var queueHead = 0
    var queuedBytes = 0
    private var wantWrite = false
    private(set) var readPaused = false
    /// Set by `useTLS`: every read and write goes through it (see Connection+TLS). nil on plaintext.
    var tls: TLSSession?
    /// A TLS step waits for the socket to be writable / readable, whatever the application wants.
    var tlsNeedsWrite = false
    var tlsNeedsRead = false

    /// Wraps an accepted socket and registers it.
    public init(acceptedFD fd: Int32, loop: EventLoop) {
        self.fd = fd
        self.loop = loop
        self.peer = Socket.peerName(fd)
        self.isConnecting = false
        Socket.setNonBlocking(fd)
        Socket.setNoDelay(fd)
    }

    /// Starts an outgoing connection; `onConnect` or `onClose` follows.
    public init(connectingTo host: String, port: Int, loop: EventLoop) throws {
        self.fd = try Socket.startConnect(host: host, port: port)
        self.loop = loop
        self.peer = "\(host):\(port)"
        self.isConnecting = true
    }

    /// Registers with the loop; call once after setting callbacks.
    public func start() {
        if tls != nil { startTLSHandshakeTimer() }
        loop.register(fd: fd, handler: self, readable: !isConnecting, writable: isConnecting)
    }

    public var pendingWriteBytes: Int { queuedBytes }
    public var isReadPaused: Bool { readPaused }

    public func write(_ bytes: [UInt8]) {
        guard !isClosed, !bytes.isEmpty else { return }
        queue.append(.bytes(bytes, 0))
        queuedBytes += bytes.count
        loop.markDirty(self)
    }

    /// Queues `count` bytes of an open file to be sent with sendfile (no copy through user space).
    public func writeFile(fd fileFD: Int32, offset: Int, count: Int, owner: AnyObject?) {
        guard !isClosed, count > 0 else { return }
        queue.append(.file(fd: fileFD, offset: offset, count: count, owner: owner))
        queuedBytes += count
        loop.markDirty(self)
    }

    /// Stops reading (back-pressure) until resumed.
    public func setReadPaused(_ paused: Bool) {
        guard !isClosed, paused != readPaused else { return }
        readPaused = paused
        updateInterest()
        if !paused, tls != nil { resumeTLSRead() }
    }

    public func close(error: SocketError? = nil) {
        guard !isClosed else { return }
        isClosed = true
        if let tls { closeTLS(tls, error: error) }
        loop.unregister(fd: fd)
        Glibc.close(fd)
        queue.removeAll()
        queuedBytes = 0
        let cb = onClose
        onClose = nil
        onRead = nil
        onConnect = nil
        onWriteDrained = nil
        cb?(self, error)
        context = nil
    }

    /// Flushes what can be written now, then closes.
    /// Closes once the queue is sent, or after `graceMillis` if the peer does not read it: a client
    /// that never reads must not keep a closed session's connection (and its queue) forever.
    public func closeAfterFlush(graceMillis: Int = 5_000) {
        flush()
        if queuedBytes == 0 { close(); return }
        guard !closeWhenDrained else { return }
        closeWhenDrained = true
        loop.schedule(afterMillis: graceMillis) { [weak self] in self?.close() }
    }
    var closeWhenDrained = false

    func updateInterest() {
        let reading = (!readPaused || tlsNeedsRead) && !isConnecting
        // Level-triggered: a paused connection must not ask for RDHUP either, or a half-closed peer spins the loop.
        loop.modify(fd: fd, readable: reading, writable: wantWrite || isConnecting || tlsNeedsWrite, hangup: reading)
    }

    public func handleEvents(readable: Bool, writable: Bool, hangup: Bool) {
        if isConnecting {
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 || (hangup && !writable) {
                close(error: SocketError("connect \(peer)", err == 0 ? ECONNREFUSED : err))
                return
            }
            if writable {
                isConnecting = false
                updateInterest()
                // A TLS client is connected once its handshake is done.
                if let tls { continueTLSHandshake(tls) } else { onConnect?(self) }
            }
            return
        }
        if let tls { handleTLSEvents(tls, readable: readable, writable: writable, hangup: hangup); return }
        if writable { flush() }
        if isClosed { return }
        if readPaused {
            // HUP/ERR are reported even when not asked for; nobody is left to read what we would send.
            if hangup { close() }
            return
        }
        if readable { readAvailable() }
    }

    private func readAvailable() {
        let buffer = loop.readBuffer
        // Bounded: at most a few reads per wake-up so one busy peer cannot starve the rest.
        for _ in 0..<4 {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 {
                onRead?(self, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                if isClosed || readPaused { return }
                if n < buffer.count { return }
            } else if n == 0 {
                close()
                return
            } else {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
                close(error: SocketError("read \(peer)"))
                return
            }
        }
    }

    func flush() {
        guard !isClosed, !isConnecting else { return }
        if tls != nil { flushTLS(); return }
        let hadQueued = queueHead < queue.count
        while queueHead < queue.count {
            switch queue[queueHead] {
            case .bytes:
                // Gather consecutive byte chunks into one writev.
                var iov: [iovec] = []
                var idx = queueHead
                while idx < queue.count, iov.count < 64, case .bytes(let b, let off) = queue[idx] {
                    b.withUnsafeBytes { raw in
                        iov.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + off), iov_len: b.count - off))
                    }
                    idx += 1
                }
                // The arrays stay alive in `queue` during the call.
                let n = iov.withUnsafeBufferPointer { writev(fd, $0.baseAddress, Int32($0.count)) }
                if n < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { setWantWrite(true); return }
                    close(error: SocketError("write \(peer)"))
                    return
                }
                var left = n
                queuedBytes -= n
                while left > 0, queueHead < queue.count, case .bytes(let b, let off) = queue[queueHead] {
                    let avail = b.count - off
                    if left >= avail {
                        left -= avail
                        queue[queueHead] = .bytes([], 0)
                        queueHead += 1
                    } else {
                        queue[queueHead] = .bytes(b, off + left)
                        left = 0
                    }
                }
                if queueHead < idx { setWantWrite(true); compact(); return }
            case .file(let ffd, let offset, let count, let owner):
                var off = off_t(offset)
                let n = sendfile(fd, ffd, &off, count)
                if n < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { setWantWrite(true); return }
                    close(error: SocketError("sendfile \(peer)"))
                    return
                }
                if n == 0 {
                    // The file shrank under us (truncation); nothing more can be sent coherently.
                    close(error: SocketError("sendfile \(peer): file truncated", EIO))
                    return
                }
                queuedBytes -= n
                if n < count {
                    queue[queueHead] = .file(fd: ffd, offset: offset + n, count: count - n, owner: owner)
                    setWantWrite(true)
                    compact()
                    return
                }
                queueHead += 1
            }
        }
        queue.removeAll(keepingCapacity: true)
        queueHead = 0
        setWantWrite(false)
        if closeWhenDrained { close() } else if hadQueued { onWriteDrained?(self) }
    }

    func compact() {
        if queueHead > 32 {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    func setWantWrite(_ w: Bool) {
        guard w != wantWrite, !isClosed else { return }
        wantWrite = w
        updateInterest()
    }
}

/// Accepts connections on a listening socket and hands each to `onAccept`.
public final class Listener: FDHandler, @unchecked Sendable {
    public let fd: Int32
    public let port: Int
    public unowned let loop: EventLoop
    public var onAccept: ((Connection) -> Void)?
    /// When set, every accepted connection is a TLS server connection of this context.
    public var tls: TLSContext?

    public init(host: String, port: Int, loop: EventLoop) throws {
        self.fd = try Socket.listen(host: host, port: port)
        self.port = Socket.localPort(fd)
        self.loop = loop
    }

    public func start() {
        loop.register(fd: fd, handler: self)
    }

    public func close() {
        loop.unregister(fd: fd)
        Glibc.close(fd)
    }

    public func handleEvents(readable: Bool, writable: Bool, hangup: Bool) {
        for _ in 0..<64 {
            let cfd = accept(fd, nil, nil)
            if cfd < 0 { return }
            _ = fcntl(cfd, F_SETFD, FD_CLOEXEC)
            let c = Connection(acceptedFD: cfd, loop: loop)
            if let tls {
                do throws(TLSError) {
                    try c.useTLS(tls)
                } catch {
                    tls.logger?("TLS connection from \(c.peer): \(error)")
                    c.close()
                    continue
                }
            }
            onAccept?(c)
        }
    }
}
