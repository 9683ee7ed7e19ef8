import FaultProxy
import Foundation
import Testing
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// One end of a test connection on a raw blocking fd, every call bounded in time.
final class Peer: @unchecked Sendable {
    let fd: Int32
    init(fd: Int32) {
        self.fd = fd
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    deinit { Glibc.close(fd) }

    static func connect(_ port: Int) throws -> Peer { Peer(fd: try Socket.connectBlocking(host: "127.0.0.1", port: port, timeoutMillis: 2000)) }

    func send(_ b: [UInt8]) throws {
        var off = 0
        while off < b.count {
            let n = b.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, b.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw SocketError("send") }
            off += n
        }
    }

    enum Read: Equatable { case data([UInt8]), eof, reset, timeout }

    /// Reads until `count` bytes came, EOF, an error, or `timeout` seconds pass.
    func read(_ count: Int, timeout: Double) -> Read {
        var out: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 65536)
        while out.count < count {
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, left) <= 0 { return out.isEmpty ? .timeout : .data(out) }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - out.count), 0) }
            if n == 0 { return out.isEmpty ? .eof : .data(out) }
            if n < 0 { return errno == ECONNRESET ? .reset : .timeout }
            out += buf[0..<n]
        }
        return .data(out)
    }
}

/// A listening target; `accept` waits a bounded time for the proxy's connection.
final class Target {
    let fd: Int32
    let port: Int
    init() throws {
        fd = try Socket.listen(host: "127.0.0.1", port: 0)
        port = Socket.localPort(fd)
    }
    deinit { Glibc.close(fd) }

    func accept(timeout: Double) -> Peer? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) > 0 else { return nil }
        let c = Glibc.accept(fd, nil, nil)
        guard c >= 0 else { return nil }
        let flags = fcntl(c, F_GETFL, 0)
        _ = fcntl(c, F_SETFL, flags & ~O_NONBLOCK)
        return Peer(fd: c)
    }
}

