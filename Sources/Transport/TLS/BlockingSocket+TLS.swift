#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// TLS on a blocking socket (brokerd's links to other brokers): OpenSSL blocks in the socket calls, and
/// the socket's receive/send timeouts bound every step, the handshake included.
extension BlockingSocket {
    /// Runs the client handshake; `serverName` is sent as SNI and checked against the certificate
    /// unless the context's config turns the check off.
    public func startTLS(_ context: TLSContext, serverName: String) throws {
        precondition(tls == nil, "startTLS called twice")
        let session = try TLSSession(context: context, fd: fd, serverName: serverName)
        while true {
            let step = session.handshake()
            if session.bytesRead > UInt64(context.config.maxHandshakeBytes) {
                throw TLSError("TLS handshake with \(serverName) larger than \(context.config.maxHandshakeBytes) bytes")
            }
            switch step {
            case .done:
                tls = session
                return
            case .wantRead, .wantWrite:
                if errno == EINTR { continue }
                throw SocketError("TLS handshake with \(serverName) timed out", ETIMEDOUT)
            case .closed:
                throw SocketError("TLS handshake with \(serverName): connection closed", ECONNRESET)
            case .failed(let why):
                throw TLSError("TLS handshake with \(serverName): \(why)")
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
}
