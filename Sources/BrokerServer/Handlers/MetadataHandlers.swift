import BrokerCore
import CoordClient
import Foundation
import Protocol
import Transport

extension RequestHandler {
    static let internalTopics: Set<String> = ["__consumer_offsets", "__transaction_state"]
    /// Bounds what one request can make us allocate and write to coordd.
    static let maxPartitionsPerTopic: Int32 = 10_000

    static func configProblem(_ configs: [String: String]) -> TopicConfigChange.Problem? {
        do {
            try TopicConfigChange.validate(configs)
            return nil
        } catch {
            return error
        }
    }

    func handleMetadata(_ ctx: RequestContext, _ r: MetadataRequest) {
        var topics: [MetadataResponse.Topic] = []
        // Listing all topics hides the ones the principal may not DESCRIBE (quietly, as Kafka);
        // named ones it may not describe answer TOPIC_AUTHORIZATION_FAILED.
        var names: [String] = []
        for t in r.topics ?? [] {
            // v10+: a topic may be asked for by id alone (v12 clients); an unknown id is not created.
            if t.name.isEmpty && t.topicId != .zero {
                if let n = metadata.topicName(id: t.topicId) { names.append(n); continue }
                topics.append(MetadataResponse.Topic(errorCode: .unknownTopicId, name: "", topicId: t.topicId, isInternal: false, partitions: []))
            } else {
                names.append(t.name)
            }
        }
        if r.topics == nil { names = metadata.topicNames.filter { ctx.access.quietlyAllows(.topic, $0) } }
        let allowAuto = config.autoCreateTopicsEnable && (ctx.version < 4 || r.allowAutoTopicCreation)
        for name in names {
            if r.topics != nil && !ctx.access.allows(.topic, name) {
                topics.append(MetadataResponse.Topic(errorCode: .topicAuthorizationFailed, name: name, isInternal: false, partitions: []))
                continue
            }
            if let parts = metadata.partitions(of: name) {
                var t = topicMetadata(name, parts)
                if r.includeTopicAuthorizedOperations { t.topicAuthorizedOperations = ctx.access.authorizedOperations(.topic, name) }
                topics.append(t)
                continue
            }
            var err = ErrorCode.unknownTopicOrPartition
            if !ReplicaAssignment.validateTopicName(name) {
                err = .invalidTopicException
            } else if allowAuto && r.topics != nil
                        && !ctx.access.quietlyAllows(.cluster, ResourcePattern.clusterName, .autoCreate) && !ctx.access.allows(.topic, name, .autoCreate) {
                err = .topicAuthorizationFailed
            } else if allowAuto && r.topics != nil {
                let (e, _) = createTopic(name, partitions: Int32(config.numPartitions),
                                         replicationFactor: Int32(config.defaultReplicationFactor), assignment: nil, configs: [:])
                // NOT_CONTROLLER here means no coordd session yet: the client retries either way.
                err = (e == .none || e == .topicAlreadyExists || e == .notController) ? .leaderNotAvailable : e
            }
            topics.append(MetadataResponse.Topic(errorCode: err, name: name, isInternal: false, partitions: []))
        }
        let brokers = brokerEndpoints(ctx).map { MetadataResponse.Broker(nodeId: $0.id, host: $0.host, port: $0.port, rack: $0.rack) }
        var response = MetadataResponse(throttleTimeMs: 0, brokers: brokers, clusterId: clusterId,
                                        controllerId: metadata.controllerId, topics: topics)
        if r.includeClusterAuthorizedOperations {
            response.clusterAuthorizedOperations = ctx.access.authorizedOperations(.cluster, ResourcePattern.clusterName)
        }
        ctx.reply(response)
    }

    /// The live brokers as a client on this request's listener must reach them (each client sees
    /// the endpoints of the listener it came in on); this broker alone before any metadata came.
    func brokerEndpoints(_ ctx: RequestContext) -> [(id: Int32, host: String, port: Int32, rack: String?)] {
        let brokers = metadata.brokers.compactMap { b in b.endpoint(listener: ctx.listener).map { (b.id, $0.host, $0.port, b.rack) } }
        if !brokers.isEmpty { return brokers }
        let own = advertisedListeners[ctx.listener] ?? advertised
        return [(config.brokerID, own.host, Int32(own.port), config.rack)]
    }

