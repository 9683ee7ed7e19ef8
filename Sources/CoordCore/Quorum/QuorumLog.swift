import Protocol

/// The in-memory view of the durable log: entries above `base`, strictly increasing by zxid.
/// Everything at or below `base` is committed and lives only in the application's snapshot.
struct QuorumLog: Sendable, Equatable {
    private(set) var base: Zxid
    private(set) var entries: [QuorumTxn]

    init(base: Zxid, entries: [QuorumTxn]) throws {
        var previous = base
        var kept: [QuorumTxn] = []
        kept.reserveCapacity(entries.count)
        for txn in entries where txn.zxid > base {
            guard txn.zxid > previous else {
                throw QuorumError.invalidRestore("log zxids not increasing at \(txn.zxid)")
            }
            previous = txn.zxid
            kept.append(txn)
        }
        self.base = base
        self.entries = kept
    }

    var lastZxid: Zxid { entries.last?.zxid ?? base }

    /// Index of the first entry with zxid >= z.
    private func lowerBound(_ z: Zxid) -> Int {
        var lo = 0
        var hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].zxid < z { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Index of the first entry with zxid > z.
    private func upperBound(_ z: Zxid) -> Int {
        var lo = 0
        var hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].zxid <= z { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    func position(of z: Zxid) -> Int? {
        let i = lowerBound(z)
        return i < entries.count && entries[i].zxid == z ? i : nil
    }

    /// True when `z` is a point of this history the log can continue from.
    func contains(_ z: Zxid) -> Bool { z == base || position(of: z) != nil }

    /// Entries after `z`, or nil when `z` is not a point of this log.
    func entries(after z: Zxid) -> ArraySlice<QuorumTxn>? {
        if z == base { return entries[...] }
        guard let i = position(of: z) else { return nil }
        return entries[(i + 1)...]
    }

    /// Entries with `from < zxid <= through`.
    func entries(from: Zxid, through: Zxid) -> ArraySlice<QuorumTxn> {
        let lo = upperBound(from)
        let hi = max(lo, upperBound(through))
        return entries[lo..<hi]
    }

    func previous(ofIndex i: Int) -> Zxid { i == 0 ? base : entries[i - 1].zxid }

    /// The last logged zxid of `epoch`, if the log holds any entry of it.
    func lastZxid(inEpoch epoch: UInt32) -> Zxid? {
        let next = epoch == UInt32.max ? entries.count : lowerBound(Zxid(epoch: epoch + 1, counter: 0))
        guard next > 0, entries[next - 1].zxid.epoch == epoch else { return nil }
        return entries[next - 1].zxid
    }

    var summary: LogSummary {
        var ends: [Zxid] = []
        for (i, txn) in entries.enumerated() where i + 1 == entries.count || entries[i + 1].zxid.epoch != txn.zxid.epoch {
            ends.append(txn.zxid)
        }
        return LogSummary(base: base, lastZxid: lastZxid, epochEnds: ends)
    }

    /// The newest point shared by this history and a follower's, or nil when it cannot be told from
    /// the log kept here (the follower then needs a snapshot). Same zxid implies same transaction,
    /// and each epoch's entries form a gap-free prefix, so per epoch the shared part is the shorter.
    func divergence(with follower: LogSummary) -> Zxid? {
        var best = follower.base
        for end in follower.epochEnds {
            // Our base ends a gap-free run of its epoch too, even when compacted away.
            if let mine = lastZxid(inEpoch: end.epoch) ?? (base.epoch == end.epoch ? base : nil) {
                best = max(best, min(end, mine))
            }
        }
        if best > follower.lastZxid { best = follower.lastZxid }
        return best >= base && contains(best) ? best : nil
    }

    mutating func append(_ txn: QuorumTxn) {
        entries.append(txn)
    }

    mutating func truncate(after z: Zxid) {
        entries.removeSubrange(upperBound(z)...)
    }

    /// Forgets entries at or below `z` (the application has them in a durable snapshot).
    mutating func compact(through z: Zxid) {
        let cut = upperBound(z)
        guard cut > 0 else { return }
        base = entries[cut - 1].zxid
        entries.removeSubrange(..<cut)
    }

    mutating func reset(base newBase: Zxid) {
        base = newBase
        entries = []
    }
}
