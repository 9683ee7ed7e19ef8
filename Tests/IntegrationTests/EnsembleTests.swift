import CoordClient
import Foundation
import Protocol
import Synchronization
import Testing
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// Real 3-server coordd ensembles: election, replication, failover, partitions, recovery.
@Suite(.serialized, .ownThreads) struct EnsembleTests {
    @Test(.timeLimit(.minutes(2))) func electsOneLeaderAndReplicatesWritesThroughAnyServer() throws {
        let e = try EnsembleProcesses()
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(), "no leader:\n\(e.logs)")
        #expect((0..<3).filter { e.mode($0) == "follower" }.count == 2)
        let mntr = try fourLetterWord("mntr", port: e.clientPorts[leader])
        #expect(mntr.contains("zk_server_state\tleader") && mntr.contains("zk_synced_followers\t2"), "mntr: \(mntr)")
        let conf = try fourLetterWord("conf", port: e.clientPorts[0])
        #expect(conf.contains("server.1=127.0.0.1:\(e.peerPorts[0])"), "conf: \(conf)")

        let clients = try (0..<3).map { try e.client([$0]) }
        defer { clients.forEach { $0.close() } }
        for (i, c) in clients.enumerated() {
            try c.create("/from\(i)", data: Array("v\(i)".utf8))
        }
        try clients[1].setData("/from0", data: Array("changed".utf8))
        #expect(throws: CoordError.self) { try clients[2].create("/from1") }
        for c in clients {
            try c.sync("/")
            #expect(try c.getData("/from0").data == Array("changed".utf8))
            #expect(try c.getData("/from1").data == Array("v1".utf8))
            #expect(try c.getData("/from2").data == Array("v2".utf8))
        }
        // Ephemerals of a closed session go everywhere.
        let eph = try e.client([leader == 0 ? 1 : 0])
        try eph.create("/eph", mode: .ephemeral)
        eph.close()
        for c in clients {
            try c.sync("/")
            #expect(try c.exists("/eph") == nil)
        }
    }

    @Test(.timeLimit(.minutes(3))) func leaderKillResumesWritesFastAndLosesNoAckedWrite() throws {
        let e = try EnsembleProcesses()
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(), "no leader:\n\(e.logs)")
        let survivors = (0..<3).filter { $0 != leader }
        let setup = try e.client([survivors[0]])
        try setup.create("/acked")
        try setup.create("/probe")

        // Writers on every server (one starts on the leader), recording what was acknowledged.
        let acked = Mutex<Set<String>>([])
        let killed = Atomic<Bool>(false)
        let stop = Atomic<Bool>(false)
        let writers = try (0..<3).map { try e.client([$0, ($0 + 1) % 3, ($0 + 2) % 3], timeoutMs: 6000) }
        let group = DispatchGroup()
        for (w, c) in writers.enumerated() {
            onOwnThread(group: group) {
                var i = 0
                while !stop.load(ordering: .relaxed) && i < 400 {
                    let path = "/acked/w\(w)-\(i)"
                    do {
                        try c.create(path)
                        acked.withLock { _ = $0.insert(path) }
                        i += 1
                    } catch let err as CoordError where err.isNodeExists {
                        // An earlier attempt made it before the connection dropped.
                        acked.withLock { _ = $0.insert(path) }
                        i += 1
                    } catch {
                        usleep(5000)
                    }
                    if i == 60 && w == 0 { killed.store(true, ordering: .relaxed) }
                }
            }
        }
        #expect(ProcessHarness.waitUntil(timeout: 30) { killed.load(ordering: .relaxed) })
        let probe = try e.client([survivors[1]])
        try probe.setData("/probe", data: [0])
        let t0 = Date()
        e.kill9(leader)
        var resumed: Double?
        while Date().timeIntervalSince(t0) < 10 {
            if (try? probe.setData("/probe", data: [1])) != nil {
                resumed = Date().timeIntervalSince(t0)
                break
            }
            usleep(2000)
        }
        let measured = try #require(resumed, "writes did not resume:\n\(e.logs)")
        print("ensemble: writes resumed \(String(format: "%.3f", measured)) s after kill -9 of the leader")
        #expect(measured < 2.0)
        #expect(group.wait(timeout: .now() + 60) == .success)
        stop.store(true, ordering: .relaxed)
        writers.forEach { $0.close() }
        let newLeader = e.waitForLeader(followers: 1)
        #expect(newLeader != nil && newLeader != leader)

        let all = acked.withLock { $0 }
        #expect(all.count >= 1000)
        for s in survivors {
            let c = try e.client([s])
            try c.sync("/acked")
            let children = Set(try c.getChildren("/acked").map { "/acked/" + $0 })
            let missing = all.subtracting(children)
            #expect(missing.isEmpty, "server \(s + 1) lost \(missing.count) acknowledged writes, e.g. \(missing.prefix(5))")
            c.close()
        }
        setup.close()
        probe.close()
    }

    @Test(.timeLimit(.minutes(2))) func minorityRefusesWritesUntilQuorumReturns() throws {
        let e = try EnsembleProcesses()
        defer { e.cleanup() }
        _ = try #require(e.waitForLeader(), "no leader:\n\(e.logs)")
        let c = try e.client([0])
        try c.create("/before", data: [1])
        c.close()
        e.kill9(1)
        e.kill9(2)
        // The lone server gives up its role and stops serving.
        // Stepping down closes every client connection, so a probe at that moment may be reset: poll for the answer.
        var srvr = ""
        #expect(ProcessHarness.waitUntil(timeout: 5) {
            srvr = (try? fourLetterWord("srvr", port: e.clientPorts[0])) ?? ""
            return srvr.contains("not currently serving")
        }, "server 1 still serving (last srvr: \(srvr)):\n\(e.log(0))")
        #expect(e.mode(0) == nil)
        let lone = CoordClient(connectString: e.connectString([0]), sessionTimeoutMs: 4000)
        #expect(throws: (any Error).self) { try lone.start(timeoutMs: 1500) }
        lone.close()
        // SIGSTOP instead of death looks the same to the survivor: one peer back is a quorum.
        try e.start(1)
        e.signal(1, SIGSTOP)
        usleep(1_500_000)
        #expect(e.mode(0) == nil)
        e.signal(1, SIGCONT)
        try e.start(2)
        _ = try #require(e.waitForLeader(followers: 2), "no quorum after restart:\n\(e.logs)")
        let again = try e.client([0])
        defer { again.close() }
        _ = try again.retrying(timeout: 10) { try $0.create("/after") }
        #expect(try again.getData("/before").data == [1])
    }

    @Test(.timeLimit(.minutes(2))) func wholeEnsembleRestartsFromDisk() throws {
        let e = try EnsembleProcesses()
        defer { e.cleanup() }
        _ = try #require(e.waitForLeader(), "no leader:\n\(e.logs)")
        let c = try e.client()
        try c.create("/keep", data: Array("root".utf8))
        for i in 0..<50 { try c.create("/keep/n\(i)", data: [UInt8(i)]) }
        try c.setData("/keep/n7", data: Array("seven".utf8))
        try c.delete("/keep/n8")
        c.close()
        for i in 0..<3 { e.kill9(i) }
        for i in 0..<3 { try e.start(i) }
        _ = try #require(e.waitForLeader(), "no leader after restart:\n\(e.logs)")
        for i in 0..<3 {
            let r = try e.client([i])
            try r.sync("/")
            #expect(try r.getChildren("/keep").count == 49)
            #expect(try r.getData("/keep/n7").data == Array("seven".utf8))
            #expect(try r.getData("/keep").data == Array("root".utf8))
            r.close()
        }
    }

    @Test(.timeLimit(.minutes(2))) func restartedFollowerCatchesUpByDiff() throws {
        let e = try EnsembleProcesses()
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(), "no leader:\n\(e.logs)")
        let f = (leader + 1) % 3
        let c = try e.client([leader])
        defer { c.close() }
        try c.create("/d", data: [0])
        e.kill9(f)
        for i in 0..<30 { try c.create("/d/n\(i)") }
        try e.start(f)
        #expect(e.waitForLeader() != nil)
        let r = try e.client([f])
        defer { r.close() }
        #expect(try r.getChildren("/d").count == 30)
        #expect(!e.log(f).contains("installed snapshot"), "expected a DIFF:\n\(e.log(f))")
    }

    @Test(.timeLimit(.minutes(2))) func wipedFollowerCatchesUpBySnapshot() throws {
        // A small snapCount makes the leader compact its log, so an empty follower needs a SNAP.
        let e = try EnsembleProcesses(extraConfig: "snapCount=20\n")
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(), "no leader:\n\(e.logs)")
        let f = (leader + 2) % 3
        let c = try e.client([leader])
        defer { c.close() }
        try c.create("/s", data: [0])
        for i in 0..<60 { try c.create("/s/n\(i)", data: [UInt8(i)]) }
        e.kill9(f)
        try e.wipe(f)
        for i in 60..<70 { try c.create("/s/n\(i)", data: [UInt8(i)]) }
        try e.start(f)
        #expect(e.waitForLeader() != nil)
        let r = try e.client([f])
        defer { r.close() }
        #expect(try r.getChildren("/s").count == 70)
        #expect(try r.getData("/s/n65").data == [65])
        #expect(e.log(f).contains("installed snapshot"), "expected a SNAP:\n\(e.log(f))")
        // Writes keep flowing through the re-synced follower.
        try r.create("/s/after")
        try c.sync("/")
        #expect(try c.exists("/s/after") != nil)
    }

    /// The leader alone expires sessions; a follower's clients stay alive through its touch
    /// reports, and a silent client's ephemerals vanish on every server.
    @Test(.timeLimit(.minutes(2))) func leaderExpiresSessionsOfFollowersClients() throws {
        let e = try EnsembleProcesses()
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(), "no leader:\n\(e.logs)")
        let f = (leader + 1) % 3
        let alive = try RawZK(port: e.clientPorts[f], timeout: 1000)
        let silent = try RawZK(port: e.clientPorts[f], timeout: 1000)
        #expect(alive.connect.timeout == 1000)
        #expect(try alive.create("/alive", flags: ZKCreateFlags.ephemeral) == 0)
        #expect(try silent.create("/silent", flags: ZKCreateFlags.ephemeral) == 0)
        let watcher = try e.client([leader])
        defer { watcher.close() }
        #expect(try watcher.exists("/silent") != nil)
        // Three timeouts pass: the pinging session lives, the silent one is expired by the leader.
        let start = Date()
        while Date().timeIntervalSince(start) < 3 {
            #expect(try alive.call(.ping).header.err == 0)
            usleep(250_000)
        }
        try watcher.sync("/")
        #expect(try watcher.exists("/silent") == nil)
        #expect(try watcher.exists("/alive") != nil)
        #expect(e.log(leader).contains("expiring session \(CoordServerHex.hex(silent.connect.sessionId))"))
        #expect(!e.log(leader).contains("expiring session \(CoordServerHex.hex(alive.connect.sessionId))"))
    }

    /// Junk on the quorum port (wrong protocol, huge lengths, lies about identity, bad messages)
    /// closes that connection only; the ensemble keeps its leader and keeps taking writes.
    @Test(.timeLimit(.minutes(2))) func garbageOnThePeerPortIsRefused() throws {
        let e = try EnsembleProcesses()
        defer { e.cleanup() }
        let leader = try #require(e.waitForLeader(), "no leader:\n\(e.logs)")
        let port = e.peerPorts[0]
        func handshake(_ id: UInt64, version: UInt16 = 1) -> [UInt8] {
            var w = ByteWriter()
            w.withInt32LengthPrefix { w in
                w.writeBytes(Array("ZQPR".utf8))
                w.writeUInt16(version)
                w.writeUInt64(id)
            }
            return w.bytes
        }
        var huge = ByteWriter()
        huge.writeInt32(Int32.max)
        var negative = ByteWriter()
        negative.writeInt32(-5)
        var badTag = ByteWriter()
        badTag.withInt32LengthPrefix { $0.writeUInt8(0xEE) }
        var truncated = ByteWriter()
        truncated.withInt32LengthPrefix { w in
            w.writeUInt8(1)
            w.writeUInt32(7)
        }
        let attempts: [[UInt8]] = [
            Array("GET / HTTP/1.1\r\n\r\n".utf8),
            huge.bytes + [1, 2, 3],
            negative.bytes,
            handshake(2, version: 99),
            handshake(77),
            handshake(3) + badTag.bytes,
            handshake(3) + truncated.bytes,
        ]
        for bytes in attempts {
            let s = try BlockingSocket(host: "127.0.0.1", port: port, ioTimeoutMillis: 3000)
            try? s.sendAll(bytes)
            // The server answers with its own handshake at most, then closes.
            _ = try? s.readToEnd(limit: 1 << 16)
            s.close()
        }
        #expect(e.procs.allSatisfy { $0?.isRunning == true })
        let c = try e.client([leader])
        defer { c.close() }
        _ = try c.retrying(timeout: 10) { try $0.create("/still-works") }
        #expect(e.waitForLeader() != nil)
    }

    /// kazoo with a multi-host connect string: the server it uses dies, it reconnects elsewhere
    /// with the same session, and its ephemeral node is still there.
    @Test(.timeLimit(.minutes(2))) func kazooSessionSurvivesLossOfItsServer() throws {
        let e = try EnsembleProcesses()
        defer { e.cleanup() }
        _ = try #require(e.waitForLeader(), "no leader:\n\(e.logs)")
        let script = e.dir + "/kazoo_failover.py"
        try Self.kazooScript.write(toFile: script, atomically: true, encoding: .utf8)
        let pids = (0..<3).map { "\(e.clientPorts[$0]):\(e.procs[$0]?.pid ?? 0)" }
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", script, e.connectString] + pids, timeout: 90)
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("OK"), "kazoo failover failed:\n\(r.stdout)\n\(r.stderr)\n\(e.logs)")
    }

    static let kazooScript = """
    import os, signal, sys, time
    from kazoo.client import KazooClient
    from kazoo.protocol.states import KazooState
    hosts = sys.argv[1]
    pids = dict((int(a.split(":")[0]), int(a.split(":")[1])) for a in sys.argv[2:])
    zk = KazooClient(hosts=hosts, timeout=10)
    zk.start(timeout=10)
    sid = zk.client_id[0]
    zk.create("/owner", b"me", ephemeral=True)
    port = zk._connection._socket.getpeername()[1]
    print("connected to", port, "session", hex(sid))
    os.kill(pids[port], signal.SIGKILL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if zk.state == KazooState.CONNECTED and zk._connection._socket.getpeername()[1] != port:
                zk.sync("/")
                data, stat = zk.get("/owner")
                break
        except Exception as e:
            pass
        time.sleep(0.05)
    else:
        raise SystemExit("kazoo did not reconnect")
    assert zk.client_id[0] == sid, "session changed"
    assert stat.ephemeralOwner == sid, "ephemeral lost its owner"
    print("reconnected to", zk._connection._socket.getpeername()[1])
    other = KazooClient(hosts=hosts, timeout=10)
    other.start(timeout=10)
    assert other.exists("/owner") is not None
    zk.stop()
    other.sync("/")
    assert other.exists("/owner") is None, "ephemeral outlived its session"
    other.stop()
    print("OK")
    """
}

enum CoordServerHex {
    static func hex(_ v: Int64) -> String { "0x" + String(UInt64(bitPattern: v), radix: 16) }
}
