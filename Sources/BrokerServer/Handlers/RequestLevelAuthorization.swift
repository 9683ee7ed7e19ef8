import BrokerCore
import Protocol

/// The checks that decide a whole request (one group, the cluster, a transactional id): refused
/// requests are answered here with the API's own error and never reach their handler. Checks on
/// the topics (or groups) inside a request are in the handlers, per item; both take their
/// operations from `ApiAcls.table`.
extension RequestHandler {
    /// True when the request was refused and answered.
    func refusedWholeRequest(_ ctx: RequestContext, _ request: KafkaRequest) -> Bool {
        let a = ctx.access
        func group(_ id: String) -> ErrorCode? { a.allows(.group, id) ? nil : .groupAuthorizationFailed }
        func cluster() -> ErrorCode? { a.allowsCluster() ? nil : .clusterAuthorizationFailed }
        func txn(_ id: String) -> ErrorCode? { a.allows(.transactionalId, id) ? nil : .transactionalIdAuthorizationFailed }
        switch request {
        case .createAcls(let r) where !a.enabled:
            ctx.reply(CreateAclsResponse(results: r.creations.map { _ in .init(errorCode: .securityDisabled, errorMessage: Self.noAuthorizer) }))
        case .deleteAcls(let r) where !a.enabled:
            ctx.reply(DeleteAclsResponse(filterResults: r.filters.map { _ in .init(errorCode: .securityDisabled, errorMessage: Self.noAuthorizer) }))
        case .describeAcls where !a.enabled:
            ctx.reply(DescribeAclsResponse(errorCode: .securityDisabled, errorMessage: Self.noAuthorizer))
        case _ where !a.enabled:
            return false
        case .produce(let r):
            // Transactional produce needs WRITE on its transactional id (topics are checked per topic).
            guard let tid = r.transactionalId, !a.allows(.transactionalId, tid) else { return false }
            if r.acks == 0 { ctx.respond([.close]); return true }
            ctx.reply(ProduceResponse(responses: r.topicData.map { t in
                .init(name: t.name, partitionResponses: t.partitionData.map { .init(index: $0.index, errorCode: .transactionalIdAuthorizationFailed, baseOffset: -1) })
            }))
        case .leaderAndIsr:
            guard let e = cluster() else { return false }
            ctx.reply(LeaderAndIsrResponse(errorCode: e, partitionErrors: []))
        case .controlledShutdown:
            guard let e = cluster() else { return false }
            ctx.reply(ControlledShutdownResponse(errorCode: e, remainingPartitions: []))
        case .updateMetadata:
            guard let e = cluster() else { return false }
            ctx.reply(UpdateMetadataResponse(errorCode: e))
        case .stopReplica:
            guard let e = cluster() else { return false }
            ctx.reply(StopReplicaResponse(errorCode: e, partitionErrors: []))
        case .joinGroup(let r):
            guard let e = group(r.groupId) else { return false }
            ctx.reply(Protocol.JoinGroupResponse(errorCode: e, memberId: r.memberId))
        case .syncGroup(let r):
            guard let e = group(r.groupId) else { return false }
            ctx.reply(Protocol.SyncGroupResponse(errorCode: e))
        case .heartbeat(let r):
            guard let e = group(r.groupId) else { return false }
            ctx.reply(HeartbeatResponse(errorCode: e))
        case .leaveGroup(let r):
            guard let e = group(r.groupId) else { return false }
            ctx.reply(Protocol.LeaveGroupResponse(errorCode: e))
        case .offsetCommit(let r):
            guard let e = group(r.groupId) else { return false }
            ctx.reply(OffsetCommitResponse(topics: r.topics.map { t in
                .init(name: t.name, partitions: t.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: e) })
            }))
        case .offsetFetch(let r) where ctx.version < 8:
            // v8+ batch groups: each is checked on its own by the handler.
            guard let e = group(r.groupId) else { return false }
            // v0–1 have no top-level error: each named partition carries it.
            let topics = ctx.version >= 2 ? [] : (r.topics ?? []).map { t in
                OffsetFetchResponse.Topic(name: t.name, partitions: t.partitionIndexes.map {
                    .init(partitionIndex: $0, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: e)
                })
            }
            ctx.reply(OffsetFetchResponse(topics: topics, errorCode: e))
        case .offsetDelete(let r):
            guard let e = group(r.groupId) else { return false }
            ctx.reply(OffsetDeleteResponse(errorCode: e))
        case .findCoordinator(let r) where ctx.version < 4:
            // v4+ batch keys: each is checked on its own by the handler.
            guard let e = coordinatorKeyRefused(ctx, key: r.key, keyType: r.keyType) else { return false }
            ctx.reply(FindCoordinatorResponse(errorCode: e, errorMessage: nil, nodeId: -1, host: "", port: -1))
        case .initProducerId(let r):
            let e: ErrorCode?
            if let tid = r.transactionalId {
                e = a.allows(.transactionalId, tid) ? nil : .transactionalIdAuthorizationFailed
            } else {
                // Idempotent producers: IDEMPOTENT_WRITE on the cluster, or (Kafka 2.8+) WRITE on any topic.
                e = a.quietlyAllows(.cluster, ResourcePattern.clusterName) || a.allowsAny(.topic) ? nil : .clusterAuthorizationFailed
            }
            guard let e else { return false }
            ctx.reply(InitProducerIdResponse(errorCode: e, producerId: -1, producerEpoch: -1))
        case .describeUserScramCredentials:
            guard let e = cluster() else { return false }
            ctx.reply(DescribeUserScramCredentialsResponse(errorCode: e, errorMessage: nil))
        case .alterUserScramCredentials(let r):
            guard let e = cluster() else { return false }
            let users = r.deletions.map(\.name) + r.upsertions.map(\.name)
            var seen: Set<String> = []
            ctx.reply(AlterUserScramCredentialsResponse(results: users.filter { seen.insert($0).inserted }.map { .init(user: $0, errorCode: e) }))
        case .describeAcls:
            guard let e = cluster() else { return false }
            ctx.reply(DescribeAclsResponse(errorCode: e, errorMessage: nil))
        case .createAcls(let r):
            guard let e = cluster() else { return false }
            ctx.reply(CreateAclsResponse(results: r.creations.map { _ in .init(errorCode: e) }))
        case .deleteAcls(let r):
            guard let e = cluster() else { return false }
            ctx.reply(DeleteAclsResponse(filterResults: r.filters.map { _ in .init(errorCode: e) }))
        case .addPartitionsToTxn(let r):
            guard let e = txn(r.transactionalId) else { return false }
            ctx.reply(AddPartitionsToTxnResponse(throttleTimeMs: 0, resultsByTopic: r.topics.map { t in
                .init(name: t.name, resultsByPartition: t.partitions.map { .init(partitionIndex: $0, partitionErrorCode: e) })
            }))
        case .addOffsetsToTxn(let r):
            guard let e = txn(r.transactionalId) else { return false }
            ctx.reply(AddOffsetsToTxnResponse(throttleTimeMs: 0, errorCode: e))
        case .endTxn(let r):
            guard let e = txn(r.transactionalId) else { return false }
            ctx.reply(EndTxnResponse(throttleTimeMs: 0, errorCode: e))
        case .txnOffsetCommit(let r):
            guard let e = txn(r.transactionalId) else { return false }
            ctx.reply(TxnOffsetCommitResponse(throttleTimeMs: 0, topics: r.topics.map { t in
                .init(name: t.name, partitions: t.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: e) })
            }))
        default:
            return false
        }
        return true
    }

    static let noAuthorizer = "No Authorizer is configured on the broker"
}
