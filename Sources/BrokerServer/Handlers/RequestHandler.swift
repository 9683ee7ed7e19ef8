import BrokerCore
import Foundation
import Protocol
import Transport

/// One request on a handler thread: the header, and how to answer it.
struct RequestContext: Sendable {
    let header: KafkaRequestHeader
    let api: KafkaAPI
    let respond: @Sendable ([ResponsePart]?) -> Void
    /// The listener the request came in on (Metadata answers with that listener's endpoints).
    var listener = "PLAINTEXT"
    /// Who asks, and the ACL checks for this request (open when no authorizer is configured).
    var access = RequestAccess(api: .apiVersions, principal: "User:ANONYMOUS", host: "", store: nil)
    var version: Int16 { header.apiVersion }
    var correlationId: Int32 { header.correlationId }

    func reply<M: KafkaMessage>(_ m: M) {
        do {
            respond([.bytes(try KafkaResponseFrame.encode(m, version: version, correlationId: correlationId))])
        } catch {
            respond([.close])
        }
    }
}

/// Kafka's KafkaApis: decodes each request and runs the handler for its API (one file per group).
final class RequestHandler: @unchecked Sendable {
    let config: BrokerConfig
    let metadata: MetadataCache
    let replicas: ReplicaManager
    let session: CoordSession
    let logger: Logger
    /// This broker's advertised endpoint (answers Metadata before the first UpdateMetadata).
    let advertised: BrokerConfig.Endpoint
    /// Every advertised endpoint by listener name (bound ports filled in).
    var advertisedListeners: [String: BrokerConfig.Endpoint] = [:]
    var clusterId: String?
    let producerIds = ProducerIdAllocator()
    let groups: GroupRuntime
    let producerStates: ProducerStates
    let transactions: TransactionRuntime
    let txnOffsets = TxnOffsetsBuffer()
    /// The TLS client side for the inter-broker listener (WriteTxnMarkers to other leaders).
    var interBrokerTLS: TLSContext?
    /// Where admin requests wait for the controller's result (see `whenReady`).
    let adminWaits = DispatchQueue(label: "admin-waits")
    /// Fences LeaderAndIsr / StopReplica / UpdateMetadata to the current controller and registration.
    let controllerGuard: ControllerRequestGuard
    /// The ACL cache and writer; nil without `authorizer.class.name` (everything allowed).
    let acls: AclStore?
    /// Told of each failed SASL authentication (listener): metrics and the timeline.
    var onAuthenticationFailed: (@Sendable (String) -> Void)?
    /// Anyone can make authentications fail at will: their log lines are bounded.
    let authFailureLog: RateLimitedLog
    /// This broker's controller runtime (ElectLeaders runs on the active controller).
    weak var controller: ControllerRuntime?
    /// Dynamic broker configs (`/config/brokers`); set by the broker before serving.
    var brokerConfigs: DynamicBrokerConfigs?
    /// The broker-level settings in force: server.properties overlaid with dynamic broker configs.
    var liveConfig: BrokerConfig { brokerConfigs?.current ?? config }

    init(config: BrokerConfig, metadata: MetadataCache, replicas: ReplicaManager, session: CoordSession,
         advertised: BrokerConfig.Endpoint, acls: AclStore? = nil, logger: Logger) {
        self.config = config
        self.metadata = metadata
        self.replicas = replicas
        self.session = session
        self.advertised = advertised
        self.logger = logger
        self.acls = acls
        authFailureLog = RateLimitedLog(perSecond: 5) { logger.info($0) }
        controllerGuard = ControllerRequestGuard(brokerId: config.brokerID, logger: logger)
        groups = GroupRuntime(config: config, replicas: replicas, logger: logger)
        producerStates = ProducerStates(replicas: replicas, logger: logger)
        let routes = TxnMarkerWriter.Routes()
        transactions = TransactionRuntime(config: config, replicas: replicas,
                                          markers: TxnMarkerWriter(brokerId: config.brokerID, routes: routes, logger: logger), logger: logger)
        replicas.leadershipHooks += [
            { [groups] led, notLed in groups.leadershipChanged(led: led, notLed: notLed) },
            { [producerStates] led, notLed in producerStates.leadershipChanged(led: led, notLed: notLed) },
            { [transactions] led, notLed in transactions.leadershipChanged(led: led, notLed: notLed) },
        ]
        routes.install(
            leaderOf: { [weak self] tp in self?.metadata.partition(tp)?.leader },
            writeLocal: { [weak self] tp, m in self?.writeMarkerLocally(tp, m) ?? .brokerNotAvailable },
            writeRemote: { [weak self] b, tps, m in
                self?.writeMarkersRemotely(b, tps, m) ?? Dictionary(tps.map { ($0, .brokerNotAvailable) }, uniquingKeysWith: { a, _ in a })
            })
        // A partition's transaction open for twice the longest allowed timeout has no coordinator
        // left to end it: the leader aborts it itself (Kafka leaves such hanging transactions to an operator).
        let hangingAfterMs = 2 * Int64(config.transactionMaxTimeoutMs)
        transactions.onTick = { [producerStates] now in producerStates.abortHanging(nowMs: now, maxAgeMs: hangingAfterMs) }
        groups.start()
        transactions.start()
    }

