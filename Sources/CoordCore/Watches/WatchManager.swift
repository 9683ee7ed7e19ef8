import Protocol

/// The watches of one server's connections, keyed by an opaque watcher id (a connection).
/// Standard watches are one-shot: data watches (getData, and exists also on missing nodes, as in
/// ZooKeeper) and child watches (getChildren). Persistent watches (addWatch, ZooKeeper 3.6+) stay
/// after firing: PERSISTENT sees every event on its path (data, delete, create, children changed);
/// PERSISTENT_RECURSIVE sees created/deleted/data-changed on its path and every descendant, never
/// NodeChildrenChanged. A watcher gets at most one event per trigger. Paths key on bytes.
public struct WatchManager: Sendable {
    private var dataWatches: [ZKPathKey: Set<UInt64>] = [:]
    private var childWatches: [ZKPathKey: Set<UInt64>] = [:]
    private var persistentWatches: [ZKPathKey: Set<UInt64>] = [:]
    private var recursiveWatches: [ZKPathKey: Set<UInt64>] = [:]
    private var byWatcher: [UInt64: Registered] = [:]

    /// What one watcher has registered, per kind (to drop it all when its connection closes).
    struct Registered: Sendable {
        var data: Set<ZKPathKey> = []
        var child: Set<ZKPathKey> = []
        var persistent: Set<ZKPathKey> = []
        var recursive: Set<ZKPathKey> = []
        var isEmpty: Bool { data.isEmpty && child.isEmpty && persistent.isEmpty && recursive.isEmpty }
    }

    /// One watcher's watched paths by kind (reports and tests).
    public struct WatchedPaths: Sendable, Equatable {
        public var data: [String]
        public var child: [String]
        public var persistent: [String]
        public var persistentRecursive: [String]
        public var all: [String] {
            Array(Set((data + child + persistent + persistentRecursive).map { ZKPathKey($0) })).sorted().map(\.string)
        }
        public var isEmpty: Bool { data.isEmpty && child.isEmpty && persistent.isEmpty && persistentRecursive.isEmpty }
    }

    public init() {}

    private static func count(_ d: [ZKPathKey: Set<UInt64>]) -> Int { d.reduce(0) { $0 + $1.value.count } }
    public var dataWatchCount: Int { Self.count(dataWatches) }
    public var childWatchCount: Int { Self.count(childWatches) }
    public var persistentWatchCount: Int { Self.count(persistentWatches) + Self.count(recursiveWatches) }
    public var watchCount: Int { dataWatchCount + childWatchCount + persistentWatchCount }
    public var watchedPathCount: Int {
        Set(dataWatches.keys).union(childWatches.keys).union(persistentWatches.keys).union(recursiveWatches.keys).count
    }

    public mutating func addDataWatch(_ path: String, watcher: UInt64) {
        let key = ZKPathKey(path)
        dataWatches[key, default: []].insert(watcher)
        byWatcher[watcher, default: Registered()].data.insert(key)
    }

    public mutating func addChildWatch(_ path: String, watcher: UInt64) {
        let key = ZKPathKey(path)
        childWatches[key, default: []].insert(watcher)
        byWatcher[watcher, default: Registered()].child.insert(key)
    }

    /// addWatch: false for a mode ZooKeeper does not know (it answers MarshallingError then).
    @discardableResult
    public mutating func addPersistentWatch(_ path: String, mode: Int32, watcher: UInt64) -> Bool {
        let key = ZKPathKey(path)
        switch mode {
        case ZKAddWatchMode.persistent:
            persistentWatches[key, default: []].insert(watcher)
            byWatcher[watcher, default: Registered()].persistent.insert(key)
        case ZKAddWatchMode.persistentRecursive:
            recursiveWatches[key, default: []].insert(watcher)
            byWatcher[watcher, default: Registered()].recursive.insert(key)
        default:
            return false
        }
        return true
    }

    /// The answer of checkWatches / removeWatches for a watcher type, as ZooKeeper 3.8 gives it.
    public enum WatchQuery: Equatable, Sendable {
        case found
        /// NoWatcher (-121).
        case none
        /// Not a WatcherType: MarshallingError (-5).
        case badType
    }

