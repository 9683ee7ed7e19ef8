import Protocol
import Testing
@testable import CoordCore

/// addWatch (PERSISTENT, PERSISTENT_RECURSIVE), checkWatches and removeWatches, with the events
/// ZooKeeper 3.8 sends.
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
        #expect(h.watches.check("/p", type: ZKWatcherType.persistent, watcher: 1) == .found)
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
        // The one-shot ones went, the persistent ones stayed.
        #expect(h.watches.check("/x/y", type: ZKWatcherType.data, watcher: 3) == .none)
        #expect(h.watches.check("/x/y", type: ZKWatcherType.children, watcher: 3) == .none)
        #expect(h.watches.check("/x/y", type: ZKWatcherType.persistent, watcher: 3) == .found)
        #expect(h.watches.check("/x", type: ZKWatcherType.persistentRecursive, watcher: 3) == .found)
        #expect(h.watches.watchCount == 3)
    }

    @Test func checkAndRemoveEveryType() {
        var w = WatchManager()
        w.addDataWatch("/a", watcher: 1)
        w.addChildWatch("/a", watcher: 1)
        w.addPersistentWatch("/a", mode: ZKAddWatchMode.persistent, watcher: 1)
        w.addPersistentWatch("/a", mode: ZKAddWatchMode.persistentRecursive, watcher: 1)
        for t in [ZKWatcherType.children, ZKWatcherType.data, ZKWatcherType.persistent, ZKWatcherType.persistentRecursive, ZKWatcherType.any] {
            #expect(w.check("/a", type: t, watcher: 1) == .found)
            #expect(w.check("/a", type: t, watcher: 2) == .none, "another connection's watches are not its own")
            #expect(w.check("/b", type: t, watcher: 1) == .none)
        }
        #expect(w.check("/a", type: 9, watcher: 1) == .badType)
        #expect(w.remove("/a", type: 0, watcher: 1) == .badType)
        #expect(w.addPersistentWatch("/a", mode: 2, watcher: 1) == false)
        // Removing one kind leaves the others.
        #expect(w.remove("/a", type: ZKWatcherType.data, watcher: 1) == .found)
        #expect(w.remove("/a", type: ZKWatcherType.data, watcher: 1) == .none)
        #expect(w.check("/a", type: ZKWatcherType.children, watcher: 1) == .found)
        #expect(w.remove("/a", type: ZKWatcherType.persistentRecursive, watcher: 1) == .found)
        #expect(w.paths(of: 1) == WatchManager.WatchedPaths(data: [], child: ["/a"], persistent: ["/a"], persistentRecursive: []))
        // Any takes what is left, then finds nothing.
        #expect(w.remove("/a", type: ZKWatcherType.any, watcher: 1) == .found)
        #expect(w.remove("/a", type: ZKWatcherType.any, watcher: 1) == .none)
        #expect(w.watchCount == 0 && w.watchedPathCount == 0 && w.paths(of: 1).isEmpty)
    }

    @Test func removedPersistentWatchStopsFiring() {
        var h = TreeHarness()
        h.watches.addPersistentWatch("/", mode: ZKAddWatchMode.persistentRecursive, watcher: 4)
        h.watches.addPersistentWatch("/", mode: ZKAddWatchMode.persistentRecursive, watcher: 5)
        _ = h.create("/one")
        #expect(h.watches.remove("/", type: ZKWatcherType.persistentRecursive, watcher: 4) == .found)
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
