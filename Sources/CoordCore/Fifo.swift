/// A FIFO over an array with a moving head, so popping is O(1). A popped slot is released at
/// once; the consumed prefix is dropped when the queue empties, or once it is more than
/// `compactAfter` items and half the array. Inlinable: it sits on the client and quorum hot paths.
public struct Fifo<T> {
    @usableFromInline var items: [T?] = []
    @usableFromInline var head = 0
    @usableFromInline let compactAfter: Int

    @inlinable
    public init(compactAfter: Int) {
        self.compactAfter = compactAfter
    }

    @inlinable public var count: Int { items.count - head }
    @inlinable public var isEmpty: Bool { head == items.count }
    @inlinable public var first: T? { head < items.count ? items[head] : nil }

    @inlinable
    public mutating func append(_ item: T) { items.append(item) }

    @inlinable
    @discardableResult
    public mutating func popFirst() -> T? {
        guard head < items.count else { return nil }
        let item = items[head]
        items[head] = nil
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head > compactAfter && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    @inlinable
    public mutating func removeAll() {
        items.removeAll()
        head = 0
    }
}

extension Fifo: Sendable where T: Sendable {}
