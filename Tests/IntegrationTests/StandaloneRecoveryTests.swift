import CoordCore
import Foundation
import Protocol
import Storage
import Testing
import Transport

/// Standalone coordd is a one-voter quorum (issue 17). Data dirs written by the earlier standalone
/// write path — snapshots and txn log through `SnapshotStore`/`TxnLog`, zxids 1, 2, 3… (epoch 0),
/// no `quorum.epochs` file — must come back with every znode, session and zxid. The test lays such
/// a dir down with those Storage APIs (as the old path did), then starts today's coordd on it.
@Suite(.serialized, .ownThreads) struct StandaloneRecoveryTests {
    static let session: Int64 = 0x0000_0187_0000_0042
    static let password = [UInt8](repeating: 7, count: 16)

    /// The old standalone layout: `snapAt` is the snapshot's zxid; the log holds every txn.
    static func writeOldStandaloneDirs(snapDir: String, logDir: String, snapAt: Int64) throws -> (txns: Int64, tree: DataTree) {
        let fs = PosixFileSystem()
        try fs.makeDirectories(snapDir)
        try fs.makeDirectories(logDir)
        let log = TxnLog(fs: fs, directory: logDir)
        _ = try log.recover()
        let snapshots = SnapshotStore(fs: fs, directory: snapDir)
        var tree = DataTree()
        func cversion(_ parent: String) -> Int32 { (tree.stat(parent)?.cversion ?? 0) + 1 }
        func create(_ path: String, _ data: String, owner: Int64 = 0) -> CoordTxnOp {
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            return .create(requestOp: ZKOp.create, path: path, data: Array(data.utf8), acl: ZKACL.openUnsafe,
                           ephemeralOwner: owner, parentCVersion: cversion("/" + parent))
        }
        let ops: [() -> CoordTxnOp] = [
            { .createSession(timeout: 30_000, password: password) },
            { create("/app", "v0") },
            { create("/app/child", "c") },
            { .setData(path: "/app", data: Array("v1".utf8), version: 1) },
            { create("/app/eph", "e", owner: session) },
            { create("/app/s-0000000003", "s") },
        ]
        var zxid: Int64 = 0
        for op in ops {
            zxid += 1
            let txn = CoordTxn(sessionId: session, cxid: Int32(zxid), time: 1_700_000_000_000 + zxid, op: op())
            _ = tree.process(txn, zxid: zxid)
            try log.append(zxid: zxid, bytes: txn.serialize())
            if zxid == snapAt {
                try log.sync()
                try snapshots.write(zxid: zxid, payload: tree.serializeSnapshot())
            }
        }
        try log.sync()
        log.close()
        return (zxid, tree)
    }

    func stat(_ zk: RawZK, _ path: String) throws -> ZKStat? {
        guard case .stat(let s)? = try zk.call(.exists(path: path, watch: false)).response else { return nil }
        return s
    }

    func mntr(_ port: Int, _ key: String) throws -> String? {
        let lines = try fourLetterWord("mntr", port: port).split(separator: "\n")
        return lines.first { $0.hasPrefix(key + "\t") }.map { String($0.dropFirst(key.count + 1)) }
    }

    @Test(.timeLimit(.minutes(2))) func oldStandaloneDataDirRecoversEveryZnodeSessionAndZxid() throws {
        let logRoot = try ProcessHarness.makeTempDir("coordd-oldlog")
        defer { ProcessHarness.removeDir(logRoot) }
        var written: (txns: Int64, tree: DataTree)?
        let c = try CoordProcess(extraConfig: "dataLogDir=\(logRoot)\n") { dir in
            written = try Self.writeOldStandaloneDirs(snapDir: dir + "/data/version-2", logDir: logRoot + "/version-2", snapAt: 4)
        }
        defer { c.cleanup() }
        let old = try #require(written)
        #expect(c.proc?.stderrText.contains("loaded snapshot at zxid 0x4") == true, "\(c.proc?.stderrText ?? "")")
        // Before any client: the tree stands at the old server's last zxid.
        #expect(try mntr(c.port, "zk_last_zxid") == "0x6")

        let zk = try RawZK(port: c.port)
        #expect(try zk.getData("/app") == "v1")
        #expect(try zk.getData("/app/child") == "c")
        #expect(try zk.call(.getChildren(path: "/app", watch: false)).response == .children(["child", "eph", "s-0000000003"]))
        // Stats as the old server wrote them: zxids, versions, the ephemeral's owner.
        for path in ["/app", "/app/child", "/app/eph", "/app/s-0000000003"] {
            #expect(try stat(zk, path) == old.tree.stat(path), "\(path)")
        }
        #expect(try stat(zk, "/app/eph")?.ephemeralOwner == Self.session)
        #expect(try mntr(c.port, "zk_server_state") == "standalone")
        #expect(try mntr(c.port, "zk_global_sessions") == "2")  // the old one and ours

        // The old session comes back with its password; a wrong password is refused.
        let resumed = try RawZK(port: c.port, sessionId: Self.session, password: Self.password, lastZxid: 6)
        #expect(resumed.connect.sessionId == Self.session && resumed.connect.timeout > 0)
        let wrong = try RawZK(port: c.port, sessionId: Self.session, password: [UInt8](repeating: 1, count: 16))
        #expect(wrong.connect.timeout == 0)

        // New writes get zxids above every old one (a new epoch); the parent's cversion carried over.
        let seqBase = try #require(try stat(zk, "/app")?.cversion)
        #expect(try zk.create("/app/new", "n") == 0)
        let created = try #require(try stat(zk, "/app/new"))
        #expect(created.czxid > old.txns && created.czxid >> 32 >= 1, "czxid \(String(created.czxid, radix: 16))")
        let seq = try zk.call(.create(ZKCreate(path: "/app/q-", flags: ZKCreateFlags.sequential)))
        #expect(seq.response == .path(String(format: "/app/q-%010d", seqBase + 1)))

        // kill -9, then back: old and new records recover together.
        c.proc?.kill9()
        try c.start()
        let zk2 = try RawZK(port: c.port)
        #expect(try zk2.getData("/app") == "v1")
        #expect(try zk2.getData("/app/new") == "n")
        #expect(try stat(zk2, "/app/eph")?.ephemeralOwner == Self.session)
        #expect(try stat(zk2, "/app/child") == old.tree.stat("/app/child"))
        let again = try RawZK(port: c.port, sessionId: Self.session, password: Self.password)
        #expect(again.connect.sessionId == Self.session && again.connect.timeout > 0)
        #expect(c.proc?.stop() == 0)

        // On disk: the same log and snapshot formats, the old records first; the quorum adds its
        // epochs file and writes zxids with an epoch in the high 32 bits.
        let log = TxnLog(fs: PosixFileSystem(), directory: logRoot + "/version-2")
        let records = try log.recover()
        log.close()
        #expect(records.prefix(6).map(\.zxid) == Array(1...6))
        #expect(records.count > 6 && records.dropFirst(6).allSatisfy { $0.zxid >> 32 >= 1 })
        let files = try FileManager.default.contentsOfDirectory(atPath: logRoot + "/version-2")
        #expect(files.contains(EpochsFile.name), "\(files)")
    }

