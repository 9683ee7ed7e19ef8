#if canImport(Glibc)
import Glibc
#endif

/// TLS on a `Connection`: OpenSSL reads and writes the socket; the loop retries a step when the
/// socket becomes readable or writable, as the step asked. Queued writes are staged into one buffer
/// (sendfile cannot encrypt; file regions are read with pread), then written record by record.
extension Connection {
    /// Makes this a TLS connection; call before `start`. A client names the server it expects
    /// (SNI, and the certificate check unless the context's `verifyHostname` says otherwise).
    public func useTLS(_ context: TLSContext, serverName: String? = nil) throws(TLSError) {
        precondition(tls == nil, "useTLS called twice")
        tls = try TLSSession(context: context, fd: fd, serverName: serverName)
    }

    public var isTLS: Bool { tls != nil }
    /// Whether the TLS handshake is over (always true on plaintext connections).
    public var isSecured: Bool { tls.map { !$0.handshaking } ?? true }

    /// The peer certificate's subject in RFC 2253 form (`CN=alice,OU=eng,O=org`) once the handshake
    /// is over; nil without a verified client certificate or on plaintext.
    public var tlsPeerSubject: String? {
        guard let tls, !tls.handshaking else { return nil }
        return tls.peerSubject
    }

    static let tlsStageLimit = 64 * 1024

    func startTLSHandshakeTimer() {
        guard let tls else { return }
        let ms = tls.context.config.handshakeTimeoutMillis
        tls.handshakeTimer = loop.schedule(afterMillis: ms) { [weak self] in
            guard let self, !self.isClosed, let tls = self.tls, tls.handshaking else { return }
            self.failTLS("handshake not finished within \(ms) ms")
        }
    }

    func closeTLS(_ tls: TLSSession, error: SocketError?) {
        if let t = tls.handshakeTimer { loop.cancel(t); tls.handshakeTimer = nil }
        if error == nil { tls.shutdown() }
        tls.staged = []
    }

    /// Logs once (the connection closes here, so nothing after it logs again).
    func failTLS(_ why: String) {
        guard !isClosed, let tls else { return }
        tls.context.logger?("TLS connection \(tls.context.isServer ? "from" : "to") \(peer): \(why)")
        close(error: SocketError("TLS \(peer): \(why)", EPROTO))
    }

    func handleTLSEvents(_ tls: TLSSession, readable: Bool, writable: Bool, hangup: Bool) {
        if tls.handshaking { continueTLSHandshake(tls); return }
        let readWaitedForWrite = tlsNeedsWrite && writable
        if readWaitedForWrite { tlsNeedsWrite = false; updateInterest() }
        if writable || (tlsNeedsRead && readable) {
            if tlsNeedsRead { tlsNeedsRead = false; updateInterest() }
            flushTLS()
        }
        if isClosed { return }
        if readPaused {
            if hangup { close() }
            return
        }
        if readable || readWaitedForWrite { readTLS(tls) }
    }

    func continueTLSHandshake(_ tls: TLSSession) {
        let step = tls.handshake()
        // Checked whatever the step's outcome: a handshake that needed more than the bound fails even if done.
        if tls.bytesRead > UInt64(tls.context.config.maxHandshakeBytes) {
            failTLS("handshake larger than \(tls.context.config.maxHandshakeBytes) bytes")
            return
        }
        switch step {
        case .done:
            if let t = tls.handshakeTimer { loop.cancel(t); tls.handshakeTimer = nil }
            if tlsNeedsWrite { tlsNeedsWrite = false; updateInterest() }
            if !tls.context.isServer { onConnect?(self) }
            if isClosed { return }
            flushTLS()
            // TLS 1.3 clients may send application data right behind their Finished.
            if !isClosed && !readPaused { readTLS(tls) }
        case .wantRead:
            if tlsNeedsWrite { tlsNeedsWrite = false; updateInterest() }
        case .wantWrite:
            if !tlsNeedsWrite { tlsNeedsWrite = true; updateInterest() }
        case .closed:
            close()
        case .failed(let why):
            failTLS(why)
        }
    }

