import Foundation
import KafkaClient
import Protocol
import Synchronization
import Transport

/// Reads and writes on the Kafka side, through the project's own admin client and producer. Each
/// call costs a handful of requests however many partitions there are (one per leader, not per partition).
final class KafkaQueries: @unchecked Sendable {
    let cluster: KafkaCluster
    let admin: Admin
    private let producer = Mutex<Producer?>(nil)
    private let clientConfig: ClientConfig
    /// Most records one message search looks at (bounds the time and memory of a search).
    static let maxScan = 20_000

    init(config: ConsoleConfig) throws {
        var c = ClientConfig(bootstrapServers: config.bootstrapServers, clientId: "console",
                             requestTimeoutMs: config.requestTimeoutMs, connectTimeoutMs: min(config.requestTimeoutMs, 3000))
        c.sasl = config.kafkaSasl
        do { c.tls = try config.kafkaTLS.map { try TLSContext(client: $0) } } catch { throw KafkaError.invalidArgument("ssl.*: \(error)") }
        clientConfig = c
        cluster = try KafkaCluster(config: clientConfig)
        admin = try Admin(config: clientConfig, cluster: cluster)
    }

    func close() {
        producer.withLock { $0?.close(timeoutMs: 2000) }
        cluster.close()
    }

    func metadata() throws -> ClusterMetadata { try cluster.refreshMetadata(topics: nil) }

    func topics() throws -> [TopicRow] {
        try metadata().topics.values.sorted { $0.name < $1.name }.map(Summaries.topicRow)
    }

    func topic(_ name: String) throws -> TopicDetail {
        guard let t = try admin.describeTopics([name]).first else { throw KafkaError.unknownTopic(name) }
        let led = t.partitions.filter { $0.leader >= 0 }.map { TopicPartition(name, $0.partition) }
        // Offsets of a partition whose leader is down are unknown, not an error for the page.
        let hw = (try? admin.listOffsets(led, timestamp: -1)) ?? [:]
        let start = (try? admin.listOffsets(led, timestamp: -2)) ?? [:]
        var configs: [ConfigRow] = []
        var configError: String?
        do { configs = try topicConfigs(name) } catch { configError = "\(error)" }
        return TopicDetail(name: name, internal: t.isInternal, partitions: t.partitions.map {
            let tp = TopicPartition(name, $0.partition)
            return Summaries.partitionRow($0, start: start[tp], hw: hw[tp])
        }, configs: configs, configError: configError)
    }

