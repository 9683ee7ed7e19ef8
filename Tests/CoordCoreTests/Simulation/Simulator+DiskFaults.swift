@testable import CoordCore
import Protocol

/// Disk faults and disk replacement, as coordd's runtime meets them.
extension Simulator {
    /// Whether server `id`'s disk is failing now (the fault ends by itself at its deadline).
    func diskFailing(_ id: UInt64) -> Bool {
        guard let until = diskFaultUntil[id] else { return false }
        if now < until { return true }
        diskFaultUntil[id] = nil
        return false
    }

    /// Server `id`'s disk fails for `ms` (fills up, or its fsyncs return errors). Every storage job
    /// in that time fails part-way, and the server exits as GroupCommitThread does; restarts in
    /// that time fail at their first write. Snapshots are skipped.
    func diskFault(_ id: UInt64, forMs ms: Int) {
        note("disk of \(id) fails for \(ms) ms")
        diskFaultUntil[id] = now + ms
    }

    /// The failing write: the job joins those in flight and the process dies with them, keeping
    /// a random prefix (the last append possibly torn), exactly what a crash keeps.
    func failStorage(_ r: SimReplica, job: UInt64, _ ops: [StorageOp]) {
        diskFailures += 1
        note("server \(r.id) storage job \(job) failed on its disk: exits")
        r.jobs.append((job, ops, false))
        crash(r.id)
    }

    /// A dead disk replaced with an empty one (a membership change in a static ensemble: the
    /// server rejoins as a new member with its old id, like ZooKeeper after a disk swap). Only
    /// when that is safe, as an operator must ensure: a serving leader that every other server
    /// follows, nothing in flight on their disks, and every one of them holding the same log, so
    /// no ack the old disk gave can be the one a commit still needs. Messages in flight from the
    /// old disk's process are gone by the time the new disk is in.
    @discardableResult
    func replaceDisk(_ id: UInt64) -> Bool {
        guard let r = replicas[id], let l = leader, l != id else { return false }
        let others = ids.compactMap { $0 == id ? nil : replicas[$0] }
        guard others.allSatisfy({ $0.isUp && $0.jobs.isEmpty && $0.peer?.leaderId == l }),
              Set(others.map(\.disk.lastZxid)).count == 1, others.count >= ids.count / 2 + 1 else { return false }
        note("disk of \(id) replaced with an empty one")
        crash(id)
        r.disk = SimDisk()
        r.incarnation += 1
        disksReplaced += 1
        return true
    }
}
