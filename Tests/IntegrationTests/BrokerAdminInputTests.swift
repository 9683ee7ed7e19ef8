import Foundation
import Protocol
import Testing
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// Admin requests with impossible replica assignments are refused at once, and an admin request
/// waiting for the controller never holds an I/O thread.
@Suite(.serialized, .ownThreads) struct BrokerAdminInputTests {
    static func topic(_ name: String, _ assignment: [Int32: [Int32]]) -> CreateTopicsRequest.CreatableTopic {
        .init(name: name, numPartitions: -1, replicationFactor: -1,
              assignments: assignment.keys.sorted().map { .init(partitionIndex: $0, brokerIds: assignment[$0] ?? []) }, configs: [])
    }

    /// Sends every request on its own connection first, then reads the answers: they are in flight together.
    static func concurrently(_ port: Int, _ reqs: [CreateTopicsRequest]) throws -> [CreateTopicsResponse] {
        let conns = try reqs.map { _ in try RawKafka(port: port) }
        for (c, r) in zip(conns, reqs) {
            try c.socket.sendAll(try KafkaRequestFrame.encode(r, version: 4, correlationId: 1, clientId: "tests"))
        }
        return try conns.map { try KafkaResponseFrame.decode(CreateTopicsResponse.self, frame: try $0.socket.readFrame(), version: 4).body }
    }

    @Test(.timeLimit(.minutes(3))) func impossibleAssignmentsAreRefusedAtOnce() throws {
        let cluster = try BrokerCluster(brokers: 2)
        defer { cluster.cleanup() }
        let port = cluster.port(1)
        let start = Date()
        let ghosts = try Self.concurrently(port, (0..<8).map { i in
            CreateTopicsRequest(topics: [Self.topic("ghost-\(i)", [0: [42], 1: [1]])], timeoutMs: 30_000)
        })
        #expect(ghosts.map { $0.topics.first?.errorCode } == Array(repeating: .invalidReplicaAssignment, count: 8))
        #expect(Date().timeIntervalSince(start) < 3, "took \(Date().timeIntervalSince(start)) s")

        let raw = try RawKafka(port: port)
        let bad = try raw.call(CreateTopicsRequest(topics: [
            Self.topic("dup", [0: [1, 1]]),
            Self.topic("uneven", [0: [1], 1: [1, 2]]),
            Self.topic("negative", [0: [-1]]),
            Self.topic("gap", [0: [1], 2: [2]]),
            Self.topic("ghost", [0: [1, 42]]),
        ], timeoutMs: 10_000), version: 4)
        #expect(bad.topics.map(\.errorCode) == Array(repeating: .invalidReplicaAssignment, count: 5), "\(bad.topics)")
        let good = try raw.call(CreateTopicsRequest(topics: [Self.topic("placed", [0: [1, 2], 1: [2, 1]])], timeoutMs: 20_000), version: 4)
        #expect(good.topics.first?.errorCode == ErrorCode.none, "\(good.topics)\n\(cluster.logs)")

        // CreatePartitions: new replicas must exist and match the topic's replication factor.
        let cp = try raw.call(CreatePartitionsRequest(topics: [
            .init(name: "placed", count: 3, assignments: [.init(brokerIds: [1, 42])]),
        ], timeoutMs: 5000), version: 1)
        #expect(cp.results.first?.errorCode == .invalidReplicaAssignment)
        let cp2 = try raw.call(CreatePartitionsRequest(topics: [
            .init(name: "placed", count: 3, assignments: [.init(brokerIds: [1])]),
        ], timeoutMs: 5000), version: 1)
        #expect(cp2.results.first?.errorCode == .invalidReplicaAssignment)
        let md = try raw.call(MetadataRequest(topics: nil), version: 8)
        #expect(Set(md.topics.map(\.name)) == ["placed"], "\(md.topics.map(\.name))")
        #expect(md.topics.first?.partitions.count == 2)
    }

    /// With the controller paused, CreateTopics waits its timeout for leaders that do not come;
    /// eight such requests (more than num.io.threads=4) must not delay anyone else's Metadata.
    @Test(.timeLimit(.minutes(3))) func waitingAdminRequestsDoNotHoldIOThreads() throws {
        let cluster = try BrokerCluster(brokers: 2, extraConfig: "zookeeper.session.timeout.ms=20000")
        defer { cluster.cleanup() }
        let zk = try cluster.coordClient()
        defer { zk.close() }
        var controller = -1
        ProcessHarness.waitUntil(timeout: 20) {
            controller = cluster.znodeJSON(zk, "/controller")?["brokerid"] as? Int ?? -1
            return controller > 0
        }
        let ctrl = try #require(cluster.procs[Int32(controller)])
        let other: Int32 = controller == 1 ? 2 : 1
        kill(ctrl.pid, SIGSTOP)
        defer { kill(ctrl.pid, SIGCONT) }
        let port = cluster.port(other)
        let conns = try (0..<8).map { _ in try RawKafka(port: port) }
        for (i, c) in conns.enumerated() {
            let r = CreateTopicsRequest(topics: [.init(name: "parked-\(i)", numPartitions: 1, replicationFactor: 1, assignments: [],
                                                       configs: [])], timeoutMs: 3000)
            try c.socket.sendAll(try KafkaRequestFrame.encode(r, version: 4, correlationId: 1, clientId: "tests"))
        }
        usleep(300_000)
        let start = Date()
        let md = try RawKafka(port: port).call(MetadataRequest(topics: []), version: 8)
        let took = Date().timeIntervalSince(start)
        #expect(md.brokers.count >= 1)
        #expect(took < 1, "Metadata waited \(took) s behind parked CreateTopics")
        for c in conns {
            let r = try KafkaResponseFrame.decode(CreateTopicsResponse.self, frame: try c.socket.readFrame(), version: 4).body
            #expect(r.topics.first?.errorCode == .requestTimedOut, "\(r.topics)")
        }
        kill(ctrl.pid, SIGCONT)
        #expect(ctrl.isRunning && cluster.procs[other]?.isRunning == true)
    }
}
