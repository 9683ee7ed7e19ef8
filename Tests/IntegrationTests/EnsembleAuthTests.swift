import CoordClient
import Foundation
import Protocol
import Synchronization
import Testing
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// Quorum peer authentication (`quorum.auth.secretFile`): servers with the secret form the
/// ensemble; a server with another secret or none, or a process that only knows the handshake
/// format, never gets a link.
@Suite(.serialized, .ownThreads) struct EnsembleAuthTests {
    static func secretDir(_ secrets: [String: String]) throws -> String {
        let dir = try ProcessHarness.makeTempDir("quorum-secret")
        for (name, secret) in secrets {
            try secret.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
            chmod("\(dir)/\(name)", 0o600)
        }
        return dir
    }

    @Test(.timeLimit(.minutes(3))) func onlyServersWithTheSecretFormTheEnsemble() throws {
        let sdir = try Self.secretDir(["good": "correct horse battery staple\n", "bad": "another secret of some length\n"])
        defer { ProcessHarness.removeDir(sdir) }
        let e = try EnsembleProcesses(extraConfig: "quorum.auth.secretFile=\(sdir)/good\n")
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(timeout: 30), "no leader with a shared secret:\n\(e.logs)")
        #expect(e.log(0).contains("quorum peers authenticate with the shared secret"))
        let c = try e.client()
        _ = try c.create("/authed", data: [1])
        c.close()

        // A follower restarted with another secret, then with none: it never joins.
        let victim = try #require((0..<3).last { $0 != leader })
        for variant in ["quorum.auth.secretFile=\(sdir)/bad\n", ""] {
            e.kill9(victim)
            let path = "\(e.dir)/zoo\(victim + 1).cfg"
            var cfg = try String(contentsOfFile: path, encoding: .utf8)
            cfg = cfg.split(separator: "\n").filter { !$0.hasPrefix("quorum.auth.secretFile") }.joined(separator: "\n") + "\n" + variant
            try cfg.write(toFile: path, atomically: true, encoding: .utf8)
            try e.start(victim)
            // Long enough for several dial rounds and a full election attempt.
            #expect(!ProcessHarness.waitUntil(timeout: 4) { e.mode(victim) == "follower" || e.mode(victim) == "leader" },
                    "server \(victim + 1) joined with \(variant.isEmpty ? "no secret" : "a wrong secret"):\n\(e.logs)")
            #expect(e.log(0).contains("failed quorum authentication") || e.log(1).contains("failed quorum authentication")
                    || e.log(2).contains("authentication"), "no refusal logged:\n\(e.logs)")
            #expect(e.mode(leader) == "leader")
        }
        // The two servers with the secret still commit.
        let survivors = [0, 1, 2].filter { $0 != victim }
        let c2 = try e.client(survivors)
        defer { c2.close() }
        _ = try c2.retrying(timeout: 10) { try $0.create("/still") }
        #expect(try c2.getData("/authed").data == [1])
    }

    /// A process that knows the handshake format but not the secret, claiming the leader's id with
    /// made-up proofs every 50 ms, is refused and disturbs no write.
    @Test(.timeLimit(.minutes(2))) func anImpostorWithoutTheSecretIsRefused() throws {
        let sdir = try Self.secretDir(["good": "correct horse battery staple\n"])
        defer { ProcessHarness.removeDir(sdir) }
        let e = try EnsembleProcesses(extraConfig: "quorum.auth.secretFile=\(sdir)/good\n")
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(timeout: 30), "no leader:\n\(e.logs)")
        let followers = (0..<3).filter { $0 != leader }
        let c = try e.client([leader])
        defer { c.close() }
        _ = try c.create("/abuse")
        let stop = Atomic<Bool>(false)
        let closedByServer = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)
        onOwnThread {
            while !stop.load(ordering: .relaxed) {
                for f in followers {
                    guard let s = try? BlockingSocket(host: "127.0.0.1", port: e.peerPorts[f], ioTimeoutMillis: 1500) else { continue }
                    let hello = PeerHandshake(serverId: UInt64(leader + 1), nonce: [UInt8](repeating: 1, count: PeerHandshake.nonceBytes))
                    let proof = PeerProof(mac: (0..<PeerProof.macBytes).map { _ in UInt8.random(in: 0...255) })
                    try? s.sendAll(hello.encodeFrame() + proof.encodeFrame())
                    // The server sends its handshake, never a proof, then closes.
                    if let got = try? s.readToEnd(limit: 1 << 16), got.count < 200 { closedByServer.add(1, ordering: .relaxed) }
                    s.close()
                }
                usleep(50_000)
            }
            done.signal()
        }
        let (ok, failed) = c.setDataRepeatedly("/abuse", seconds: 4)
        stop.store(true, ordering: .relaxed)
        _ = done.wait(timeout: .now() + 5)
        print("quorum impostor without the secret: \(closedByServer.load(ordering: .relaxed)) connections refused, \(ok) writes ok, \(failed) failed")
        #expect(closedByServer.load(ordering: .relaxed) > 10)
        #expect(failed == 0, "\(failed) writes failed under the impostor:\n\(e.logs)")
        #expect(e.mode(leader) == "leader")
        #expect(e.logs.contains("failed quorum authentication"))
    }
}
