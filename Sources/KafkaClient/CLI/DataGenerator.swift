import Protocol

/// Realistic dummy records as JSON (the shapes of Confluent's datagen quickstarts), seeded and
/// clock-free: the caller passes the timestamp.
public struct DataGenerator: Sendable {
    public let kind: DatagenOptions.Kind
    private var rng: SplitMix64
    private var sequence = 0

    public init(kind: DatagenOptions.Kind, seed: UInt64) {
        self.kind = kind
        rng = SplitMix64(seed: seed)
    }

    private static let cities = ["Berlin", "Lisbon", "Austin", "Osaka", "Nairobi", "Toronto", "Lyon", "Pune", "Bergen", "Cusco"]
    private static let states = ["BE", "LI", "TX", "OS", "NA", "ON", "AR", "MH", "VL", "CU"]
    private static let items = ["Item_101", "Item_202", "Item_303", "Item_404", "Item_505", "Item_606", "Item_707", "Item_808"]
    private static let regions = ["Region_1", "Region_2", "Region_3", "Region_4", "Region_5", "Region_6", "Region_7", "Region_8", "Region_9"]

    private mutating func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
    private mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }

    /// The next record's key and JSON value.
    public mutating func next(timestampMs: Int64) -> (key: String, value: String) {
        sequence += 1
        switch kind {
        case .orders:
            let id = sequence
            let city = int(0...(Self.cities.count - 1))
            let units = Double(int(1...2000)) / 100
            let units2 = (units * 100).rounded() / 100
            let value = "{\"ordertime\":\(timestampMs),\"orderid\":\(id),\"itemid\":\"\(pick(Self.items))\",\"orderunits\":\(units2),"
                + "\"address\":{\"city\":\"\(Self.cities[city])\",\"state\":\"\(Self.states[city])\",\"zipcode\":\(int(10000...99999))}}"
            return (String(id), value)
        case .pageviews:
            let user = "User_\(int(1...9))"
            let value = "{\"viewtime\":\(timestampMs),\"userid\":\"\(user)\",\"pageid\":\"Page_\(int(1...99))\","
                + "\"regionid\":\"\(pick(Self.regions))\"}"
            return (user, value)
        }
    }
}

/// Latency and throughput figures in the shape of Kafka's perf tools (I/O-free).
public struct PerfStats: Sendable {
    public private(set) var count = 0
    public private(set) var bytes = 0
    public private(set) var latencySumMs: Double = 0
    public private(set) var maxLatencyMs: Double = 0
    private var samples: [Double] = []

    public init() {}

    public mutating func record(latencyMs: Double, bytes: Int) {
        count += 1
        self.bytes += bytes
        latencySumMs += latencyMs
        maxLatencyMs = max(maxLatencyMs, latencyMs)
        samples.append(latencyMs)
    }

    public var averageLatencyMs: Double { count == 0 ? 0 : latencySumMs / Double(count) }

    /// Nearest-rank percentile (p in 0...1) of the recorded latencies.
    public func percentile(_ p: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let s = samples.sorted()
        let rank = Int((p * Double(s.count)).rounded(.up)) - 1
        return s[min(max(rank, 0), s.count - 1)]
    }

    /// Kafka's ProducerPerformance summary line.
    public func producerSummary(elapsedMs: Double) -> String {
        let secs = max(elapsedMs, 0.001) / 1000
        let rps = Double(count) / secs
        let mbps = Double(bytes) / secs / (1024 * 1024)
        return "\(count) records sent, \(fmt(rps, 1)) records/sec (\(fmt(mbps, 2)) MB/sec), \(fmt(averageLatencyMs, 2)) ms avg latency, "
            + "\(fmt(maxLatencyMs, 2)) ms max latency, \(Int(percentile(0.5))) ms 50th, \(Int(percentile(0.95))) ms 95th, "
            + "\(Int(percentile(0.99))) ms 99th, \(Int(percentile(0.999))) ms 99.9th."
    }
}

/// Fixed-point formatting without Foundation.
public func fmt(_ v: Double, _ digits: Int) -> String {
    guard v.isFinite else { return "\(v)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let n = (abs(v) * scale).rounded()
    let whole = Int(n / scale)
    let frac = Int(n - Double(whole) * scale)
    let sign = v < 0 && n != 0 ? "-" : ""
    guard digits > 0 else { return "\(sign)\(whole)" }
    let f = String(frac)
    return "\(sign)\(whole)." + String(repeating: "0", count: max(0, digits - f.count)) + f
}
