import CoordCore
import Transport

/// ZooKeeper's ContainerManager: on the leader (or the standalone server) alone, every
/// `znode.container.checkIntervalMs` the empty containers and expired TTL nodes are deleted as
/// txns through prep and the quorum, like any write; followers never delete on their own.
extension CoordServer {
    func scheduleContainerCheck() {
        loop.schedule(afterMillis: config.containerCheckIntervalMs) { [weak self] in
            guard let self, !self.stopped else { return }
            self.reapContainers()
            self.scheduleContainerCheck()
        }
    }

    /// One check. At most maxPerMinute per minute: the budget of one interval, at least one.
    func reapContainers() {
        guard let q = quorum, q.leaderReady && q.servingNow else { return }
        let now = WallClock.millis()
        let candidates = tree.reapCandidates(now: now, maxNeverUsedIntervalMs: Int64(config.containerMaxNeverUsedIntervalMs))
        if candidates.isEmpty { return }
        let budget = max(1, Int((Int64(config.containerMaxPerMinute) * Int64(config.containerCheckIntervalMs)) / 60_000))
        for path in candidates.prefix(budget) {
            guard let t = prep.prepDeleteContainer(path: path, zxid: Int64(bitPattern: q.nextZxid.raw), time: now, tree: tree) else { continue }
            logger("deleting empty container or expired TTL node \(path)")
            proposeTxn(t, origin: nil)
        }
    }
}
