import Foundation
import Observability
import Testing

/// Helpers for the admin-plane tests: HTTP GETs, promtool, a real Prometheus.
enum AdminHTTP {
    static func get(_ port: Int, _ path: String) throws -> HTTPClient.Response {
        try HTTPClient.get(host: "127.0.0.1", port: port, path)
    }

    static func json(_ port: Int, _ path: String) throws -> JSONValue {
        try JSONValue.parse(try get(port, path).text)
    }

    /// One sample's value from Prometheus text (`name` or `name{labels}` exactly as written).
    static func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    static var promtool: String? {
        ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// nil when promtool accepts the text; else its complaints. Without promtool: a skip reason
    /// outside CI, a failure in CI (deploy/install-deps.sh installs it).
    static func promtoolProblems(_ text: String) throws -> String? {
        guard let tool = promtool else {
            if ProcessInfo.processInfo.environment["CI"] != nil { return "promtool is not installed (deploy/install-deps.sh installs Debian's prometheus)" }
            print("skipping promtool check: promtool not installed")
            return nil
        }
        let dir = try ProcessHarness.makeTempDir("promtool")
        defer { ProcessHarness.removeDir(dir) }
        try text.write(toFile: dir + "/m.txt", atomically: true, encoding: .utf8)
        let r = try ProcessHarness.run("/bin/sh", ["-c", "exec \(tool) check metrics < \(dir)/m.txt"], timeout: 30)
        return r.status == 0 ? nil : "promtool exit \(r.status): \(r.stdout)\(r.stderr)"
    }

    /// Malformed and abusive HTTP against a daemon's admin port; each must be answered or closed.
    static func abuse(port: Int) throws {
        let cases = [
            "GET / HTTP/1.1\r\n\r\n", "NONSENSE\r\n\r\n", "GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n",
            "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
            "GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "a", count: 20_000) + "\r\n\r\n",
            "GET /%%% HTTP/1.1\r\nHost: x\r\n\r\n", String(repeating: "\u{0}\u{ff}", count: 5000),
            "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ]
        for raw in cases {
            let c = try HTTPClient(host: "127.0.0.1", port: port, timeoutMillis: 5000)
            defer { c.close() }
            try? c.send(raw: Array(raw.utf8))
            if let r = try? c.readResponse() { #expect(r.status >= 400, "\(raw.prefix(40)) answered \(r.status)") }
            #expect(c.waitForClose(timeoutMillis: 5000), "connection left open after \(raw.prefix(40))")
        }
        // Half a request, then silence: the daemon must not wait on it while serving others.
        let slow = try HTTPClient(host: "127.0.0.1", port: port)
        defer { slow.close() }
        try slow.send(raw: Array("GET /metrics HTTP/1.1\r\nHo".utf8))
        #expect(try get(port, "/health/live").status == 200)
    }
}

/// A real Prometheus (Debian's) scraping given targets every second, on its own port and dir.
final class PrometheusProcess {
    let dir: String
    let port: Int
    let proc: ManagedProcess

    static var binary: String? { FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus") ? "/usr/bin/prometheus" : nil }

    init(targets: [Int]) throws {
        guard let bin = Self.binary else { throw HarnessError("prometheus not installed") }
        dir = try ProcessHarness.makeTempDir("prometheus")
        port = try ProcessHarness.freePort()
        let list = targets.map { "'127.0.0.1:\($0)'" }.joined(separator: ", ")
        let cfg = "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: brokers\n    scrape_interval: 1s\n    scrape_timeout: 900ms\n    static_configs:\n      - targets: [\(list)]\n"
        try cfg.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
        proc = try ManagedProcess(bin, ["--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                                        "--web.listen-address=127.0.0.1:\(port)"], stderrPath: dir + "/prometheus.log")
        guard ProcessHarness.waitUntil(timeout: 30, interval: 0.2, { (try? AdminHTTP.get(self.port, "/-/ready").status) == 200 }) else {
            let log = proc.stderrText
            proc.kill9()
            ProcessHarness.removeDir(dir)
            throw HarnessError("prometheus did not become ready: \(log.suffix(2000))")
        }
    }

    /// Values of an instant query, by `instance` label.
    func query(_ promql: String) throws -> [String: Double] {
        let q = promql.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? promql
        let j = try AdminHTTP.json(port, "/api/v1/query?query=\(q)")
        var out: [String: Double] = [:]
        for r in j["data"]?["result"]?.array ?? [] {
            // Aggregates (sum(...)) have no instance label: they come back under "".
            guard let v = r["value"]?.array?.last?.string, let d = Double(v) else { continue }
            out[r["metric"]?["instance"]?.string ?? ""] = d
        }
        return out
    }

    func cleanup() {
        proc.kill9()
        ProcessHarness.removeDir(dir)
    }
}
