/// Hands out idempotent producer ids from blocks reserved in `/latest_producer_id_block`.
/// When the block runs out `allocate()` returns nil: the runtime reserves the next block
/// (`nextBlockWrite`), installs it, and asks again.
public struct ProducerIdAllocator: Sendable {
    public let brokerId: BrokerID
    public private(set) var block: ProducerIdBlock?
    public private(set) var nextId: Int64 = 0

    public init(brokerId: BrokerID) { self.brokerId = brokerId }

    public var needsBlock: Bool { block.map { nextId > $0.lastId } ?? true }

    public mutating func allocate() -> Int64? {
        guard let b = block, nextId <= b.lastId else { return nil }
        defer { nextId += 1 }
        return nextId
    }

    public mutating func install(_ b: ProducerIdBlock) {
        block = b
        nextId = b.firstId
    }

    /// The conditional write that reserves the block after `current` (the znode's payload and
    /// version, nil when it does not exist yet). On a version conflict re-read and retry.
    public func nextBlockWrite(current: (block: ProducerIdBlock?, zkVersion: Int32)?) -> (block: ProducerIdBlock, op: ZkOp) {
        let next = ProducerIdBlock.next(after: current?.block, brokerId: brokerId)
        guard let current else { return (next, .create(path: ZkPaths.latestProducerIdBlock, data: next.encoded())) }
        return (next, .setData(path: ZkPaths.latestProducerIdBlock, data: next.encoded(), expectedVersion: current.zkVersion))
    }
}
