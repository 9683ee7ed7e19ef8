/// A ZooKeeper transaction id: the leader's epoch in the high 32 bits, a per-epoch counter in the low
/// 32. Ordering by the raw value orders by epoch first, which is what every comparison needs.
public struct Zxid: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: UInt64

    public init(raw: UInt64) { self.raw = raw }

    public init(epoch: UInt32, counter: UInt32) {
        raw = UInt64(epoch) << 32 | UInt64(counter)
    }

    public static let zero = Zxid(raw: 0)

    public var epoch: UInt32 { UInt32(truncatingIfNeeded: raw >> 32) }
    public var counter: UInt32 { UInt32(truncatingIfNeeded: raw) }

    /// The next id in the same epoch, or nil when the counter is exhausted (a new epoch is needed).
    public var next: Zxid? {
        counter == UInt32.max ? nil : Zxid(raw: raw + 1)
    }

    public static func < (a: Zxid, b: Zxid) -> Bool { a.raw < b.raw }

    public var description: String {
        "0x" + String(epoch, radix: 16) + ":" + String(counter, radix: 16)
    }
}