    func handle(_ q: QueuedRequest) {
        if let sec = q.security, !sec.isAuthenticated {
            handleUnauthenticated(q, sec)
            return
        }
        let frame: KafkaRequestFrame
        do {
            frame = try KafkaRequestFrame.parse(q.frame)
        } catch KafkaRequestError.unsupportedVersion(.apiVersions, let h) {
            // Clients probe with their newest ApiVersions; answer in v0 so they can retry lower.
            q.respond([.bytes(ApiVersionsResponse.unsupportedVersionFrame(correlationId: h.correlationId))])
            return
        } catch {
            logger.info("closing connection from \(q.peer): \(error)")
            q.respond([.close])
            return
        }
        var ctx = RequestContext(header: frame.header, api: frame.api, respond: q.respond)
        ctx.listener = q.security?.listener ?? config.listeners.first?.name ?? "PLAINTEXT"
        let request: KafkaRequest
        do {
            request = try KafkaRequest.decode(frame)
        } catch {
            logger.info("closing connection from \(q.peer): malformed \(frame.api.name) v\(frame.header.apiVersion): \(error)")
            q.respond([.close])
            return
        }
        ctx.access = RequestAccess(api: frame.api, principal: q.security?.principal ?? "User:ANONYMOUS",
                                   host: RequestAccess.host(ofPeer: q.peer), store: acls)
        if refusedWholeRequest(ctx, request) { return }
        switch request {
        case .apiVersions: ctx.reply(ApiVersionsResponse.supported())
        case .metadata(let r): handleMetadata(ctx, r)
        case .produce(let r): handleProduce(ctx, r)
        case .fetch(let r): handleFetch(ctx, r)
        case .listOffsets(let r): handleListOffsets(ctx, r)
        case .offsetForLeaderEpoch(let r): handleOffsetForLeaderEpoch(ctx, r)
        case .createTopics(let r): handleCreateTopics(ctx, r)
        case .deleteTopics(let r): handleDeleteTopics(ctx, r)
        case .createPartitions(let r): handleCreatePartitions(ctx, r)
        case .describeConfigs(let r): handleDescribeConfigs(ctx, r)
        case .alterConfigs(let r): handleAlterConfigs(ctx, r)
        case .incrementalAlterConfigs(let r): handleIncrementalAlterConfigs(ctx, r)
        case .deleteRecords(let r): handleDeleteRecords(ctx, r)
        case .describeLogDirs(let r): handleDescribeLogDirs(ctx, r)
        case .electLeaders(let r): handleElectLeaders(ctx, r)
        case .controlledShutdown(let r): handleControlledShutdown(ctx, r)
        case .initProducerId(let r): handleInitProducerId(ctx, r)
        case .leaderAndIsr(let r):
            guard admitControllerRequest(ctx, q, .init(controllerId: r.controllerId, controllerEpoch: r.controllerEpoch, brokerEpoch: r.brokerEpoch),
                                         refuse: { ctx.reply(LeaderAndIsrResponse(errorCode: $0, partitionErrors: [])) }) else { return }
            ctx.reply(replicas.becomeLeaderOrFollower(r))
        case .updateMetadata(let r):
            guard admitControllerRequest(ctx, q, .init(controllerId: r.controllerId, controllerEpoch: r.controllerEpoch, brokerEpoch: r.brokerEpoch),
                                         refuse: { ctx.reply(UpdateMetadataResponse(errorCode: $0)) }) else { return }
            ctx.reply(UpdateMetadataResponse(errorCode: metadata.update(r)))
        case .stopReplica(let r):
            guard admitControllerRequest(ctx, q, .init(controllerId: r.controllerId, controllerEpoch: r.controllerEpoch, brokerEpoch: r.brokerEpoch),
                                         refuse: { ctx.reply(StopReplicaResponse(errorCode: $0, partitionErrors: [])) }) else { return }
            handleStopReplica(ctx, r)
        case .findCoordinator(let r): handleFindCoordinator(ctx, r)
        case .joinGroup(let r): handleJoinGroup(ctx, r, peer: q.peer)
        case .syncGroup(let r): handleSyncGroup(ctx, r)
        case .heartbeat(let r): handleHeartbeat(ctx, r)
        case .leaveGroup(let r): handleLeaveGroup(ctx, r)
        case .offsetCommit(let r): handleOffsetCommit(ctx, r)
        case .offsetFetch(let r): handleOffsetFetch(ctx, r)
        case .offsetDelete(let r): handleOffsetDelete(ctx, r)
        case .describeGroups(let r): handleDescribeGroups(ctx, r)
        case .listGroups(let r): handleListGroups(ctx, r)
        case .deleteGroups(let r): handleDeleteGroups(ctx, r)
        case .saslHandshake: ctx.reply(SaslHandshakeResponse(errorCode: .illegalSaslState, mechanisms: []))
        case .saslAuthenticate:
            ctx.reply(SaslAuthenticateResponse(errorCode: .illegalSaslState, errorMessage: "SaslAuthenticate outside a SASL handshake"))
        case .describeUserScramCredentials(let r): handleDescribeUserScramCredentials(ctx, r)
        case .alterUserScramCredentials(let r): handleAlterUserScramCredentials(ctx, r)
        case .describeAcls(let r): handleDescribeAcls(ctx, r)
        case .createAcls(let r): handleCreateAcls(ctx, r)
        case .deleteAcls(let r): handleDeleteAcls(ctx, r)
        case .describeCluster(let r): handleDescribeCluster(ctx, r)
        case .addPartitionsToTxn(let r): handleAddPartitionsToTxn(ctx, r)
        case .addOffsetsToTxn(let r): handleAddOffsetsToTxn(ctx, r)
        case .endTxn(let r): handleEndTxn(ctx, r)
        case .writeTxnMarkers(let r): handleWriteTxnMarkers(ctx, r)
        case .txnOffsetCommit(let r): handleTxnOffsetCommit(ctx, r)
        case .describeTransactions(let r): handleDescribeTransactions(ctx, r)
        case .listTransactions(let r): handleListTransactions(ctx, r)
        }
    }

