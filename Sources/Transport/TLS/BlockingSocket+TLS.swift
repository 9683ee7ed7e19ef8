#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// TLS on a blocking socket (brokerd's links to other brokers): the handshake runs non-blocking
/// under one deadline (so a peer trickling bytes cannot stretch it), then OpenSSL blocks in the
/// socket calls, bounded by the socket's receive/send timeouts.
extension BlockingSocket {
    /// Runs the client handshake within `timeoutMillis` (default: the context's handshake bound);
    /// `serverName` is sent as SNI and checked against the certificate unless the config turns that off.
    public func startTLS(_ context: TLSContext, serverName: String, timeoutMillis: Int? = nil) throws {
        precondition(tls == nil, "startTLS called twice")
        let session = try TLSSession(context: context, fd: fd, serverName: serverName)
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        let deadline = MonotonicClock.millis() + UInt64(max(1, timeoutMillis ?? context.config.handshakeTimeoutMillis))
        while true {
            let step = session.handshake()
            if session.bytesRead > UInt64(context.config.maxHandshakeBytes) {
                throw TLSError("TLS handshake with \(serverName) larger than \(context.config.maxHandshakeBytes) bytes")
            }
            let events: Int16
            switch step {
            case .done:
                tls = session
                return
            case .wantRead: events = Int16(POLLIN)
            case .wantWrite: events = Int16(POLLOUT)
            case .closed:
                throw SocketError("TLS handshake with \(serverName): connection closed", ECONNRESET)
            case .failed(let why):
                throw TLSError("TLS handshake with \(serverName): \(why)")
            }
            let now = MonotonicClock.millis()
            guard now < deadline else { throw SocketError("TLS handshake with \(serverName) timed out", ETIMEDOUT) }
            var p = pollfd(fd: fd, events: events, revents: 0)
            if poll(&p, 1, Int32(min(deadline - now, UInt64(Int32.max)))) < 0 && errno != EINTR {
                throw SocketError("poll during the TLS handshake with \(serverName)")
            }
        }
    }

    public var isTLS: Bool { tls != nil }

    func tlsSendAll(_ tls: TLSSession, _ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let (step, n) = bytes.withUnsafeBytes { tls.write(UnsafeRawBufferPointer(rebasing: $0[off...])) }
            switch step {
            case .done: off += n
            case .wantRead, .wantWrite: throw SocketError("TLS send timed out", EAGAIN)
            case .closed: throw SocketError("TLS send", ECONNRESET)
            case .failed(let why): throw SocketError(why, EPROTO)
            }
        }
    }

    func tlsReadExactly(_ tls: TLSSession, _ n: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        var off = 0
        while off < n {
            let (step, got) = out.withUnsafeMutableBytes { tls.read(UnsafeMutableRawBufferPointer(rebasing: $0[off...])) }
            switch step {
            case .done: off += got
            case .wantRead, .wantWrite: throw SocketError("TLS recv timed out", EAGAIN)
            case .closed: throw SocketError("TLS recv", ECONNRESET)
            case .failed(let why): throw SocketError(why, EPROTO)
            }
        }
        return out
    }

    /// Reads until the peer closes (a close_notify or EOF), at most `limit` bytes.
    func tlsReadToEnd(_ tls: TLSSession, limit: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16384)
        while out.count < limit {
            let (step, got) = buf.withUnsafeMutableBytes { tls.read($0) }
            switch step {
            case .done where got > 0: out.append(contentsOf: buf[0..<got])
            case .done: return out
            case .closed: return out
            case .wantRead, .wantWrite: throw SocketError("TLS recv timed out", EAGAIN)
            case .failed(let why): throw SocketError(why, EPROTO)
            }
        }
        return out
    }
}