    func topicConfigs(_ name: String) throws -> [ConfigRow] {
        let r = try cluster.call(DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: name, configurationKeys: nil)],
                                                        includeSynonyms: false, includeDocumentation: false), to: .any)
        guard let res = r.results.first else { return [] }
        if res.errorCode.isError { throw KafkaError.broker(res.errorCode, res.errorMessage ?? "DescribeConfigs \(name)") }
        return res.configs.sorted { $0.name < $1.name }.map {
            ConfigRow(name: $0.name, value: $0.isSensitive ? nil : $0.value, isDefault: $0.isDefault, readOnly: $0.readOnly, sensitive: $0.isSensitive)
        }
    }

    /// Records of one partition from `from` (or from the first at/after `timestamp`), up to `limit`
    /// matching `needle`, looking at no more than `maxScan` records.
    func messages(topic: String, partition: Int32, from: Int64?, timestamp: Int64?, limit: Int, needle: String) throws -> MessagePage {
        let tp = TopicPartition(topic, partition)
        guard let t = try admin.describeTopics([topic]).first, partition >= 0, partition < t.partitionCount else {
            throw KafkaError.broker(.unknownTopicOrPartition, "\(tp)")
        }
        guard let leader = cluster.metadata.leader(for: tp) else { throw KafkaError.broker(.leaderNotAvailable, "\(tp) has no leader") }
        let start = try admin.listOffsets([tp], timestamp: -2)[tp] ?? 0
        let hw = try admin.listOffsets([tp], timestamp: -1)[tp] ?? 0
        var pos: Int64
        if let timestamp {
            pos = try admin.listOffsets([tp], timestamp: timestamp)[tp] ?? hw
            if pos < 0 { pos = hw }
        } else if let from {
            pos = from < 0 ? max(start, hw + from) : from  // negative: that many before the end
        } else {
            pos = start
        }
        pos = min(max(pos, start), hw)
        let origin = pos
        let pattern = Array(needle.utf8)
        var out: [MessageRow] = []
        var scanned = 0
        while pos < hw, out.count < limit, scanned < Self.maxScan {
            let req = FetchRequest(replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 4 << 20, isolationLevel: 0,
                                   topics: [.init(topic: topic, partitions: [.init(partition: partition, fetchOffset: pos, partitionMaxBytes: 1 << 20)])])
            let r = try cluster.call(req, to: .node(leader))
            guard let p = r.responses.first?.partitions.first else { break }
            if p.errorCode.isError { throw KafkaError.broker(p.errorCode, "Fetch \(tp) at \(pos)") }
            guard let bytes = p.records, !bytes.isEmpty else { break }
            let (recs, next) = try FetchDecoder.decode(bytes, topic: topic, partition: partition, from: pos)
            for rec in recs where rec.offset < hw {
                scanned += 1
                if Summaries.matches(rec, pattern) { out.append(Summaries.message(rec)) }
                if out.count >= limit { pos = rec.offset + 1; break }
            }
            if out.count >= limit { break }
            guard next > pos else { break }
            pos = next
        }
        return MessagePage(topic: topic, partition: partition, startOffset: start, highWatermark: hw, from: origin,
                           nextOffset: min(pos, hw), scanned: scanned, records: out)
    }

    func produce(topic: String, partition: Int32?, key: String?, value: String, headers: [(String, String)]) throws -> RecordMetadata {
        let p = try producer.withLock { p -> Producer in
            if let p { return p }
            var pc = ProducerConfig(client: clientConfig)
            pc.allowAutoCreateTopics = false
            pc.deliveryTimeoutMs = 15_000
            pc.maxBlockMs = 5_000
            let made = try Producer(config: pc, cluster: cluster)
            p = made
            return made
        }
        return try p.sendAndWait(ProducerRecord(topic: topic, partition: partition, key: key.map { Array($0.utf8) }, value: Array(value.utf8),
                                                headers: headers.map { RecordHeader(key: $0.0, value: Array($0.1.utf8)) }), timeoutMs: 15_000)
    }

    func groups() throws -> [GroupRow] {
        let md = try cluster.refreshMetadata(topics: [])
        var out: [String: GroupRow] = [:]
        var lastError: Error?
        // A broker lists the groups it coordinates, so it can describe them all in one more call:
        // two requests per broker for any number of groups.
        for id in md.brokers.keys.sorted() {
            do {
                let r = try cluster.call(ListGroupsRequest(statesFilter: [], typesFilter: []), to: .node(id))
                guard !r.groups.isEmpty else { continue }
                let states = (try? cluster.call(DescribeGroupsRequest(groups: r.groups.map(\.groupId)), to: .node(id)))?.groups
                    .reduce(into: [String: String]()) { $0[$1.groupId] = $1.groupState } ?? [:]
                for g in r.groups {
                    out[g.groupId] = GroupRow(groupId: g.groupId, protocolType: g.protocolType, state: states[g.groupId] ?? g.groupState)
                }
            } catch { lastError = error }
        }
        if out.isEmpty, let lastError { throw lastError }
        return out.values.sorted { $0.groupId < $1.groupId }
    }

    func group(_ id: String) throws -> GroupDetail {
        guard let d = try admin.describeGroups([id]).first else { throw KafkaError.broker(.groupIdNotFound, id) }
        if d.error.isError { throw KafkaError.broker(d.error, "group \(id)") }
        let lag = Summaries.lagRows(try admin.describeGroupLag(id))
        return GroupDetail(groupId: id, state: d.state, protocolType: d.protocolType, protocol: d.protocolName,
                           members: d.members.map { MemberRow(memberId: $0.memberId, clientId: $0.clientId, host: $0.host, assignment: $0.assignment.map(\.description)) },
                           offsets: lag, totalLag: lag.reduce(0) { $0 + ($1.lag ?? 0) })
    }

    func resetOffsets(group: String, topic: String, toEarliest: Bool, execute: Bool) throws -> ResetPreview {
        let target = try admin.resetGroupOffsets(group, topic: topic, toEarliest: toEarliest, execute: execute)
        let committed = (try? admin.listGroupOffsets(group)) ?? [:]
        let rows = target.keys.sorted().map {
            LagRow(topic: $0.topic, partition: $0.partition, currentOffset: committed[$0], logEndOffset: target[$0] ?? -1, lag: nil)
        }
        return ResetPreview(groupId: group, topic: topic, to: toEarliest ? "earliest" : "latest", executed: execute, offsets: rows)
    }
}
