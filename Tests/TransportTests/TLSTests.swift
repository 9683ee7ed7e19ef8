import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Transport

@Suite(.serialized) struct TLSTests {
    /// A megabyte each way: many records, partial writes and the staging buffer.
    @Test func loopbackEchoCarriesEveryByte() throws {
        let certs = try TestCerts.make()
        defer { certs.remove() }
        let server = try TLSEchoServer(certs.serverConfig())
        defer { server.stop() }
        let loop = EventLoop(name: "tls-client")
        loop.startThread()
        defer { loop.stop() }
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let out = try tlsClient(loop: loop, port: server.port, config: certs.clientConfig(), payload: payload, expect: payload.count)
        #expect(out.done.wait(timeout: .now() + 60) == .success)
        #expect(out.isConnected)
        #expect(out.received.withLock { $0 } == payload)
        #expect(eventually(10) { server.closedCount == 1 })
        #expect(server.log.all.isEmpty, "a clean close logs nothing: \(server.log.all)")
    }

    /// File regions (sendfile on plaintext) are read and encrypted on TLS connections.
    @Test func fileRegionsAreSentOverTLS() throws {
        let certs = try TestCerts.make()
        defer { certs.remove() }
        let path = certs.dir + "/region.bin"
        let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        try Data(content).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        let ctx = try TLSContext(server: certs.serverConfig())
        let loop = EventLoop(name: "tls-file")
        loop.startThread()
        defer { loop.stop() }
        let portBox = Mutex<Int>(0)
        let ready = DispatchSemaphore(value: 0)
        loop.execute {
            let l = try! Listener(host: "127.0.0.1", port: 0, loop: loop)
            l.tls = ctx
            l.onAccept = { c in
                c.onRead = { conn, _ in conn.writeFile(fd: fd, offset: 1000, count: content.count - 1000, owner: nil) }
                c.start()
            }
            l.start()
            portBox.withLock { $0 = l.port }
            ready.signal()
        }
        ready.wait()
        let out = try tlsClient(loop: loop, port: portBox.withLock { $0 }, config: certs.clientConfig(), payload: [1], expect: content.count - 1000)
        #expect(out.done.wait(timeout: .now() + 60) == .success)
        #expect(out.received.withLock { $0 } == Array(content[1000...]))
    }

    @Test func aServerSignedByAnotherCAIsRefused() throws {
        let certs = try TestCerts.make(), other = try TestCerts.make()
        defer { certs.remove(); other.remove() }
        let server = try TLSEchoServer(certs.serverConfig())
        defer { server.stop() }
        let loop = EventLoop(name: "tls-client")
        loop.startThread()
        defer { loop.stop() }
        let clientLog = LogLines()
        let out = try tlsClient(loop: loop, port: server.port, config: certs.clientConfig(trust: other.ca), payload: [1, 2, 3], expect: 3, log: clientLog)
        #expect(out.done.wait(timeout: .now() + 30) == .success)
        #expect(!out.isConnected)
        #expect(out.receivedCount == 0)
        #expect(clientLog.all.count == 1, "logged once: \(clientLog.all)")
        #expect(clientLog.all.first?.contains("certificate") == true, "\(clientLog.all)")
        #expect(server.bytesRead == 0)
    }

    @Test func aWrongServerNameIsRefused() throws {
        let certs = try TestCerts.make()
        defer { certs.remove() }
        let server = try TLSEchoServer(certs.serverConfig())
        defer { server.stop() }
        let loop = EventLoop(name: "tls-client")
        loop.startThread()
        defer { loop.stop() }
        var config = certs.clientConfig()
        config.verifyHostname = "zk.example.org"
        let out = try tlsClient(loop: loop, port: server.port, config: config, payload: [1], expect: 1)
        #expect(out.done.wait(timeout: .now() + 30) == .success)
        #expect(!out.isConnected)
    }

    @Test func aRequiredClientCertificateMustBeShown() throws {
        let certs = try TestCerts.make(), other = try TestCerts.make()
        defer { certs.remove(); other.remove() }
        let server = try TLSEchoServer(certs.serverConfig(clientAuth: .need))
        defer { server.stop() }
        let loop = EventLoop(name: "tls-client")
        loop.startThread()
        defer { loop.stop() }
        // Without a certificate: closed, nothing echoed (TLS 1.3 clients may finish first, then get the alert).
        let without = try tlsClient(loop: loop, port: server.port, config: certs.clientConfig(), payload: [9, 9], expect: 2)
        #expect(without.done.wait(timeout: .now() + 30) == .success)
        #expect(without.receivedCount == 0)
        // A certificate from another CA: refused the same way.
        var foreign = certs.clientConfig()
        foreign.certificateChainPath = other.clientCert
        foreign.privateKeyPath = other.clientKey
        let wrong = try tlsClient(loop: loop, port: server.port, config: foreign, payload: [9, 9], expect: 2)
        #expect(wrong.done.wait(timeout: .now() + 30) == .success)
        #expect(wrong.receivedCount == 0)
        #expect(server.bytesRead == 0)
        #expect(eventually(10) { server.log.all.count == 2 }, "each refusal logged once: \(server.log.all)")
        // With one: echoed.
        let with = try tlsClient(loop: loop, port: server.port, config: certs.clientConfig(withCertificate: true), payload: [9, 9], expect: 2)
        #expect(with.done.wait(timeout: .now() + 30) == .success)
        #expect(with.received.withLock { $0 } == [9, 9])
    }

