import Protocol
import Testing
@testable import CoordCore

/// addWatch (PERSISTENT, PERSISTENT_RECURSIVE), checkWatches and removeWatches, with the events and
/// answers of ZooKeeper 3.8.0 (Debian's; compared by Tests/IntegrationTests/compat/persistent_watches.py).
@Suite struct PersistentWatchTests {
    static func lines(_ ev: [(watcher: UInt64, event: ZKWatcherEvent)]) -> [String] {
        ev.map { "\($0.watcher) \($0.event.type) \($0.event.path)" }
    }

    @Test func persistentWatchSeesEveryEventOnItsPathAndStays() {
        var h = TreeHarness()
        // Registered before the node exists, as ZooKeeper allows.
        h.watches.addPersistentWatch("/p", mode: ZKAddWatchMode.persistent, watcher: 1)
        _ = h.create("/p")
        _ = h.write(.setData(path: "/p", data: [1], version: -1))
        _ = h.write(.setData(path: "/p", data: [2], version: -1))
        _ = h.create("/p/c")
        _ = h.create("/p/c/deeper")
        _ = h.write(.setData(path: "/p/c", data: [3], version: -1))
        _ = h.write(.delete(path: "/p/c/deeper", version: -1))
        _ = h.write(.delete(path: "/p/c", version: -1))
        _ = h.write(.delete(path: "/p", version: -1))
        _ = h.create("/p")
        // Children changes on /p only; nothing for /p/c's own data or grandchildren.
        #expect(Self.lines(h.takeEvents()) == ["1 1 /p", "1 3 /p", "1 3 /p", "1 4 /p", "1 4 /p", "1 2 /p", "1 1 /p"])
        #expect(h.watches.check("/p", type: ZKWatcherType.data, watcher: 1) == .found)
        #expect(h.watches.check("/p", type: ZKWatcherType.children, watcher: 1) == .found)
    }

