#if canImport(Glibc)
import CLinux
import Glibc
#endif

/// A plain blocking socket for simple clients, tests and benchmarks.
public final class BlockingSocket: @unchecked Sendable {
    public let fd: Int32
    private var closed = false
    /// Set by `startTLS`: reads and writes go through OpenSSL (see BlockingSocket+TLS).
    var tls: TLSSession?

    public init(host: String, port: Int, connectTimeoutMillis: Int = 5000, ioTimeoutMillis: Int = 30000) throws {
        fd = try Socket.connectBlocking(host: host, port: port, timeoutMillis: connectTimeoutMillis)
        Socket.setNoDelay(fd)
        setTimeout(ioTimeoutMillis)
    }

    deinit { close() }

    public func setTimeout(_ ms: Int) {
        var tv = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    public func close() {
        if !closed {
            closed = true
            tls?.shutdown()
            tls = nil
            Glibc.close(fd)
        }
    }

    public func sendAll(_ bytes: [UInt8]) throws {
        if let tls { try tlsSendAll(tls, bytes); return }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                throw SocketError("send")
            }
            off += n
        }
    }

    /// Reads exactly `n` bytes or throws (EOF is ECONNRESET, timeout is EAGAIN).
    public func readExactly(_ n: Int) throws -> [UInt8] {
        if let tls { return try tlsReadExactly(tls, n) }
        var out = [UInt8](repeating: 0, count: n)
        var off = 0
        while off < n {
            let r = out.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress! + off, n - off, 0) }
            if r == 0 { throw SocketError("recv", ECONNRESET) }
            if r < 0 {
                if errno == EINTR { continue }
                throw SocketError("recv")
            }
            off += r
        }
        return out
    }

    /// Reads until EOF (for four-letter-word answers).
    public func readToEnd(limit: Int = 1 << 20) throws -> [UInt8] {
        if let tls { return try tlsReadToEnd(tls, limit: limit) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while out.count < limit {
            let r = buf.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress!, $0.count, 0) }
            if r == 0 { break }
            if r < 0 {
                if errno == EINTR { continue }
                throw SocketError("recv")
            }
            out.append(contentsOf: buf[0..<r])
        }
        return out
    }

    /// Reads one 4-byte length-prefixed frame, refusing lengths above `maxBytes`.
    public func readFrame(maxBytes: Int = 100 << 20) throws -> [UInt8] {
        let h = try readExactly(4)
        let len = Int(Int32(bitPattern: UInt32(h[0]) << 24 | UInt32(h[1]) << 16 | UInt32(h[2]) << 8 | UInt32(h[3])))
        guard len >= 0, len <= maxBytes else { throw SocketError("frame length \(len)", EMSGSIZE) }
        return try readExactly(len)
    }

    /// Sends `body` with a 4-byte length prefix.
    public func sendFrame(_ body: [UInt8]) throws {
        let n = UInt32(body.count)
        var out: [UInt8] = [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)]
        out.append(contentsOf: body)
        try sendAll(out)
    }
}