    @Test func aStalledHandshakeIsClosedWithinTheBound() throws {
        let certs = try TestCerts.make()
        defer { certs.remove() }
        var config = certs.serverConfig()
        config.handshakeTimeoutMillis = 400
        let server = try TLSEchoServer(config)
        defer { server.stop() }
        let s = try BlockingSocket(host: "127.0.0.1", port: server.port, ioTimeoutMillis: 20_000)
        defer { s.close() }
        let started = Date()
        // Half a ClientHello record header, then nothing.
        try s.sendAll([0x16, 0x03])
        var byte: UInt8 = 0
        let n = read(s.fd, &byte, 1)
        let waited = Date().timeIntervalSince(started)
        #expect(n <= 0, "closed without an answer")
        #expect(waited >= 0.3 && waited < 15, "closed after \(waited) s")
        #expect(eventually(5) { server.log.all.count == 1 && server.log.all[0].contains("not finished") }, "\(server.log.all)")
    }

    @Test func garbageInsteadOfAClientHelloIsClosed() throws {
        let certs = try TestCerts.make()
        defer { certs.remove() }
        let server = try TLSEchoServer(certs.serverConfig())
        defer { server.stop() }
        let s = try BlockingSocket(host: "127.0.0.1", port: server.port, ioTimeoutMillis: 20_000)
        defer { s.close() }
        try s.sendAll(Array("\0\0\0\u{2c}\0\0\0\0 plaintext ZooKeeper connect request.......".utf8))
        var buf = [UInt8](repeating: 0, count: 256)
        var total = 0
        // OpenSSL may answer with an alert record before closing; then EOF.
        while true {
            let n = read(s.fd, &buf, buf.count)
            if n <= 0 { break }
            total += n
            #expect(total < 256)
        }
        #expect(eventually(5) { server.closedCount == 1 })
        #expect(server.bytesRead == 0)
        #expect(server.log.all.count == 1, "\(server.log.all)")
    }

    @Test func aHandshakeOverTheSizeBoundIsClosed() throws {
        let certs = try TestCerts.make()
        defer { certs.remove() }
        var config = certs.serverConfig()
        config.maxHandshakeBytes = 64
        let server = try TLSEchoServer(config)
        defer { server.stop() }
        let loop = EventLoop(name: "tls-client")
        loop.startThread()
        defer { loop.stop() }
        let out = try tlsClient(loop: loop, port: server.port, config: certs.clientConfig(), payload: [1], expect: 1)
        #expect(out.done.wait(timeout: .now() + 30) == .success)
        #expect(out.receivedCount == 0)
        #expect(eventually(5) { server.log.all.first?.contains("larger than 64") == true }, "\(server.log.all)")
    }

    @Test func encryptedKeysNeedTheirPassword() throws {
        let certs = try TestCerts.make()
        defer { certs.remove() }
        var config = certs.serverConfig()
        config.privateKeyPath = certs.encryptedServerKey
        #expect(throws: TLSError.self) { try TLSContext(server: config) }
        config.privateKeyPassword = "wrong"
        #expect(throws: TLSError.self) { try TLSContext(server: config) }
        config.privateKeyPassword = TestCerts.keyPassword
        _ = try TLSContext(server: config)
    }

    @Test func configurationMistakesAreRefused() throws {
        let certs = try TestCerts.make()
        defer { certs.remove() }
        var noTrust = certs.serverConfig(clientAuth: .need)
        noTrust.trustPath = nil
        #expect(throws: TLSError.self) { try TLSContext(server: noTrust) }
        var missing = certs.serverConfig()
        missing.certificateChainPath = certs.dir + "/nope.pem"
        #expect(throws: TLSError.self) { try TLSContext(server: missing) }
        var mismatched = certs.serverConfig()
        mismatched.privateKeyPath = certs.clientKey
        #expect(throws: TLSError.self) { try TLSContext(server: mismatched) }
        var ciphers = certs.serverConfig()
        ciphers.cipherSuites = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"]
        _ = try TLSContext(server: ciphers)
        ciphers.cipherSuites = ["TLS_NOT_A_REAL_SUITE"]
        #expect(throws: TLSError.self) { try TLSContext(server: ciphers) }
    }

    /// TLS 1.2 only on the server: a client allowing both still connects; one wanting 1.3 only does not.
    @Test func protocolVersionsAreEnforced() throws {
        let certs = try TestCerts.make()
        defer { certs.remove() }
        var config = certs.serverConfig()
        config.protocols = [.tls12]
        let server = try TLSEchoServer(config)
        defer { server.stop() }
        let loop = EventLoop(name: "tls-client")
        loop.startThread()
        defer { loop.stop() }
        let ok = try tlsClient(loop: loop, port: server.port, config: certs.clientConfig(), payload: [5], expect: 1)
        #expect(ok.done.wait(timeout: .now() + 30) == .success)
        #expect(ok.received.withLock { $0 } == [5])
        var only13 = certs.clientConfig()
        only13.protocols = [.tls13]
        let refused = try tlsClient(loop: loop, port: server.port, config: only13, payload: [5], expect: 1)
        #expect(refused.done.wait(timeout: .now() + 30) == .success)
        #expect(!refused.isConnected)
    }
}
