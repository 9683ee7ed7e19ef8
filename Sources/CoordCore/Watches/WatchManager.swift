import Protocol

/// One-shot data and child watches, keyed by an opaque watcher id (a connection, in the server).
/// Exists-watches on missing nodes live with the data watches, as in ZooKeeper.
public struct WatchManager: Sendable {
    // Keyed by path bytes like the tree (ZKPathKey), so NFC and NFD spellings are two paths.
    private var dataWatches: [ZKPathKey: Set<UInt64>] = [:]
    private var childWatches: [ZKPathKey: Set<UInt64>] = [:]
    private var byWatcher: [UInt64: (data: Set<ZKPathKey>, child: Set<ZKPathKey>)] = [:]

    public init() {}

    public var dataWatchCount: Int { dataWatches.reduce(0) { $0 + $1.value.count } }
    public var childWatchCount: Int { childWatches.reduce(0) { $0 + $1.value.count } }
    public var watchCount: Int { dataWatchCount + childWatchCount }
    public var watchedPathCount: Int { Set(dataWatches.keys).union(childWatches.keys).count }

    public mutating func addDataWatch(_ path: String, watcher: UInt64) {
        let key = ZKPathKey(path)
        dataWatches[key, default: []].insert(watcher)
        byWatcher[watcher, default: ([], [])].data.insert(key)
    }

    public mutating func addChildWatch(_ path: String, watcher: UInt64) {
        let key = ZKPathKey(path)
        childWatches[key, default: []].insert(watcher)
        byWatcher[watcher, default: ([], [])].child.insert(key)
    }

    /// Drops every watch of a watcher (its connection closed).
    public mutating func removeWatcher(_ watcher: UInt64) {
        guard let w = byWatcher.removeValue(forKey: watcher) else { return }
        for p in w.data {
            dataWatches[p]?.remove(watcher)
            if dataWatches[p]?.isEmpty == true { dataWatches[p] = nil }
        }
        for p in w.child {
            childWatches[p]?.remove(watcher)
            if childWatches[p]?.isEmpty == true { childWatches[p] = nil }
        }
    }

    /// Paths watched by one watcher (for `wchs`-style reporting and tests).
    public func paths(of watcher: UInt64) -> (data: [String], child: [String]) {
        let w = byWatcher[watcher] ?? ([], [])
        return (w.data.sorted().map(\.string), w.child.sorted().map(\.string))
    }

    /// Fires and removes the watches matched by `triggers`, in trigger order. A watcher is told at
    /// most once per trigger even when both its data and child watch on a deleted node match.
    public mutating func fire(_ triggers: [WatchTrigger]) -> [(watcher: UInt64, event: ZKWatcherEvent)] {
        var out: [(UInt64, ZKWatcherEvent)] = []
        for t in triggers {
            let key = ZKPathKey(t.path)
            var notified: Set<UInt64> = []
            if t.kind != .child, let ws = dataWatches.removeValue(forKey: key) {
                for w in ws.sorted() {
                    byWatcher[w]?.data.remove(key)
                    notified.insert(w)
                    out.append((w, ZKWatcherEvent(type: t.type, path: t.path)))
                }
            }
            if t.kind != .data, let ws = childWatches.removeValue(forKey: key) {
                for w in ws.sorted() {
                    byWatcher[w]?.child.remove(key)
                    if notified.insert(w).inserted {
                        out.append((w, ZKWatcherEvent(type: t.type, path: t.path)))
                    }
                }
            }
        }
        return out
    }

    /// Re-registers a reconnecting client's watches; changes it missed since `relativeZxid` fire now.
    public mutating func setWatches(_ sw: ZKSetWatches, watcher: UInt64, tree: DataTree) -> [ZKWatcherEvent] {
        var events: [ZKWatcherEvent] = []
        for p in sw.dataWatches {
            if let n = tree.node(p) {
                if n.mzxid > sw.relativeZxid {
                    events.append(ZKWatcherEvent(type: ZKEventType.nodeDataChanged, path: p))
                } else {
                    addDataWatch(p, watcher: watcher)
                }
            } else {
                events.append(ZKWatcherEvent(type: ZKEventType.nodeDeleted, path: p))
            }
        }
        for p in sw.existWatches {
            if tree.node(p) != nil {
                events.append(ZKWatcherEvent(type: ZKEventType.nodeCreated, path: p))
            } else {
                addDataWatch(p, watcher: watcher)
            }
        }
        for p in sw.childWatches {
            if let n = tree.node(p) {
                if n.pzxid > sw.relativeZxid {
                    events.append(ZKWatcherEvent(type: ZKEventType.nodeChildrenChanged, path: p))
                } else {
                    addChildWatch(p, watcher: watcher)
                }
            } else {
                events.append(ZKWatcherEvent(type: ZKEventType.nodeDeleted, path: p))
            }
        }
        return events
    }
}
