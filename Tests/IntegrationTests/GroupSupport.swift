import Foundation
import Protocol
import Testing
import Transport

/// Helpers for the consumer group and idempotence tests: raw group calls, topic creation, and
/// consumer processes from compat/group_member.py.
enum GroupSupport {
    static var compatDir: String { ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat" }

    static func createTopic(_ cluster: BrokerCluster, _ name: String, partitions: Int32, rf: Int16,
                            assignment: [[Int32]]? = nil, via broker: Int32 = 1) throws {
        let raw = try RawKafka(port: cluster.port(broker))
        let t = CreateTopicsRequest.CreatableTopic(
            name: name, numPartitions: assignment == nil ? partitions : -1, replicationFactor: assignment == nil ? rf : -1,
            assignments: assignment.map { a in a.enumerated().map { .init(partitionIndex: Int32($0.offset), brokerIds: $0.element) } } ?? [])
        let r = try raw.call(CreateTopicsRequest(topics: [t], timeoutMs: 20_000), version: 4)
        guard r.topics.first?.errorCode == ErrorCode.none else {
            throw HarnessError("create \(name): \(String(describing: r.topics.first))")
        }
    }

    /// Asks `broker` for the group's coordinator until one is available; returns its broker id.
    static func coordinator(_ cluster: BrokerCluster, group: String, via broker: Int32, version: Int16 = 2,
                            timeout: Double = 40) -> Int32? {
        var found: Int32?
        ProcessHarness.waitUntil(timeout: timeout, interval: 0.2) {
            guard let raw = try? RawKafka(port: cluster.port(broker)),
                  let r = try? raw.call(FindCoordinatorRequest(key: group, keyType: 0), version: version),
                  r.errorCode == .none else { return false }
            found = r.nodeId
            return true
        }
        return found
    }

    static func subscription(_ topics: [String]) -> [UInt8] {
        (try? ConsumerProtocolSubscription(topics: topics).encode()) ?? []
    }

    /// A JoinGroup v5 that follows MEMBER_ID_REQUIRED as real clients do.
    static func join(_ raw: RawKafka, group: String, memberId: String = "", topics: [String] = ["t"],
                     sessionTimeoutMs: Int32 = 10_000) throws -> JoinGroupResponse {
        var req = JoinGroupRequest(groupId: group, sessionTimeoutMs: sessionTimeoutMs, rebalanceTimeoutMs: 10_000, memberId: memberId,
                                   protocolType: "consumer", protocols: [.init(name: "range", metadata: subscription(topics))])
        var r = try raw.call(req, version: 5)
        if r.errorCode == .memberIdRequired {
            req.memberId = r.memberId
            r = try raw.call(req, version: 5)
        }
        return r
    }

    /// Sends a produce, retrying while the leader is not ready yet (NOT_LEADER_OR_FOLLOWER: a new
    /// leader refuses idempotent batches until its producer state is rebuilt).
    static func produce(_ raw: RawKafka, _ req: ProduceRequest) throws -> ProduceResponse.PartitionProduceResponse? {
        let deadline = Date().addingTimeInterval(10)
        while true {
            let r = try raw.call(req, version: 7).responses.first?.partitionResponses.first
            if r?.errorCode != .notLeaderOrFollower || Date() > deadline { return r }
            usleep(100_000)
        }
    }

    static func committed(_ raw: RawKafka, group: String, version: Int16 = 5) throws -> OffsetFetchResponse {
        try raw.call(OffsetFetchRequest(groupId: group, topics: nil), version: version)
    }

    /// A consumer process (kafka-python or confluent-kafka) that reports its assignment.
    static func member(_ cluster: BrokerCluster, group: String, topic: String, kind: String, seconds: Int) throws -> ManagedProcess {
        try ManagedProcess("/usr/bin/env", ["python3", compatDir + "/group_member.py", cluster.bootstrap, group, topic, kind, "\(seconds)"],
                           stderrPath: cluster.dir + "/member-\(kind)-\(UInt32.random(in: 0...UInt32.max)).log")
    }

    /// The member's latest reported assignment, nil before its first.
    static func assignment(_ p: ManagedProcess) -> Set<Int32>? {
        guard let line = p.stderrText.split(separator: "\n").last(where: { $0.hasPrefix("ASSIGNED") }) else { return nil }
        return Set(line.dropFirst("ASSIGNED".count).split(separator: ",").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) })
    }

    /// Values of the records the member consumed.
    static func consumed(_ p: ManagedProcess) -> [String] {
        p.stderrText.split(separator: "\n").filter { $0.hasPrefix("MSG ") }.compactMap { $0.split(separator: " ").last.map(String.init) }
    }
}

/// A raw connection that can be handed to another thread (tests use it from one thread at a time).
final class SharedRaw: @unchecked Sendable {
    let raw: RawKafka
    init(port: Int) throws { raw = try RawKafka(port: port) }
}
