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
        let obs = #"{"daemon":"broker.1","events":[{"seq":1,"time":2000,"daemon":"broker.1","kind":"controller.elected","clocks":{"epoch":3},"fields":{}}]}"#
        let a = TimelineQueries.parse(Array(obs.utf8), endpoint: "e1")
        #expect(a == [MergedEvent(daemon: "broker.1", ts: 2000, kind: "controller.elected", detail: #"{"clocks":{"epoch":3},"fields":{},"seq":1}"#)])
        let lines = "{\"ts\":1.5,\"type\":\"election\"}\n{\"timestamp\":\"1970-01-01T00:00:03Z\",\"event\":\"x\"}\nnot json\n{\"no\":\"time\"}\n"
        let b = TimelineQueries.parse(Array(lines.utf8), endpoint: "coordd:1")
        #expect(b.map(\.ts) == [1500, 3000] && b.map(\.kind) == ["election", "x"] && b.allSatisfy { $0.daemon == "coordd:1" })
        let merged = TimelineQueries.merge(a + b, sinceMs: 1600, limit: 10)
        #expect(merged.map(\.ts) == [2000, 3000])
        #expect(TimelineQueries.merge(a + b, sinceMs: nil, limit: 2).map(\.ts) == [2000, 3000])
    }
}
