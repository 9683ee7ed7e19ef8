import Protocol
@testable import CoordCore

/// Drives prep -> apply -> watches in-process, the way the server does, with a fake clock.
struct TreeHarness {
    var tree = DataTree()
    var prep = TxnPrep()
    var watches = WatchManager()
    var zxid: Int64 = 0
    var now: Int64 = 1_000_000
    var events: [(watcher: UInt64, event: ZKWatcherEvent)] = []
    let session: Int64 = 0x11

    init() {
        openSession(session)
    }

    mutating func openSession(_ id: Int64, timeout: Int32 = 10_000) {
        zxid += 1
        let t = prep.prepCreateSession(sessionId: id, timeout: timeout, password: [UInt8](repeating: 1, count: 16), zxid: zxid, time: now)
        _ = apply(t)
    }

    @discardableResult
    mutating func apply(_ t: CoordTxn) -> TxnResult {
        // Every txn also goes through its byte form, as it would through the log or the quorum.
        let decoded = (try? CoordTxn(bytes: t.serialize())) ?? t
        let r = tree.process(decoded, zxid: zxid)
        prep.applied(zxid: zxid)
        events.append(contentsOf: watches.fire(r.triggers))
        return r
    }

    @discardableResult
    mutating func write(_ req: ZKRequest, session s: Int64? = nil, as access: Access = .anonymous) -> (err: Int32, response: ZKResponse) {
        switch prep.prep(req, sessionId: s ?? session, cxid: 1, zxid: zxid + 1, time: now, tree: tree, access: access) {
        case .failed(let e, let r):
            return (e, r)
        case .txn(let t):
            zxid += 1
            let r = apply(t)
            return (r.err, r.response)
        }
    }

    /// A read that also registers its watch like the server does.
    mutating func read(_ req: ZKRequest, watcher: UInt64 = 1, as access: Access = .anonymous) -> (err: Int32, response: ZKResponse) {
        let r = tree.read(req, sessionId: session, access: access)
        switch req {
        case .exists(let p, true) where r.err == ZKErr.ok || r.err == ZKErr.noNode:
            watches.addDataWatch(p, watcher: watcher)
        case .getData(let p, true) where r.err == ZKErr.ok:
            watches.addDataWatch(p, watcher: watcher)
        case .getChildren(let p, true) where r.err == ZKErr.ok, .getChildren2(let p, true) where r.err == ZKErr.ok:
            watches.addChildWatch(p, watcher: watcher)
        default:
            break
        }
        return r
    }

    mutating func create(_ path: String, _ data: String = "", flags: Int32 = 0, session s: Int64? = nil) -> (err: Int32, response: ZKResponse) {
        write(.create(ZKCreate(path: path, data: Array(data.utf8), flags: flags)), session: s)
    }

    func stat(_ path: String) -> ZKStat? { tree.stat(path) }

    mutating func takeEvents() -> [(watcher: UInt64, event: ZKWatcherEvent)] {
        defer { events = [] }
        return events
    }
}
