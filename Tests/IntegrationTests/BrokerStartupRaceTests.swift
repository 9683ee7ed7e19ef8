import Foundation
import Protocol
import Testing
import Transport

/// brokerd opens its Kafka port before its coordd session exists. Requests that need coordd in
/// that window get retriable errors at once; the broker never crashes and serves normally after.
/// With a chroot the window is the chroot's own session (the main client did not exist: SIGILL);
/// without, requests used to wait on the unconnected client for the session timeout each.
@Suite(.serialized, .ownThreads) struct BrokerStartupRaceTests {
    @Test(.timeLimit(.minutes(2)), arguments: ["/kafka", ""])
    func requestsBeforeTheCoorddSessionGetRetriableErrors(chroot: String) throws {
        guard let brokerd = ProcessHarness.binary("brokerd"), let coordd = ProcessHarness.binary("coordd") else {
            throw HarnessError("brokerd/coordd binaries not found: run swift build")
        }
        let dir = try ProcessHarness.makeTempDir("startup-race")
        defer { ProcessHarness.removeDir(dir) }
        let coordPort = try ProcessHarness.freePort()
        let port = try ProcessHarness.freePort()
        try """
        broker.id=1
        listeners=PLAINTEXT://127.0.0.1:\(port)
        log.dirs=\(dir)/logs
        zookeeper.connect=127.0.0.1:\(coordPort)\(chroot)
        zookeeper.connection.timeout.ms=60000
        num.partitions=1
        """.write(toFile: dir + "/server.properties", atomically: true, encoding: .utf8)
        // coordd is not up yet: the session cannot exist until it is.
        let broker = try ManagedProcess(brokerd, [dir + "/server.properties"], stderrPath: dir + "/brokerd.log")
        defer { broker.kill9() }
        var raw: RawKafka?
        ProcessHarness.waitUntil(timeout: 20) {
            raw = try? RawKafka(port: port)
            return raw != nil || !broker.isRunning
        }
        let k = try #require(raw, "Kafka port never opened: \(broker.stderrText)")

        let retriable: Set<ErrorCode> = [.notController, .leaderNotAvailable, .coordinatorNotAvailable]
        for round in 0..<3 {
            let started = Date()
            let md = try k.call(MetadataRequest(topics: [.init(name: "race-auto")], allowAutoTopicCreation: true), version: 8)
            #expect(md.topics.first.map { retriable.contains($0.errorCode) } == true, "metadata \(md.topics)")
            let ct = try k.call(CreateTopicsRequest(topics: [.init(name: "race", numPartitions: 1, replicationFactor: 1, assignments: [],
                                                                  configs: [])], timeoutMs: 5000), version: 4)
            #expect(ct.topics.first?.errorCode == .notController, "create topics \(ct.topics)")
            let ip = try k.call(InitProducerIdRequest(), version: 1)
            #expect(ip.errorCode == .coordinatorNotAvailable)
            let dt = try k.call(DeleteTopicsRequest(topicNames: ["race"], timeoutMs: 1000), version: 3)
            #expect(dt.responses.first?.errorCode == .notController)
            let cp = try k.call(CreatePartitionsRequest(topics: [.init(name: "race", count: 2)], timeoutMs: 1000), version: 1)
            #expect(cp.results.first?.errorCode == .notController)
            // Answered at once, not after waiting on a session that is not there.
            #expect(Date().timeIntervalSince(started) < 2, "round \(round) took \(Date().timeIntervalSince(started)) s")
            #expect(broker.isRunning, "brokerd died: \(broker.stderrText)")
        }

        // Now coordd comes up on the port the broker is dialling; the broker starts and serves.
        let coordDir = dir + "/coordd"
        try FileManager.default.createDirectory(atPath: coordDir, withIntermediateDirectories: true)
        try "tickTime=200\ndataDir=\(coordDir)/data\nclientPort=\(coordPort)\nclientPortAddress=127.0.0.1\n"
            .write(toFile: coordDir + "/zoo.cfg", atomically: true, encoding: .utf8)
        let coord = try ManagedProcess(coordd, [coordDir + "/zoo.cfg"], stderrPath: coordDir + "/coordd.log")
        defer { coord.kill9() }
        #expect(broker.waitForLine(containing: "brokerd: started", timeout: 40) != nil, "\(broker.stderrText)\n\(coord.stderrText)")
        var created = false
        ProcessHarness.waitUntil(timeout: 20) {
            let ct = try? k.call(CreateTopicsRequest(topics: [.init(name: "race", numPartitions: 1, replicationFactor: 1, assignments: [],
                                                                   configs: [])], timeoutMs: 5000), version: 4)
            created = ct?.topics.first.map { $0.errorCode == .none || $0.errorCode == .topicAlreadyExists } ?? false
            return created
        }
        #expect(created, "\(broker.stderrText)")
        let ip = try k.call(InitProducerIdRequest(), version: 1)
        #expect(ip.errorCode == .none && ip.producerId >= 0)
        #expect(broker.isRunning)
    }
}
