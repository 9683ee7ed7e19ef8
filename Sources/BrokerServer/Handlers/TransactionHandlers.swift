import BrokerCore
import Foundation
import Protocol
import Transport

/// The transaction APIs (KIP-98): the coordinator side (FindCoordinator key_type 1, InitProducerId
/// with a transactional id, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, Describe/ListTransactions)
/// over `TransactionRuntime`, and the partition side (WriteTxnMarkers, TxnOffsetCommit).
extension RequestHandler {
    /// Old clients do not know PRODUCER_FENCED: versions before 2 get INVALID_PRODUCER_EPOCH.
    static func fencedForOldClients(_ e: ErrorCode, version: Int16) -> ErrorCode {
        e == .producerFenced && version < 2 ? .invalidProducerEpoch : e
    }

    // MARK: - Coordinator lookup

    /// Creates `__transaction_state` (compacted; RF capped at the live brokers) if nobody has yet.
    func ensureTransactionStateTopic() {
        let live = max(1, liveBrokerPlacements().count)
        let rf = Int32(clamping: max(1, min(config.transactionStateLogReplicationFactor, live)))
        let (e, msg) = createTopic(TxnLogRecords.topic, partitions: Int32(clamping: config.transactionStateLogNumPartitions),
                                   replicationFactor: rf, assignment: nil,
                                   configs: ["cleanup.policy": "compact", "compression.type": "producer", "segment.bytes": "104857600"])
        if e != .none && e != .topicAlreadyExists { logger.error("creating \(TxnLogRecords.topic): \(e) \(msg ?? "")") }
    }

    // MARK: - Coordinator requests

    func handleTransactionalInitProducerId(_ ctx: RequestContext, _ r: InitProducerIdRequest, transactionalId: String) {
        // PRODUCER_FENCED exists from InitProducerId v4; older clients read INVALID_PRODUCER_EPOCH.
        let version = ctx.version
        let code: @Sendable (ErrorCode) -> ErrorCode = { $0 == .producerFenced && version < 4 ? .invalidProducerEpoch : $0 }
        let fail: @Sendable (ErrorCode) -> Void = { ctx.reply(InitProducerIdResponse(throttleTimeMs: 0, errorCode: code($0), producerId: -1, producerEpoch: -1)) }
        // v3+ (KIP-360): the id and epoch the producer still holds; -1/-1 names none.
        let expected: (producerId: Int64, epoch: Int16)? = version >= 3 && r.producerId >= 0 ? (r.producerId, r.producerEpoch) : nil
        // A fresh id is drawn every time (blocks of ids make this cheap); it is used only for a new
        // transactional id or an exhausted epoch.
        let fresh: Int64
        do { fresh = try producerIds.allocate(session: session, brokerId: config.brokerID) } catch { return fail(.coordinatorNotAvailable) }
        transactions.call(transactionalId: transactionalId, reply: { reply in
            guard case let .initProducerId(e, pid, epoch) = reply else { return fail(.unknownServerError) }
            ctx.reply(InitProducerIdResponse(throttleTimeMs: 0, errorCode: code(e), producerId: pid, producerEpoch: epoch))
        }, failure: fail) { c, id, now in
            c.initProducerId(transactionalId: transactionalId, timeoutMs: r.transactionTimeoutMs, freshProducerId: fresh,
                             expected: expected, requestId: id, nowMs: now)
        }
    }

    func handleAddPartitionsToTxn(_ ctx: RequestContext, _ r: AddPartitionsToTxnRequest) {
        let version = ctx.version
        var wanted: [TopicPartition] = []
        var refused: [TopicPartition: ErrorCode] = [:]
        for t in r.topics {
            let authorized = ctx.access.allows(.topic, t.name)
            for p in t.partitions {
                let tp = TopicPartition(t.name, p)
                if !authorized {
                    refused[tp] = .topicAuthorizationFailed
                } else if ProducerStates.internalTopics.contains(t.name) {
                    refused[tp] = .invalidTopicException
                } else if metadata.partition(tp) == nil {
                    refused[tp] = .unknownTopicOrPartition
                } else {
                    wanted.append(tp)
                }
            }
        }
        let topics = r.topics
        let answer: @Sendable ([TopicPartition: ErrorCode]) -> Void = { codes in
            ctx.reply(AddPartitionsToTxnResponse(throttleTimeMs: 0, resultsByTopic: topics.map { t in
                .init(name: t.name, resultsByPartition: t.partitions.map { p in
                    .init(partitionIndex: p, partitionErrorCode: Self.fencedForOldClients(codes[TopicPartition(t.name, p)] ?? .unknownServerError, version: version))
                })
            }))
        }
        // As Kafka: if any partition is refused, none is added; the others answer OPERATION_NOT_ATTEMPTED.
        if !refused.isEmpty {
            var codes = refused
            for tp in wanted { codes[tp] = .operationNotAttempted }
            return answer(codes)
        }
        let frozen = wanted
        transactions.call(transactionalId: r.transactionalId, reply: { reply in
            guard case .addPartitions(let codes) = reply else { return answer([:]) }
            answer(codes)
        }, failure: { e in answer(Dictionary(frozen.map { ($0, e) }, uniquingKeysWith: { a, _ in a })) }) { c, id, now in
            c.addPartitions(transactionalId: r.transactionalId, producerId: r.producerId, producerEpoch: r.producerEpoch,
                            partitions: Set(frozen), requestId: id, nowMs: now)
        }
    }

