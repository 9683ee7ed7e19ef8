import BrokerCore
import Protocol

/// FindCoordinator: the leader of the group's `__consumer_offsets` partition or the transactional
/// id's `__transaction_state` partition (either topic is created on first use). v0–3 ask for one
/// key; v4+ for a batch, each key authorized and answered on its own.
extension RequestHandler {
    func handleFindCoordinator(_ ctx: RequestContext, _ r: FindCoordinatorRequest) {
        guard ctx.version >= 4 else {
            let c = coordinator(ctx, key: r.key, keyType: r.keyType)
            return ctx.reply(FindCoordinatorResponse(errorCode: c.errorCode, errorMessage: c.errorMessage,
                                                     nodeId: c.nodeId, host: c.host, port: c.port))
        }
        ctx.reply(FindCoordinatorResponse(coordinators: r.coordinatorKeys.map { key in
            if ctx.access.enabled, let denied = coordinatorKeyRefused(ctx, key: key, keyType: r.keyType) {
                return .init(key: key, nodeId: -1, host: "", port: -1, errorCode: denied, errorMessage: nil)
            }
            return coordinator(ctx, key: key, keyType: r.keyType)
        }))
    }

    /// The error for a key the principal may not DESCRIBE (nil: allowed).
    func coordinatorKeyRefused(_ ctx: RequestContext, key: String, keyType: Int8) -> ErrorCode? {
        if keyType == 1 { return ctx.access.allows(.transactionalId, key) ? nil : .transactionalIdAuthorizationFailed }
        return ctx.access.allows(.group, key) ? nil : .groupAuthorizationFailed
    }

    private func coordinator(_ ctx: RequestContext, key: String, keyType: Int8) -> FindCoordinatorResponse.Coordinator {
        func fail(_ e: ErrorCode, _ msg: String) -> FindCoordinatorResponse.Coordinator {
            .init(key: key, nodeId: -1, host: "", port: -1, errorCode: e, errorMessage: msg)
        }
        let topic: String, partition: Int32
        switch keyType {
        case 0:
            guard metadata.partitions(of: OffsetsTopicRecords.topic) != nil else {
                ensureOffsetsTopic()
                return fail(.coordinatorNotAvailable, "the offsets topic is being created")
            }
            (topic, partition) = (OffsetsTopicRecords.topic, groups.partitionFor(key))
        case 1:
            guard !key.isEmpty else { return fail(.invalidRequest, "empty transactional id") }
            guard metadata.partitions(of: TxnLogRecords.topic) != nil else {
                ensureTransactionStateTopic()
                return fail(.coordinatorNotAvailable, "the transaction state topic is being created")
            }
            (topic, partition) = (TxnLogRecords.topic, transactions.partitionFor(key))
        default:
            return fail(.invalidRequest, "unknown coordinator key type \(keyType)")
        }
        guard let info = metadata.partitions(of: topic)?[partition], info.leader >= 0, let b = metadata.broker(info.leader),
              let ep = b.endpoint(listener: ctx.listener) else {
            return fail(.coordinatorNotAvailable, "\(topic)-\(partition) has no live leader")
        }
        return .init(key: key, nodeId: b.id, host: ep.host, port: ep.port, errorCode: .none, errorMessage: nil)
    }
}
