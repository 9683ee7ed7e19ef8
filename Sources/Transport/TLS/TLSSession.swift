#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// One connection's SSL object, reading and writing the socket itself (SSL_set_fd).
/// Loop-thread only, like its `Connection`.
final class TLSSession {
    enum Step {
        case done
        /// Retry once the socket is readable / writable.
        case wantRead, wantWrite
        /// The peer sent close_notify or closed the socket.
        case closed
        case failed(String)
    }

    let ssl: OpaquePointer
    let context: TLSContext
    var handshaking = true
    var handshakeTimer: TimerHandle?
    /// Bytes staged for SSL_write: a retried write must present the same bytes (see `Connection.flushTLS`).
    var staged: [UInt8] = []
    var stagedOffset = 0

    init(context: TLSContext, fd: Int32, serverName: String?) throws(TLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.ctx) else { throw TLSError.openSSL("SSL_new") }
        self.ssl = ssl
        self.context = context
        guard SSL_set_fd(ssl, fd) == 1 else { throw TLSError.openSSL("SSL_set_fd") }
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let name = serverName {
                if !Self.isIPAddress(name) { _ = coordkafka_ssl_set_sni(ssl, name) }
                if context.config.verifyPeer, context.config.checkHostname, let host = context.config.verifyHostname ?? Optional(name) {
                    try Self.setExpectedName(ssl, host)
                }
            }
        }
    }

    deinit { SSL_free(ssl) }

    private static func isIPAddress(_ s: String) -> Bool {
        var a4 = in_addr(), a6 = in6_addr()
        return inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1
    }

    private static func setExpectedName(_ ssl: OpaquePointer, _ host: String) throws(TLSError) {
        guard let param = SSL_get0_param(ssl) else { throw TLSError("SSL_get0_param") }
        let ok = isIPAddress(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host) : X509_VERIFY_PARAM_set1_host(param, host, 0)
        guard ok == 1 else { throw TLSError.openSSL("expected server name \(host)") }
    }

    /// Bytes the handshake has read from the socket so far (for its size bound).
    var bytesRead: UInt64 { SSL_get_rbio(ssl).map { UInt64(BIO_number_read($0)) } ?? 0 }

    /// Only a certificate that verified (OpenSSL keeps an unverified one under SSL_VERIFY_PEER off).
    var peerSubject: String? {
        guard SSL_get_verify_result(ssl) == X509_V_OK else { return nil }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = coordkafka_ssl_peer_subject_rfc2253(ssl, &buf, Int32(buf.count))
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    var hasPendingPlaintext: Bool { SSL_has_pending(ssl) == 1 }

    func handshake() -> Step {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { handshaking = false; return .done }
        return step(rc, "handshake")
    }

    /// Reads plaintext into `buffer`; `.done` with the count read (>0).
    func read(_ buffer: UnsafeMutableRawBufferPointer) -> (Step, Int) {
        ERR_clear_error()
        var got = 0
        let rc = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &got)
        if rc == 1 { return (.done, got) }
        return (step(-1, "read"), 0)
    }

    /// Writes from `bytes`; `.done` with the count taken (partial writes are on).
    func write(_ bytes: UnsafeRawBufferPointer) -> (Step, Int) {
        ERR_clear_error()
        var put = 0
        let rc = SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &put)
        if rc == 1 { return (.done, put) }
        return (step(-1, "write"), 0)
    }

    /// Sends close_notify once, without waiting for the peer's.
    func shutdown() {
        guard !handshaking else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    private func step(_ rc: Int32, _ what: String) -> Step {
        let err = SSL_get_error(ssl, rc)
        switch err {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let e = errno
            let queued = TLSError.drainQueue()
            if queued.isEmpty && (e == 0 || e == ECONNRESET || e == EPIPE) { return .closed }
            return .failed("TLS \(what): \(String(cString: strerror(e)))\(queued)")
        default:
            var reason = TLSError.drainQueue()
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK, let s = X509_verify_cert_error_string(verify) { reason += " (certificate: \(String(cString: s)))" }
            return .failed("TLS \(what) failed\(reason)")
        }
    }
}
