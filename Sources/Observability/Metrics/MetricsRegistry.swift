import Synchronization

/// Metrics a daemon updates as things happen (counters, gauges, histograms, by label values), plus
/// collectors that write values read at scrape time. Updates take one uncontended lock on the
/// cell; rendering walks the families once, so a scrape costs what the series count costs.
public final class MetricsRegistry: Sendable {
    private let families = Mutex<[any MetricFamily]>([])
    private let collectors = Mutex<[@Sendable (inout PrometheusText) -> Void]>([])

    public init() {}

    public func counter(_ name: String, help: String, labels: [String] = []) -> CounterFamily {
        register(CounterFamily(name: name, help: help, labelNames: labels))
    }

    public func gauge(_ name: String, help: String, labels: [String] = []) -> GaugeFamily {
        register(GaugeFamily(name: name, help: help, labelNames: labels))
    }

    public func histogram(_ name: String, help: String, labels: [String] = [], buckets: [Double]) -> HistogramFamily {
        register(HistogramFamily(name: name, help: help, labelNames: labels, buckets: buckets))
    }

    /// Adds a function that writes whole families at each scrape (values owned elsewhere).
    public func collect(_ f: @escaping @Sendable (inout PrometheusText) -> Void) {
        collectors.withLock { $0.append(f) }
    }

    private func register<F: MetricFamily>(_ f: F) -> F {
        families.withLock { $0.append(f) }
        return f
    }

    public func render() -> String {
        var out = PrometheusText(reservingCapacity: 16 * 1024)
        for c in collectors.withLock({ $0 }) { c(&out) }
        for f in families.withLock({ $0 }) { f.render(into: &out) }
        return out.output
    }

    /// Latency buckets in seconds, 100 µs to 10 s.
    public static let latencyBuckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
}

protocol MetricFamily: Sendable {
    func render(into out: inout PrometheusText)
}

/// Cells by label values, created on first use.
final class Cells<Cell: Sendable>: Sendable {
    private let map = Mutex<[[String]: Cell]>([:])
    private let make: @Sendable () -> Cell
    init(_ make: @escaping @Sendable () -> Cell) { self.make = make }

    func cell(_ values: [String]) -> Cell {
        map.withLock { m in
            if let c = m[values] { return c }
            let c = make()
            m[values] = c
            return c
        }
    }

    func remove(_ values: [String]) { _ = map.withLock { $0.removeValue(forKey: values) } }

    /// Sorted by label values, so series keep their order between scrapes.
    func all() -> [([String], Cell)] {
        map.withLock { Array($0) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
    }
}

public final class Counter: Sendable {
    private let v = Mutex<Double>(0)
    public func inc(_ by: Double = 1) { v.withLock { $0 += max(0, by) } }
    public var value: Double { v.withLock { $0 } }
}

public final class Gauge: Sendable {
    private let v = Mutex<Double>(0)
    public func set(_ x: Double) { v.withLock { $0 = x } }
    public func add(_ x: Double) { v.withLock { $0 += x } }
    public var value: Double { v.withLock { $0 } }
}

public final class Histogram: Sendable {
    let upper: [Double]
    private let state: Mutex<(counts: [UInt64], sum: Double, count: UInt64)>

    init(buckets: [Double]) {
        upper = buckets
        state = Mutex(([UInt64](repeating: 0, count: buckets.count + 1), 0, 0))
    }

    public func observe(_ x: Double) {
        var i = 0
        while i < upper.count, x > upper[i] { i += 1 }
        state.withLock { s in
            s.counts[i] += 1
            s.sum += x
            s.count += 1
        }
    }

    var snapshot: (counts: [UInt64], sum: Double, count: UInt64) { state.withLock { $0 } }
}

public final class CounterFamily: MetricFamily {
    let name: String, help: String, labelNames: [String]
    let cells = Cells { Counter() }
    init(name: String, help: String, labelNames: [String]) { self.name = name; self.help = help; self.labelNames = labelNames }
    public func labels(_ values: String...) -> Counter { precondition(values.count == labelNames.count); return cells.cell(values) }
    public func inc(_ by: Double = 1) { cells.cell([]).inc(by) }
    /// The unlabelled series' value.
    public var value: Double { cells.cell([]).value }
    public func remove(_ values: String...) { cells.remove(values) }
    func render(into out: inout PrometheusText) {
        out.family(name, .counter, help: help)
        for (vals, c) in cells.all() { out.sample(name, Array(zip(labelNames, vals)), c.value) }
    }
}

public final class GaugeFamily: MetricFamily {
    let name: String, help: String, labelNames: [String]
    let cells = Cells { Gauge() }
    init(name: String, help: String, labelNames: [String]) { self.name = name; self.help = help; self.labelNames = labelNames }
    public func labels(_ values: String...) -> Gauge { precondition(values.count == labelNames.count); return cells.cell(values) }
    public func set(_ x: Double) { cells.cell([]).set(x) }
    public func remove(_ values: String...) { cells.remove(values) }
    func render(into out: inout PrometheusText) {
        out.family(name, .gauge, help: help)
        for (vals, g) in cells.all() { out.sample(name, Array(zip(labelNames, vals)), g.value) }
    }
}

public final class HistogramFamily: MetricFamily {
    let name: String, help: String, labelNames: [String], buckets: [Double]
    let cells: Cells<Histogram>
    init(name: String, help: String, labelNames: [String], buckets: [Double]) {
        precondition(!buckets.isEmpty && zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 }, "buckets must increase")
        self.name = name; self.help = help; self.labelNames = labelNames; self.buckets = buckets
        cells = Cells { Histogram(buckets: buckets) }
    }
    public func labels(_ values: String...) -> Histogram { precondition(values.count == labelNames.count); return cells.cell(values) }
    public func observe(_ x: Double) { cells.cell([]).observe(x) }
    func render(into out: inout PrometheusText) {
        out.family(name, .histogram, help: help)
        for (vals, h) in cells.all() {
            let labels = Array(zip(labelNames, vals))
            let s = h.snapshot
            var cumulative: UInt64 = 0
            for (i, le) in buckets.enumerated() {
                cumulative += s.counts[i]
                out.sample(name + "_bucket", labels + [("le", PrometheusText.format(le))], Double(cumulative))
            }
            out.sample(name + "_bucket", labels + [("le", "+Inf")], Double(s.count))
            out.sample(name + "_sum", labels, s.sum)
            out.sample(name + "_count", labels, Double(s.count))
        }
    }
}
