import Storage
import Transport

/// Orders and durably commits transactions (opaque bytes + zxid).
/// Standalone: append to the txn log, fsync (group commit), then commit.
/// Ensemble (later): propose to the quorum; commit once a majority has logged it.
/// All calls and callbacks happen on the server's event-loop thread.
public protocol TxnReplicator: AnyObject {
    /// Hands over the next txn; zxids are submitted in increasing order.
    func submit(zxid: Int64, txn: [UInt8])
    /// Called for each committed txn, in zxid order (set by the server before `start`).
    var onCommit: ((_ zxid: Int64, _ txn: [UInt8]) -> Void)? { get set }
    /// Persists a snapshot of state as of `zxid`; `make` may run on another thread.
    func snapshot(zxid: Int64, _ make: @escaping @Sendable () -> [UInt8])
    /// Flushes everything submitted, then stops; blocks the caller until done.
    func stop()
}

/// The standalone replicator: a group-commit thread appends batches to the log with one fsync
/// each and hands completions back to the loop (persist, then reply).
public final class StandaloneReplicator: TxnReplicator, @unchecked Sendable {
    public var onCommit: ((Int64, [UInt8]) -> Void)?
    private let log: TxnLog
    private let logger: @Sendable (String) -> Void
    private let thread: GroupCommitThread<(zxid: Int64, txn: [UInt8])>

    /// The slow-disk fault: every fsync batch takes `ms` longer.
    func setSlowSync(ms: Int) { thread.setSlowSync(ms: ms) }

    /// `log` must already be recovered; from now on only the replicator thread touches it.
    public init(loop: EventLoop, log: TxnLog, snapshots: SnapshotStore, logger: @escaping @Sendable (String) -> Void) {
        self.log = log
        self.logger = logger
        thread = GroupCommitThread(name: "coordd-txnlog", loop: loop, log: log, snapshots: snapshots,
                                   failure: "transaction log write failed", logger: logger)
    }

    /// fsync time per batch, in ms; set before `start`.
    public var fsyncObserver: (@Sendable (Double) -> Void)? {
        get { thread.syncObserver }
        set { thread.syncObserver = newValue }
    }

    public func start() {
        thread.start(
            write: { [self] t in try log.append(zxid: t.zxid, bytes: t.txn) },
            completed: { [self] batch in
                for z in batch.snapshots { logger("snapshot written at zxid \(CoordServer.hex(z))") }
                guard let cb = onCommit else { return }
                for t in batch.ops { cb(t.zxid, t.txn) }
            })
    }

    public func submit(zxid: Int64, txn: [UInt8]) { thread.submit((zxid, txn)) }

    public func snapshot(zxid: Int64, _ make: @escaping @Sendable () -> [UInt8]) { thread.snapshot(zxid: zxid, make) }

    public func stop() { thread.stop() }
}
