import Foundation
import Testing
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// Raw sockets and /proc readings for the memory and back-pressure tests: clients that connect and
/// go quiet, or pipeline requests and never read.
enum Abuse {
    /// Resident set size of `pid` in KiB (VmRSS), or 0 when unreadable.
    static func rssKiB(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// The soft open-files limit of `pid` ("Max open files" in /proc/PID/limits).
    static func openFileLimit(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first ?? "") ?? 0
    }

    /// Raises this process's soft open-files limit towards `want` (children inherit it); returns it.
    @discardableResult
    static func raiseFileLimit(_ want: Int) -> Int {
        var rl = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl)
        if rl.rlim_cur < rlim_t(want) {
            rl.rlim_cur = min(rl.rlim_max, rlim_t(want))
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl)
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl)
        }
        return Int(rl.rlim_cur)
    }

    /// A blocking TCP connection to 127.0.0.1:`port`, or -1.
    static func connect(_ port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { Glibc.close(fd); return -1 }
        return fd
    }

    /// Opens `count` connections that each send `bytes` and then go quiet; returns their fds.
    static func quietConnections(port: Int, count: Int, sending bytes: [UInt8]) -> [Int32] {
        var fds: [Int32] = []
        for _ in 0..<count {
            let fd = connect(port)
            guard fd >= 0 else { break }
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            fds.append(fd)
        }
        return fds
    }

    /// The highest RSS of `pid` seen while `body` runs, sampled every 20 ms.
    static func peakRSS(_ pid: Int32, during body: () throws -> Void) rethrows -> Int {
        let peak = PeakSampler(pid)
        defer { peak.stop() }
        try body()
        return peak.stop()
    }
}

/// Samples a process's RSS on a thread until stopped.
final class PeakSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var peak = 0
    private var done = false
    private let finished = DispatchSemaphore(value: 0)

    init(_ pid: Int32) {
        Thread.detachNewThread { [self] in
            while true {
                let r = Abuse.rssKiB(pid)
                lock.lock()
                peak = max(peak, r)
                let stop = done
                lock.unlock()
                if stop { break }
                usleep(20_000)
            }
            finished.signal()
        }
    }

    @discardableResult
    func stop() -> Int {
        lock.lock()
        let wasDone = done
        done = true
        lock.unlock()
        if !wasDone { finished.wait() }
        lock.lock()
        defer { lock.unlock() }
        return peak
    }
}

/// A client that writes a long stream of pipelined requests as fast as the server takes them and
/// never reads a reply. Non-blocking: `push` returns when the server stops taking bytes.
final class Flooder {
    let socket: BlockingSocket
    private var fd: Int32 { socket.fd }
    private let stream: [UInt8]
    private(set) var sent = 0

    /// `socket` is connected and past any handshake.
    init(_ socket: BlockingSocket, stream: [UInt8]) {
        self.socket = socket
        self.stream = stream
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    /// Writes what the socket accepts now.
    func push() {
        while sent < stream.count {
            let n = stream.withUnsafeBytes { send(fd, $0.baseAddress! + sent, min(1 << 16, stream.count - sent), Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Closes with replies unread (the kernel resets the connection).
    func close() { socket.close() }
}
