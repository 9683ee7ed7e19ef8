import Foundation
import Protocol
import Transport

public struct NewTopic: Sendable, Equatable {
    public var name: String
    /// -1 = broker default.
    public var partitions: Int32
    /// -1 = broker default.
    public var replicationFactor: Int16
    public var configs: [String: String]
    public init(name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1, configs: [String: String] = [:]) {
        self.name = name; self.partitions = partitions; self.replicationFactor = replicationFactor; self.configs = configs
    }
}

public struct ClusterDescription: Sendable, Equatable {
    public var clusterId: String?
    public var controllerId: Int32
    public var brokers: [BrokerInfo]
}

public struct GroupListing: Sendable, Equatable {
    public var groupId: String
    public var protocolType: String
}

public struct GroupMemberDescription: Sendable, Equatable {
    public var memberId: String
    public var clientId: String
    public var host: String
    public var assignment: [TopicPartition]
}

public struct GroupDescription: Sendable, Equatable {
    public var groupId: String
    public var state: String
    public var protocolType: String
    public var protocolName: String
    public var members: [GroupMemberDescription]
    public var error: ErrorCode
}

/// One row of `consumer-groups --describe`.
public struct PartitionLag: Sendable, Equatable {
    public var group: String
    public var tp: TopicPartition
    /// nil when the group has no committed offset here.
    public var currentOffset: Int64?
    public var logEndOffset: Int64
    public var lag: Int64? { currentOffset.map { max(0, logEndOffset - $0) } }
    public var consumerId: String?
    public var host: String?
    public var clientId: String?
}

/// Topic and group administration (blocking calls; safe from any thread but the client's loop).
public final class Admin: @unchecked Sendable {
    public let cluster: KafkaCluster
    private let ownsCluster: Bool

    public init(config: ClientConfig, cluster: KafkaCluster? = nil) throws {
        if let cluster {
            self.cluster = cluster
            ownsCluster = false
        } else {
            self.cluster = try KafkaCluster(config: config)
            ownsCluster = true
        }
    }

    public func close() { if ownsCluster { cluster.close() } }

    // MARK: topics