    /// The group's offsets partition joins the transaction, so EndTxn writes a marker there too.
    func handleAddOffsetsToTxn(_ ctx: RequestContext, _ r: AddOffsetsToTxnRequest) {
        let version = ctx.version
        let fail: @Sendable (ErrorCode) -> Void = { ctx.reply(AddOffsetsToTxnResponse(throttleTimeMs: 0, errorCode: Self.fencedForOldClients($0, version: version))) }
        guard ctx.access.allows(.group, r.groupId) else { return fail(.groupAuthorizationFailed) }
        guard !r.groupId.isEmpty else { return fail(.invalidGroupId) }
        guard metadata.partitions(of: OffsetsTopicRecords.topic) != nil else {
            ensureOffsetsTopic()
            return fail(.coordinatorNotAvailable)
        }
        let tp = TopicPartition(OffsetsTopicRecords.topic, groups.partitionFor(r.groupId))
        transactions.call(transactionalId: r.transactionalId, reply: { reply in
            guard case .addPartitions(let codes) = reply else { return fail(.unknownServerError) }
            fail(codes[tp] ?? .unknownServerError)
        }, failure: fail) { c, id, now in
            c.addPartitions(transactionalId: r.transactionalId, producerId: r.producerId, producerEpoch: r.producerEpoch,
                            partitions: [tp], requestId: id, nowMs: now)
        }
    }

    func handleEndTxn(_ ctx: RequestContext, _ r: EndTxnRequest) {
        let version = ctx.version
        let answer: @Sendable (ErrorCode) -> Void = { ctx.reply(EndTxnResponse(throttleTimeMs: 0, errorCode: Self.fencedForOldClients($0, version: version))) }
        transactions.call(transactionalId: r.transactionalId, reply: { reply in
            guard case .endTxn(let e) = reply else { return answer(.unknownServerError) }
            answer(e)
        }, failure: answer) { c, id, now in
            c.endTxn(transactionalId: r.transactionalId, producerId: r.producerId, producerEpoch: r.producerEpoch,
                     commit: r.committed, requestId: id, nowMs: now)
        }
    }

    func handleDescribeTransactions(_ ctx: RequestContext, _ r: DescribeTransactionsRequest) {
        let states = transactions.read { c, status in
            r.transactionalIds.prefix(1000).map { id -> DescribeTransactionsResponse.TransactionState in
                var s = DescribeTransactionsResponse.TransactionState(errorCode: .none, transactionalId: id, transactionState: "",
                                                                     transactionTimeoutMs: 0, transactionStartTimeMs: -1,
                                                                     producerId: -1, producerEpoch: -1, topicPartitions: [])
                if !ctx.access.allows(.transactionalId, id) { s.errorCode = .transactionalIdAuthorizationFailed; return s }
                if let e = status(id) { s.errorCode = e; return s }
                guard let m = c.metadata(id) else { s.errorCode = .transactionalIdNotFound; return s }
                s.transactionState = m.state.name
                s.transactionTimeoutMs = m.timeoutMs
                s.transactionStartTimeMs = m.txnStartMs
                s.producerId = m.producerId
                s.producerEpoch = Int32(m.producerEpoch)
                let byTopic = Dictionary(grouping: m.partitions, by: \.topic)
                s.topicPartitions = byTopic.keys.sorted().map { t in .init(name: t, partitionIndexes: (byTopic[t] ?? []).map(\.partition).sorted()) }
                return s
            }
        }
        ctx.reply(DescribeTransactionsResponse(throttleTimeMs: 0, transactionStates: states))
    }

