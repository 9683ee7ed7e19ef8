import Foundation
import Protocol
import Testing

/// ZooKeeper 3.8 behaviours that real clients check: kazoo's own upstream tests for them, and
/// raw-protocol scripts run against both coordd and Debian's ZooKeeper.
@Suite(.serialized, .ownThreads) struct ParityCompatTests {
    static let compat = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/"

    /// Null data (create/set with None reads back None) and duplicate ACL entries (kazoo asks the
    /// server's version with `envi`, hence the whitelist, as kazoo's own CI runs ZooKeeper).
    @Test(.timeLimit(.minutes(3))) func kazooUpstreamNullDataAndDuplicateACL() throws {
        let c = try CoordProcess()
        defer { c.cleanup() }
        let r = try ProcessHarness.run("/usr/bin/env", [
            "python3", Self.compat + "kazoo_upstream.py", "127.0.0.1:\(c.port)", "@TESTS@/test_client.py",
            "-q", "-k", "null_data or acl_duplicate or empty_string",
        ], timeout: 150)
        #expect(!r.timedOut)
        #expect(r.status == 0 && r.stdout.contains("5 passed"), "kazoo upstream:\n\(r.stdout.suffix(4000))\n\(r.stderr.suffix(2000))")
    }

    /// ZooKeeper answers ruok before its server runs, and resets sessions opened meanwhile.
    static func connect(port: Int) throws -> RawZK {
        let deadline = Date().addingTimeInterval(20)
        while true {
            do { return try RawZK(port: port) } catch where Date() < deadline { usleep(200_000) }
        }
    }

    /// NFC and NFD spellings of one name over the wire: what coordd answers must be what
    /// ZooKeeper 3.8 answers (two nodes, both listed, each deleted alone).
    static func unicodeScenario(port: Int) throws -> [String] {
        let zk = try connect(port: port)
        defer { zk.close() }
        var out: [String] = []
        func hex(_ s: String) -> String { s.utf8.map { String($0, radix: 16) }.joined(separator: " ") }
        out.append("create dir \(try zk.create("/uni"))")
        out.append("create nfc \(try zk.create("/uni/caf\u{E9}", "c"))")
        out.append("create nfd \(try zk.create("/uni/cafe\u{301}", "d"))")
        out.append("create nfd again \(try zk.create("/uni/cafe\u{301}", "d"))")
        if case .children(let names)? = try zk.call(.getChildren(path: "/uni", watch: false)).response {
            out.append("ls " + names.map(hex).sorted().joined(separator: ", "))
        }
        out.append("get nfd \(try zk.getData("/uni/cafe\u{301}") ?? "-")")
        out.append("delete nfc \(try zk.call(.delete(path: "/uni/caf\u{E9}", version: -1)).header.err)")
        out.append("exists nfd \(try zk.call(.exists(path: "/uni/cafe\u{301}", watch: false)).header.err)")
        out.append("delete nfc again \(try zk.call(.delete(path: "/uni/caf\u{E9}", version: -1)).header.err)")
        out.append("delete nfd \(try zk.call(.delete(path: "/uni/cafe\u{301}", version: -1)).header.err)")
        return out
    }

    @Test(.timeLimit(.minutes(2))) func unicodePathsAreBytesLikeZooKeeper() throws {
        let c = try CoordProcess()
        defer { c.cleanup() }
        let ours: [String]
        do { ours = try Self.unicodeScenario(port: c.port) } catch {
            Issue.record("\(error)\n--- coordd:\n\(c.proc?.stderrText.suffix(3000) ?? "")")
            return
        }
        #expect(ours.contains("ls 63 61 66 65 cc 81, 63 61 66 c3 a9"), "\(ours)")
        #expect(ours.contains("create nfd 0") && ours.contains("exists nfd 0") && ours.contains("delete nfd 0"), "\(ours)")
        guard FileManager.default.fileExists(atPath: "/usr/share/java/zookeeper.jar") else { return }
        let real = try RealZooKeeper.start()
        defer { real.stop() }
        #expect(ours == (try Self.unicodeScenario(port: real.port)))
    }

