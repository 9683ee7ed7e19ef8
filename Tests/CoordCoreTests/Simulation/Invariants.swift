import CoordCore
import Protocol

/// Safety properties checked as the simulation runs; each breach is recorded, not trapped.
struct InvariantChecker {
    /// The committed history, in order: every replica applies a prefix of it.
    private(set) var history: [QuorumTxn] = []
    private var historyIndex: [Zxid: Int] = [:]
    /// Serving leader per epoch.
    private(set) var leaders: [UInt32: UInt64] = [:]
    /// Writes acknowledged to their client (applied at the server the client used).
    private(set) var acked: [RequestOrigin: Zxid] = [:]
    private(set) var violations: [String] = []

    mutating func fail(_ s: String) {
        if violations.count < 20 { violations.append(s) }
    }

    func committedIndex(of z: Zxid) -> Int? { historyIndex[z] }

    /// A replica applied `txn` as its `position`-th transaction.
    mutating func applied(_ replica: UInt64, _ txn: QuorumTxn, position: Int) {
        if position < history.count {
            let known = history[position]
            if known.zxid != txn.zxid || known.data != txn.data {
                fail("server \(replica) applied \(txn.zxid) at #\(position) but history has \(known.zxid)")
            }
        } else if position == history.count {
            if let last = history.last, txn.zxid <= last.zxid {
                fail("committed zxid \(txn.zxid) not above \(last.zxid)")
            }
            historyIndex[txn.zxid] = history.count
            history.append(QuorumTxn(zxid: txn.zxid, data: txn.data))
        } else {
            fail("server \(replica) applied past the end of history")
        }
        if let origin = txn.origin, origin.server == replica {
            if acked[origin] != nil { fail("write \(origin) acknowledged twice") }
            acked[origin] = txn.zxid
        }
    }

    /// After a snapshot install the application state must still be a prefix of the history.
    mutating func installed(_ replica: UInt64, _ txns: [QuorumTxn]) {
        guard txns.count <= history.count else {
            return fail("server \(replica) installed a snapshot longer than the committed history")
        }
        for (i, t) in txns.enumerated() where history[i].zxid != t.zxid || history[i].data != t.data {
            return fail("server \(replica) installed a snapshot diverging at #\(i)")
        }
    }

    /// A leader started serving: unique in its epoch, and holding the whole committed history.
    mutating func leaderServing(_ replica: UInt64, epoch: UInt32, appliedCount: Int) {
        if let other = leaders[epoch], other != replica {
            fail("epoch \(epoch) has two leaders: \(other) and \(replica)")
        }
        leaders[epoch] = replica
        if appliedCount != history.count {
            fail("leader \(replica) of epoch \(epoch) has \(appliedCount) of \(history.count) committed txns")
        }
    }

    mutating func logAppend(_ replica: UInt64, _ txn: QuorumTxn, after last: Zxid) {
        if txn.zxid <= last { fail("server \(replica) logged \(txn.zxid) after \(last)") }
        if let i = historyIndex[txn.zxid], history[i].data != txn.data {
            fail("server \(replica) logged different bytes for committed \(txn.zxid)")
        }
    }

    mutating func logTruncated(_ replica: UInt64, _ removed: [QuorumTxn]) {
        for t in removed where historyIndex[t.zxid] != nil {
            fail("server \(replica) truncated committed \(t.zxid)")
        }
    }
}
