#if canImport(Glibc)
import Glibc
#endif
import CoordCore
import Dispatch
import Foundation
import Protocol
import Storage
import Synchronization
import Transport

/// The quorum's durable state on its own thread: epochs file, txn log (the quorum log, zxid =
/// epoch<<32 | counter) and snapshots. Jobs run in submission order; every job that arrives while
/// an fsync is under way joins the next batch, so one fdatasync covers many appends (group
/// commit). Completion is reported back on the loop as "durable through job N".
final class QuorumStorage: @unchecked Sendable {
    private enum Job {
        case ops(UInt64, [StorageOp])
        /// A periodic snapshot of applied state; the log up to there is synced first.
        case snapshot(Int64, @Sendable () -> [UInt8])
    }

    private struct Inbox {
        var jobs: [Job] = []
        var stopping = false
    }

    /// Loop thread: everything up to this job number is durable.
    var onDurable: ((UInt64) -> Void)?
    /// Loop thread: a periodic snapshot at this zxid is on disk.
    var onSnapshot: ((Int64) -> Void)?

    private let loop: EventLoop
    private let log: TxnLog
    private let snapshots: SnapshotStore
    private let epochs: EpochsFile
    private let logger: @Sendable (String) -> Void
    private let inbox = Mutex(Inbox())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var started = false
    /// Timing counters (worker thread only), logged at stop.
    private var batches = 0
    private var syncedJobs = 0

    init(loop: EventLoop, log: TxnLog, snapshots: SnapshotStore, epochs: EpochsFile, logger: @escaping @Sendable (String) -> Void) {
        self.loop = loop
        self.log = log
        self.snapshots = snapshots
        self.epochs = epochs
        self.logger = logger
    }

    func start() {
        guard !started else { return }
        started = true
        let t = Thread { [self] in run() }
        t.name = "coordd-quorumlog"
        t.start()
    }

    func submit(job: UInt64, _ ops: [StorageOp]) {
        inbox.withLock { $0.jobs.append(.ops(job, ops)) }
        wake.signal()
    }

    func snapshot(zxid: Int64, _ make: @escaping @Sendable () -> [UInt8]) {
        inbox.withLock { $0.jobs.append(.snapshot(zxid, make)) }
        wake.signal()
    }

    func stop() {
        guard started else { log.close(); return }
        inbox.withLock { $0.stopping = true }
        wake.signal()
        finished.wait()
    }

    private func run() {
        while true {
            wake.wait()
            let (batch, stopping) = inbox.withLock { box -> ([Job], Bool) in
                let w = box.jobs
                box.jobs.removeAll(keepingCapacity: true)
                return (w, box.stopping)
            }
            var durable: UInt64?
            var snaps: [Int64] = []
            do {
                for job in batch {
                    switch job {
                    case .ops(let n, let ops):
                        for op in ops { try perform(op) }
                        durable = n
                    case .snapshot(let z, let make):
                        try log.sync()
                        try snapshots.write(zxid: z, payload: make())
                        try snapshots.purge(keep: 3)
                        if let oldest = try snapshots.snapshots().first { try log.purge(upTo: oldest.zxid) }
                        snaps.append(z)
                    }
                }
                try log.sync()
            } catch {
                // Acknowledging anything without the log would break the quorum's promises.
                logger("FATAL: quorum storage failed: \(error)")
                exit(1)
            }
            if !batch.isEmpty { batches += 1; syncedJobs += batch.count }
            if durable != nil || !snaps.isEmpty {
                let box = UncheckedBox(self)
                let done = durable
                let written = snaps
                loop.execute {
                    let s = box.value
                    if let d = done { s.onDurable?(d) }
                    for z in written { s.onSnapshot?(z) }
                }
            }
            if stopping {
                log.close()
                logger("quorum storage: \(syncedJobs) jobs in \(batches) fsync batches")
                finished.signal()
                return
            }
        }
    }

    private func perform(_ op: StorageOp) throws {
        switch op {
        case .saveEpochs(let e):
            // Appends before this point must not be overtaken by the epoch change.
            try log.sync()
            try epochs.save(EpochsFile.Value(acceptedEpoch: e.acceptedEpoch, acceptedLeader: e.acceptedLeader, currentEpoch: e.currentEpoch))
        case .truncateLog(let z):
            try log.truncate(after: Int64(bitPattern: z.raw))
        case .appendLog(let txns):
            for t in txns { try log.append(zxid: Int64(bitPattern: t.zxid.raw), bytes: t.data) }
        case .installSnapshot(let z, let data):
            let zxid = Int64(bitPattern: z.raw)
            try snapshots.write(zxid: zxid, payload: data)
            // Newer local snapshots would shadow this one on restart; the log restarts after it.
            for s in try snapshots.snapshots() where s.zxid > zxid { try fs(remove: s.name) }
            try log.reset(base: zxid)
            try snapshots.purge(keep: 3)
            logger("installed snapshot from the leader at zxid \(z)")
        }
    }

    private func fs(remove name: String) throws {
        try snapshots.fs.remove(snapshots.directory + "/" + name)
    }

    /// What a restarting server reads: newest valid snapshot, the log after it (torn tail cut),
    /// and the epochs. The application state is the snapshot alone; the quorum re-commits the
    /// log tail once a leader is established.
    static func recover(fs: CoordFileSystem, snapDir: String, logDir: String, logger: (String) -> Void) throws
        -> (snapshot: (zxid: Int64, payload: [UInt8])?, restore: QuorumRestore, log: TxnLog, snapshots: SnapshotStore, epochs: EpochsFile) {
        try fs.makeDirectories(snapDir)
        try fs.makeDirectories(logDir)
        let snapshots = SnapshotStore(fs: fs, directory: snapDir)
        let snap = try snapshots.loadNewest()
        let base = snap?.zxid ?? 0
        let log = TxnLog(fs: fs, directory: logDir)
        let records = try log.recover(after: base)
        if log.report.truncatedBytes > 0 {
            logger("txn log: cut \(log.report.truncatedBytes) bytes of torn or corrupt tail, removed \(log.report.removedFiles) files")
        }
        let epochsFile = EpochsFile(fs: fs, directory: logDir)
        let e = try epochsFile.load()
        let restore = QuorumRestore(
            epochs: QuorumEpochs(acceptedEpoch: e.acceptedEpoch, acceptedLeader: e.acceptedLeader, currentEpoch: e.currentEpoch),
            snapshotZxid: Zxid(raw: UInt64(bitPattern: base)),
            log: records.map { QuorumTxn(zxid: Zxid(raw: UInt64(bitPattern: $0.zxid)), data: $0.bytes) })
        return (snap, restore, log, snapshots, epochsFile)
    }
}
