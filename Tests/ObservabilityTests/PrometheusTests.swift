import Foundation
import Spawn
import Testing
@testable import Observability

@Suite struct PrometheusTests {
    @Test func escapesLabelsAndHelp() {
        var t = PrometheusText()
        t.family("x_total", .counter, help: "a \\ b\nc")
        t.sample("x_total", [("topic", "a\"b\\c\nd")], 3)
        #expect(t.output == "# HELP x_total a \\\\ b\\nc\n# TYPE x_total counter\nx_total{topic=\"a\\\"b\\\\c\\nd\"} 3\n")
    }

    @Test func formatsSpecialValues() {
        #expect(PrometheusText.format(.infinity) == "+Inf")
        #expect(PrometheusText.format(-.infinity) == "-Inf")
        #expect(PrometheusText.format(.nan) == "NaN")
        #expect(PrometheusText.format(2) == "2")
        #expect(PrometheusText.format(0.25) == "0.25")
    }

    @Test func histogramBucketsAreCumulative() {
        let reg = MetricsRegistry()
        let h = reg.histogram("req_seconds", help: "latency", labels: ["api"], buckets: [0.1, 1])
        h.labels("Produce").observe(0.05)
        h.labels("Produce").observe(0.5)
        h.labels("Produce").observe(5)
        let out = reg.render()
        #expect(out.contains("req_seconds_bucket{api=\"Produce\",le=\"0.1\"} 1\n"))
        #expect(out.contains("req_seconds_bucket{api=\"Produce\",le=\"1\"} 2\n"))
        #expect(out.contains("req_seconds_bucket{api=\"Produce\",le=\"+Inf\"} 3\n"))
        #expect(out.contains("req_seconds_count{api=\"Produce\"} 3\n"))
        #expect(out.contains("req_seconds_sum{api=\"Produce\"} 5.55\n"))
    }

    @Test func countersGaugesAndCollectorsRender() {
        let reg = MetricsRegistry()
        reg.counter("a_total", help: "a").inc(2)
        let g = reg.gauge("b", help: "b", labels: ["p"])
        g.labels("1").set(7)
        g.labels("0").set(-1)
        reg.collect { $0.single("znode_count", .untyped, help: "znodes", 5) }
        let out = reg.render()
        #expect(out.contains("a_total 2\n"))
        #expect(out.contains("b{p=\"0\"} -1\nb{p=\"1\"} 7\n"), "series sorted by label values")
        #expect(out.hasPrefix("# HELP znode_count znodes\n# TYPE znode_count untyped\nznode_count 5\n"))
    }

    /// The real linter, when installed (CI installs Debian's prometheus package).
    @Test func promtoolAcceptsOutput() throws {
        let reg = MetricsRegistry()
        reg.counter("requests_total", help: "requests", labels: ["api"]).labels("Fetch").inc()
        reg.histogram("latency_seconds", help: "latency", buckets: MetricsRegistry.latencyBuckets).observe(0.003)
        reg.gauge("odd_label", help: "label with quotes", labels: ["v"]).labels("x\"y\\z\nw").set(1)
        reg.collect { $0.single("watch_count", .untyped, help: "watches", 0) }
        guard let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { Issue.record("promtool missing in CI") }
            return
        }
        let dir = NSTemporaryDirectory() + "promtool-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try reg.render().write(toFile: dir + "/metrics", atomically: true, encoding: .utf8)
        let p = try ChildProcess(promtool, ["check", "metrics"], stdin: .file(dir + "/metrics"),
                                 stdout: .file(dir + "/out", append: true), stderr: .file(dir + "/out", append: true))
        let status = p.waitUntilExit()
        let msg = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
        #expect(status == 0, "promtool: \(msg)")
    }
}