    /// Controller-only requests pass the gate first (any client can connect to the Kafka port).
    /// False when the request was refused (answered with `refuse`) or its connection closed.
    private func admitControllerRequest(_ ctx: RequestContext, _ q: QueuedRequest, _ claim: ControllerRequestGate.Claim,
                                        refuse: (ErrorCode) -> Void) -> Bool {
        guard let e = controllerGuard.admit(claim, api: ctx.api.name, peer: q.peer, session: session) else {
            ctx.respond([.close])
            return false
        }
        if e == ErrorCode.none { return true }
        refuse(e)
        return false
    }

    func handleStopReplica(_ ctx: RequestContext, _ r: Protocol.StopReplicaRequest) {
        var errs: [StopReplicaResponse.StopReplicaPartitionError] = []
        for t in r.topics {
            for p in t.partitionIndexes {
                let e = replicas.stopReplica(TopicPartition(t.name, p), delete: r.deletePartitions)
                errs.append(.init(topicName: t.name, partitionIndex: p, errorCode: e))
            }
        }
        ctx.reply(StopReplicaResponse(errorCode: .none, partitionErrors: errs))
    }
}

/// Hands out producer ids from blocks reserved in `/latest_producer_id_block`, so ids stay unique
/// across brokers and restarts.
final class ProducerIdAllocator: @unchecked Sendable {
    private let lock = NSLock()
    private var next: Int64 = 0
    private var last: Int64 = -1

    func allocate(session: CoordSession, brokerId: Int32) throws -> Int64 {
        try lock.withLock {
            if next > last {
                let block = try reserveBlock(session: session, brokerId: brokerId)
                next = block.firstId
                last = block.lastId
            }
            defer { next += 1 }
            return next
        }
    }

    private func reserveBlock(session: CoordSession, brokerId: Int32) throws -> ProducerIdBlock {
        let path = ZkPaths.latestProducerIdBlock
        guard let client = session.connectedClient else { throw KafkaError.coordinatorNotAvailable }
        for _ in 0..<20 {
            var prev: ProducerIdBlock?
            var version: Int32 = -1
            if let (d, st) = try? client.getData(path) {
                prev = d.isEmpty ? nil : try? ProducerIdBlock.decode(d)
                version = st.version
            } else {
                try? client.createRecursive(path)
                continue
            }
            let block = ProducerIdBlock.next(after: prev, brokerId: brokerId)
            if (try? client.setData(path, data: block.encoded(), version: version)) != nil { return block }
        }
        throw KafkaError.coordinatorNotAvailable
    }
}
