import Dispatch
import Foundation
import Spawn
import Synchronization
@testable import Transport

/// Certificates made by deploy/certs.sh into a temporary directory (removed by `remove`).
struct TestCerts {
    let dir: String
    var ca: String { dir + "/ca.pem" }
    var serverCert: String { dir + "/server.pem" }
    var serverKey: String { dir + "/server.key" }
    var clientCert: String { dir + "/client.pem" }
    var clientKey: String { dir + "/client.key" }
    var encryptedServerKey: String { dir + "/server-encrypted.key" }
    static let keyPassword = "s3cret-pass"

    static func make() throws -> TestCerts {
        // OpenSSL writes the socket with write(2): a peer gone mid-write raises SIGPIPE, as in the daemons, which ignore it.
        signal(SIGPIPE, SIG_IGN)
        let dir = NSTemporaryDirectory() + "coordkafka-tls-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let env = ChildProcess.environment(merging: ["CERTS_KEY_PASSWORD": keyPassword])
        let p = try ChildProcess("/bin/bash", [repo + "/deploy/certs.sh", dir], environment: env, stdout: .null, stderr: .inherit)
        guard p.wait(seconds: 60), p.terminationStatus == 0 else { throw TLSError("deploy/certs.sh failed") }
        return TestCerts(dir: dir)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    func serverConfig(clientAuth: TLSConfig.ClientAuth = .none) -> TLSConfig {
        var c = TLSConfig()
        c.certificateChainPath = serverCert
        c.privateKeyPath = serverKey
        c.trustPath = ca
        c.clientAuth = clientAuth
        return c
    }

    func clientConfig(withCertificate: Bool = false, trust: String? = nil) -> TLSConfig {
        var c = TLSConfig()
        c.trustPath = trust ?? ca
        if withCertificate {
            c.certificateChainPath = clientCert
            c.privateKeyPath = clientKey
        }
        return c
    }
}

/// Lines a TLS context logged.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    var logger: @Sendable (String) -> Void { { [self] line in lines.withLock { $0.append(line) } } }
    var all: [String] { lines.withLock { $0 } }
}

final class EchoStats: Sendable {
    let closed = Atomic<Int>(0)
    let bytesRead = Atomic<Int>(0)
}

/// A TLS echo server on its own loop: every byte read is written back.
final class TLSEchoServer: Sendable {
    let loop = EventLoop(name: "tls-echo")
    let port: Int
    let log = LogLines()
    private let stats = EchoStats()
    /// Connections closed so far.
    var closedCount: Int { stats.closed.load(ordering: .relaxed) }
    var bytesRead: Int { stats.bytesRead.load(ordering: .relaxed) }

    init(_ config: TLSConfig) throws {
        let ctx = try TLSContext(server: config, logger: log.logger)
        let loop = self.loop
        let portBox = Mutex<Int>(-1)
        let ready = DispatchSemaphore(value: 0)
        let stats = self.stats
        loop.startThread()
        loop.execute {
            defer { ready.signal() }
            guard let l = try? Listener(host: "127.0.0.1", port: 0, loop: loop) else { return }
            l.tls = ctx
            l.onAccept = { c in
                c.onRead = { conn, buf in
                    stats.bytesRead.add(buf.count, ordering: .relaxed)
                    conn.write(Array(buf))
                }
                c.onClose = { _, _ in stats.closed.add(1, ordering: .relaxed) }
                c.start()
            }
            l.start()
            portBox.withLock { $0 = l.port }
        }
        ready.wait()
        port = portBox.withLock { $0 }
        if port < 0 { throw TLSError("listener failed") }
    }

    func stop() { loop.stop() }
}

/// What a TLS client connection saw.
final class ClientOutcome: Sendable {
    let connected = Atomic<Bool>(false)
    let received = Mutex<[UInt8]>([])
    let closedError = Mutex<String?>(nil)
    let done = DispatchSemaphore(value: 0)
    let closedFlag = Atomic<Bool>(false)
    var receivedCount: Int { received.withLock { $0.count } }
    var isConnected: Bool { connected.load(ordering: .relaxed) }
}

/// Connects with TLS, sends `payload` once connected and collects the answer until `expect` bytes
/// arrived (then closes) or the connection closes.
func tlsClient(loop: EventLoop, port: Int, config: TLSConfig, payload: [UInt8], expect: Int, log: LogLines? = nil) throws -> ClientOutcome {
    let ctx = try TLSContext(client: config, logger: log?.logger)
    let out = ClientOutcome()
    loop.execute {
        guard let c = try? Connection(connectingTo: "127.0.0.1", port: port, loop: loop) else { out.done.signal(); return }
        do { try c.useTLS(ctx, serverName: "127.0.0.1") } catch { out.done.signal(); return }
        c.onConnect = { conn in
            out.connected.store(true, ordering: .relaxed)
            conn.write(payload)
        }
        c.onRead = { conn, buf in
            let n = out.received.withLock { $0.append(contentsOf: buf); return $0.count }
            if n >= expect { conn.close() }
        }
        c.onClose = { _, err in
            out.closedError.withLock { $0 = err.map { "\($0)" } }
            out.closedFlag.store(true, ordering: .relaxed)
            out.done.signal()
        }
        c.start()
    }
    return out
}

/// Polls `cond` until it holds or `seconds` pass.
func eventually(_ seconds: Double, _ cond: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if cond() { return true }
        usleep(10_000)
    }
    return cond()
}
