/// Holds answers decided against prepared but uncommitted state until everything prepared before
/// them has committed. Prep validates a write against the writes ahead of it, so an error such as
/// BadVersion may be caused by a write that never commits; answered at once, it would reveal a
/// state that never existed (a linearizability violation). Held answers are released in order.
/// If leadership is lost first, `removeAll` drops them: their clients must see connection loss.
public struct CommitBarrier<T> {
    private var items: [(after: Int64, value: T)] = []
    private var head = 0

    public init() {}

    public var count: Int { items.count - head }

    /// True when `value` may be answered at once: nothing prepared ahead of it is uncommitted and
    /// nothing is held (answers leave in prep order).
    public func isClear(prepared: Int64, committed: Int64) -> Bool {
        count == 0 && prepared <= committed
    }

    /// Holds `value` until `committed` reaches `prepared` (the last zxid prepared before it).
    public mutating func hold(_ value: T, untilCommitted prepared: Int64) {
        // A later hold never waits for less than an earlier one: releases stay in order.
        let after = max(prepared, items.last.map { $0.after } ?? Int64.min)
        items.append((after, value))
    }

    /// The held answers whose predecessors are all committed through `committed`, in order.
    public mutating func release(committed: Int64) -> [T] {
        var out: [T] = []
        while head < items.count, items[head].after <= committed {
            out.append(items[head].value)
            head += 1
        }
        compact()
        return out
    }

    /// Everything held, dropped (leadership lost: the prepared txns may never commit).
    public mutating func removeAll() -> [T] {
        let out = items[head...].map { $0.value }
        items.removeAll()
        head = 0
        return out
    }

    private mutating func compact() {
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 256 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}