    private func topicMetadata(_ name: String, _ parts: [Int32: MetadataCache.PartitionInfo]) -> MetadataResponse.Topic {
        let live = Set(metadata.brokers.map(\.id))
        let ps = parts.keys.sorted().compactMap { i -> MetadataResponse.Partition? in
            guard let p = parts[i] else { return nil }
            let err: ErrorCode = (p.leader < 0 || !live.contains(p.leader)) ? .leaderNotAvailable : .none
            return MetadataResponse.Partition(errorCode: err, partitionIndex: i, leaderId: p.leader, leaderEpoch: p.leaderEpoch,
                                              replicaNodes: p.replicas, isrNodes: p.isr, offlineReplicas: p.offline)
        }
        return MetadataResponse.Topic(errorCode: .none, name: name, topicId: metadata.topicId(of: name),
                                      isInternal: RequestHandler.internalTopics.contains(name), partitions: ps)
    }

    /// Live brokers as coordd sees them (authoritative for placing new replicas).
    func liveBrokerPlacements() -> [BrokerPlacement] {
        guard let client = session.connectedClient, let ids = try? client.getChildren(ZkPaths.brokerIds) else {
            return metadata.brokers.map { BrokerPlacement(id: $0.id, rack: $0.rack) }
        }
        return ids.compactMap { s -> BrokerPlacement? in
            guard let id = Int32(s) else { return nil }
            let rack = (try? client.getData(ZkPaths.broker(id))).flatMap { try? BrokerRegistration.decode(id: id, $0.data) }?.rack
            return BrokerPlacement(id: id, rack: rack)
        }
    }

