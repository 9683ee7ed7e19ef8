import Foundation
import Protocol
import Testing
import Transport

@Suite(.serialized, .ownThreads) struct CoordServerTests {
    @Test(.timeLimit(.minutes(1))) func nodesSurviveSigkillAndRestart() throws {
        let c = try CoordProcess()
        defer { c.cleanup() }
        let zk = try RawZK(port: c.port)
        #expect(try zk.create("/persist", "v1") == 0)
        #expect(try zk.create("/persist/child", "c") == 0)
        #expect(try zk.call(.setData(path: "/persist", data: Array("v2".utf8), version: 0)).header.err == 0)
        let seq = try zk.call(.create(ZKCreate(path: "/persist/s-", flags: ZKCreateFlags.sequential)))
        #expect(seq.response == .path("/persist/s-0000000001"))
        c.proc?.kill9()
        try c.start()
        let zk2 = try RawZK(port: c.port)
        #expect(try zk2.getData("/persist") == "v2")
        #expect(try zk2.getData("/persist/child") == "c")
        #expect(try zk2.call(.getChildren(path: "/persist", watch: false)).response == .children(["child", "s-0000000001"]))
        // The session from before the crash is still known (its client may come back).
        let resumed = try RawZK(port: c.port, sessionId: zk.connect.sessionId, password: zk.connect.password)
        #expect(resumed.connect.sessionId == zk.connect.sessionId && resumed.connect.timeout > 0)
        #expect(c.proc?.stop() == 0)
    }

    @Test(.timeLimit(.minutes(1))) func badInputClosesOnlyThatConnection() throws {
        let c = try CoordProcess()
        defer { c.cleanup() }
        let good = try RawZK(port: c.port)
        #expect(try good.create("/ok") == 0)

        // A 2 MiB frame is refused: the connection is closed without a reply.
        let big = try RawZK(port: c.port)
        var w = ByteWriter()
        w.writeInt32(2 << 20)
        try big.sock.sendAll(w.bytes + [UInt8](repeating: 0, count: 1024))
        #expect(throws: (any Error).self) { _ = try big.sock.readFrame() }

        // Garbage inside a frame (a create whose string length is huge) closes the connection.
        let bad = try RawZK(port: c.port)
        try bad.sock.sendFrame(ZKRequestHeader(xid: 1, type: ZKOp.create).encoded() + [0x7f, 0, 0, 0, 1])
        #expect(throws: (any Error).self) { _ = try bad.sock.readFrame() }

        // An unknown op code is answered with Unimplemented, then the connection is closed.
        let odd = try RawZK(port: c.port)
        try odd.sock.sendFrame(ZKRequestHeader(xid: 5, type: 999).encoded())
        let (h, _) = try odd.readReply(op: 999)
        #expect(h.xid == 5 && h.err == ZKErr.unimplemented)
        #expect(throws: (any Error).self) { _ = try odd.sock.readFrame() }

        // A garbage connect request is dropped too.
        let junk = try BlockingSocket(host: "127.0.0.1", port: c.port, ioTimeoutMillis: 5000)
        try junk.sendFrame([1, 2, 3])
        #expect(throws: (any Error).self) { _ = try junk.readFrame() }

        // The first connection never noticed.
        #expect(try good.getData("/ok") == "")
        #expect(try good.call(.ping).header.xid == ZKXid.ping)
    }

