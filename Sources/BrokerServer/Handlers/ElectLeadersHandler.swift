import BrokerCore
import Protocol

/// ElectLeaders (ALTER on the cluster, as Kafka checks): preferred elections run by the active
/// controller, which moves leadership to the first assigned replica when it is live and in sync.
/// Unclean elections on request are not offered (unclean.leader.election.enable governs them).
extension RequestHandler {
    func handleElectLeaders(_ ctx: RequestContext, _ r: ElectLeadersRequest) {
        typealias Resp = ElectLeadersResponse
        var tps: [TopicPartition] = []
        if let topics = r.topicPartitions {
            for t in topics { for p in t.partitionId.prefix(Self.maxAdminPartitions - tps.count) { tps.append(TopicPartition(t.topic, p)) } }
        } else {
            for t in metadata.topicNames { for p in (metadata.partitions(of: t) ?? [:]).keys.sorted() { tps.append(TopicPartition(t, p)) } }
        }
        func answer(_ code: (TopicPartition) -> (ErrorCode, String?), top: ErrorCode = .none) {
            var order: [String] = []
            var by: [String: [Resp.ElectLeadersPartitionResult]] = [:]
            for tp in tps {
                if by[tp.topic] == nil { order.append(tp.topic) }
                let (e, m) = code(tp)
                by[tp.topic, default: []].append(.init(partitionId: tp.partition, errorCode: e, errorMessage: m))
            }
            ctx.reply(Resp(throttleTimeMs: 0, errorCode: top, replicaElectionResults: order.map { .init(topic: $0, partitionResult: by[$0] ?? []) }))
        }
        guard ctx.access.allowsCluster() else {
            return answer({ _ in (.clusterAuthorizationFailed, "Authorization failed.") }, top: .clusterAuthorizationFailed)
        }
        guard r.electionType == 0 else {
            return answer { _ in (.invalidRequest, "only preferred elections (type 0) are supported; unclean ones follow unclean.leader.election.enable") }
        }
        guard let controller, controller.isActive else {
            return answer({ _ in (.notController, "this broker is not the controller") }, top: .notController)
        }
        let results = controller.electPreferredLeaders(tps)
        answer { tp in
            let e = results[tp] ?? .unknownTopicOrPartition
            return (ErrorCode(e.rawValue), e == .noError ? nil : "\(e)")
        }
    }
}