    /// Creates topics; throws the first per-topic error (TOPIC_ALREADY_EXISTS included).
    public func createTopics(_ topics: [NewTopic], timeoutMs: Int = 30000, validateOnly: Bool = false) throws {
        let req = CreateTopicsRequest(topics: topics.map {
            .init(name: $0.name, numPartitions: $0.partitions, replicationFactor: $0.replicationFactor, assignments: [],
                  configs: $0.configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) })
        }, timeoutMs: Int32(timeoutMs), validateOnly: validateOnly)
        let r = try controllerCall(req) { r in r.topics.first { $0.errorCode == .notController }.map { _ in .notController } }
        if let bad = r.topics.first(where: { $0.errorCode.isError }) {
            throw KafkaError.broker(bad.errorCode, "topic '\(bad.name)'" + (bad.errorMessage.map { ": \($0)" } ?? ""))
        }
        if !validateOnly { awaitMetadata(for: topics.map(\.name), timeoutMs: min(timeoutMs, 5000)) }
    }

    /// The controller answers once its own metadata knows the topics; the other brokers learn them a moment
    /// later from its UpdateMetadata. Waits (bounded) until a refresh shows every partition with a leader,
    /// so a describe or produce right after a create does not meet UNKNOWN_TOPIC_OR_PARTITION.
    private func awaitMetadata(for names: [String], timeoutMs: Int) {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        repeat {
            if let md = try? cluster.refreshMetadata(topics: names),
               names.allSatisfy({ n in md.topics[n].map { !$0.partitions.isEmpty && $0.partitions.allSatisfy { $0.leader >= 0 } } ?? false }) {
                return
            }
            usleep(50_000)
        } while Date() < deadline
    }

    public func deleteTopics(_ names: [String], timeoutMs: Int = 30000) throws {
        let r = try controllerCall(DeleteTopicsRequest(topics: names.map { .init(name: $0) }, topicNames: names, timeoutMs: Int32(timeoutMs))) { r in
            r.responses.first { $0.errorCode == .notController }.map { _ in .notController }
        }
        if let bad = r.responses.first(where: { $0.errorCode.isError }) {
            throw KafkaError.broker(bad.errorCode, "topic '\(bad.name)'")
        }
    }

    /// Grows a topic to `totalCount` partitions (Kafka never shrinks one).
    public func createPartitions(topic: String, totalCount: Int32, timeoutMs: Int = 30000) throws {
        let current = try describeTopics([topic]).first?.partitionCount ?? 0
        guard totalCount > current else {
            throw KafkaError.broker(.invalidPartitions, "topic '\(topic)' has \(current) partitions; the count can only grow")
        }
        let req = CreatePartitionsRequest(topics: [.init(name: topic, count: totalCount, assignments: nil)],
                                          timeoutMs: Int32(timeoutMs), validateOnly: false)
        let r = try controllerCall(req) { r in r.results.first { $0.errorCode == .notController }.map { _ in .notController } }
        if let bad = r.results.first(where: { $0.errorCode.isError }) {
            throw KafkaError.broker(bad.errorCode, "topic '\(bad.name)'" + (bad.errorMessage.map { ": \($0)" } ?? ""))
        }
    }

    public func listTopics(includeInternal: Bool = false) throws -> [String] {
        let md = try cluster.refreshMetadata(topics: nil)
        return md.topics.values.filter { includeInternal || !$0.isInternal }.map(\.name).sorted()
    }

    /// nil = all topics. Throws UNKNOWN_TOPIC_OR_PARTITION for a named topic that does not exist.
    public func describeTopics(_ names: [String]? = nil) throws -> [TopicInfo] {
        let md = try cluster.refreshMetadata(topics: names)
        if let names {
            return try names.map { n in
                guard let t = md.topics[n] else { throw KafkaError.broker(.unknownTopicOrPartition, "topic '\(n)'") }
                return t
            }
        }
        return md.topics.values.sorted { $0.name < $1.name }
    }

    public func describeCluster() throws -> ClusterDescription {
        let md = try cluster.refreshMetadata(topics: [])
        return ClusterDescription(clusterId: md.clusterId, controllerId: md.controllerId,
                                  brokers: md.brokers.values.sorted { $0.nodeId < $1.nodeId })
    }

    /// Sends to the controller, refreshing metadata and retrying on NOT_CONTROLLER.
    private func controllerCall<R: KafkaRequestMessage>(_ req: R, notController: (R.Response) -> ErrorCode?) throws -> R.Response {
        var last: KafkaError = .broker(.notController, "")
        for attempt in 0..<5 {
            do {
                let r = try cluster.call(req, to: .controller)
                if notController(r) == nil { return r }
                last = .broker(.notController, R.api.name)
            } catch let e as KafkaError where e.isRetriable {
                last = e
            }
            usleep(UInt32(cluster.config.retryBackoffMs * (attempt + 1)) * 1000)
            _ = try? cluster.refreshMetadata(topics: [])
        }
        throw last
    }

    // MARK: offsets

    public func listOffsets(_ tps: [TopicPartition], timestamp: Int64) throws -> [TopicPartition: Int64] {
        try OffsetLookup.listOffsets(cluster: cluster, tps, timestamp: timestamp, readCommitted: false)
    }

    // MARK: groups

    /// Groups known to every broker (ListGroups goes to each broker, as Kafka's admin does).
    public func listGroups() throws -> [GroupListing] {
        let md = try cluster.refreshMetadata(topics: [])
        var out: [String: GroupListing] = [:]
        var lastError: KafkaError?
        for id in md.brokers.keys.sorted() {
            do {
                let r = try cluster.call(ListGroupsRequest(), to: .node(id))
                if r.errorCode.isError { lastError = .broker(r.errorCode, "ListGroups node \(id)"); continue }
                for g in r.groups { out[g.groupId] = GroupListing(groupId: g.groupId, protocolType: g.protocolType) }
            } catch let e as KafkaError {
                lastError = e
            }
        }
        if out.isEmpty, let lastError { throw lastError }
        return out.values.sorted { $0.groupId < $1.groupId }
    }

    private func coordinator(for group: String) throws -> Int32 {
        var last: KafkaError = .broker(.coordinatorNotAvailable, group)
        // Retriable answers (the offsets topic still being created) are retried for a request timeout.
        let deadline = MonotonicClock.millis() + UInt64(cluster.config.requestTimeoutMs)
        var attempt = 0
        while MonotonicClock.millis() < deadline {
            attempt += 1
            let r = try cluster.call(FindCoordinatorRequest.one(group, keyType: 0), to: .any).one(group)
            if r.errorCode == .none {
                let id = Int32.max - r.nodeId
                cluster.registerNode(id, address: HostPort(host: r.host, port: Int(r.port)))
                return id
            }
            last = .broker(r.errorCode, "FindCoordinator \(group)")
            if !r.errorCode.isRetriable { throw last }
            usleep(UInt32(min(1000, cluster.config.retryBackoffMs * attempt)) * 1000)
        }
        throw last
    }

    public func describeGroups(_ groups: [String]) throws -> [GroupDescription] {
        try groups.map { g in
            let coord = try coordinator(for: g)
            let r = try cluster.call(DescribeGroupsRequest(groups: [g]), to: .node(coord))
            guard let d = r.groups.first else { throw KafkaError.protocolViolation("DescribeGroups returned nothing for \(g)") }
            let members = d.members.map { m in
                let a = (try? ConsumerProtocolAssignment.decode(m.memberAssignment))?.assignedPartitions
                    .flatMap { t in t.partitions.map { TopicPartition(t.topic, $0) } } ?? []
                return GroupMemberDescription(memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignment: a.sorted())
            }
            return GroupDescription(groupId: d.groupId, state: d.groupState, protocolType: d.protocolType,
                                    protocolName: d.protocolData, members: members, error: d.errorCode)
        }
    }

    /// Committed offsets of a group (all topics it has committed for).
    public func listGroupOffsets(_ group: String) throws -> [TopicPartition: Int64] {
        let coord = try coordinator(for: group)
        let r: (errorCode: ErrorCode, topics: [OffsetFetchResponse.Topic])
        do {
            r = try cluster.call(OffsetFetchRequest.oneGroup(group, topics: nil), to: .node(coord)).oneGroup(group)
        } catch KafkaError.protocolViolation {
            // Some brokers (Tansu 0.6) mis-answer the "all topics" form; ask for every known partition instead.
            let topics = try describeTopics(nil).filter { !$0.isInternal }
                .map { OffsetFetchRequest.Topic(name: $0.name, partitionIndexes: $0.partitions.map(\.partition)) }
            r = try cluster.call(OffsetFetchRequest.oneGroup(group, topics: topics), to: .node(coord)).oneGroup(group)
        }
        if r.errorCode.isError { throw KafkaError.broker(r.errorCode, "OffsetFetch \(group)") }
        var out: [TopicPartition: Int64] = [:]
        for t in r.topics { for p in t.partitions where p.committedOffset >= 0 { out[TopicPartition(t.name, p.partitionIndex)] = p.committedOffset } }
        return out
    }

    /// Rows for `consumer-groups --describe`: committed offset vs log end offset, with the owner.
    public func describeGroupLag(_ group: String) throws -> [PartitionLag] {
        let committed = try listGroupOffsets(group)
        let desc = try describeGroups([group]).first
        var owner: [TopicPartition: GroupMemberDescription] = [:]
        for m in desc?.members ?? [] { for tp in m.assignment { owner[tp] = m } }
        let tps = Set(committed.keys).union(owner.keys).sorted()
        let ends = try listOffsets(tps, timestamp: -1)
        return tps.map { tp in
            let m = owner[tp]
            return PartitionLag(group: group, tp: tp, currentOffset: committed[tp], logEndOffset: ends[tp] ?? -1,
                                consumerId: m?.memberId, host: m?.host, clientId: m?.clientId)
        }
    }

    /// Moves a group's committed offsets for `topic` to the start or end (the group must be empty).
    @discardableResult
    public func resetGroupOffsets(_ group: String, topic: String, toEarliest: Bool, execute: Bool = true) throws -> [TopicPartition: Int64] {
        if let d = try describeGroups([group]).first, !d.members.isEmpty, d.state != "Empty", d.state != "Dead" {
            throw KafkaError.broker(.nonEmptyGroup, "group \(group) has active members (state \(d.state))")
        }
        guard let t = try describeTopics([topic]).first else { throw KafkaError.unknownTopic(topic) }
        let tps = t.partitions.map { TopicPartition(topic, $0.partition) }
        let target = try listOffsets(tps, timestamp: toEarliest ? -2 : -1)
        guard execute else { return target }
        let coord = try coordinator(for: group)
        let req = OffsetCommitRequest(groupId: group, generationIdOrMemberEpoch: -1, memberId: "", groupInstanceId: nil, retentionTimeMs: -1,
                                      topics: [.init(name: topic, partitions: tps.map {
                                          .init(partitionIndex: $0.partition, committedOffset: target[$0] ?? 0, committedLeaderEpoch: -1, committedMetadata: "")
                                      })])
        let r = try cluster.call(req, to: .node(coord))
        for t in r.topics { for p in t.partitions where p.errorCode.isError { throw KafkaError.broker(p.errorCode, "OffsetCommit \(group)") } }
        return target
    }
}
