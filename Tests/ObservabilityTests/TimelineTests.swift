import Foundation
import Testing
@testable import Observability

@Suite struct TimelineTests {
    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "timeline-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func ringKeepsTheNewest() {
        let t = Timeline(daemon: "d", capacity: 3, directory: nil)
        for i in 0..<5 { t.record("k.\(i)") }
        let all = t.query()
        #expect(all.map(\.kind) == ["k.2", "k.3", "k.4"])
        #expect(all.map(\.seq) == [3, 4, 5])
    }

    @Test func queriesByTimeAndKind() {
        let clock = ManualClock()
        let t = Timeline(daemon: "d", directory: nil, wallClock: { clock.now })
        clock.set(100); t.record("election.started")
        clock.set(200); t.record("election.leader_elected", clocks: [("epoch", 2)])
        clock.set(300); t.record("session.created")
        clock.set(400); t.record("elections.other")
        #expect(t.query(kinds: ["election"]).map(\.kind) == ["election.started", "election.leader_elected"])
        #expect(t.query(since: 200, until: 300).map(\.kind) == ["election.leader_elected", "session.created"])
        #expect(t.query(kinds: ["session", "election.started"]).count == 2)
        #expect(t.query(limit: 1).map(\.kind) == ["elections.other"])
    }

    @Test func fileSurvivesRestartAndSkipsTornLine() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = Timeline(daemon: "coordd.1", directory: dir)
        a.record("election.leader_elected", clocks: [("epoch", 3), ("zxid", 0x300000000)], fields: [("votes", .array([.int(1), .int(2)]))])
        a.record("session.created", fields: [("session", .string("0x1"))])
        a.stop()
        // A crash mid-write leaves half a line.
        let h = FileHandle(forWritingAtPath: dir + "/timeline.jsonl")!
        h.seekToEndOfFile()
        h.write(Data("{\"seq\":3,\"ti".utf8))
        h.closeFile()
        let b = Timeline(daemon: "coordd.1", directory: dir)
        let got = b.query()
        #expect(got.map(\.kind) == ["election.leader_elected", "session.created"])
        #expect(got[0].clocks.first { $0.0 == "zxid" }?.1 == 0x300000000)
        #expect(got[0].fields.first?.1 == .array([.int(1), .int(2)]))
        let next = b.record("snapshot.taken")
        #expect(next.seq == 3, "sequence continues after restart")
        b.stop()
        let c = Timeline(daemon: "coordd.1", directory: dir)
        #expect(c.query().map(\.kind) == ["election.leader_elected", "session.created", "snapshot.taken"])
        c.stop()
    }

    @Test func fileRollsAndStaysBounded() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = Timeline(daemon: "d", directory: dir, maxFileBytes: 2000)
        for i in 0..<200 {
            t.record("k", fields: [("i", .int(Int64(i)))])
            if i % 10 == 0 { t.flush() }
        }
        t.stop()
        let size = { (p: String) in ((try? FileManager.default.attributesOfItem(atPath: p)[.size]) as? Int) ?? 0 }
        #expect(size(dir + "/timeline.jsonl") <= 2000)
        #expect(size(dir + "/timeline.jsonl.1") <= 2000)
        let reloaded = Timeline(daemon: "d", directory: dir).query()
        #expect(reloaded.last?.fields.first?.1 == .int(199))
    }

    @Test func tallyAggregatesIntoOneEvent() {
        let t = Timeline(daemon: "d", directory: nil)
        for _ in 0..<1000 { t.tally("watch.fired") }
        t.flush()
        let evs = t.query(kinds: ["watch.fired"])
        #expect(evs.count == 1)
        #expect(evs.first?.fields.first { $0.0 == "count" }?.1 == .int(1000))
    }

    @Test func eventJSONRoundTrips() throws {
        let e = TimelineEvent(seq: 9, time: 123, daemon: "broker.1", kind: "isr.shrink", clocks: [("leader_epoch", 4)],
                              fields: [("topic", .string("t\"x\n")), ("lag", .double(1.5)), ("ok", .bool(true)), ("n", .null)])
        let back = TimelineEvent(json: try JSONValue.parse(e.json.encoded()))
        #expect(back == e)
    }

    @Test func jsonParserRejectsGarbageAndDeepNesting() throws {
        for bad in ["", "{", "[1,", "{\"a\"}", "tru", "\"abc", "1 2", "{\"a\":1,}"] {
            #expect(throws: JSONParseError.self) { try JSONValue.parse(bad) }
        }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(String(repeating: "[", count: 10_000)) }
        #expect(try JSONValue.parse(" {\"a\" : [1, -2.5e1, \"\\u0041\"]} ") == .object([("a", .array([.int(1), .double(-25), .string("A")]))]))
    }
}

final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var t: Int64 = 0
    var now: Int64 { lock.lock(); defer { lock.unlock() }; return t }
    func set(_ v: Int64) { lock.lock(); t = v; lock.unlock() }
}

@Suite struct TimelineMergeTests {
    @Test func mergesByTimeThenDaemonAndDropsDuplicates() {
        let a = [TimelineEvent(seq: 1, time: 100, daemon: "coordd.1", kind: "election.started"),
                 TimelineEvent(seq: 2, time: 300, daemon: "coordd.1", kind: "election.leader_elected", clocks: [("epoch", 2), ("zxid", 0x200000000)])]
        let b = [TimelineEvent(seq: 7, time: 200, daemon: "broker.1", kind: "broker.session_lost"),
                 TimelineEvent(seq: 8, time: 300, daemon: "broker.1", kind: "broker.registered")]
        let m = TimelineMerge.merge([a, b, [a[1]]])
        #expect(m.map(\.kind) == ["election.started", "broker.session_lost", "broker.registered", "election.leader_elected"])
        #expect(TimelineMerge.line(m[3]).contains("epoch=2 zxid=0x200000000"))
        #expect(TimelineMerge.utc(1_796_520_140_860) == "2026-12-06T01:22:20.860Z")
    }
}
