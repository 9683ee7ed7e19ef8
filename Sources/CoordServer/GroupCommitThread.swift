#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Storage
import Synchronization
import Transport

/// Group commit of coordd's txn log on a dedicated thread (the quorum storage, standalone included).
/// Jobs run in submission order; every job that arrives while a batch is being synced joins the
/// next one, so one fsync covers the whole batch. Only after that fsync does the batch's
/// completion run on the loop (persist, then reply).
final class GroupCommitThread<Op: Sendable>: @unchecked Sendable {
    private enum Job: Sendable {
        case op(Op)
        /// A snapshot of applied state; the log up to it is synced first.
        case snapshot(Int64, @Sendable () -> [UInt8])
    }

    private struct Inbox {
        var jobs: [Job] = []
        var stopping = false
    }

    /// What one durable batch did, handed to the completion on the loop.
    struct Batch: Sendable {
        var ops: [Op] = []
        var snapshots: [Int64] = []
    }

    private let name: String
    private let loop: EventLoop
    private let log: TxnLog
    private let snapshots: SnapshotStore
    private let failure: String
    private let logger: @Sendable (String) -> Void
    private let inbox = Mutex(Inbox())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    /// Gets each batch's fsync time in ms (metrics); set before `start`.
    var syncObserver: (@Sendable (Double) -> Void)?
    /// Added to every batch's fsync by the fault controls (`POST /faults/fsync?ms=`): a slow disk.
    private let slowSyncMs = Atomic<Int>(0)
    func setSlowSync(ms: Int) { slowSyncMs.store(ms, ordering: .relaxed) }
    /// Caller side only.
    private var started = false
    /// Worker thread only until `stop` returns.
    private var batches = 0
    private var jobs = 0

    /// `log` must already be recovered; from `start` on only this thread touches it. A write
    /// failure is fatal, logged as "FATAL: `failure`: error".
    init(name: String, loop: EventLoop, log: TxnLog, snapshots: SnapshotStore, failure: String,
         logger: @escaping @Sendable (String) -> Void) {
        self.name = name
        self.loop = loop
        self.log = log
        self.snapshots = snapshots
        self.failure = failure
        self.logger = logger
    }

    /// `write` runs on the thread for each op (before the batch's fsync); `completed` runs on the
    /// loop once a batch that wrote ops or snapshots is durable. Both are held only while the
    /// thread runs, so they may capture their owner strongly.
    func start(write: @escaping @Sendable (Op) throws -> Void, completed: @escaping @Sendable (Batch) -> Void) {
        guard !started else { return }
        started = true
        let t = Thread { [self] in run(write, completed) }
        t.name = name
        t.start()
    }

    func submit(_ op: Op) { enqueue(.op(op)) }

    /// Persists a snapshot of state as of `zxid`; `make` runs on the thread.
    func snapshot(zxid: Int64, _ make: @escaping @Sendable () -> [UInt8]) { enqueue(.snapshot(zxid, make)) }

    /// Writes and syncs everything submitted, closes the log and waits for the thread. Returns the
    /// number of jobs and fsync batches, or nil when the thread never started.
    @discardableResult
    func stop() -> (jobs: Int, batches: Int)? {
        guard started else { log.close(); return nil }
        inbox.withLock { $0.stopping = true }
        wake.signal()
        finished.wait()
        return (jobs, batches)
    }

    /// A periodic snapshot is an optimisation (the log holds every txn since the last one), so a
    /// failed write (a full disk) is logged and skipped: the partial file is removed, the earlier
    /// snapshots and the log they need stay, and the next snapshot tries again.
    private func writeSnapshot(_ z: Int64, _ make: () -> [UInt8]) -> Bool {
        do {
            try snapshots.write(zxid: z, payload: make())
        } catch {
            logger("snapshot at zxid 0x\(String(UInt64(bitPattern: z), radix: 16)) not written: \(error); "
                + "keeping the previous snapshots and the txn log")
            return false
        }
        do {
            try snapshots.purge(keep: 3)
            if let oldest = try snapshots.snapshots().first { try log.purge(upTo: oldest.zxid) }
        } catch {
            logger("purging old snapshots and logs after zxid 0x\(String(UInt64(bitPattern: z), radix: 16)): \(error)")
        }
        return true
    }

    /// Signals only when the inbox was empty: the thread takes every job at once, so one wake per
    /// batch (a wake per job made the thread spin through empty batches after each fsync).
    private func enqueue(_ job: Job) {
        let first = inbox.withLock { box -> Bool in
            box.jobs.append(job)
            return box.jobs.count == 1
        }
        if first { wake.signal() }
    }

    private func run(_ write: (Op) throws -> Void, _ completed: @escaping @Sendable (Batch) -> Void) {
        while true {
            wake.wait()
            let (batch, stopping) = inbox.withLock { box -> ([Job], Bool) in
                let w = box.jobs
                box.jobs.removeAll(keepingCapacity: true)
                return (w, box.stopping)
            }
            var done = Batch()
            do {
                for job in batch {
                    switch job {
                    case .op(let op):
                        try write(op)
                        done.ops.append(op)
                    case .snapshot(let z, let make):
                        // Records up to z must be durable before a snapshot claims them.
                        try log.sync()
                        if writeSnapshot(z, make) { done.snapshots.append(z) }
                    }
                }
                // A wake with nothing taken has nothing to make durable: every earlier batch synced
                // its own writes (an fdatasync of a clean log can still flush the disk's cache).
                if !batch.isEmpty {
                    let t0 = MonotonicClock.nanos()
                    if case let ms = slowSyncMs.load(ordering: .relaxed), ms > 0 { usleep(UInt32(ms) * 1000) }
                    try log.sync()
                    if let o = syncObserver { o(Double(MonotonicClock.nanos() - t0) / 1_000_000) }
                }
            } catch {
                // The log is the source of truth; nothing may be acknowledged without it, and a
                // failed write or fsync leaves its tail unknown, so the server stops here, as
                // ZooKeeper does. A restart recovers the log (a torn tail is cut) and resyncs.
                logger("FATAL: \(failure): \(error); exiting so that nothing unwritten is acknowledged "
                    + "(restart the server once the disk has space or is repaired)")
                exit(1)
            }
            if !batch.isEmpty { batches += 1; jobs += batch.count }
            if !done.ops.isEmpty || !done.snapshots.isEmpty {
                loop.execute { [done] in completed(done) }
            }
            if stopping {
                log.close()
                finished.signal()
                return
            }
        }
    }
}
