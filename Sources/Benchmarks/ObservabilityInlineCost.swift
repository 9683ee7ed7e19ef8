import Foundation
import Observability
import Synchronization

/// The part of the observability plane that is on whether or not the admin server is: metric
/// updates where things happen. Its cost per operation is (updates per operation, counted from the
/// daemons' own /metrics after a run) × (time one update takes, measured here on the same code
/// with two threads contending) / (CPU the daemons spend per operation).
enum ObservabilityInlineCost {
    struct Sample {
        var updatesPerOp: Double
        var cpuMicrosPerOp: Double
    }

    static let coord = Mutex<[Sample]>([])
    static let broker = Mutex<[Sample]>([])

    /// Histogram observations and counter increments a scrape shows: every histogram's `_count`
    /// and every counter's value. Byte counters rise by a request's bytes in one update, made at
    /// most once per request: each is counted as one update per request (an upper bound).
    static func updates(inScrape text: String) -> Double {
        var histograms = Set<String>(), counters = Set<String>(), byteCounters = Set<String>()
        var total = 0.0, requests = 0.0
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { continue }
                if parts[3] == "histogram" { histograms.insert(String(parts[2])) }
                if parts[3] == "counter" { counters.insert(String(parts[2])) }
                continue
            }
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            let name = String(series.prefix { $0 != "{" })
            if name.hasSuffix("_count"), histograms.contains(String(name.dropLast(6))) { total += v }
            guard counters.contains(name) else { continue }
            if name.contains("bytes") {
                if v > 0 { byteCounters.insert(name) }
            } else {
                total += v
                if name.hasSuffix("requests_total") { requests += v }
            }
        }
        return total + Double(byteCounters.count) * requests
    }

    static func scrapeUpdates(ports: [Int]) -> Double {
        ports.map { p in (try? HTTPClient.get(host: "127.0.0.1", port: p, "/metrics")).map { updates(inScrape: String(decoding: $0.body, as: UTF8.self)) } ?? 0 }
            .reduce(0, +)
    }

    /// Nanoseconds per update of a shared histogram and counter, two threads at once.
    static func nanosPerUpdate(iterations: Int = 2_000_000) -> (histogram: Double, counter: Double) {
        let registry = MetricsRegistry()
        let h = registry.histogram("bench_latency", help: "bench", buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000])
        let c = registry.counter("bench_total", help: "bench")
        func timed(_ body: @escaping @Sendable (Int) -> Void) -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                for i in 0..<iterations { body(i) }
            }
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(iterations)
        }
        let hn = timed { i in h.observe(Double(i % 64) * 0.7) }
        let cn = timed { _ in c.inc() }
        return (hn, cn)
    }

    static func report() {
        let (hn, cn) = nanosPerUpdate()
        let perUpdate = max(hn, cn)
        print(String(format: "\none metric update, two threads contending: histogram %.0f ns, counter %.0f ns", hn, cn))
        for (name, unit, samples) in [("coordd", "write", coord.withLock { $0 }), ("brokerd", "record", broker.withLock { $0 })] {
            guard !samples.isEmpty else { continue }
            let updates = samples.map(\.updatesPerOp).sorted()[samples.count / 2]
            let cpu = samples.map(\.cpuMicrosPerOp).sorted()[samples.count / 2]
            let share = cpu > 0 ? 100 * updates * perUpdate / 1000 / cpu : 0
            print(String(format: "%@ inline metrics: %.3f updates per %@ × %.0f ns = %.3f µs of the %.2f µs CPU a %@ costs: %.2f %%",
                         name, updates, unit, perUpdate, updates * perUpdate / 1000, cpu, unit, share))
        }
    }
}
