import Protocol

/// The watches of one server's connections, keyed by an opaque watcher id (a connection), as
/// ZooKeeper 3.8 keeps them: a data table (getData, exists also on missing nodes) and a child
/// table (getChildren). A watch is one-shot unless addWatch gave it a mode: PERSISTENT sits in both
/// tables and sees every event on its path; PERSISTENT_RECURSIVE sits in the data table and sees
/// created/deleted/data-changed on its path and every descendant, never NodeChildrenChanged. As in
/// 3.8 a watcher has one mode per path and table: a later getData on a persistent path makes that
/// entry one-shot again (ZOOKEEPER-4466, fixed only in 3.9). A watcher gets at most one event per
/// trigger. Paths key on bytes.
public struct WatchManager: Sendable {
    /// Modes other than one-shot are kept aside (most watches are one-shot), as ZooKeeper does.
    enum Mode: Sendable { case persistent, persistentRecursive }
    struct Entry: Hashable, Sendable {
        var path: ZKPathKey
        var watcher: UInt64
    }
    struct Table: Sendable {
        var watchers: [ZKPathKey: Set<UInt64>] = [:]
        var modes: [Entry: Mode] = [:]
        var recursiveCount = 0
        var count: Int { watchers.reduce(0) { $0 + $1.value.count } }

        func mode(_ path: ZKPathKey, _ w: UInt64) -> Mode? { modes.isEmpty ? nil : modes[Entry(path: path, watcher: w)] }

        mutating func setMode(_ path: ZKPathKey, _ w: UInt64, _ m: Mode?) {
            let old: Mode?
            if let m {
                old = modes.updateValue(m, forKey: Entry(path: path, watcher: w))
            } else {
                old = modes.isEmpty ? nil : modes.removeValue(forKey: Entry(path: path, watcher: w))
            }
            if old == .persistentRecursive { recursiveCount -= 1 }
            if m == .persistentRecursive { recursiveCount += 1 }
        }

        mutating func add(_ path: ZKPathKey, _ w: UInt64, _ m: Mode?) {
            watchers[path, default: []].insert(w)
            setMode(path, w, m)
        }

        @discardableResult
        mutating func remove(_ path: ZKPathKey, _ w: UInt64) -> Bool {
            guard watchers[path]?.remove(w) != nil else { return false }
            if watchers[path]?.isEmpty == true { watchers[path] = nil }
            setMode(path, w, nil)
            return true
        }

        func contains(_ path: ZKPathKey, _ w: UInt64) -> Bool { watchers[path]?.contains(w) == true }

        /// ZooKeeper's WatchManager.triggerWatch: the watchers to tell, one-shot ones removed
        /// (returned too, to update the per-watcher index).
        mutating func trigger(_ path: String, _ key: ZKPathKey, type: Int32) -> (fire: [UInt64], removed: [UInt64]) {
            if modes.isEmpty {
                // Only one-shot watches anywhere: all of this path's go (the common case).
                let ws = watchers.removeValue(forKey: key).map { $0.sorted() } ?? []
                return (ws, ws)
            }
            var fire: [UInt64] = []
            var removed: [UInt64] = []
            if let ws = watchers[key] {
                for w in ws.sorted() {
                    switch mode(key, w) {
                    case .persistentRecursive:
                        if type != ZKEventType.nodeChildrenChanged { fire.append(w) }
                    case .persistent:
                        fire.append(w)
                    case nil:
                        fire.append(w)
                        removed.append(w)
                    }
                }
                if !removed.isEmpty {
                    let left = ws.subtracting(removed)
                    watchers[key] = left.isEmpty ? nil : left
                }
            }
            // Recursive watches on ancestors; the walk only when there are any.
            if recursiveCount > 0 && type != ZKEventType.nodeChildrenChanged {
                var at = ZKPath.parent(path)
                while let p = at {
                    let k = ZKPathKey(p)
                    for w in (watchers[k] ?? []).sorted() where mode(k, w) == .persistentRecursive { fire.append(w) }
                    at = ZKPath.parent(p)
                }
            }
            return (fire, removed)
        }
    }

    private var data = Table()
    private var child = Table()
    /// watcher -> paths in each table (to drop it all when its connection closes).
    private var byWatcher: [UInt64: (data: Set<ZKPathKey>, child: Set<ZKPathKey>)] = [:]

    /// One watcher's watched paths (reports and tests): each table, and the persistent ones.
    public struct WatchedPaths: Sendable, Equatable {
        public var data: [String]
        public var child: [String]
        public var persistent: [String]
        public var persistentRecursive: [String]
        public var all: [String] { Array(Set((data + child).map { ZKPathKey($0) })).sorted().map(\.string) }
        public var isEmpty: Bool { data.isEmpty && child.isEmpty }
    }

    public init() {}

    public var dataWatchCount: Int { data.count }
    public var childWatchCount: Int { child.count }
    public var watchCount: Int { dataWatchCount + childWatchCount }
    public var watchedPathCount: Int { Set(data.watchers.keys).union(child.watchers.keys).count }

    public mutating func addDataWatch(_ path: String, watcher: UInt64) {
        let key = ZKPathKey(path)
        data.add(key, watcher, nil)
        byWatcher[watcher, default: ([], [])].data.insert(key)
    }

