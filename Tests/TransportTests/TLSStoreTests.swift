import Dispatch
import Foundation
import Spawn
import Synchronization
import Testing
@testable import Transport

/// Key material that is not a PEM file (inline PEM, PKCS#12), the peer's subject as a principal,
/// and TLS on blocking sockets (brokerd's inter-broker links).
@Suite(.serialized) struct TLSStoreTests {
    static let p12Password = "p12-pass"

    /// certs.sh with a multi-RDN client subject and PKCS#12 stores.
    static func makeCerts() throws -> TestCerts {
        signal(SIGPIPE, SIG_IGN)
        let dir = NSTemporaryDirectory() + "coordkafka-tlsstore-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let env = ChildProcess.environment(merging: ["CERTS_PKCS12_PASSWORD": p12Password, "CERTS_CLIENT_SUBJECT": "/O=org/OU=eng/CN=alice",
                                                     "CERTS_KEY_PASSWORD": TestCerts.keyPassword])
        let p = try ChildProcess("/bin/bash", [repo + "/deploy/certs.sh", dir], environment: env, stdout: .null, stderr: .inherit)
        guard p.wait(seconds: 60), p.terminationStatus == 0 else { throw TLSError("deploy/certs.sh failed") }
        return TestCerts(dir: dir)
    }

    static func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// A properties value continued over lines loses its line breaks: the PEM must still load.
    static func flattened(_ pem: String) -> String { pem.split(separator: "\n").joined(separator: " ") }

    @Test func inlinePemWithoutLineBreaksLoads() throws {
        let certs = try Self.makeCerts()
        defer { certs.remove() }
        var server = TLSConfig()
        server.certificateChainPEM = Self.flattened(try Self.text(certs.serverCert) + Self.text(certs.ca))
        server.privateKeyPEM = Self.flattened(try Self.text(certs.encryptedServerKey))
        server.privateKeyPassword = TestCerts.keyPassword
        let echo = try TLSEchoServer(server)
        defer { echo.stop() }
        var client = TLSConfig()
        client.trustPEM = Self.flattened(try Self.text(certs.ca))
        let loop = EventLoop(name: "tls-inline")
        loop.startThread()
        defer { loop.stop() }
        let out = try tlsClient(loop: loop, port: echo.port, config: client, payload: [1, 2, 3], expect: 3)
        #expect(out.done.wait(timeout: .now() + 30) == .success)
        #expect(out.received.withLock { $0 } == [1, 2, 3])
        // The wrong key password: the context is refused, naming the key.
        server.privateKeyPassword = "wrong"
        #expect(throws: TLSError.self) { try TLSContext(server: server) }
    }

    @Test func pkcs12KeyAndTrustStores() throws {
        let certs = try Self.makeCerts()
        defer { certs.remove() }
        var server = TLSConfig()
        server.keyStorePKCS12Path = certs.dir + "/server-keystore.p12"
        server.keyStorePKCS12Password = Self.p12Password
        let echo = try TLSEchoServer(server)
        defer { echo.stop() }
        var client = TLSConfig()
        client.trustStorePKCS12Path = certs.dir + "/truststore.p12"
        client.trustStorePKCS12Password = Self.p12Password
        let loop = EventLoop(name: "tls-p12")
        loop.startThread()
        defer { loop.stop() }
        let out = try tlsClient(loop: loop, port: echo.port, config: client, payload: [7], expect: 1)
        #expect(out.done.wait(timeout: .now() + 30) == .success)
        #expect(out.received.withLock { $0 } == [7])
        server.keyStorePKCS12Password = "wrong"
        #expect(throws: TLSError.self) { try TLSContext(server: server) }
    }

    /// The server sees the client certificate's subject in RFC 2253 order; none without a certificate.
    @Test func peerSubjectIsRFC2253() throws {
        let certs = try Self.makeCerts()
        defer { certs.remove() }
        let ctx = try TLSContext(server: certs.serverConfig(clientAuth: .want))
        let loop = EventLoop(name: "tls-subject")
        loop.startThread()
        defer { loop.stop() }
        let subjects = Mutex<[String]>([])
        let portBox = Mutex(0)
        let ready = DispatchSemaphore(value: 0)
        loop.execute {
            let l = try! Listener(host: "127.0.0.1", port: 0, loop: loop)
            l.tls = ctx
            l.onAccept = { c in
                c.onRead = { conn, buf in
                    subjects.withLock { $0.append(conn.tlsPeerSubject ?? "none") }
                    conn.write(Array(buf))
                }
                c.start()
            }
            l.start()
            portBox.withLock { $0 = l.port }
            ready.signal()
        }
        ready.wait()
        let port = portBox.withLock { $0 }
        let with = try tlsClient(loop: loop, port: port, config: certs.clientConfig(withCertificate: true), payload: [1], expect: 1)
        #expect(with.done.wait(timeout: .now() + 30) == .success)
        let without = try tlsClient(loop: loop, port: port, config: certs.clientConfig(), payload: [1], expect: 1)
        #expect(without.done.wait(timeout: .now() + 30) == .success)
        #expect(subjects.withLock { $0 } == ["CN=alice,OU=eng,O=org", "none"])
    }

    @Test func blockingSocketSpeaksTLSAndChecksTheServer() throws {
        let certs = try Self.makeCerts(), other = try TestCerts.make()
        defer { certs.remove(); other.remove() }
        let echo = try TLSEchoServer(certs.serverConfig())
        defer { echo.stop() }
        let s = try BlockingSocket(host: "127.0.0.1", port: echo.port, connectTimeoutMillis: 3000, ioTimeoutMillis: 10_000)
        try s.startTLS(TLSContext(client: certs.clientConfig()), serverName: "127.0.0.1")
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try s.sendAll(payload)
        #expect(try s.readExactly(payload.count) == payload)
        s.close()
        // Trusting another CA: the handshake fails, naming the certificate.
        let bad = try BlockingSocket(host: "127.0.0.1", port: echo.port, connectTimeoutMillis: 3000, ioTimeoutMillis: 10_000)
        defer { bad.close() }
        do {
            try bad.startTLS(TLSContext(client: certs.clientConfig(trust: other.ca)), serverName: "127.0.0.1")
            Issue.record("a server signed by another CA was accepted")
        } catch {
            #expect("\(error)".contains("certificate"), "\(error)")
        }
    }

    @Test func blockingHandshakeAgainstASilentServerTimesOut() throws {
        let certs = try Self.makeCerts()
        defer { certs.remove() }
        let fd = try Socket.listen(host: "127.0.0.1", port: 0)
        defer { close(fd) }
        let s = try BlockingSocket(host: "127.0.0.1", port: Socket.localPort(fd), connectTimeoutMillis: 3000, ioTimeoutMillis: 30_000)
        defer { s.close() }
        let t0 = Date()
        #expect(throws: SocketError.self) { try s.startTLS(TLSContext(client: certs.clientConfig()), serverName: "127.0.0.1", timeoutMillis: 700) }
        let took = Date().timeIntervalSince(t0)
        #expect(took >= 0.6 && took < 5, "\(took) s")
    }
}
