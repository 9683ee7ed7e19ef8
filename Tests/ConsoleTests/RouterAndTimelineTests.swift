@testable import Console
import Foundation
import Testing

@Suite struct RouterAndTimelineTests {
    @Test func everyPageIsServedAsTheApp() {
        for p in ["/", "/znodes", "/topics", "/topics/orders", "/topics/orders/messages", "/groups", "/groups/g1", "/timeline", "/faults"] {
            #expect(Router.isPage(p), "\(p)")
        }
        for p in ["/nope", "/topics/a/b", "/topics/a/messages/x", "/groups/a/b", "/znodes/x", "/api/topics"] {
            #expect(!Router.isPage(p), "\(p)")
        }
    }

    @Test func embeddedAssetsArePresent() {
        #expect(String(decoding: WebAssets.index, as: UTF8.self).contains("/static/app.js"))
        for f in ["/static/app.js", "/static/pages.js", "/static/timeline.js", "/static/app.css"] {
            #expect((WebAssets.file(f)?.body.count ?? 0) > 500, "\(f)")
        }
        #expect(WebAssets.file("/static/../Package.swift") == nil)
    }

    @Test func znodePathsAreChecked() {
        #expect(CoordQueries.validPath("/") && CoordQueries.validPath("/brokers/ids/1"))
        for bad in ["", "brokers", "/brokers/", "//x", "/a/../b", "/a/./b"] { #expect(!CoordQueries.validPath(bad), "\(bad)") }
    }

    @Test func timelineParsesTheDaemonsFormatsAndMerges() {
        let obs = #"{"daemon":"broker.1","events":[{"seq":1,"time":1796500002000,"daemon":"broker.1","kind":"controller.elected","clocks":{"epoch":3},"fields":{}}]}"#
        let a = TimelineQueries.parse(Array(obs.utf8), endpoint: "e1")
        #expect(a == [MergedEvent(daemon: "broker.1", ts: 1_796_500_002_000, kind: "controller.elected", detail: #"{"clocks":{"epoch":3},"fields":{},"seq":1}"#)])
        // Seconds (a float) and ISO 8601 as well as milliseconds.
        let lines = "{\"ts\":1796500001.5,\"type\":\"election\"}\n{\"timestamp\":\"2026-12-05T22:26:43Z\",\"event\":\"x\"}\nnot json\n{\"no\":\"time\"}\n"
        let b = TimelineQueries.parse(Array(lines.utf8), endpoint: "coordd:1")
        #expect(b.map(\.ts) == [1_796_500_001_500, 1_796_509_603_000] && b.map(\.kind) == ["election", "x"] && b.allSatisfy { $0.daemon == "coordd:1" })
        let merged = TimelineQueries.merge(a + b, sinceMs: 1_796_500_001_600, limit: 10)
        #expect(merged.map(\.ts) == [1_796_500_002_000, 1_796_509_603_000])
        #expect(TimelineQueries.merge(a + b, sinceMs: nil, limit: 2).map(\.ts) == [1_796_500_002_000, 1_796_509_603_000])
    }
}