    public mutating func addChildWatch(_ path: String, watcher: UInt64) {
        let key = ZKPathKey(path)
        child.add(key, watcher, nil)
        byWatcher[watcher, default: ([], [])].child.insert(key)
    }

    /// addWatch: false for a mode ZooKeeper does not know (it answers MarshallingError then).
    @discardableResult
    public mutating func addPersistentWatch(_ path: String, mode: Int32, watcher: UInt64) -> Bool {
        let key = ZKPathKey(path)
        switch mode {
        case ZKAddWatchMode.persistent:
            data.add(key, watcher, .persistent)
            child.add(key, watcher, .persistent)
            byWatcher[watcher, default: ([], [])].data.insert(key)
            byWatcher[watcher, default: ([], [])].child.insert(key)
        case ZKAddWatchMode.persistentRecursive:
            data.add(key, watcher, .persistentRecursive)
            byWatcher[watcher, default: ([], [])].data.insert(key)
        default:
            return false
        }
        return true
    }

    /// The answer of checkWatches / removeWatches, as ZooKeeper 3.8 gives it.
    public enum WatchQuery: Equatable, Sendable {
        case found
        /// NoWatcher (-121).
        case none
        /// Not a WatcherType 3.8 knows (it has Children, Data, Any): MarshallingError (-5).
        case badType

        /// The ReplyHeader error ZooKeeper answers.
        public var errorCode: Int32 {
            switch self {
            case .found: ZKErr.ok
            case .none: ZKErr.noWatcher
            case .badType: ZKErr.marshallingError
            }
        }
    }

    /// checkWatches (op 17): Children looks in the child table, Data in the data table (so it
    /// finds persistent watches too, whatever their mode), Any in both.
    public func check(_ path: String, type: Int32, watcher: UInt64) -> WatchQuery {
        let key = ZKPathKey(path)
        let found: Bool
        switch type {
        case ZKWatcherType.children: found = child.contains(key, watcher)
        case ZKWatcherType.data: found = data.contains(key, watcher)
        case ZKWatcherType.any: found = child.contains(key, watcher) || data.contains(key, watcher)
        default: return .badType
        }
        return found ? .found : .none
    }

    /// removeWatches (op 18): drops this watcher's entry in the table(s) of `type`.
    public mutating func remove(_ path: String, type: Int32, watcher: UInt64) -> WatchQuery {
        let key = ZKPathKey(path)
        var removed = false
        if type == ZKWatcherType.children || type == ZKWatcherType.any, child.remove(key, watcher) {
            byWatcher[watcher]?.child.remove(key)
            removed = true
        }
        if type == ZKWatcherType.data || type == ZKWatcherType.any, data.remove(key, watcher) {
            byWatcher[watcher]?.data.remove(key)
            removed = true
        }
        guard [ZKWatcherType.children, ZKWatcherType.data, ZKWatcherType.any].contains(type) else { return .badType }
        if let w = byWatcher[watcher], w.data.isEmpty && w.child.isEmpty { byWatcher[watcher] = nil }
        return removed ? .found : .none
    }

    /// Drops every watch of a watcher (its connection closed).
    public mutating func removeWatcher(_ watcher: UInt64) {
        guard let w = byWatcher.removeValue(forKey: watcher) else { return }
        for p in w.data { data.remove(p, watcher) }
        for p in w.child { child.remove(p, watcher) }
    }

    /// Paths watched by one watcher (for `wchs`-style reporting and tests).
    public func paths(of watcher: UInt64) -> WatchedPaths {
        let w = byWatcher[watcher] ?? ([], [])
        func list(_ s: Set<ZKPathKey>) -> [String] { s.sorted().map(\.string) }
        return WatchedPaths(data: list(w.data), child: list(w.child),
                            persistent: list(w.data.filter { data.mode($0, watcher) == .persistent }),
                            persistentRecursive: list(w.data.filter { data.mode($0, watcher) == .persistentRecursive }))
    }

    /// Fires the watches matched by `triggers`, in trigger order; one-shot ones are removed. For a
    /// deletion the child table's watchers already told by the data table are not told again.
    public mutating func fire(_ triggers: [WatchTrigger]) -> [(watcher: UInt64, event: ZKWatcherEvent)] {
        var out: [(UInt64, ZKWatcherEvent)] = []
        for t in triggers {
            let key = ZKPathKey(t.path)
            var notified: Set<UInt64> = []
            func tell(_ ws: [UInt64]) {
                for w in ws where notified.insert(w).inserted {
                    out.append((w, ZKWatcherEvent(type: t.type, path: t.path)))
                }
            }
            if t.kind != .child {
                let r = data.trigger(t.path, key, type: t.type)
                for w in r.removed { byWatcher[w]?.data.remove(key) }
                tell(r.fire)
            }
            if t.kind != .data {
                let r = child.trigger(t.path, key, type: t.type)
                for w in r.removed { byWatcher[w]?.child.remove(key) }
                tell(r.fire)
            }
        }
        return out
    }

    /// Re-registers a reconnecting client's watches; changes it missed since `relativeZxid` fire
    /// now for the one-shot kinds. Persistent ones (setWatches2) are registered again as they are.
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
        for p in sw.persistentWatches { addPersistentWatch(p, mode: ZKAddWatchMode.persistent, watcher: watcher) }
        for p in sw.persistentRecursiveWatches { addPersistentWatch(p, mode: ZKAddWatchMode.persistentRecursive, watcher: watcher) }
        return events
    }
}