    /// addWatch / checkWatches / removeWatches / setWatches2 over the raw protocol: coordd answers
    /// and fires exactly what ZooKeeper 3.8.0 does (the script prints one line per answer or event).
    @Test(.timeLimit(.minutes(3))) func persistentWatchesLikeZooKeeper() throws {
        let script = Self.compat + "persistent_watches.py"
        let c = try CoordProcess()
        defer { c.cleanup() }
        let ours = try ProcessHarness.run("/usr/bin/env", ["python3", script, String(c.port)], timeout: 90)
        #expect(ours.status == 0 && ours.stdout.contains("OK"), "\(ours.stdout)\n\(ours.stderr)\n--- coordd:\n\(c.proc?.stderrText.suffix(3000) ?? "")")
        let lines = ours.stdout.split(separator: "\n").map(String.init)
        // The recursive watch's subtree events (never NodeChildrenChanged of /pw), the persistent
        // one's NodeChildrenChanged on /pw/q, both kept after firing; NoWatcher once removed.
        for expected in ["addWatch recursive /pw: 0 00000000", "check /pw data: 0", "check /pw recursive: -5",
                         "event 1 /pw/q/z", "event 4 /pw/q", "event 2 /pw/a", "remove /nothing children: -121",
                         "setWatches2: 0", "event 1 /pw/c", "remove /pw/q any again: -121", "addWatch bad mode: -5 "] {
            #expect(lines.contains(expected), "missing \(expected) in\n\(ours.stdout)")
        }
        #expect(!lines.contains("event 4 /pw") && !lines.contains("event 1 /elsewhere"))
        guard FileManager.default.fileExists(atPath: "/usr/share/java/zookeeper.jar") else { return }
        let real = try RealZooKeeper.start()
        defer { real.stop() }
        let theirs = try ProcessHarness.run("/usr/bin/env", ["python3", script, String(real.port)], timeout: 90)
        #expect(theirs.status == 0)
        #expect(ours.stdout == theirs.stdout)
    }

    /// zkCli.sh's `addWatch -m PERSISTENT_RECURSIVE`: the session's own writes below the path fire.
    @Test(.timeLimit(.minutes(2)), .enabled(if: FileManager.default.isExecutableFile(atPath: CoordCompatTests.zkCli)))
    func zkCliRecursiveWatch() throws {
        let c = try CoordProcess()
        defer { c.cleanup() }
        let cmds = "addWatch -m PERSISTENT_RECURSIVE /zx\ncreate /zx\ncreate /zx/a\nset /zx/a v\ncreate /other\ndelete /zx/a\n"
        let r = try ProcessHarness.run("/bin/sh", ["-c", "(printf '\(cmds)'; sleep 3; echo quit) | \(CoordCompatTests.zkCli) -server 127.0.0.1:\(c.port)"],
                                       timeout: 60)
        #expect(!r.timedOut)
        let events = (r.stdout + r.stderr).split(separator: "\n").filter { $0.contains("WatchedEvent") && !$0.contains("type:None") }
        #expect(events.map { String($0.split(separator: " ").suffix(2).joined(separator: " ")) } == [
            "type:NodeCreated path:/zx", "type:NodeCreated path:/zx/a", "type:NodeDataChanged path:/zx/a", "type:NodeDeleted path:/zx/a",
        ], "zkCli:\n\(r.stdout.suffix(3000))")
    }

    /// The standalone server reaps an emptied container and an expired TTL node by itself, as
    /// delete txns; a container that never had a child and a plain node stay.
    @Test(.timeLimit(.minutes(2))) func containersAndTTLNodesAreReaped() throws {
        let c = try CoordProcess(extraConfig: "extendedTypesEnabled=true\nznode.container.checkIntervalMs=100\n")
        defer { c.cleanup() }
        let zk = try RawZK(port: c.port)
        defer { zk.close() }
        #expect(try zk.call(.createContainer(ZKCreate(path: "/c", flags: ZKCreateFlags.container))).header.err == 0)
        #expect(try zk.call(.createContainer(ZKCreate(path: "/never", flags: ZKCreateFlags.container))).header.err == 0)
        #expect(try zk.create("/c/x") == 0)
        #expect(try zk.create("/plain") == 0)
        #expect(try zk.call(.createTTL(ZKCreate(path: "/ttl", flags: ZKCreateFlags.persistentWithTTL, ttl: 300))).header.err == 0)
        usleep(400_000)
        #expect(try zk.call(.exists(path: "/c", watch: false)).header.err == 0, "a container with a child stays")
        #expect(try zk.call(.delete(path: "/c/x", version: -1)).header.err == 0)
        let deadline = Date().addingTimeInterval(20)
        var gone = false
        while Date() < deadline && !gone {
            gone = try zk.call(.exists(path: "/c", watch: false)).header.err == ZKErr.noNode
                && zk.call(.exists(path: "/ttl", watch: false)).header.err == ZKErr.noNode
            if !gone { usleep(100_000) }
        }
        #expect(gone, "coordd:\n\(c.proc?.stderrText.suffix(2000) ?? "")")
        #expect(try zk.call(.exists(path: "/never", watch: false)).header.err == 0)
        #expect(try zk.call(.exists(path: "/plain", watch: false)).header.err == 0)
    }
}
