import Protocol

/// One-shot data and child watches, keyed by an opaque watcher id (a connection, in the server).
/// Exists-watches on missing nodes live with the data watches, as in ZooKeeper.
public struct WatchManager: Sendable {
    private var dataWatches: [String: Set<UInt64>] = [:]
    private var childWatches: [String: Set<UInt64>] = [:]
    private var byWatcher: [UInt64: (data: Set<String>, child: Set<String>)] = [:]

    public init() {}

    public var dataWatchCount: Int { dataWatches.reduce(0) { $0 + $1.value.count } }
    public var childWatchCount: Int { childWatches.reduce(0) { $0 + $1.value.count } }
    public var watchCount: Int { dataWatchCount + childWatchCount }
    public var watchedPathCount: Int { Set(dataWatches.keys).union(childWatches.keys).count }

    public mutating func addDataWatch(_ path: String, watcher: UInt64) {
        dataWatches[path, default: []].insert(watcher)
        byWatcher[watcher, default: ([], [])].data.insert(path)
    }

    public mutating func addChildWatch(_ path: String, watcher: UInt64) {
        childWatches[path, default: []].insert(watcher)
        byWatcher[watcher, default: ([], [])].child.insert(path)
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
        return (w.data.sorted(), w.child.sorted())
    }

    /// Fires and removes the watches matched by `triggers`, in trigger order. A watcher is told at
    /// most once per trigger even when both its data and child watch on a deleted node match.
    public mutating func fire(_ triggers: [WatchTrigger]) -> [(watcher: UInt64, event: ZKWatcherEvent)] {
        var out: [(UInt64, ZKWatcherEvent)] = []
        for t in triggers {
            var notified: Set<UInt64> = []
            if t.kind != .child, let ws = dataWatches.removeValue(forKey: t.path) {
                for w in ws.sorted() {
                    byWatcher[w]?.data.remove(t.path)
                    notified.insert(w)
                    out.append((w, ZKWatcherEvent(type: t.type, path: t.path)))
                }
            }
            if t.kind != .data, let ws = childWatches.removeValue(forKey: t.path) {
                for w in ws.sorted() {
                    byWatcher[w]?.child.remove(t.path)
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
