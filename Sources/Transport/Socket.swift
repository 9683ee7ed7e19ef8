#if canImport(Glibc)
import CLinux
import Glibc
#endif

public struct SocketError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let code: Int32
    public init(_ operation: String, _ code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }
    public var description: String { "\(operation): \(String(cString: strerror(code))) (errno \(code))" }
}

/// Small wrappers over the socket calls both daemons need.
public enum Socket {
    /// Resolves host:port to an IPv4/IPv6 sockaddr (the first answer).
    public static func resolve(host: String, port: Int) throws -> (storage: sockaddr_storage, length: socklen_t) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        let name = host.isEmpty || host == "0.0.0.0" ? "0.0.0.0" : host
        let rc = getaddrinfo(name, String(port), &hints, &res)
        guard rc == 0, let first = res else {
            throw SocketError("resolve \(host)", rc == 0 ? EINVAL : Int32(EHOSTUNREACH))
        }
        defer { freeaddrinfo(res) }
        // Prefer IPv4 when both are offered; loopback setups mostly use 127.0.0.1.
        var pick = first
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let cur = p {
            if cur.pointee.ai_family == AF_INET { pick = cur; break }
            p = cur.pointee.ai_next
        }
        var storage = sockaddr_storage()
        memcpy(&storage, pick.pointee.ai_addr, Int(pick.pointee.ai_addrlen))
        return (storage, pick.pointee.ai_addrlen)
    }

    public static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    public static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// A listening socket bound to host:port (port 0 picks a free one; see `localPort`).
    public static func listen(host: String, port: Int, backlog: Int32 = 1024) throws -> Int32 {
        var (addr, len) = try resolve(host: host, port: port)
        let fd = socket(Int32(addr.ss_family), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        guard rc == 0 else {
            let e = errno
            Glibc.close(fd)
            throw SocketError("bind \(host):\(port)", e)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw SocketError("listen", e)
        }
        setNonBlocking(fd)
        return fd
    }

    public static func localPort(_ fd: Int32) -> Int {
        var addr = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return port(of: addr)
    }

    static func port(of addr: sockaddr_storage) -> Int {
        var a = addr
        if a.ss_family == AF_INET {
            return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
        }
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
    }

    /// "host:port" of the peer, for logs and four-letter-word output.
    public static func peerName(_ fd: Int32) -> String {
        var addr = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &len) }
        }
        guard rc == 0 else { return "?" }
        var host = [CChar](repeating: 0, count: 64)
        if addr.ss_family == AF_INET {
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var a = sin.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &a, &host, 64)
                }
            }
        } else {
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                    var a = sin.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &a, &host, 64)
                }
            }
        }
        let h = host.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return "\(h):\(port(of: addr))"
    }

    /// Starts a non-blocking connect; completion is signalled by writability (see `Connection`).
    public static func startConnect(host: String, port: Int) throws -> Int32 {
        var (addr, len) = try resolve(host: host, port: port)
        let fd = socket(Int32(addr.ss_family), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        setNonBlocking(fd)
        setNoDelay(fd)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, len) }
        }
        if rc != 0 && errno != EINPROGRESS {
            let e = errno
            Glibc.close(fd)
            throw SocketError("connect \(host):\(port)", e)
        }
        return fd
    }

    /// A blocking connect with a timeout, for simple clients and tests.
    public static func connectBlocking(host: String, port: Int, timeoutMillis: Int) throws -> Int32 {
        let fd = try startConnect(host: host, port: port)
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let n = poll(&pfd, 1, Int32(timeoutMillis))
        if n <= 0 {
            Glibc.close(fd)
            throw SocketError("connect \(host):\(port)", n == 0 ? ETIMEDOUT : errno)
        }
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        if err != 0 {
            Glibc.close(fd)
            throw SocketError("connect \(host):\(port)", err)
        }
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        return fd
    }
}

/// Parses "host:port" (IPv6 in brackets allowed).
public func parseHostPort(_ s: String) -> (host: String, port: Int)? {
    let t = s.trimmingCharacters(in: " \t")
    if t.hasPrefix("[") {
        guard let close = t.firstIndex(of: "]") else { return nil }
        let host = String(t[t.index(after: t.startIndex)..<close])
        let rest = t[t.index(after: close)...]
        guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else { return nil }
        return (host, p)
    }
    guard let colon = t.lastIndex(of: ":"), let p = Int(t[t.index(after: colon)...]), p >= 0, p < 65536 else { return nil }
    return (String(t[..<colon]), p)
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