@Suite(.timeLimit(.minutes(1))) struct FaultProxyTests {
    /// A proxy to a fresh target with one connection through it.
    static func link(_ setup: (FaultProxy) -> Void = { _ in }) throws -> (FaultProxy, Target, Peer, Peer) {
        let target = try Target()
        let proxy = try FaultProxy(targetPort: target.port)
        setup(proxy)
        let client = try Peer.connect(proxy.port)
        guard let server = target.accept(timeout: 3) else { throw SocketError("proxy did not connect", ETIMEDOUT) }
        return (proxy, target, client, server)
    }

    static func bytes(_ n: Int, seed: UInt8 = 7) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed } }

    @Test func parsesTheControlLanguage() throws {
        #expect(try FaultCommand.parse("blackhole").get() == .set(.blackhole, [.upstream, .downstream]))
        #expect(try FaultCommand.parse("up drop").get() == .set(.drop, [.upstream]))
        #expect(try FaultCommand.parse("DOWN delay 250").get() == .set(.delay(ms: 250), [.downstream]))
        #expect(try FaultCommand.parse("both throttle 1000\r").get() == .set(.throttle(bytesPerSecond: 1000), [.upstream, .downstream]))
        #expect(try FaultCommand.parse("reset").get() == .reset)
        #expect(try FaultCommand.parse(" close ").get() == .close)
        for bad in ["", "up", "delay", "delay -1", "delay 99999999", "throttle 0", "throttle x", "pass 3", "up reset", "status now",
                    "explode", String(repeating: "a", count: 300)] {
            #expect(throws: FaultCommandError.self, "'\(bad.prefix(20))' was accepted") { try FaultCommand.parse(bad).get() }
        }
    }

    @Test func passForwardsBothWaysIntact() throws {
        let (proxy, _, client, server) = try Self.link()
        defer { proxy.stop() }
        let up = Self.bytes(3 << 20)
        let sender = Thread { try? client.send(up) }
        sender.start()
        #expect(server.read(up.count, timeout: 20) == .data(up))
        let down = Self.bytes(100_000, seed: 3)
        try server.send(down)
        #expect(client.read(down.count, timeout: 10) == .data(down))
        let s = proxy.stats
        #expect(s.forwarded == [up.count, down.count] && s.active == 1 && s.accepted == 1, "\(s.line)")
    }

    @Test func dropDiscardsOneDirectionSilently() throws {
        let (proxy, _, client, server) = try Self.link()
        defer { proxy.stop() }
        proxy.set(.drop, [.upstream])
        try client.send(Self.bytes(5000))
        #expect(server.read(1, timeout: 0.4) == .timeout)
        try server.send([1, 2, 3])
        #expect(client.read(3, timeout: 3) == .data([1, 2, 3]), "the other direction still flows")
        #expect(ProcessHarnessLite.waitUntil(3) { proxy.stats.dropped[0] == 5000 }, "\(proxy.stats.line)")
        proxy.set(.pass, [.upstream])
        try client.send([9])
        #expect(server.read(1, timeout: 3) == .data([9]), "dropped bytes stay dropped; new ones pass")
    }

    @Test func blackholeHoldsBytesAndNewConnectionsUntilHealed() throws {
        let (proxy, target, client, server) = try Self.link()
        defer { proxy.stop() }
        proxy.set(.blackhole)
        let msg = Self.bytes(20_000)
        try client.send(msg)
        try server.send([4, 5])
        #expect(server.read(1, timeout: 0.5) == .timeout)
        #expect(client.read(1, timeout: 0.1) == .timeout)
        // A connection made during the partition does not reach the target at all.
        let late = try Peer.connect(proxy.port)
        try late.send([42])
        #expect(target.accept(timeout: 0.4) == nil, "the target saw a connection through a blackhole")
        proxy.set(.pass)
        #expect(server.read(msg.count, timeout: 5) == .data(msg), "held bytes were lost, not delivered after healing")
        #expect(client.read(2, timeout: 5) == .data([4, 5]))
        let lateServer = target.accept(timeout: 3)
        #expect(lateServer?.read(1, timeout: 3) == .data([42]))
    }

    @Test func delayHoldsEachChunkForItsTime() throws {
        let (proxy, _, client, server) = try Self.link()
        defer { proxy.stop() }
        proxy.set(.delay(ms: 300), [.downstream])
        let t0 = Date()
        try server.send([1])
        #expect(client.read(1, timeout: 3) == .data([1]))
        let took = Date().timeIntervalSince(t0)
        #expect(took >= 0.29 && took < 2, "delayed \(took) s")
        let t1 = Date()
        try client.send([2])
        #expect(server.read(1, timeout: 3) == .data([2]))
        #expect(Date().timeIntervalSince(t1) < 0.25, "upstream was delayed too")
    }

    @Test func throttleLimitsTheRate() throws {
        let (proxy, _, client, server) = try Self.link()
        defer { proxy.stop() }
        proxy.set(.throttle(bytesPerSecond: 20_000), [.upstream])
        let msg = Self.bytes(20_000)
        let t0 = Date()
        try client.send(msg)
        #expect(server.read(msg.count, timeout: 10) == .data(msg))
        let took = Date().timeIntervalSince(t0)
        #expect(took >= 0.8 && took < 3, "20000 bytes at 20000 B/s took \(took) s")
    }

    @Test func resetSendsRSTBothWays() throws {
        let (proxy, _, client, server) = try Self.link()
        defer { proxy.stop() }
        try client.send([1])
        #expect(server.read(1, timeout: 3) == .data([1]))
        proxy.reset()
        #expect(client.read(1, timeout: 3) == .reset)
        #expect(server.read(1, timeout: 3) == .reset)
        #expect(proxy.stats.active == 0 && proxy.stats.resets == 1)
    }

    @Test func closeSendsFINAndATargetResetReachesTheClient() throws {
        let (proxy, target, client, server) = try Self.link()
        defer { proxy.stop() }
        proxy.closeAll()
        #expect(client.read(1, timeout: 3) == .eof)
        #expect(server.read(1, timeout: 3) == .eof)
        // The target hanging up with RST is passed on as RST.
        let c2 = try Peer.connect(proxy.port)
        let s2 = try #require(target.accept(timeout: 3))
        var l = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(s2.fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        Glibc.shutdown(s2.fd, Int32(SHUT_RDWR))
        _ = s2
        #expect([Peer.Read.reset, .eof].contains(c2.read(1, timeout: 3)))
    }

    @Test func aTargetThatNeverReadsStopsTheProxyReading() throws {
        let (proxy, _, client, _) = try Self.link()
        defer { proxy.stop() }
        // The client pushes without blocking until the kernel refuses: the proxy's buffering is bounded.
        let flags = fcntl(client.fd, F_GETFL, 0)
        _ = fcntl(client.fd, F_SETFL, flags | O_NONBLOCK)
        let chunk = [UInt8](repeating: 1, count: 65536)
        var total = 0, stalls = 0
        let deadline = Date().addingTimeInterval(10)
        while stalls < 20 && Date() < deadline {
            let n = chunk.withUnsafeBytes { Glibc.send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { total += n; stalls = 0 } else { stalls += 1; usleep(20_000) }
        }
        #expect(stalls >= 20, "the proxy kept reading: \(total) bytes taken")
        #expect(total < 64 << 20, "took \(total) bytes for a target that reads nothing")
    }

    @Test func controlPortTakesCommandsAndRefusesLongLines() throws {
        let (proxy, _, client, server) = try Self.link()
        defer { proxy.stop() }
        let port = try proxy.startControl()
        let ctl = try Peer.connect(port)
        try ctl.send(Array("down drop\nstatus\nbogus\n".utf8))
        guard case .data(let got) = ctl.read(4096, timeout: 0.5) else { Issue.record("no reply"); return }
        let lines = String(decoding: got, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 3 && lines[0].hasPrefix("ok up=pass down=drop") && lines[1].contains("down=drop") && lines[2].hasPrefix("error"),
                "\(lines)")
        try server.send([1])
        #expect(client.read(1, timeout: 0.3) == .timeout)
        try ctl.send(Array(String(repeating: "x", count: 400).utf8))
        guard case .data(let err) = ctl.read(4096, timeout: 2) else { Issue.record("no error reply"); return }
        #expect(String(decoding: err, as: UTF8.self).hasPrefix("error line longer"))
        #expect(ctl.read(1, timeout: 2) == .eof)
    }

    @Test func refusesConnectionsOverItsLimit() throws {
        let target = try Target()
        let proxy = try FaultProxy(targetPort: target.port, maxConnections: 2)
        defer { proxy.stop() }
        let a = try Peer.connect(proxy.port), b = try Peer.connect(proxy.port)
        #expect(ProcessHarnessLite.waitUntil(3) { proxy.stats.active == 2 })
        let c = try Peer.connect(proxy.port)
        #expect([Peer.Read.reset, .eof].contains(c.read(1, timeout: 3)))
        #expect(proxy.stats.refused == 1)
        _ = (a, b)
    }
}

enum ProcessHarnessLite {
    static func waitUntil(_ seconds: Double, _ cond: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if cond() { return true }
            usleep(10_000)
        }
        return cond()
    }
}
