#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The offline soaks' shared loop: seeds `FIRST:COUNT` from an environment variable, steps from
/// `BROKER_SIM_STEPS`-style variables, every failure's seed printed and the first three recorded.
enum Soak {
    static func seeds(_ variable: String, defaultCount: UInt64) -> Range<UInt64> {
        let spec = getenv(variable).map { String(cString: $0) } ?? ""
        let parts = spec.split(separator: ":").compactMap { UInt64($0) }
        let first = parts.first ?? 100
        return first..<first + (parts.count > 1 ? parts[1] : defaultCount)
    }

    static func steps(_ variable: String, default value: Int) -> Int {
        getenv(variable).flatMap { Int(String(cString: $0)) } ?? value
    }

    /// Runs `body` for each seed (its problems, each naming the seed, and its event count).
    static func run(_ name: String, seeds: Range<UInt64>, _ body: (UInt64) -> (problems: [String], events: Int)) {
        var failed = 0, events = 0
        for seed in seeds {
            let (problems, n) = body(seed)
            events += n
            guard !problems.isEmpty else { continue }
            failed += 1
            print("\(name) soak: FAILED \(problems[0])")
            if failed <= 3 { Issue.record("\(problems.prefix(5).joined(separator: "\n"))") }
        }
        print("\(name) soak: seeds \(seeds.lowerBound)..<\(seeds.upperBound), \(events) events, \(failed) failed")
        #expect(failed == 0)
    }
}
