/// A FIFO over an array with a moving head, so popping is O(1). A popped slot is released at
/// once; the consumed prefix is dropped when the queue empties, or once it is more than
/// `compactAfter` items and half the array.
struct Fifo<T> {
    private var items: [T?] = []
    private var head = 0
    private let compactAfter: Int

    init(compactAfter: Int) {
        self.compactAfter = compactAfter
    }

    var count: Int { items.count - head }
    var isEmpty: Bool { head == items.count }
    var first: T? { head < items.count ? items[head] : nil }

    mutating func append(_ item: T) { items.append(item) }

    @discardableResult
    mutating func popFirst() -> T? {
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

    mutating func removeAll() {
        items.removeAll()
        head = 0
    }
}
