import BrokerCore
import CoordClient
import Dispatch
import Foundation
import Observability
import Synchronization
import Transport

/// The broker's copy of every ACL in coordd (Kafka ZK mode's AclAuthorizer cache): loaded whole
/// when the session starts, then kept current by watching the change-notification directories
/// and re-reading only the resources they name. Writes are conditional on the znode version.
final class AclStore: Sendable {
    let config: AuthorizerConfig
    private let logger: Logger
    private let state: Mutex<State>
    private let queue = DispatchQueue(label: "acl-cache")
    /// Denied authorisations by operation and resource type (bounded label sets).
    private let denied: CounterFamily?

    private struct State {
        var authorizer: AclAuthorizer
        /// The highest change-node sequence applied, per change directory.
        var lastSeen: [String: Int64] = [:]
        var loaded = false
        /// The first load failed for good: stop holding requests for it.
        var gaveUp = false
    }
    /// A flood of denied requests must not fill the log: one line a second.
    private let denialLog: RateLimitedLog

    init(config: AuthorizerConfig, logger: Logger, denied: CounterFamily? = nil) {
        self.config = config
        self.logger = logger
        self.denied = denied
        denialLog = RateLimitedLog(perSecond: 1) { logger.info($0) }
        state = Mutex(State(authorizer: AclAuthorizer(superUsers: config.superUsers, allowEveryoneIfNoAclFound: config.allowEveryoneIfNoAclFound)))
    }

    /// The decision snapshot. Until the first load from coordd only super users pass (even with
    /// allow.everyone.if.no.acl.found: "no ACL found" is unknown before the ACLs are read).
    /// A request that comes before the first load (the controller's first UpdateMetadata follows
    /// this broker's registration at once) waits for it, up to 10 s, rather than being refused:
    /// Kafka's brokers load their ACLs before they register, and a refused controller request is
    /// not retried.
    var authorizer: AclAuthorizer {
        let deadline = MonotonicClock.millis() + 10_000
        while true {
            let (ready, snapshot) = state.withLock { s in
                (s.loaded || s.gaveUp, s.loaded ? s.authorizer : AclAuthorizer(superUsers: config.superUsers, allowEveryoneIfNoAclFound: false))
            }
            if ready || MonotonicClock.millis() >= deadline { return snapshot }
            sleepMs(5)
        }
    }
    var isLoaded: Bool { state.withLock { $0.loaded } }

    // MARK: - Cache

    /// A fresh session: load everything, then watch the change directories (again).
    func sessionStarted(_ session: CoordSession) {
        queue.async { [self] in
            for attempt in 0..<30 {
                guard let c = session.connectedClient else { sleepMs(200); continue }
                do {
                    for p in AclZnodes.persistentParents { try? c.createRecursive(p) }
                    // Watches first, then the full read: a change made in between is both read and
                    // notified (re-reading is idempotent); the other order could miss it.
                    for dir in [AclZnodes.literalChanges, AclZnodes.extendedChanges] { try processChanges(dir, session, initial: true) }
                    try loadAll(c)
                    return
                } catch {
                    if attempt % 5 == 0 { logger.warn("loading ACLs from coordd failed (\(error)); retrying") }
                    sleepMs(200)
                }
            }
            state.withLock { $0.gaveUp = true }
            logger.error("could not load ACLs from coordd; requests stay denied until the next session")
        }
    }

    private func loadAll(_ c: CoordClient) throws {
        var all: [ResourcePattern: Set<AclEntry>] = [:]
        for pattern in [AclPatternType.literal, .prefixed] {
            for t in AclZnodes.storableTypes {
                guard let dir = AclZnodes.typePath(t, pattern) else { continue }
                let names: [String]
                do { names = try c.getChildren(dir) } catch let e as CoordError where e.isNoNode { continue }
                for n in names {
                    let r = ResourcePattern(t, n, pattern)
                    if let entries = try read(r, c) { all[r] = entries }
                }
            }
        }
        let count = all.values.reduce(0) { $0 + $1.count }
        state.withLock {
            $0.authorizer.replaceAll(all)
            $0.loaded = true
        }
        logger.info("loaded \(count) ACLs on \(all.count) resources")
    }

    /// One resource's entries from coordd (nil: no znode); corrupt data counts as none, loudly.
    private func read(_ r: ResourcePattern, _ c: CoordClient) throws -> Set<AclEntry>? {
        guard let path = AclZnodes.path(r) else { return nil }
        do {
            let (d, _) = try c.getData(path)
            do { return try AclZnodes.decode(d) } catch {
                logger.error("ignoring the ACLs of \(path): \(error)")
                return nil
            }
        } catch let e as CoordError where e.isNoNode { return nil }
    }