    func handleListTransactions(_ ctx: RequestContext, _ r: ListTransactionsRequest) {
        let states = Set(r.stateFilters)
        let pids = Set(r.producerIdFilters)
        let all = transactions.read { c, _ in c.transactions }
        let listed = all.filter { m in
            (states.isEmpty || states.contains(m.state.name)) && (pids.isEmpty || pids.contains(m.producerId))
                && ctx.access.quietlyAllows(.transactionalId, m.transactionalId)
        }.sorted { $0.transactionalId < $1.transactionalId }
        ctx.reply(ListTransactionsResponse(throttleTimeMs: 0, errorCode: .none, transactionStates: listed.map {
            .init(transactionalId: $0.transactionalId, producerId: $0.producerId, transactionState: $0.state.name)
        }))
    }

    // MARK: - Markers

    /// Appends a marker on this broker (the leader) and waits until it is replicated; a commit
    /// marker on an offsets partition also applies the producer's transactional offsets there.
    func writeMarkerLocally(_ tp: TopicPartition, _ m: TxnMarkers) -> ErrorCode {
        let r = producerStates.appendMarker(tp, producerId: m.producerId, producerEpoch: m.producerEpoch, commit: m.commit, coordinatorEpoch: 0)
        guard r.error == .none else { return r.error }
        let deadline = MonotonicClock.millis() + 5000
        while true {
            if case .done(let e) = replicas.ackStatus(tp, requiredOffset: r.requiredOffset) {
                guard e == .noError else { return ErrorCode(e.rawValue) }
                break
            }
            if MonotonicClock.millis() > deadline { return .requestTimedOut }
            usleep(2000)
        }
        if tp.topic == OffsetsTopicRecords.topic { completeTxnOffsets(tp.partition, producerId: m.producerId, commit: m.commit) }
        return .none
    }

    /// WriteTxnMarkers to another broker, over the inter-broker listener.
    func writeMarkersRemotely(_ broker: Int32, _ tps: [TopicPartition], _ m: TxnMarkers) -> [TopicPartition: ErrorCode] {
        func all(_ e: ErrorCode) -> [TopicPartition: ErrorCode] { Dictionary(tps.map { ($0, e) }, uniquingKeysWith: { a, _ in a }) }
        guard let b = metadata.broker(broker) else { return all(.brokerNotAvailable) }
        let client = KafkaBlockingClient(host: b.host, port: Int(b.port), clientId: "broker-\(config.brokerID)-txn-markers",
                                         sasl: config.security.interBrokerSasl, tls: interBrokerTLS)
        defer { client.close() }
        let byTopic = Dictionary(grouping: tps, by: \.topic)
        let req = WriteTxnMarkersRequest(markers: [.init(producerId: m.producerId, producerEpoch: m.producerEpoch, transactionResult: m.commit,
                                                         topics: byTopic.keys.sorted().map { .init(name: $0, partitionIndexes: (byTopic[$0] ?? []).map(\.partition)) },
                                                         coordinatorEpoch: 0)])
        guard let resp = try? client.send(req, version: 1, timeoutMs: 10_000) else { return all(.networkException) }
        var out: [TopicPartition: ErrorCode] = [:]
        for mk in resp.markers { for t in mk.topics { for p in t.partitions { out[TopicPartition(t.name, p.partitionIndex)] = p.errorCode } } }
        return out
    }

    /// The partition side of a coordinator's markers (inter-broker, CLUSTER_ACTION). Written on a
    /// background queue: each marker waits for its replication.
    func handleWriteTxnMarkers(_ ctx: RequestContext, _ r: WriteTxnMarkersRequest) {
        guard ctx.access.allowsCluster() else {
            return ctx.reply(WriteTxnMarkersResponse(markers: r.markers.map { mk in
                .init(producerId: mk.producerId, topics: mk.topics.map { t in
                    .init(name: t.name, partitions: t.partitionIndexes.map { .init(partitionIndex: $0, errorCode: .clusterAuthorizationFailed) })
                })
            }))
        }
        DispatchQueue.global().async { [self] in
            let results = r.markers.prefix(1000).map { mk in
                let m = TxnMarkers(transactionalId: "", producerId: mk.producerId, producerEpoch: mk.producerEpoch, commit: mk.transactionResult, partitions: [])
                return WriteTxnMarkersResponse.WritableTxnMarkerResult(producerId: mk.producerId, topics: mk.topics.map { t in
                    .init(name: t.name, partitions: t.partitionIndexes.map { p in
                        .init(partitionIndex: p, errorCode: writeMarkerLocally(TopicPartition(t.name, p), m))
                    })
                })
            }
            ctx.reply(WriteTxnMarkersResponse(markers: results))
        }
    }
}
