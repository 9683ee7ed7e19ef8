import BrokerCore
import Protocol

/// DeleteRecords: per partition on its leader (DELETE on the topic, as Kafka checks).
extension RequestHandler {
    static let maxAdminPartitions = 100_000

    func handleDeleteRecords(_ ctx: RequestContext, _ r: DeleteRecordsRequest) {
        var budget = Self.maxAdminPartitions
        let topics = r.topics.map { t in
            let allowed = ctx.access.allows(.topic, t.name)
            let parts = t.partitions.map { p -> DeleteRecordsResponse.DeleteRecordsPartitionResult in
                budget -= 1
                guard budget >= 0 else { return .init(partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: .policyViolation) }
                guard allowed else { return .init(partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: .topicAuthorizationFailed) }
                let (e, low) = replicas.deleteRecords(TopicPartition(t.name, p.partitionIndex), before: p.offset)
                return .init(partitionIndex: p.partitionIndex, lowWatermark: low, errorCode: e)
            }
            return DeleteRecordsResponse.DeleteRecordsTopicResult(name: t.name, partitions: parts)
        }
        ctx.reply(DeleteRecordsResponse(throttleTimeMs: 0, topics: topics))
    }
}

/// DescribeLogDirs: this broker's log dirs (DESCRIBE on the cluster, as Kafka checks).
extension RequestHandler {
    func handleDescribeLogDirs(_ ctx: RequestContext, _ r: DescribeLogDirsRequest) {
        guard ctx.access.allowsCluster() else {
            return ctx.reply(DescribeLogDirsResponse(throttleTimeMs: 0, errorCode: .clusterAuthorizationFailed, results: []))
        }
        var wanted: Set<TopicPartition>?
        if let topics = r.topics {
            var set: Set<TopicPartition> = []
            for t in topics { for p in t.partitions.prefix(Self.maxAdminPartitions - set.count) { set.insert(TopicPartition(t.topic, p)) } }
            wanted = set
        }
        let results = replicas.describeLogDirs(wanted: wanted).map { d in
            var order: [String] = []
            var byTopic: [String: [DescribeLogDirsResponse.DescribeLogDirsPartition]] = [:]
            for (tp, size, lag) in d.partitions {
                if byTopic[tp.topic] == nil { order.append(tp.topic) }
                byTopic[tp.topic, default: []].append(.init(partitionIndex: tp.partition, partitionSize: size, offsetLag: lag, isFutureKey: false))
            }
            return DescribeLogDirsResponse.DescribeLogDirsResult(
                errorCode: d.online ? .none : .kafkaStorageError, logDir: d.path,
                topics: order.map { .init(name: $0, partitions: byTopic[$0] ?? []) })
        }
        ctx.reply(DescribeLogDirsResponse(throttleTimeMs: 0, errorCode: .none, results: results))
    }
}
