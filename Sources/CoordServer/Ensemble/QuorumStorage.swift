import CoordCore
import Protocol
import Storage
import Transport

/// The quorum's durable state on its own thread: epochs file, txn log (the quorum log, zxid =
/// epoch<<32 | counter) and snapshots. Jobs run in submission order; every job that arrives while
/// an fsync is under way joins the next batch, so one fdatasync covers many appends (group
/// commit). Completion is reported back on the loop as "durable through job N".
final class QuorumStorage: @unchecked Sendable {
    /// Loop thread: everything up to this job number is durable.
    var onDurable: ((UInt64) -> Void)?
    /// Loop thread: a periodic snapshot at this zxid is on disk.
    var onSnapshot: ((Int64) -> Void)?

    private let log: TxnLog
    private let snapshots: SnapshotStore
    private let epochs: EpochsFile
    private let membership: MembershipFile
    private let logger: @Sendable (String) -> Void
    private let thread: GroupCommitThread<(job: UInt64, ops: [StorageOp])>

    init(loop: EventLoop, log: TxnLog, snapshots: SnapshotStore, epochs: EpochsFile, logger: @escaping @Sendable (String) -> Void) {
        self.log = log
        self.snapshots = snapshots
        self.epochs = epochs
        membership = MembershipFile(fs: epochs.fs, directory: epochs.directory)
        self.logger = logger
        // Acknowledging anything without the log would break the quorum's promises.
        thread = GroupCommitThread(name: "coordd-quorumlog", loop: loop, log: log, snapshots: snapshots,
                                   failure: "quorum storage failed", logger: logger)
    }

    /// The slow-disk fault: every fsync batch takes `ms` longer.
    func setSlowSync(ms: Int) { thread.setSlowSync(ms: ms) }

    /// fsync time per batch, in ms; set before `start`.
    var fsyncObserver: (@Sendable (Double) -> Void)? {
        get { thread.syncObserver }
        set { thread.syncObserver = newValue }
    }

    func start() {
        thread.start(
            write: { [self] j in for op in j.ops { try perform(op) } },
            completed: { [self] batch in
                if let d = batch.ops.last?.job { onDurable?(d) }
                for z in batch.snapshots { onSnapshot?(z) }
            })
    }

    func submit(job: UInt64, _ ops: [StorageOp]) { thread.submit((job, ops)) }

    /// A periodic snapshot of applied state; the log up to there is synced first.
    func snapshot(zxid: Int64, _ make: @escaping @Sendable () -> [UInt8]) { thread.snapshot(zxid: zxid, make) }

    func stop() {
        guard let n = thread.stop() else { return }
        logger("quorum storage: \(n.jobs) jobs in \(n.batches) fsync batches")
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
        case .saveMembership(let m, let z):
            try membership.save(MembershipFile.Value(zxid: z.raw, voters: m.voters, observers: m.observers))
        }
    }

    private func fs(remove name: String) throws {
        try snapshots.fs.remove(snapshots.directory + "/" + name)
    }

    /// What a restarting server reads: newest valid snapshot, the log after it (torn tail cut),
    /// and the epochs. The application state is the snapshot alone; the quorum re-commits the
    /// log tail once a leader is established.
    static func recover(fs: any FileSystem, snapDir: String, logDir: String, logger: (String) -> Void) throws
        -> (snapshot: (zxid: Int64, payload: [UInt8])?, restore: QuorumRestore, log: TxnLog, snapshots: SnapshotStore, epochs: EpochsFile) {
        let (snapshots, snap) = try DataDirs.open(fs: fs, snapDir: snapDir, logDir: logDir)
        let base = snap?.zxid ?? 0
        let (log, records) = try DataDirs.recoverLog(fs: fs, logDir: logDir, after: base, logger: logger)
        let epochsFile = EpochsFile(fs: fs, directory: logDir)
        let e = try epochsFile.load()
        var restore = QuorumRestore(
            epochs: QuorumEpochs(acceptedEpoch: e.acceptedEpoch, acceptedLeader: e.acceptedLeader, currentEpoch: e.currentEpoch),
            snapshotZxid: Zxid(raw: UInt64(bitPattern: base)),
            log: records.map { QuorumTxn(zxid: Zxid(raw: UInt64(bitPattern: $0.zxid)), data: $0.bytes) })
        if let m = try MembershipFile(fs: fs, directory: logDir).load() {
            restore.membership = QuorumMembership(voters: m.voters, observers: m.observers)
            restore.membershipZxid = Zxid(raw: m.zxid)
        }
        return (snap, restore, log, snapshots, epochsFile)
    }
}