    /// Writes `/brokers/topics/<name>` (and its config); the controller does the rest.
    func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32, assignment: [Int32: [Int32]]?,
                     configs: [String: String], validateOnly: Bool = false, topicId: KafkaUUID = .random()) -> (ErrorCode, String?) {
        guard ReplicaAssignment.validateTopicName(name) else {
            return (.invalidTopicException, "topic name '\(name)' is illegal: use [a-zA-Z0-9._-], at most 249 characters, not . or ..")
        }
        guard let client = session.connectedClient else { return Self.noSession }
        let placement: [Int32: [Int32]]
        if let assignment {
            // Refused at once: replicas on a broker that does not exist would leave the topic offline.
            let live = Set(liveBrokerPlacements().map(\.id))
            if let why = ReplicaAssignment.assignmentProblem(assignment, liveBrokers: live) { return (.invalidReplicaAssignment, why) }
            placement = assignment
        } else {
            let brokers = liveBrokerPlacements()
            do {
                placement = try ReplicaAssignment.assign(brokers: brokers, partitions: partitions, replicationFactor: replicationFactor,
                                                         startIndex: Int.random(in: 0..<max(1, brokers.count)),
                                                         replicaShift: Int.random(in: 0..<max(1, brokers.count)))
            } catch {
                let msg = error == .invalidReplicationFactor
                    ? "replication factor \(replicationFactor) larger than the \(brokers.count) live brokers" : nil
                return (ErrorCode(error.rawValue), msg)
            }
        }
        if let why = LogManager.validate(topicConfig: configs) {
            return (.invalidConfig, why)
        }
        if (try? client.exists(ZkPaths.topic(name))) != nil {
            return (.topicAlreadyExists, "topic '\(name)' already exists")
        }
        let existing = (try? client.getChildren(ZkPaths.brokerTopics)) ?? metadata.topicNames
        if let other = ReplicaAssignment.collidingTopic(name, existing: existing) {
            return (.invalidTopicException, "topic '\(name)' collides with existing topic '\(other)' ('.' and '_' collide in metric names)")
        }
        if validateOnly { return (.none, nil) }
        do {
            if !configs.isEmpty {
                try? client.createRecursive(ZkPaths.configTopics)
                _ = try? client.create(ZkPaths.topicConfig(name), data: TopicConfigPayload(config: configs).encoded())
            }
            try client.create(ZkPaths.topic(name), data: TopicAssignment(partitions: placement, topicId: topicId).encoded())
            logger.info("created topic \(name) with \(placement.count) partitions")
            return (.none, nil)
        } catch let e as CoordError where e.isNodeExists {
            return (.topicAlreadyExists, "topic '\(name)' already exists")
        } catch {
            return (.unknownServerError, "\(error)")
        }
    }

    /// The answer of admin writes before the coordd session exists (or while it is lost): retriable,
    /// and the admin client refreshes metadata and tries again, as with a moved controller.
    static let noSession: (ErrorCode, String?) = (.notController, "no coordd session yet; retry")

    func topicReady(_ name: String, partitions: Int) -> Bool {
        guard let ps = metadata.partitions(of: name), ps.count >= partitions else { return false }
        return ps.values.allSatisfy { $0.leader >= 0 }
    }

    func handleCreateTopics(_ ctx: RequestContext, _ r: CreateTopicsRequest) {
        var results: [CreateTopicsResponse.CreatableTopicResult] = []
        var created: [(String, Int)] = []
        for t in r.topics {
            let id = KafkaUUID.random()
            var assignment: [Int32: [Int32]]?
            if !t.assignments.isEmpty {
                assignment = Dictionary(t.assignments.map { ($0.partitionIndex, $0.brokerIds) }, uniquingKeysWith: { a, _ in a })
            }
            let partitions = t.numPartitions == -1 ? Int32(config.numPartitions) : t.numPartitions
            let rf = t.replicationFactor == -1 ? Int32(config.defaultReplicationFactor) : Int32(t.replicationFactor)
            var configs: [String: String] = [:]
            for c in t.configs { if let v = c.value { configs[c.name] = v } }
            var (err, msg): (ErrorCode, String?)
            if !ctx.access.quietlyAllows(.cluster, ResourcePattern.clusterName) && !ctx.access.allows(.topic, t.name) {
                (err, msg) = (.topicAuthorizationFailed, "Authorization failed.")
            } else if partitions > RequestHandler.maxPartitionsPerTopic || t.assignments.count > RequestHandler.maxPartitionsPerTopic {
                (err, msg) = (.invalidPartitions, "at most \(RequestHandler.maxPartitionsPerTopic) partitions per topic")
            } else if assignment == nil && partitions <= 0 {
                (err, msg) = (.invalidPartitions, "number of partitions must be positive")
            } else if assignment == nil && rf <= 0 {
                (err, msg) = (.invalidReplicationFactor, "replication factor must be positive")
            } else if let p = Self.configProblem(configs) {
                // Unknown names and ill-typed values are refused, as Kafka does (not stored and ignored).
                (err, msg) = (p.code, p.message)
            } else {
                (err, msg) = createTopic(t.name, partitions: partitions, replicationFactor: rf, assignment: assignment,
                                         configs: configs, validateOnly: r.validateOnly, topicId: id)
            }
            if err == .none && !r.validateOnly { created.append((t.name, assignment?.count ?? Int(partitions))) }
            var result = CreateTopicsResponse.CreatableTopicResult(name: t.name, errorCode: err, errorMessage: ctx.version >= 1 ? msg : nil)
            if err == .none {
                // v5+ echo what the topic was created with (v7: its id; none for validate_only, as Kafka).
                result.topicId = r.validateOnly ? .zero : id
                result.numPartitions = assignment.map { Int32($0.count) } ?? partitions
                result.replicationFactor = assignment?.values.first.map { Int16($0.count) } ?? Int16(clamping: rf)
                var entries = topicDefaults()
                for (k, v) in configs { entries[k] = v }
                result.configs = entries.keys.sorted().map {
                    .init(name: $0, value: SensitiveConfig.displayValue($0, entries[$0]), readOnly: false,
                          configSource: configs[$0] != nil ? 1 : 5, isSensitive: SensitiveConfig.isSensitive($0))
                }
            }
            results.append(result)
        }
        let answered = results
        let ready: @Sendable () -> Bool = { [self, created] in created.allSatisfy { topicReady($0.0, partitions: $0.1) } }
        whenReady(timeoutMs: created.isEmpty ? 0 : r.timeoutMs, ready) { [self, created] ok in
            var results = answered
            if !ok {
                for i in results.indices where created.contains(where: { $0.0 == results[i].name }) && !topicReady(results[i].name, partitions: 1) {
                    results[i].errorCode = .requestTimedOut
                }
            }
            ctx.reply(CreateTopicsResponse(throttleTimeMs: 0, topics: results))
        }
    }

    func handleDeleteTopics(_ ctx: RequestContext, _ r: DeleteTopicsRequest) {
        var results: [DeleteTopicsResponse.DeletableTopicResult] = []
        var pending: [String] = []
        let client = session.connectedClient
        // v6 names a topic by name or by id; older versions by name only.
        var wanted: [(name: String, id: KafkaUUID)] = []
        if ctx.version >= 6 {
            for t in r.topics {
                if let n = t.name, !n.isEmpty {
                    wanted.append((n, self.metadata.topicId(of: n)))
                } else if let n = self.metadata.topicName(id: t.topicId) {
                    wanted.append((n, t.topicId))
                } else {
                    results.append(.init(name: "", topicId: t.topicId, errorCode: .unknownTopicId, errorMessage: "no topic has id \(t.topicId.kafkaString)"))
                }
            }
        } else {
            wanted = r.topicNames.map { ($0, self.metadata.topicId(of: $0)) }
        }
        for (name, id) in wanted {
            if !ctx.access.allows(.topic, name) {
                results.append(.init(name: name, topicId: id, errorCode: .topicAuthorizationFailed, errorMessage: "Authorization failed."))
            } else if !config.deleteTopicEnable {
                results.append(.init(name: name, topicId: id, errorCode: .topicDeletionDisabled, errorMessage: "delete.topic.enable is false"))
            } else if client == nil {
                results.append(.init(name: name, topicId: id, errorCode: Self.noSession.0, errorMessage: Self.noSession.1))
            } else if (try? client?.exists(ZkPaths.topic(name))) == nil {
                results.append(.init(name: name, topicId: id, errorCode: .unknownTopicOrPartition, errorMessage: "This server does not host this topic-partition."))
            } else {
                try? client?.createRecursive(ZkPaths.deleteTopics)
                _ = try? client?.create(ZkPaths.deleteTopic(name))
                pending.append(name)
                results.append(.init(name: name, topicId: id, errorCode: .none))
            }
        }
        let answered = results, metadata = metadata
        let gone: @Sendable () -> Bool = { [pending] in pending.allSatisfy { metadata.partitions(of: $0) == nil } }
        whenReady(timeoutMs: pending.isEmpty ? 0 : r.timeoutMs, gone) { [pending] ok in
            var results = answered
            if !ok {
                for i in results.indices where pending.contains(results[i].name) && metadata.partitions(of: results[i].name) != nil {
                    results[i].errorCode = .requestTimedOut
                    results[i].errorMessage = "the topic is being deleted; not finished within the request's timeout"
                }
            }
            ctx.reply(DeleteTopicsResponse(throttleTimeMs: 0, responses: results))
        }
    }

    func handleCreatePartitions(_ ctx: RequestContext, _ r: CreatePartitionsRequest) {
        var results: [CreatePartitionsResponse.CreatePartitionsTopicResult] = []
        var grown: [(String, Int)] = []
        for t in r.topics {
            guard ctx.access.allows(.topic, t.name) else {
                results.append(.init(name: t.name, errorCode: .topicAuthorizationFailed, errorMessage: "Authorization failed."))
                continue
            }
            guard let client = session.connectedClient else {
                results.append(.init(name: t.name, errorCode: Self.noSession.0, errorMessage: Self.noSession.1))
                continue
            }
            do {
                let (d, st) = try client.getData(ZkPaths.topic(t.name))
                var a = try TopicAssignment.decode(d)
                guard t.count > Int32(a.partitions.count), t.count <= RequestHandler.maxPartitionsPerTopic else {
                    results.append(.init(name: t.name, errorCode: .invalidPartitions,
                                         errorMessage: "topic has \(a.partitions.count) partitions; the new count must be larger (at most \(RequestHandler.maxPartitionsPerTopic))"))
                    continue
                }
                let added: [Int32: [Int32]]
                if let explicit = t.assignments {
                    var m: [Int32: [Int32]] = [:]
                    for (i, x) in explicit.enumerated() { m[Int32(a.partitions.count + i)] = x.brokerIds }
                    let rf = a.partitions.values.first?.count
                    if let why = ReplicaAssignment.assignmentProblem(m, firstPartition: Int32(a.partitions.count), replicationFactor: rf,
                                                                     liveBrokers: Set(liveBrokerPlacements().map(\.id))) {
                        results.append(.init(name: t.name, errorCode: .invalidReplicaAssignment, errorMessage: why))
                        continue
                    }
                    guard m.count == Int(t.count) - a.partitions.count else {
                        results.append(.init(name: t.name, errorCode: .invalidReplicaAssignment,
                                             errorMessage: "\(m.count) assignments for \(Int(t.count) - a.partitions.count) new partitions"))
                        continue
                    }
                    added = m
                } else {
                    let all = try ReplicaAssignment.addPartitions(existing: a.partitions, newTotal: t.count, brokers: liveBrokerPlacements())
                    added = all.filter { a.partitions[$0.key] == nil }
                }
                if !r.validateOnly {
                    for (p, rs) in added { a.partitions[p] = rs }
                    _ = try client.setData(ZkPaths.topic(t.name), data: a.encoded(), version: st.version)
                    grown.append((t.name, Int(t.count)))
                }
                results.append(.init(name: t.name, errorCode: .none))
            } catch let e as CoordError where e.isNoNode {
                results.append(.init(name: t.name, errorCode: .unknownTopicOrPartition))
            } catch let e as KafkaError {
                results.append(.init(name: t.name, errorCode: ErrorCode(e.rawValue)))
            } catch {
                results.append(.init(name: t.name, errorCode: .unknownServerError, errorMessage: "\(error)"))
            }
        }
        let answered = results
        let ready: @Sendable () -> Bool = { [self, grown] in grown.allSatisfy { topicReady($0.0, partitions: $0.1) } }
        whenReady(timeoutMs: grown.isEmpty ? 0 : r.timeoutMs, ready) { _ in
            ctx.reply(CreatePartitionsResponse(throttleTimeMs: 0, results: answered))
        }
    }

    func handleDescribeConfigs(_ ctx: RequestContext, _ r: DescribeConfigsRequest) {
        var results: [DescribeConfigsResponse.DescribeConfigsResult] = []
        for res in r.resources {
            var entries: [String: String] = [:]
            var dynamic: Set<String> = []
            var err = ErrorCode.none
            switch res.resourceType {
            case 2 where !ctx.access.allows(.topic, res.resourceName):
                err = .topicAuthorizationFailed
            case 4 where !ctx.access.allowsCluster():
                err = .clusterAuthorizationFailed
            case 2:  // topic
                if metadata.partitions(of: res.resourceName) == nil {
                    err = .unknownTopicOrPartition
                } else if session.connectedClient == nil {
                    err = .coordinatorNotAvailable  // the overrides live in coordd; defaults alone would mislead
                } else {
                    entries = topicDefaults()
                    if let (d, _) = try? session.connectedClient?.getData(ZkPaths.topicConfig(res.resourceName)),
                       let overrides = try? TopicConfigPayload.decode(d) {
                        for (k, v) in overrides.config { entries[k] = v }
                        dynamic = Set(overrides.config.keys)
                    }
                }
            case 4:  // broker
                results.append(describeBrokerConfigs(res, includeSynonyms: r.includeSynonyms))
                continue
            default:
                err = .invalidRequest
            }
            let keys = res.configurationKeys.map { Set($0) }
            let configs = entries.keys.sorted().filter { keys?.contains($0) ?? true }.map {
                // As Kafka: password-type values never leave the broker (value null, is_sensitive true).
                DescribeConfigsResponse.DescribeConfigsResourceResult(name: $0, value: SensitiveConfig.displayValue($0, entries[$0]),
                                                                      readOnly: false, isDefault: !dynamic.contains($0),
                                                                      configSource: dynamic.contains($0) ? 1 : 5,
                                                                      isSensitive: SensitiveConfig.isSensitive($0),
                                                                      synonyms: [], configType: SensitiveConfig.isSensitive($0) ? 9 : 0,
                                                                      documentation: nil)
            }
            results.append(.init(errorCode: err, errorMessage: nil, resourceType: res.resourceType, resourceName: res.resourceName,
                                 configs: err == .none ? configs : []))
        }
        ctx.reply(DescribeConfigsResponse(throttleTimeMs: 0, results: results))
    }

    func topicDefaults() -> [String: String] {
        let config = liveConfig
        return [
            "cleanup.policy": config.logCleanupPolicy,
            "retention.ms": "\(config.logRetentionMs)",
            "retention.bytes": "\(config.logRetentionBytes)",
            "segment.bytes": "\(config.logSegmentBytes)",
            "min.insync.replicas": "\(config.minInsyncReplicas)",
            "max.message.bytes": "\(config.messageMaxBytes)",
            "unclean.leader.election.enable": "\(config.uncleanLeaderElectionEnable)",
        ]
    }

    func handleInitProducerId(_ ctx: RequestContext, _ r: InitProducerIdRequest) {
        if let tid = r.transactionalId {
            // As Kafka: null means idempotent only; an empty transactional id is refused.
            guard !tid.isEmpty else {
                return ctx.reply(InitProducerIdResponse(throttleTimeMs: 0, errorCode: .invalidRequest, producerId: -1, producerEpoch: -1))
            }
            return handleTransactionalInitProducerId(ctx, r, transactionalId: tid)
        }
        do {
            let id = try producerIds.allocate(session: session, brokerId: config.brokerID)
            ctx.reply(InitProducerIdResponse(throttleTimeMs: 0, errorCode: .none, producerId: id, producerEpoch: 0))
        } catch {
            ctx.reply(InitProducerIdResponse(throttleTimeMs: 0, errorCode: .coordinatorNotAvailable, producerId: -1, producerEpoch: -1))
        }
    }
}