    /// Decrypts what is available (bounded per wake-up) and hands it to `onRead` in one call.
    func readTLS(_ tls: TLSSession) {
        let buffer = loop.readBuffer
        var filled = 0
        var peerClosed = false
        var bounded = true
        records: for _ in 0..<64 {
            guard buffer.count - filled >= 16 * 1024 else { break }
            let (step, n) = tls.read(UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            switch step {
            case .done: filled += n
            case .wantRead: bounded = false; break records
            case .wantWrite:
                bounded = false
                if !tlsNeedsWrite { tlsNeedsWrite = true; updateInterest() }
                break records
            case .closed: peerClosed = true; break records
            case .failed(let why):
                failTLS(why)
                return
            }
        }
        if filled > 0 {
            onRead?(self, UnsafeRawBufferPointer(rebasing: buffer[0..<filled]))
            if isClosed { return }
        }
        if peerClosed { close(); return }
        // Plaintext left inside OpenSSL raises no epoll event: come back for it.
        if bounded && !readPaused && tls.hasPendingPlaintext { resumeTLSRead() }
    }

    func resumeTLSRead() {
        guard let tls, !tls.handshaking, tls.hasPendingPlaintext else { return }
        loop.schedule(afterMillis: 0) { [weak self] in
            guard let self, !self.isClosed, !self.readPaused, let tls = self.tls else { return }
            self.readTLS(tls)
        }
    }

    func flushTLS() {
        guard let tls, !tls.handshaking, !isClosed else { return }
        let hadQueued = queuedBytes > 0
        while true {
            if tls.stagedOffset >= tls.staged.count {
                tls.staged.removeAll(keepingCapacity: true)
                tls.stagedOffset = 0
                stageQueued(tls)
                if isClosed { return }
                if tls.staged.isEmpty { break }
            }
            // A retry after WANT_WRITE presents the same bytes, as OpenSSL requires.
            let (step, n) = tls.staged.withUnsafeBytes { tls.write(UnsafeRawBufferPointer(rebasing: $0[tls.stagedOffset...])) }
            switch step {
            case .done:
                tls.stagedOffset += n
                queuedBytes -= n
            case .wantWrite:
                setWantWrite(true)
                return
            case .wantRead:
                if !tlsNeedsRead { tlsNeedsRead = true; updateInterest() }
                return
            case .closed:
                close()
                return
            case .failed(let why):
                failTLS(why)
                return
            }
        }
        setWantWrite(false)
        if closeWhenDrained { close() } else if hadQueued { onWriteDrained?(self) }
    }

    /// Moves up to `tlsStageLimit` queued bytes into the staging buffer.
    private func stageQueued(_ tls: TLSSession) {
        while queueHead < queue.count, tls.staged.count < Self.tlsStageLimit {
            let room = Self.tlsStageLimit - tls.staged.count
            switch queue[queueHead] {
            case .bytes(let b, let off):
                if b.count - off <= room {
                    tls.staged.append(contentsOf: b[off...])
                    queue[queueHead] = .bytes([], 0)
                    queueHead += 1
                } else {
                    tls.staged.append(contentsOf: b[off..<(off + room)])
                    queue[queueHead] = .bytes(b, off + room)
                }
            case .file(let ffd, let offset, let count, let owner):
                let take = min(count, room)
                let start = tls.staged.count
                tls.staged.append(contentsOf: repeatElement(0, count: take))
                let n = tls.staged.withUnsafeMutableBytes { pread(ffd, $0.baseAddress! + start, take, off_t(offset)) }
                if n <= 0 {
                    close(error: SocketError("pread for \(peer)", n == 0 ? EIO : errno))
                    return
                }
                tls.staged.removeLast(take - n)
                if n == count {
                    queueHead += 1
                } else {
                    queue[queueHead] = .file(fd: ffd, offset: offset + n, count: count - n, owner: owner)
                }
            }
        }
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        } else {
            compact()
        }
    }
}
