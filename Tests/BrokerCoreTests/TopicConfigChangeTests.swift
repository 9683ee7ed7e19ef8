import BrokerCore
import Protocol
import Testing

@Suite struct TopicConfigChangeTests {
    func problem(_ f: () throws -> [String: String]) -> ErrorCode? {
        do { _ = try f(); return nil } catch { return (error as? TopicConfigChange.Problem)?.code ?? .unknownServerError }
    }

    @Test func incrementalSetDeleteAppendSubtract() throws {
        let cur = ["retention.ms": "10", "cleanup.policy": "delete"]
        let next = try TopicConfigChange.incremental(cur, [("retention.ms", 1, nil), ("segment.bytes", 0, "2048"),
                                                           ("cleanup.policy", 2, "compact")])
        #expect(next == ["segment.bytes": "2048", "cleanup.policy": "delete,compact"])
        let back = try TopicConfigChange.incremental(next, [("cleanup.policy", 3, "delete")])
        #expect(back["cleanup.policy"] == "compact")
        // APPEND without an override starts from the broker default.
        let fromDefault = try TopicConfigChange.incremental([:], [("cleanup.policy", 2, "compact")], defaults: ["cleanup.policy": "delete"])
        #expect(fromDefault["cleanup.policy"] == "delete,compact")
    }

    @Test func refusals() {
        #expect(problem { try TopicConfigChange.incremental([:], [("no.such", 0, "1")]) } == .invalidConfig)
        #expect(problem { try TopicConfigChange.incremental([:], [("retention.ms", 0, "soon")]) } == .invalidConfig)
        #expect(problem { try TopicConfigChange.incremental([:], [("min.insync.replicas", 0, "0")]) } == .invalidConfig)
        #expect(problem { try TopicConfigChange.incremental([:], [("cleanup.policy", 0, "forever")]) } == .invalidConfig)
        #expect(problem { try TopicConfigChange.incremental([:], [("retention.ms", 2, "1")]) } == .invalidConfig)  // not a list
        #expect(problem { try TopicConfigChange.incremental([:], [("retention.ms", 7, "1")]) } == .invalidRequest)
        #expect(problem { try TopicConfigChange.incremental([:], [("retention.ms", 0, nil)]) } == .invalidRequest)
        #expect(problem { try TopicConfigChange.incremental([:], [("retention.ms", 0, "1"), ("retention.ms", 1, nil)]) } == .invalidRequest)
        #expect(problem { try TopicConfigChange.replace([("unclean.leader.election.enable", "maybe")]) } == .invalidConfig)
        #expect(problem { try TopicConfigChange.incremental([:], Array(repeating: ("retention.ms", 0, "1"), count: 1001)) } == .invalidRequest)
    }

    @Test func replaceDropsWhatIsLeftOut() throws {
        #expect(try TopicConfigChange.replace([("retention.ms", "5"), ("segment.ms", nil)]) == ["retention.ms": "5"])
        #expect(try TopicConfigChange.replace([]) == [:])
    }
}