    @Test func recursiveWatchSeesTheSubtreeButNoChildrenChanged() {
        var h = TreeHarness()
        _ = h.create("/r")
        h.watches.addPersistentWatch("/r", mode: ZKAddWatchMode.persistentRecursive, watcher: 2)
        _ = h.create("/r/a")
        _ = h.create("/r/a/b")
        _ = h.write(.setData(path: "/r/a/b", data: [1], version: -1))
        _ = h.write(.setData(path: "/r", data: [1], version: -1))
        _ = h.create("/other")
        _ = h.create("/rr")
        _ = h.write(.delete(path: "/r/a/b", version: -1))
        _ = h.write(.multi([.delete(path: "/r/a", version: -1), .delete(path: "/r", version: -1)]))
        _ = h.create("/r")
        #expect(Self.lines(h.takeEvents()) == [
            "2 1 /r/a", "2 1 /r/a/b", "2 3 /r/a/b", "2 3 /r", "2 2 /r/a/b", "2 2 /r/a", "2 2 /r", "2 1 /r",
        ])
        // Ephemerals closed with a session fire too.
        _ = h.create("/r/e", flags: ZKCreateFlags.ephemeral)
        _ = h.takeEvents()
        h.zxid += 1
        _ = h.apply(h.prep.prepCloseSession(sessionId: h.session, zxid: h.zxid, time: h.now, tree: h.tree))
        #expect(Self.lines(h.takeEvents()) == ["2 2 /r/e"])
    }

    @Test func oneEventPerTriggerAcrossKinds() {
        var h = TreeHarness()
        _ = h.create("/x")
        _ = h.create("/x/y")
        h.watches.addPersistentWatch("/x/y", mode: ZKAddWatchMode.persistent, watcher: 3)
        h.watches.addPersistentWatch("/x", mode: ZKAddWatchMode.persistentRecursive, watcher: 3)
        h.watches.addPersistentWatch("/", mode: ZKAddWatchMode.persistentRecursive, watcher: 3)
        _ = h.read(.getData(path: "/x/y", watch: true), watcher: 3)
        _ = h.read(.getChildren(path: "/x/y", watch: true), watcher: 3)
        _ = h.write(.delete(path: "/x/y", version: -1))
        // One NodeDeleted for /x/y; /x's NodeChildrenChanged reaches no recursive watch.
        #expect(Self.lines(h.takeEvents()) == ["3 2 /x/y"])
        // As in 3.8 the later getData/getChildren made /x/y's entries one-shot: they went.
        #expect(h.watches.check("/x/y", type: ZKWatcherType.any, watcher: 3) == .none)
        #expect(h.watches.check("/x", type: ZKWatcherType.data, watcher: 3) == .found)
        #expect(h.watches.watchCount == 2)
    }

    @Test func persistentWatchesSurviveTheirNodesAndOthersOneShotOnes() {
        var h = TreeHarness()
        _ = h.create("/k")
        h.watches.addPersistentWatch("/k", mode: ZKAddWatchMode.persistent, watcher: 1)
        _ = h.read(.getData(path: "/k", watch: true), watcher: 2)
        _ = h.write(.setData(path: "/k", data: [1], version: -1))
        _ = h.write(.setData(path: "/k", data: [2], version: -1))
        #expect(Self.lines(h.takeEvents()) == ["1 3 /k", "2 3 /k", "1 3 /k"])
        #expect(h.watches.paths(of: 1) == WatchManager.WatchedPaths(data: ["/k"], child: ["/k"], persistent: ["/k"], persistentRecursive: []))
    }

    @Test func checkAndRemoveEveryType() {
        var w = WatchManager()
        w.addDataWatch("/d", watcher: 1)
        w.addChildWatch("/c", watcher: 1)
        w.addPersistentWatch("/p", mode: ZKAddWatchMode.persistent, watcher: 1)
        w.addPersistentWatch("/r", mode: ZKAddWatchMode.persistentRecursive, watcher: 1)
        // 3.8 looks in the data table for Data, the child table for Children, both for Any.
        let expected: [(String, Int32, WatchManager.WatchQuery)] = [
            ("/d", ZKWatcherType.data, .found), ("/d", ZKWatcherType.children, .none), ("/d", ZKWatcherType.any, .found),
            ("/c", ZKWatcherType.data, .none), ("/c", ZKWatcherType.children, .found), ("/c", ZKWatcherType.any, .found),
            ("/p", ZKWatcherType.data, .found), ("/p", ZKWatcherType.children, .found), ("/p", ZKWatcherType.any, .found),
            ("/r", ZKWatcherType.data, .found), ("/r", ZKWatcherType.children, .none), ("/r", ZKWatcherType.any, .found),
            ("/none", ZKWatcherType.any, .none),
            // Persistent (4) and PersistentRecursive (5) are WatcherTypes of 3.9 only.
            ("/p", ZKWatcherType.persistent, .badType), ("/r", ZKWatcherType.persistentRecursive, .badType), ("/d", 0, .badType),
        ]
        for (path, type, answer) in expected {
            #expect(w.check(path, type: type, watcher: 1) == answer, "check \(path) \(type)")
            if answer == .found { #expect(w.check(path, type: type, watcher: 2) == .none, "another connection's") }
        }
        #expect(w.remove("/r", type: ZKWatcherType.persistentRecursive, watcher: 1) == .badType)
        #expect(w.addPersistentWatch("/a", mode: 2, watcher: 1) == false)
        // Removing a persistent watch's child entry leaves its data entry, still persistent.
        #expect(w.remove("/p", type: ZKWatcherType.children, watcher: 1) == .found)
        #expect(w.remove("/p", type: ZKWatcherType.children, watcher: 1) == .none)
        #expect(w.paths(of: 1) == WatchManager.WatchedPaths(data: ["/d", "/p", "/r"], child: ["/c"], persistent: ["/p"], persistentRecursive: ["/r"]))
        #expect(w.remove("/r", type: ZKWatcherType.data, watcher: 1) == .found)
        for p in ["/d", "/c", "/p"] { #expect(w.remove(p, type: ZKWatcherType.any, watcher: 1) == .found) }
        #expect(w.remove("/d", type: ZKWatcherType.any, watcher: 1) == .none)
        #expect(w.watchCount == 0 && w.watchedPathCount == 0 && w.paths(of: 1).isEmpty)
    }

    @Test func removedPersistentWatchStopsFiring() {
        var h = TreeHarness()
        h.watches.addPersistentWatch("/", mode: ZKAddWatchMode.persistentRecursive, watcher: 4)
        h.watches.addPersistentWatch("/", mode: ZKAddWatchMode.persistentRecursive, watcher: 5)
        _ = h.create("/one")
        #expect(h.watches.remove("/", type: ZKWatcherType.data, watcher: 4) == .found)
        h.watches.removeWatcher(5)
        _ = h.create("/two")
        #expect(Self.lines(h.takeEvents()) == ["4 1 /one", "5 1 /one"])
        #expect(h.watches.watchCount == 0)
    }

    @Test func setWatches2ReRegistersPersistentWatches() {
        var h = TreeHarness()
        _ = h.create("/s")
        let sw = ZKSetWatches(relativeZxid: 0, persistentWatches: ["/s"], persistentRecursiveWatches: ["/t"])
        // Persistent ones fire nothing for changes missed meanwhile; they are simply back.
        #expect(h.watches.setWatches(sw, watcher: 6, tree: h.tree).isEmpty)
        _ = h.write(.setData(path: "/s", data: [1], version: -1))
        _ = h.create("/t")
        _ = h.create("/t/u")
        #expect(Self.lines(h.takeEvents()) == ["6 3 /s", "6 1 /t", "6 1 /t/u"])
    }

    @Test func unicodeSpellingsAreSeparateWatchPaths() {
        var h = TreeHarness()
        h.watches.addPersistentWatch("/caf\u{E9}", mode: ZKAddWatchMode.persistentRecursive, watcher: 7)
        _ = h.create("/cafe\u{301}")
        _ = h.create("/caf\u{E9}")
        let ev = h.takeEvents()
        #expect(ev.count == 1 && ev[0].event.path.utf8.elementsEqual("/caf\u{E9}".utf8))
    }
}
