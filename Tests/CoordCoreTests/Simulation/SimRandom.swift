import Protocol

/// The project's SplitMix64 with the draws the simulation needs.
struct SimRandom: RandomNumberGenerator {
    private var base: SplitMix64

    init(seed: UInt64) { base = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { base.next() }

    mutating func chance(_ p: Double) -> Bool { p > 0 && Double.random(in: 0..<1, using: &self) < p }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
}

/// A binary min-heap of timed events; ties keep insertion order so runs are reproducible.
struct EventHeap<Payload> {
    private var items: [(time: Int, seq: Int, payload: Payload)] = []
    private var counter = 0

    var isEmpty: Bool { items.isEmpty }
    var nextTime: Int? { items.first?.time }

    private func less(_ a: Int, _ b: Int) -> Bool {
        items[a].time != items[b].time ? items[a].time < items[b].time : items[a].seq < items[b].seq
    }

    mutating func push(_ time: Int, _ payload: Payload) {
        counter += 1
        items.append((time, counter, payload))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(i, parent) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (time: Int, payload: Payload)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < items.count && less(l, m) { m = l }
            if r < items.count && less(r, m) { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return (top.time, top.payload)
    }
}
