import CoordClient
import Foundation
import Protocol
import Testing

/// Controller-only requests (LeaderAndIsr, StopReplica, UpdateMetadata) sent by anyone but the
/// controller coordd names, in its epoch, for this broker's registration, are refused: data is not
/// deleted, metadata is not poisoned, and the real controller keeps getting through.
@Suite(.serialized, .ownThreads) struct ControllerFenceTests {
    /// What the real controller would put in its requests to `broker`.
    struct Truth {
        var controllerId: Int32
        var controllerEpoch: Int32
        var brokerEpoch: Int64
    }

    static func truth(_ cluster: BrokerCluster, broker: Int32) throws -> Truth {
        let c = try cluster.coordClient()
        defer { c.close() }
        let epoch = Int32(String(decoding: try c.getData("/controller_epoch").data, as: UTF8.self)) ?? -1
        let holder = (cluster.znodeJSON(c, "/controller")?["brokerid"] as? Int).map(Int32.init) ?? -1
        let czxid = try #require(try c.exists("/brokers/ids/\(broker)")).czxid
        return Truth(controllerId: holder, controllerEpoch: epoch, brokerEpoch: czxid)
    }

    static func createTopic(_ raw: RawKafka, _ name: String, replication: Int16 = 1) throws {
        let ct = try raw.call(CreateTopicsRequest(topics: [.init(name: name, numPartitions: 1, replicationFactor: replication, assignments: [],
                                                                 configs: [])], timeoutMs: 20_000), version: 4)
        #expect(ct.topics.first?.errorCode == ErrorCode.none, "\(ct)")
    }

    static func produce(_ raw: RawKafka, _ topic: String, _ values: [String]) throws -> ErrorCode? {
        let batch = try RecordBatch.build(values.enumerated().map { Record(offset: Int64($0.offset), key: nil, value: Array($0.element.utf8)) })
        let r = try raw.call(ProduceRequest(acks: -1, timeoutMs: 10_000, topicData: [
            .init(name: topic, partitionData: [.init(index: 0, records: batch)]),
        ]), version: 8)
        return r.responses.first?.partitionResponses.first?.errorCode
    }

    static func consumeAll(_ cluster: BrokerCluster, _ topic: String) throws -> [String] {
        let r = try kcat(["-b", cluster.bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\\n"], timeout: 60)
        return r.out.split(separator: "\n").map(String.init)
    }

    /// One request on a fresh connection. The broker closes instead of answering while it may not
    /// ask coordd yet (one confirmation per 50 ms); like the controller's channel, try again.
    static func call<M: KafkaRequestMessage>(_ port: Int, _ req: M, version: Int16) throws -> M.Response {
        var attempt = 0
        while true {
            attempt += 1
            do { return try RawKafka(port: port).call(req, version: version) } catch let e where attempt < 30 {
                _ = e
                usleep(100_000)
            }
        }
    }

    /// Polls `body` until it holds or `seconds` pass.
    static func eventually(_ seconds: Double, _ body: () throws -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? body()) == true { return true }
            usleep(200_000)
        }
        return false
    }

    @Test(.timeLimit(.minutes(3))) func anonymousStopReplicaCannotDeleteAPartition() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let raw = try RawKafka(port: cluster.port(1))
        try Self.createTopic(raw, "keep")
        let values = (0..<50).map { "acked-\($0)" }
        #expect(try Self.produce(raw, "keep", values) == ErrorCode.none)
        let t = try Self.truth(cluster, broker: 1)
        #expect(t.controllerId == 1 && t.controllerEpoch >= 1 && t.brokerEpoch > 0)

