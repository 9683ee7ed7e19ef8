#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Storage
import Synchronization
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

/// The standalone replicator: a dedicated thread appends batches to the log with one fsync each
/// and hands completions back to the loop (persist, then reply).
public final class StandaloneReplicator: TxnReplicator, @unchecked Sendable {
    private enum Work {
        case txn(Int64, [UInt8])
        case snapshot(Int64, @Sendable () -> [UInt8])
    }

    private struct Inbox {
        var work: [Work] = []
        var stopping = false
    }

    public var onCommit: ((Int64, [UInt8]) -> Void)?
    private let loop: EventLoop
    private let log: TxnLog
    private let snapshots: SnapshotStore
    private let inbox = Mutex(Inbox())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let logger: @Sendable (String) -> Void
    private var started = false

    /// `log` must already be recovered; from now on only the replicator thread touches it.
    public init(loop: EventLoop, log: TxnLog, snapshots: SnapshotStore, logger: @escaping @Sendable (String) -> Void) {
        self.loop = loop
        self.log = log
        self.snapshots = snapshots
        self.logger = logger
    }

    public func start() {
        guard !started else { return }
        started = true
        let t = Thread { [self] in run() }
        t.name = "coordd-txnlog"
        t.start()
    }

    public func submit(zxid: Int64, txn: [UInt8]) {
        inbox.withLock { $0.work.append(.txn(zxid, txn)) }
        wake.signal()
    }

    public func snapshot(zxid: Int64, _ make: @escaping @Sendable () -> [UInt8]) {
        inbox.withLock { $0.work.append(.snapshot(zxid, make)) }
        wake.signal()
    }

    public func stop() {
        guard started else { log.close(); return }
        inbox.withLock { $0.stopping = true }
        wake.signal()
        finished.wait()
    }

    private func run() {
        while true {
            wake.wait()
            let (batch, stopping) = inbox.withLock { box -> ([Work], Bool) in
                let w = box.work
                box.work.removeAll(keepingCapacity: true)
                return (w, box.stopping)
            }
            var committed: [(Int64, [UInt8])] = []
            do {
                for w in batch {
                    switch w {
                    case .txn(let z, let b):
                        try log.append(zxid: z, bytes: b)
                        committed.append((z, b))
                    case .snapshot(let z, let make):
                        // Records up to z must be durable before a snapshot claims them.
                        try log.sync()
                        try snapshots.write(zxid: z, payload: make())
                        try snapshots.purge(keep: 3)
                        if let oldest = try snapshots.snapshots().first { try log.purge(upTo: oldest.zxid) }
                        logger("snapshot written at zxid 0x\(String(UInt64(bitPattern: z), radix: 16))")
                    }
                }
                try log.sync()
            } catch {
                // The log is the source of truth; without it nothing may be acknowledged.
                logger("FATAL: transaction log write failed: \(error)")
                exit(1)
            }
            if !committed.isEmpty {
                let box = UncheckedBox(self)
                let done = committed
                loop.execute {
                    guard let cb = box.value.onCommit else { return }
                    for (z, b) in done { cb(z, b) }
                }
            }
            if stopping {
                log.close()
                finished.signal()
                return
            }
        }
    }
}

/// Moves a loop-confined reference into a closure that runs back on that loop.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}