    @Test(.timeLimit(.minutes(1))) func repliesFollowRequestOrderAndWatchesFireBeforeLaterReads() throws {
        let c = try CoordProcess()
        defer { c.cleanup() }
        let a = try RawZK(port: c.port)
        let b = try RawZK(port: c.port)
        #expect(try a.create("/w", "0") == 0)
        _ = try a.call(.getData(path: "/w", watch: true))
        _ = try a.call(.getChildren(path: "/w", watch: true))
        // Pipeline: write then read on one connection; the read sees the write.
        try b.sock.sendAll(ZKRequest.setData(path: "/w", data: Array("1".utf8), version: -1).frame(xid: 10)
            + ZKRequest.getData(path: "/w", watch: false).frame(xid: 11)
            + ZKRequest.create(ZKCreate(path: "/w/x")).frame(xid: 12)
            + ZKRequest.exists(path: "/w/x", watch: false).frame(xid: 13))
        let r10 = try b.readReply(op: ZKOp.setData)
        let r11 = try b.readReply(op: ZKOp.getData)
        let r12 = try b.readReply(op: ZKOp.create)
        let r13 = try b.readReply(op: ZKOp.exists)
        #expect([r10.header.xid, r11.header.xid, r12.header.xid, r13.header.xid] == [10, 11, 12, 13])
        if case .data(let d, let st)? = r11.response { #expect(d == Array("1".utf8) && st.version == 1) } else { Issue.record("getData") }
        #expect(r13.header.err == 0)
        // a's notifications are queued before the reply to its next read.
        _ = try a.call(.exists(path: "/", watch: false))
        #expect(a.events == [ZKWatcherEvent(type: ZKEventType.nodeDataChanged, path: "/w"),
                             ZKWatcherEvent(type: ZKEventType.nodeChildrenChanged, path: "/w")])
        // Watches were one-shot.
        #expect(try b.call(.setData(path: "/w", data: [], version: -1)).header.err == 0)
        _ = try a.call(.exists(path: "/", watch: false))
        #expect(a.events.count == 2)
    }

    @Test(.timeLimit(.minutes(1))) func sessionsExpireAndWrongPasswordsAreRefused() throws {
        let c = try CoordProcess(tickTime: 100)
        defer { c.cleanup() }
        let owner = try RawZK(port: c.port, timeout: 400)
        #expect(owner.connect.timeout == 400)
        #expect(try owner.create("/eph", flags: ZKCreateFlags.ephemeral) == 0)
        let wrong = try RawZK(port: c.port, sessionId: owner.connect.sessionId, password: [UInt8](repeating: 9, count: 16))
        #expect(wrong.connect.timeout == 0 && wrong.connect.sessionId == 0)
        #expect(throws: (any Error).self) { _ = try wrong.sock.readFrame() }
        // Stop talking: the session expires and its ephemeral disappears.
        let watcher = try RawZK(port: c.port)
        let gone = ProcessHarness.waitUntil(timeout: 10, interval: 0.1) {
            (try? watcher.call(.exists(path: "/eph", watch: false)).header.err) == ZKErr.noNode
        }
        #expect(gone)
        let late = try RawZK(port: c.port, sessionId: owner.connect.sessionId, password: owner.connect.password)
        #expect(late.connect.timeout == 0)
        // Timeouts are clamped to [2, 20] ticks.
        #expect(try RawZK(port: c.port, timeout: 1).connect.timeout == 200)
        #expect(try RawZK(port: c.port, timeout: 999_999).connect.timeout == 2000)
    }

    @Test(.timeLimit(.minutes(1))) func fourLetterWords() throws {
        let c = try CoordProcess()
        defer { c.cleanup() }
        let zk = try RawZK(port: c.port)
        #expect(try zk.create("/a") == 0)
        #expect(try fourLetterWord("ruok", port: c.port) == "imok")
        let srvr = try fourLetterWord("srvr", port: c.port)
        for needle in ["Zookeeper version: ", "Latency min/avg/max: ", "Received: ", "Sent: ", "Connections: ", "Outstanding: ", "Zxid: 0x", "Mode: standalone", "Node count: 5"] {
            #expect(srvr.contains(needle), "srvr lacks \(needle): \(srvr)")
        }
        let mntr = try fourLetterWord("mntr", port: c.port)
        #expect(mntr.contains("zk_server_state\tstandalone\n") && mntr.contains("zk_znode_count\t5\n") && mntr.contains("zk_num_alive_connections\t"))
        #expect(try fourLetterWord("stat", port: c.port).contains("Clients:"))
        #expect(try fourLetterWord("isro", port: c.port) == "rw")
        #expect(try fourLetterWord("conf", port: c.port).contains("clientPort=\(c.port)"))
        #expect(try fourLetterWord("dump", port: c.port).contains("SessionTracker dump:"))
        #expect(try fourLetterWord("wchs", port: c.port).contains("Total watches:0"))
        #expect(try fourLetterWord("envi", port: c.port).hasPrefix("Environment:"))
        #expect(try fourLetterWord("cons", port: c.port).contains("recved="))
    }

    @Test(.timeLimit(.minutes(1))) func whitelistLimitsFourLetterWords() throws {
        let c = try CoordProcess(extraConfig: "4lw.commands.whitelist=ruok, srvr\n")
        defer { c.cleanup() }
        #expect(try fourLetterWord("ruok", port: c.port) == "imok")
        #expect(try fourLetterWord("mntr", port: c.port) == "mntr is not executed because it is not in the whitelist.\n")
    }

    /// ZooKeeper 3.5+: without the key only srvr answers (zkServer.sh needs it); srvr always does.
    @Test(.timeLimit(.minutes(1))) func defaultWhitelistIsSrvrOnly() throws {
        let c = try CoordProcess(allFourLetterWords: false)
        defer { c.cleanup() }
        #expect(try fourLetterWord("srvr", port: c.port).contains("Mode: standalone"))
        for w in ["ruok", "conf", "cons", "dump", "envi", "mntr", "stat", "wchs"] {
            #expect(try fourLetterWord(w, port: c.port) == "\(w) is not executed because it is not in the whitelist.\n")
        }
        let d = try CoordProcess(extraConfig: "4lw.commands.whitelist=ruok\n", allFourLetterWords: false)
        defer { d.cleanup() }
        #expect(try fourLetterWord("srvr", port: d.port).contains("Mode: standalone"))
        #expect(try fourLetterWord("ruok", port: d.port) == "imok")
    }

    @Test(.timeLimit(.minutes(1))) func sigtermExitsZeroAndBadConfigExitsTwo() throws {
        let c = try CoordProcess()
        defer { c.cleanup() }
        let zk = try RawZK(port: c.port)
        #expect(try zk.create("/x") == 0)
        #expect(c.proc?.stop() == 0)
        #expect(c.proc?.stderrText.contains("stopped") == true)
        guard let bin = ProcessHarness.binary("coordd") else { Issue.record("no coordd"); return }
        try "clientPort=abc\ndataDir=/tmp/x\n".write(toFile: c.dir + "/bad.cfg", atomically: true, encoding: .utf8)
        let r = try ProcessHarness.run(bin, [c.dir + "/bad.cfg"], timeout: 10)
        #expect(r.status == 2 && r.stderr.contains("clientPort"))
        let missing = try ProcessHarness.run(bin, [c.dir + "/none.cfg"], timeout: 10)
        #expect(missing.status == 2)
        try "tickTime=100\nclientPort=1\n".write(toFile: c.dir + "/nodir.cfg", atomically: true, encoding: .utf8)
        #expect(try ProcessHarness.run(bin, [c.dir + "/nodir.cfg"], timeout: 10).status == 2)
        // ZooKeeper's quorum SASL/TLS keys are not implemented: refusing (and naming the secret file) beats running open.
        for key in ["quorum.auth.enableSasl=true", "quorum.auth.serverRequireSasl=true", "sslQuorum=true"] {
            try "clientPort=1\ndataDir=\(c.dir)/d\n\(key)\n".write(toFile: c.dir + "/auth.cfg", atomically: true, encoding: .utf8)
            let auth = try ProcessHarness.run(bin, [c.dir + "/auth.cfg"], timeout: 10)
            #expect(auth.status == 2 && auth.stderr.contains("quorum.auth.secretFile"), "\(key): \(auth.stderr)")
        }
    }
}