        // From a bare connection with defaults, up to one that knows everything but one fact.
        let attacks: [(String, Int32, Int32, Int64, ErrorCode)] = [
            ("defaults", 0, 0, -1, .staleControllerEpoch),
            ("no broker epoch", t.controllerId, t.controllerEpoch, -1, .staleBrokerEpoch),
            ("wrong broker epoch", t.controllerId, t.controllerEpoch, t.brokerEpoch + 1, .staleBrokerEpoch),
            ("forged epoch", t.controllerId, Int32.max, t.brokerEpoch, .staleControllerEpoch),
            ("not the controller", t.controllerId + 7, t.controllerEpoch, t.brokerEpoch, .staleControllerEpoch),
        ]
        for (name, cid, epoch, brokerEpoch, want) in attacks {
            let r = try Self.call(cluster.port(1), StopReplicaRequest(controllerId: cid, controllerEpoch: epoch, brokerEpoch: brokerEpoch,
                                                                      deletePartitions: true,
                                                                      topics: [.init(name: "keep", partitionIndexes: [0])]), version: 1)
            #expect(r.errorCode == want, "\(name): \(r)")
            #expect(r.partitionErrors.isEmpty, "\(name): \(r)")
        }
        #expect(FileManager.default.fileExists(atPath: "\(cluster.dir)/logs-1/keep-0"), "log directory deleted")
        // Still the leader, still taking writes, and every acknowledged record is there.
        #expect(try Self.produce(raw, "keep", ["after"]) == ErrorCode.none)
        let read = try Self.consumeAll(cluster, "keep")
        #expect(read == values + ["after"], "\(read.count) records read\n\(cluster.logs)")
        #expect(cluster.procs[1]?.isRunning == true)
    }

    @Test(.timeLimit(.minutes(4))) func forgedUpdateMetadataDoesNotPoisonTheCache() throws {
        let cluster = try BrokerCluster(brokers: 2)
        defer { cluster.cleanup() }
        let raw = try RawKafka(port: cluster.port(1))
        try Self.createTopic(raw, "fenced", replication: 2)
        let t = try Self.truth(cluster, broker: 1)
        // Everything right but the epoch, which is the largest there is, and brokers pointing at port 1.
        let fake = UpdateMetadataRequest(
            controllerId: t.controllerId, controllerEpoch: Int32.max, brokerEpoch: t.brokerEpoch,
            topicStates: [.init(topicName: "fenced", partitionStates: [
                .init(partitionIndex: 0, controllerEpoch: Int32.max, leader: 1, leaderEpoch: Int32.max, isr: [1], zkVersion: 0, replicas: [1]),
            ])],
            liveBrokers: [1, 2].map { .init(id: $0, endpoints: [.init(port: 1, host: "127.0.0.1", listener: "PLAINTEXT", securityProtocol: 0)]) })
        #expect(try Self.call(cluster.port(1), fake, version: 5).errorCode == .staleControllerEpoch)
        var impostor = fake
        impostor.controllerEpoch = t.controllerEpoch
        impostor.controllerId = t.controllerId + 7
        #expect(try Self.call(cluster.port(1), impostor, version: 5).errorCode == .staleControllerEpoch)
        let md = try raw.call(MetadataRequest(topics: nil), version: 8)
        #expect(md.brokers.first { $0.nodeId == 1 }?.port == Int32(cluster.port(1)), "\(md.brokers)")

        // Real controller changes still reach the broker, while forged requests keep coming: a new
        // topic, then a broker (maybe the controller) dies.
        let flood = Flood(port: cluster.port(1), request: fake)
        defer { flood.stop() }
        try Self.createTopic(raw, "later")
        #expect(Self.eventually(30) {
            try raw.call(MetadataRequest(topics: [.init(name: "later")], allowAutoTopicCreation: false), version: 8)
                .topics.first?.partitions.first.map { $0.leaderId >= 0 } == true
        }, "new topic never reached broker 1\n\(cluster.logs)")
        cluster.kill9(2)
        #expect(Self.eventually(60) {
            let m = try raw.call(MetadataRequest(topics: [.init(name: "fenced")], allowAutoTopicCreation: false), version: 8)
            return m.brokers.map(\.nodeId) == [1] && m.topics.first?.partitions.first?.leaderId == 1
        }, "broker 2's death never reached broker 1\n\(cluster.logs)")
        let sent = flood.stop()
        #expect(sent > 10, "the flood sent only \(sent) requests")
        let m = try raw.call(MetadataRequest(topics: nil), version: 8)
        #expect(m.brokers.first?.port == Int32(cluster.port(1)))
        #expect(try kcat(["-b", cluster.bootstrap, "-P", "-t", "fenced"], stdin: "one\ntwo\n").status == 0)
        #expect(try Self.consumeAll(cluster, "fenced") == ["one", "two"], "\(cluster.logs)")
    }

    @Test(.timeLimit(.minutes(3))) func leaderAndIsrForAnotherRegistrationIsStaleBrokerEpoch() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let raw = try RawKafka(port: cluster.port(1))
        try Self.createTopic(raw, "epochs")
        let t = try Self.truth(cluster, broker: 1)
        func leaderAndIsr(brokerEpoch: Int64, leader: Int32) throws -> LeaderAndIsrResponse {
            let req = LeaderAndIsrRequest(controllerId: t.controllerId, controllerEpoch: t.controllerEpoch, brokerEpoch: brokerEpoch,
                                          topicStates: [.init(topicName: "epochs", partitionStates: [
                                              .init(partitionIndex: 0, controllerEpoch: t.controllerEpoch, leader: leader, leaderEpoch: 1000,
                                                    isr: [1], partitionEpoch: 0, replicas: [1]),
                                          ])],
                                          liveLeaders: [])
            return try Self.call(cluster.port(1), req, version: 2)
        }
        for wrong in [t.brokerEpoch - 1, t.brokerEpoch + 1, -1, Int64.max] {
            let r = try leaderAndIsr(brokerEpoch: wrong, leader: -1)
            #expect(r.errorCode == .staleBrokerEpoch, "broker epoch \(wrong): \(r)")
        }
        // Nothing changed: broker 1 still leads and takes writes.
        #expect(try Self.produce(raw, "epochs", ["x"]) == ErrorCode.none)
        // The right registration is admitted (the gate does not refuse everything).
        let ok = try leaderAndIsr(brokerEpoch: t.brokerEpoch, leader: 1)
        #expect(ok.errorCode == ErrorCode.none && ok.partitionErrors.first?.errorCode == ErrorCode.none, "\(ok)")
    }

    @Test(.timeLimit(.minutes(2))) func describeConfigsHidesPasswords() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: "password.encoder.secret=hunter2\nx.custom.password=hunter3")
        defer { cluster.cleanup() }
        let raw = try RawKafka(port: cluster.port(1))
        let r = try raw.call(DescribeConfigsRequest(resources: [.init(resourceType: 4, resourceName: "1", configurationKeys: nil)]), version: 3)
        let configs = try #require(r.results.first?.configs)
        for key in ["password.encoder.secret", "x.custom.password"] {
            let c = try #require(configs.first { $0.name == key }, "\(key) missing")
            #expect(c.value == nil && c.isSensitive, "\(key): \(c)")
        }
        let id = try #require(configs.first { $0.name == "broker.id" })
        #expect(id.value == "1" && !id.isSensitive)
        #expect(!cluster.logs.contains("hunter"))
    }
}

/// Sends one forged request over and over (reconnecting when closed) on a thread of its own.
private final class Flood: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var sent = 0
    private let done = DispatchSemaphore(value: 0)

    init(port: Int, request: UpdateMetadataRequest) {
        Thread { [self] in
            var conn: RawKafka?
            while !lock.withLock({ stopped }) {
                do {
                    if conn == nil { conn = try RawKafka(port: port) }
                    _ = try conn?.call(request, version: 5)
                    lock.withLock { sent += 1 }
                } catch {
                    conn = nil
                    usleep(5_000)
                }
            }
            done.signal()
        }.start()
    }

    /// Stops the flood (once) and says how many forged requests were answered.
    @discardableResult
    func stop() -> Int {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { done.wait() }
        return lock.withLock { sent }
    }
}
