import Protocol
import Testing
@testable import CoordCore

@Suite struct WatchTests {
    @Test func dataWatchFiresOnceOnChange() {
        var h = TreeHarness()
        _ = h.create("/a")
        _ = h.read(.getData(path: "/a", watch: true), watcher: 1)
        _ = h.write(.setData(path: "/a", data: [1], version: -1))
        _ = h.write(.setData(path: "/a", data: [2], version: -1))
        let ev = h.takeEvents()
        #expect(ev.count == 1)
        #expect(ev.first?.watcher == 1 && ev.first?.event == ZKWatcherEvent(type: ZKEventType.nodeDataChanged, path: "/a"))
        #expect(h.watches.watchCount == 0)
    }

    @Test func existsWatchOnMissingNodeFiresNodeCreated() {
        var h = TreeHarness()
        #expect(h.read(.exists(path: "/later", watch: true), watcher: 2).err == ZKErr.noNode)
        // getData on a missing node sets no watch.
        #expect(h.read(.getData(path: "/other", watch: true), watcher: 2).err == ZKErr.noNode)
        _ = h.create("/later")
        _ = h.create("/other")
        let ev = h.takeEvents()
        #expect(ev.map(\.event) == [ZKWatcherEvent(type: ZKEventType.nodeCreated, path: "/later")])
    }

    @Test func childWatchAndDeleteEventsInOrder() {
        var h = TreeHarness()
        _ = h.create("/p")
        _ = h.create("/p/c")
        _ = h.read(.getChildren(path: "/p", watch: true), watcher: 1)
        _ = h.read(.getData(path: "/p/c", watch: true), watcher: 1)
        _ = h.read(.exists(path: "/p/c", watch: true), watcher: 2)
        _ = h.read(.getChildren(path: "/p/c", watch: true), watcher: 2)
        _ = h.write(.delete(path: "/p/c", version: -1))
        let ev = h.takeEvents()
        // Node deleted to each watcher once (data before child), then the parent's child change.
        #expect(ev.map { "\($0.watcher) \($0.event.type) \($0.event.path)" } == [
            "1 2 /p/c", "2 2 /p/c", "1 4 /p",
        ])
        _ = h.create("/p/d")
        #expect(h.takeEvents().isEmpty)
    }

    @Test func removingAWatcherDropsItsWatches() {
        var h = TreeHarness()
        _ = h.create("/a")
        _ = h.read(.getData(path: "/a", watch: true), watcher: 5)
        _ = h.read(.getChildren(path: "/a", watch: true), watcher: 5)
        _ = h.read(.getData(path: "/a", watch: true), watcher: 6)
        #expect(h.watches.watchCount == 3)
        h.watches.removeWatcher(5)
        #expect(h.watches.watchCount == 1)
        _ = h.create("/a/x")
        _ = h.write(.setData(path: "/a", data: [], version: -1))
        #expect(h.takeEvents().map(\.watcher) == [6])
    }

    @Test func setWatchesFiresForMissedChangesAndRegistersTheRest() {
        var h = TreeHarness()
        _ = h.create("/same")
        _ = h.create("/changed")
        _ = h.create("/kids")
        let seen = h.zxid
        _ = h.write(.setData(path: "/changed", data: [1], version: -1))
        _ = h.create("/kids/k")
        _ = h.create("/born")
        let sw = ZKSetWatches(relativeZxid: seen, dataWatches: ["/same", "/changed", "/gone"], existWatches: ["/born", "/unborn"], childWatches: ["/kids", "/same"])
        let fired = h.watches.setWatches(sw, watcher: 9, tree: h.tree)
        #expect(fired == [
            ZKWatcherEvent(type: ZKEventType.nodeDataChanged, path: "/changed"),
            ZKWatcherEvent(type: ZKEventType.nodeDeleted, path: "/gone"),
            ZKWatcherEvent(type: ZKEventType.nodeCreated, path: "/born"),
            ZKWatcherEvent(type: ZKEventType.nodeChildrenChanged, path: "/kids"),
        ])
        #expect(h.watches.paths(of: 9).data == ["/same", "/unborn"])
        #expect(h.watches.paths(of: 9).child == ["/same"])
    }
}