    /// Applies the change nodes newer than the last seen, re-arming the children watch.
    private func processChanges(_ dir: String, _ session: CoordSession, initial: Bool) throws {
        guard let c = session.connectedClient else {
            // Disconnected between the event and now: try again, or the watch would never be re-armed.
            if initial { throw AclStore.WriteError.noSession }
            queue.asyncAfter(deadline: .now() + 0.5) { [weak self, weak session] in
                guard let self, let session else { return }
                do { try self.processChanges(dir, session, initial: false) } catch { self.sessionStarted(session) }
            }
            return
        }
        let children = try c.getChildren(dir, watcher: { [weak self, weak session] _ in
            guard let self, let session else { return }
            self.queue.async {
                do { try self.processChanges(dir, session, initial: false) } catch {
                    self.logger.warn("reading ACL changes in \(dir) failed (\(error)); reloading all")
                    self.sessionStarted(session)
                }
            }
        })
        let seqs = children.compactMap { n -> (Int64, String)? in
            guard n.hasPrefix(AclZnodes.changePrefix), let s = Int64(n.dropFirst(AclZnodes.changePrefix.count)) else { return nil }
            return (s, n)
        }.sorted { $0.0 < $1.0 }
        let last = state.withLock { $0.lastSeen[dir] ?? -1 }
        let fresh = seqs.filter { $0.0 > last }
        if let top = seqs.last?.0 { state.withLock { $0.lastSeen[dir] = max($0.lastSeen[dir] ?? -1, top) } }
        if initial { return }  // loadAll reads everything these name next
        if fresh.count > AclZnodes.maxChangeNodes {
            try loadAll(c)
            return
        }
        for (_, name) in fresh {
            guard let (d, _) = try? c.getData("\(dir)/\(name)") else { continue }  // pruned meanwhile
            guard let r = AclZnodes.parseChange(dir: dir, d) else {
                logger.warn("unreadable ACL change \(dir)/\(name); reloading all ACLs")
                try loadAll(c)
                return
            }
            let entries = try read(r, c) ?? []
            state.withLock { $0.authorizer.set(r, entries) }
        }
    }

    // MARK: - Writes (CreateAcls / DeleteAcls)

    enum WriteError: Error { case noSession, conflict, coord(String) }

    /// Read-modify-write of one resource's znode, conditional on its version; an empty result
    /// deletes the znode. Then the change notification, and the local cache at once.
    /// Returns the entries actually removed (for DeleteAcls) on success.
    @discardableResult
    func modify(_ r: ResourcePattern, _ session: CoordSession, _ change: (Set<AclEntry>) -> Set<AclEntry>) throws -> Set<AclEntry> {
        guard let c = session.connectedClient, let path = AclZnodes.path(r) else { throw WriteError.noSession }
        for _ in 0..<20 {
            var current: Set<AclEntry> = []
            var version: Int32 = -1
            do {
                let (d, st) = try c.getData(path)
                current = (try? AclZnodes.decode(d)) ?? []
                version = st.version
            } catch let e as CoordError where e.isNoNode {
            } catch {
                throw WriteError.coord("\(error)")
            }
            let next = change(current)
            if next == current { return [] }
            do {
                if version < 0 {
                    try? c.createRecursive(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]))
                    _ = try c.create(path, data: AclZnodes.encode(next))
                } else if next.isEmpty {
                    try c.delete(path, version: version)
                } else {
                    _ = try c.setData(path, data: AclZnodes.encode(next), version: version)
                }
            } catch let e as CoordError where e.isNodeExists || e.isBadVersion || e.isNoNode {
                continue
            } catch {
                throw WriteError.coord("\(error)")
            }
            state.withLock { $0.authorizer.set(r, next) }
            notify(r, c)
            return current.subtracting(next)
        }
        throw WriteError.conflict
    }

    private func notify(_ r: ResourcePattern, _ c: CoordClient) {
        let (dir, data) = AclZnodes.changeNotification(r)
        do {
            _ = try c.create("\(dir)/\(AclZnodes.changePrefix)", data: data, mode: .persistentSequential)
        } catch {
            logger.warn("could not write the ACL change notification for \(r): \(error); other brokers see it after their next reload")
        }
        // Bounded history: drop the oldest once there are more than the readers scan.
        if let names = try? c.getChildren(dir), names.count > AclZnodes.maxChangeNodes {
            for n in names.sorted().prefix(names.count - AclZnodes.maxChangeNodes / 2) { try? c.delete("\(dir)/\(n)") }
        }
    }

    // MARK: - Denials

    func recordDenial(principal: String, host: String, operation: AclOperation, resource: AclResourceType, name: String, api: String) {
        denied?.labels(operation.zkName, resource.zkName).inc()
        denialLog("authorization denied: \(principal) from \(host) may not \(operation.zkName) \(resource.zkName):\(name) (\(api))")
    }
}

private func sleepMs(_ ms: UInt32) { usleep(ms * 1000) }
