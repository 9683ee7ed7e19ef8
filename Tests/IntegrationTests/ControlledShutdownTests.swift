import CoordClient
import Foundation
import Protocol
import Testing

/// ControlledShutdown (API 7): a stopping broker asks the controller to move leadership off it
/// first (`controlled.shutdown.enable`, on by default; SIGTERM uses it).
@Suite(.serialized, .ownThreads) struct ControlledShutdownTests {
    static let topic = "cs"

    struct Leaders {
        var controller: Int32
        var partitions: [Int32: (leader: Int32, isr: [Int32])]
    }

    /// Waits for every partition of the topic to have a leader with a full ISR.
    static func leaders(_ cluster: BrokerCluster, _ c: CoordClient, partitions: Int32, isr: Int) -> Leaders? {
        var out: Leaders?
        ProcessHarness.waitUntil(timeout: 30, interval: 0.2) {
            guard let ctl = cluster.znodeJSON(c, "/controller")?["brokerid"] as? Int else { return false }
            var ps: [Int32: (Int32, [Int32])] = [:]
            for p in 0..<partitions {
                guard let s = cluster.znodeJSON(c, "/brokers/topics/\(topic)/partitions/\(p)/state"),
                      let l = s["leader"] as? Int, let i = s["isr"] as? [Int], i.count == isr else { return false }
                ps[p] = (Int32(l), i.map(Int32.init))
            }
            out = Leaders(controller: Int32(ctl), partitions: ps)
            return true
        }
        return out
    }

    /// Six partitions with full ISRs, and a broker that leads some (not the controller if possible).
    static func topicWithLeaders(_ cluster: BrokerCluster, _ c: CoordClient) throws -> (Leaders, Int32)? {
        let errs = try BrokerStorageTests.createTopics(cluster.port(1), [.init(name: topic, numPartitions: 6, replicationFactor: 3, assignments: [], configs: [])])
        #expect(errs == [.none])
        guard let before = leaders(cluster, c, partitions: 6, isr: 3) else {
            Issue.record("partitions never got full ISRs\n\(cluster.logs)")
            return nil
        }
        let leading = Set(before.partitions.values.map(\.leader))
        guard let x = leading.sorted().first(where: { $0 != before.controller }) ?? leading.first else { return nil }
        return (before, x)
    }

    /// The controller's side on the wire: the broker epoch is checked, only the controller answers,
    /// and afterwards the broker leads nothing and is in no ISR while it is still registered.
    @Test(.timeLimit(.minutes(4))) func controllerMovesLeadershipOffTheBroker() throws {
        let cluster = try BrokerCluster(brokers: 3)
        defer { cluster.cleanup() }
        let c = try cluster.coordClient()
        defer { c.close() }
        guard let (before, x) = try Self.topicWithLeaders(cluster, c) else { return }
        let epoch = try #require(try c.exists("/brokers/ids/\(x)")).czxid
        let other = try #require([Int32(1), 2, 3].first { $0 != before.controller })
        #expect(try RawKafka(port: cluster.port(other)).call(ControlledShutdownRequest(brokerId: x, brokerEpoch: epoch), version: 3).errorCode == .notController)
        let ctl = try RawKafka(port: cluster.port(before.controller))
        #expect(try ctl.call(ControlledShutdownRequest(brokerId: x, brokerEpoch: epoch + 1), version: 3).errorCode == .staleBrokerEpoch)

        let r = try ctl.call(ControlledShutdownRequest(brokerId: x, brokerEpoch: epoch), version: 3)
        #expect(r.errorCode == ErrorCode.none && r.remainingPartitions.isEmpty, "\(r)")
        var after: [Int32: (leader: Int32, isr: [Int32])] = [:]
        let moved = ProcessHarness.waitUntil(timeout: 20, interval: 0.2) {
            for p in Int32(0)..<6 {
                guard let s = cluster.znodeJSON(c, "/brokers/topics/\(Self.topic)/partitions/\(p)/state"),
                      let l = s["leader"] as? Int, let i = s["isr"] as? [Int] else { return false }
                after[p] = (Int32(l), i.map(Int32.init))
            }
            return after.values.allSatisfy { $0.leader != x && !$0.isr.contains(x) }
        }
        #expect(moved, "broker \(x) still leads or is in sync: \(after)\n\(cluster.logs)")
        #expect(try c.exists("/brokers/ids/\(x)") != nil, "the broker is still registered")
        // Clients see it too: Metadata names other leaders.
        let md = try ctl.call(MetadataRequest(topics: [.init(name: Self.topic)], allowAutoTopicCreation: false), version: 12)
        #expect(ProcessHarness.waitUntil(timeout: 10, interval: 0.2) {
            let m = try? ctl.call(MetadataRequest(topics: [.init(name: Self.topic)], allowAutoTopicCreation: false), version: 12)
            return m?.topics.first?.partitions.allSatisfy { $0.leaderId != x } == true
        }, "\(md)")
    }

    /// SIGTERM: leadership moves while the broker is still registered, so each partition's new
    /// state is written before the broker's registration goes (its zxid is below the pzxid of
    /// /brokers/ids that the deregistration sets). Without controlled shutdown it is the other way round.
    @Test(.timeLimit(.minutes(4)), arguments: [true, false])
    func sigtermMovesLeadershipBeforeDeregistering(controlled: Bool) throws {
        let cluster = try BrokerCluster(brokers: 3, extraConfig: "controlled.shutdown.enable=\(controlled)\ncontrolled.shutdown.retry.backoff.ms=500")
        defer { cluster.cleanup() }
        let c = try cluster.coordClient()
        defer { c.close() }
        guard let (before, x) = try Self.topicWithLeaders(cluster, c) else { return }
        let led = before.partitions.filter { $0.value.leader == x }.map(\.key)
        let status = cluster.procs[x]?.stop(grace: 60)
        #expect(status == 0)
        let log = cluster.procs[x]?.stderrText ?? ""
        #expect(log.contains("controlled shutdown: controller") == controlled, "\(log.suffix(2000))")
        // The survivors lead the partitions x led (a new controller first, if x was it).
        var ok = false
        ProcessHarness.waitUntil(timeout: 30, interval: 0.2) {
            ok = led.allSatisfy { p in
                (cluster.znodeJSON(c, "/brokers/topics/\(Self.topic)/partitions/\(p)/state")?["leader"] as? Int).map { Int32($0) != x } ?? false
            }
            return ok
        }
        #expect(ok, "\(cluster.logs)")
        let deregistered = try #require(try c.exists("/brokers/ids")).pzxid
        for p in led {
            let moved = try #require(try c.exists("/brokers/topics/\(Self.topic)/partitions/\(p)/state")).mzxid
            #expect((moved < deregistered) == controlled, "partition \(p): state zxid \(moved), deregistration \(deregistered)")
        }
    }
}
