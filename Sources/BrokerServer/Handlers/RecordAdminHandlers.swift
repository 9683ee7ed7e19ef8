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