    /// checkWatches (op 17): does this watcher have a watch of `type` on `path`? `any` counts
    /// every kind, persistent ones included.
    public func check(_ path: String, type: Int32, watcher: UInt64) -> WatchQuery {
        let key = ZKPathKey(path)
        func has(_ d: [ZKPathKey: Set<UInt64>]) -> Bool { d[key]?.contains(watcher) == true }
        let found: Bool
        switch type {
        case ZKWatcherType.children: found = has(childWatches)
        case ZKWatcherType.data: found = has(dataWatches)
        case ZKWatcherType.persistent: found = has(persistentWatches)
        case ZKWatcherType.persistentRecursive: found = has(recursiveWatches)
        case ZKWatcherType.any:
            found = has(childWatches) || has(dataWatches) || has(persistentWatches) || has(recursiveWatches)
        default: return .badType
        }
        return found ? .found : .none
    }

    /// removeWatches (op 18): drops this watcher's watches of `type` on `path` (`any`: all kinds).
    public mutating func remove(_ path: String, type: Int32, watcher: UInt64) -> WatchQuery {
        let key = ZKPathKey(path)
        var removed = false
        func drop(_ d: inout [ZKPathKey: Set<UInt64>], _ mine: WritableKeyPath<Registered, Set<ZKPathKey>>) {
            guard d[key]?.remove(watcher) != nil else { return }
            if d[key]?.isEmpty == true { d[key] = nil }
            byWatcher[watcher]?[keyPath: mine].remove(key)
            removed = true
        }
        switch type {
        case ZKWatcherType.children: drop(&childWatches, \.child)
        case ZKWatcherType.data: drop(&dataWatches, \.data)
        case ZKWatcherType.persistent: drop(&persistentWatches, \.persistent)
        case ZKWatcherType.persistentRecursive: drop(&recursiveWatches, \.recursive)
        case ZKWatcherType.any:
            drop(&childWatches, \.child)
            drop(&dataWatches, \.data)
            drop(&persistentWatches, \.persistent)
            drop(&recursiveWatches, \.recursive)
        default: return .badType
        }
        if byWatcher[watcher]?.isEmpty == true { byWatcher[watcher] = nil }
        return removed ? .found : .none
    }

    /// Drops every watch of a watcher (its connection closed).
    public mutating func removeWatcher(_ watcher: UInt64) {
        guard let w = byWatcher.removeValue(forKey: watcher) else { return }
        func drop(_ d: inout [ZKPathKey: Set<UInt64>], _ paths: Set<ZKPathKey>) {
            for p in paths {
                d[p]?.remove(watcher)
                if d[p]?.isEmpty == true { d[p] = nil }
            }
        }
        drop(&dataWatches, w.data)
        drop(&childWatches, w.child)
        drop(&persistentWatches, w.persistent)
        drop(&recursiveWatches, w.recursive)
    }

    /// Paths watched by one watcher (for `wchs`-style reporting and tests).
    public func paths(of watcher: UInt64) -> WatchedPaths {
        let w = byWatcher[watcher] ?? Registered()
        func list(_ s: Set<ZKPathKey>) -> [String] { s.sorted().map(\.string) }
        return WatchedPaths(data: list(w.data), child: list(w.child), persistent: list(w.persistent), persistentRecursive: list(w.recursive))
    }

    /// Fires the watches matched by `triggers`, in trigger order; one-shot ones are removed.
    public mutating func fire(_ triggers: [WatchTrigger]) -> [(watcher: UInt64, event: ZKWatcherEvent)] {
        var out: [(UInt64, ZKWatcherEvent)] = []
        for t in triggers {
            let key = ZKPathKey(t.path)
            var notified: Set<UInt64> = []
            func notify(_ ws: Set<UInt64>) {
                for w in ws.sorted() where notified.insert(w).inserted {
                    out.append((w, ZKWatcherEvent(type: t.type, path: t.path)))
                }
            }
            if t.kind != .child, let ws = dataWatches.removeValue(forKey: key) {
                for w in ws { byWatcher[w]?.data.remove(key) }
                notify(ws)
            }
            if !persistentWatches.isEmpty, let ws = persistentWatches[key] { notify(ws) }
            if t.kind != .data, let ws = childWatches.removeValue(forKey: key) {
                for w in ws { byWatcher[w]?.child.remove(key) }
                notify(ws)
            }
            if !recursiveWatches.isEmpty && t.type != ZKEventType.nodeChildrenChanged {
                var at: String? = t.path
                while let p = at {
                    if let ws = recursiveWatches[ZKPathKey(p)] { notify(ws) }
                    at = ZKPath.parent(p)
                }
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
