import Foundation
import Observability
import Testing

/// The Timeline page with 100,000 events (issue 11): a stand-in admin endpoint serves them, the
/// console merges them, and a real headless Chromium draws, filters and scrubs them.
@Suite(.serialized, .ownThreads) struct ConsoleTimelineScaleTests {
    static let count = 100_000

    /// 100,000 events over the last 10 minutes from four daemons, shaped as the daemons serve them.
    static func events(now: Int64) -> String {
        let kinds = ["partition.leader_changed", "isr.shrink", "isr.expand", "watch.fired", "session.created", "broker.registered"]
        var out = #"{"daemon":"fake","events":["#
        out.reserveCapacity(count * 200)
        for i in 0..<count {
            let t = now - 600_000 + Int64(i) * 6
            let kind = kinds[i % kinds.count]
            let fields = kind.hasPrefix("partition") || kind.hasPrefix("isr")
                ? #"{"topic":"t\#(i % 20)","partition":\#(i % 50),"old":\#(i % 3),"new":\#((i + 1) % 3),"isr":[1,2]}"#
                : #"{"count":\#(i % 7)}"#
            if i > 0 { out += "," }
            out += #"{"seq":\#(i + 1),"time":\#(t),"daemon":"broker.\#(i % 4)","kind":"\#(kind)","clocks":{"controller_epoch":1,"leader_epoch":\#(i % 9)},"fields":\#(fields)}"#
        }
        return out + "]}"
    }

    @Test(.timeLimit(.minutes(6)), .enabled(if: ConsoleIntegrationTests.seleniumPython != nil || ConsoleIntegrationTests.isCI,
                                            "chromium, chromedriver or python3-selenium missing (CI=true requires them)"))
    func timelineHandlesAHundredThousandEvents() throws {
        guard ConsoleIntegrationTests.seleniumPython != nil else {
            Issue.record("CI=true but chromium, chromedriver or python3-selenium is missing (deploy/install-deps.sh installs them)")
            return
        }
        let body = Self.events(now: Int64(Date().timeIntervalSince1970 * 1000))
        var r = Router()
        r.get("/timeline", sync: { _ in .text(body, contentType: "application/json") })
        let fake = HTTPServer(router: r, name: "fake-timeline")
        let fakePort = try fake.start(host: "127.0.0.1", port: 0)
        defer { fake.stop() }
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let (console, url) = try ConsoleIntegrationTests.startConsole(cluster, extra: "admin.endpoints=127.0.0.1:\(fakePort)\nrequest.timeout.ms=60000")
        defer { console.stop() }
        // The merge API: every event, within the page budget's order of magnitude.
        let t0 = Date()
        let got = try ProcessHarness.run("/usr/bin/curl", ["-s", "-o", "-", "-w", "", url + "/api/timeline?limit=100000"], timeout: 180)
        let apiSeconds = Date().timeIntervalSince(t0)
        #expect(got.status == 0, "curl: \(got.stderr)")
        let page = try JSONSerialization.jsonObject(with: Data(got.stdout.utf8)) as? [String: Any]
        // A loaded CI machine once stalled the 15 MB answer past a 2 s read bound: an empty page, the
        // endpoint's error beside it. The read bound is request.timeout.ms, set generously above.
        #expect((page?["events"] as? [Any])?.count == Self.count, "errors: \(String(describing: page?["errors"]))")
        // A debug build on a machine the rest of the suite loads: 5-7 s alone, more beside other
        // tests; the bound only catches a collapse (Foundation's parser took 25 s alone).
        // ~5 s alone; CI runs every suite at once on two cores.
        let bound: Double = ConsoleIntegrationTests.isCI ? 150 : 60
        #expect(apiSeconds < bound, "merging 100,000 events took \(apiSeconds) s")
        let dir = try ProcessHarness.makeTempDir("timeline-scale")
        defer { ProcessHarness.removeDir(dir) }
        let out = try ConsoleIntegrationTests.runBrowser("timeline-scale", url, ["topic": "t0", "group": "-", "count": Self.count], dir, shots: dir)
        #expect(out.contains("ok all"), "\(out)")
        print(String(format: "timeline with 100,000 events: API %.2f s; ", apiSeconds) + out.replacingOccurrences(of: "\n", with: "; "))
    }
}