    /// snapCount still snapshots a standalone server, and a restart loads the snapshot; its
    /// log is compacted behind it (only the newest snapshots and the log they need stay).
    @Test(.timeLimit(.minutes(2))) func snapCountSnapshotsAndRestartLoadsThem() throws {
        let c = try CoordProcess(extraConfig: "snapCount=20\n")
        defer { c.cleanup() }
        let zk = try RawZK(port: c.port)
        for i in 0..<70 { #expect(try zk.create("/n\(i)", "\(i)") == 0) }
        let snaps = { (try? FileManager.default.contentsOfDirectory(atPath: c.dir + "/data/version-2").filter { $0.hasPrefix("snapshot.") }) ?? [] }
        #expect(ProcessHarness.waitUntil(timeout: 10, interval: 0.1) { snaps().count >= 3 }, "\(snaps())")
        #expect(c.proc?.stop() == 0)
        try c.start()
        #expect(c.proc?.stderrText.contains("loaded snapshot at zxid") == true)
        let zk2 = try RawZK(port: c.port)
        for i in [0, 35, 69] { #expect(try zk2.getData("/n\(i)") == "\(i)") }
        #expect(try mntr(c.port, "zk_znode_count") == "74")
    }

    /// Peer faults have no meaning for one server: a clear 400, and the slow-disk fault works;
    /// reconfig is refused as ZooKeeper's standalone server refuses it.
    @Test(.timeLimit(.minutes(1))) func peerFaultsAndReconfigAnswerStandalone() throws {
        let admin = try ProcessHarness.freePort()
        let c = try CoordProcess(extraConfig: "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=\(admin)\nfaults.enable=true\n"
            + "reconfigEnabled=true\nreadonlymode.enabled=true\n")
        defer { c.cleanup() }
        #expect(ProcessHarness.waitUntil(timeout: 10, interval: 0.1) { (try? AdminHTTP.get(admin, "/health/ready").status) == 200 })
        for (target, says) in [("/faults/peer?id=1&mode=drop", "standalone"), ("/faults/stepdown", "standalone"),
                               ("/faults/crash?at=after-propose", "no crash point")] {
            let r = try FaultControlTests.post(admin, target)
            #expect(r.status == 400 && r.text.contains(says), "\(target): \(r.status) \(r.text)")
        }
        #expect(c.proc?.isRunning == true)
        let slow = try FaultControlTests.post(admin, "/faults/fsync?ms=300")
        #expect(slow.status == 200, "\(slow.text)")
        let zk = try RawZK(port: c.port)
        let t0 = Date()
        #expect(try zk.create("/slow") == 0)
        #expect(Date().timeIntervalSince(t0) >= 0.29)
        // As ZooKeeper's standalone server: no reconfig, even with reconfigEnabled unset or set.
        let reconfig = try zk.call(.reconfig(joining: "server.2=127.0.0.1:2888:3888", leaving: nil, newMembers: nil, curConfigId: -1))
        #expect(reconfig.header.err == ZKErr.reconfigDisabled)
        let ready = try AdminHTTP.json(admin, "/health/ready").encoded()
        #expect(ready.contains("standalone"), "\(ready)")
        let leader = try AdminHTTP.json(admin, "/commands/leader").encoded()
        #expect(leader.contains("not initialized"), "\(leader)")
    }
}
