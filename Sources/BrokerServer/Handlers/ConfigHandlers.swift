import BrokerCore
import CoordClient
import Protocol

/// AlterConfigs / IncrementalAlterConfigs for topics, ZooKeeper-mode: any broker rewrites
/// `/config/topics/<t>` (conditional on the version it read) together with a sequential
/// `/config/changes/config_change_N` in one multi; every broker's TopicConfigChanges applies it.
/// Broker resources go the same way through `/config/brokers/<id|<default>>` (BrokerConfigHandlers).
extension RequestHandler {
    static let topicResource: Int8 = 2, brokerResource: Int8 = 4

    func handleIncrementalAlterConfigs(_ ctx: RequestContext, _ r: IncrementalAlterConfigsRequest) {
        let defaults = topicDefaults(), brokerDefaults = BrokerConfig.builtInDefaults
        let responses = r.resources.map { res in
            let ops = res.configs.map { (name: $0.name, op: $0.configOperation, value: $0.value) }
            let (e, m) = alterConfigs(ctx, type: res.resourceType, name: res.resourceName, validateOnly: r.validateOnly, topic: {
                current throws(TopicConfigChange.Problem) in try TopicConfigChange.incremental(current, ops, defaults: defaults)
            }, broker: { current, level throws(TopicConfigChange.Problem) in
                try BrokerDynamicConfig.incremental(current, ops, level: level, defaults: brokerDefaults)
            })
            return IncrementalAlterConfigsResponse.IncrementalAlterConfigsResourceResponse(
                errorCode: e, errorMessage: m, resourceType: res.resourceType, resourceName: res.resourceName)
        }
        ctx.reply(IncrementalAlterConfigsResponse(throttleTimeMs: 0, responses: responses))
    }

    func handleAlterConfigs(_ ctx: RequestContext, _ r: AlterConfigsRequest) {
        let responses = r.resources.map { res in
            let entries = res.configs.map { (name: $0.name, value: $0.value) }
            let (e, m) = alterConfigs(ctx, type: res.resourceType, name: res.resourceName, validateOnly: r.validateOnly, topic: {
                _ throws(TopicConfigChange.Problem) in try TopicConfigChange.replace(entries)
            }, broker: { _, level throws(TopicConfigChange.Problem) in try BrokerDynamicConfig.replace(entries, level: level) })
            return AlterConfigsResponse.AlterConfigsResourceResponse(errorCode: e, errorMessage: m, resourceType: res.resourceType,
                                                                     resourceName: res.resourceName)
        }
        ctx.reply(AlterConfigsResponse(throttleTimeMs: 0, responses: responses))
    }

    private func alterConfigs(_ ctx: RequestContext, type: Int8, name: String, validateOnly: Bool,
                              topic: ([String: String]) throws(TopicConfigChange.Problem) -> [String: String],
                              broker: BrokerConfigChange) -> (ErrorCode, String?) {
        switch type {
        case Self.topicResource:
            guard ctx.access.allows(.topic, name) else { return (.topicAuthorizationFailed, "Authorization failed.") }
            return alterTopicConfig(name, validateOnly: validateOnly, topic)
        case Self.brokerResource:
            guard ctx.access.allowsCluster() else { return (.clusterAuthorizationFailed, "Authorization failed.") }
            return alterBrokerConfig(name, validateOnly: validateOnly, broker)
        default:
            return (.invalidRequest, "unsupported resource type \(type)")
        }
    }

    /// Read-modify-write of one topic's overrides; retried when another writer got in between.
    private func alterTopicConfig(_ topic: String, validateOnly: Bool,
                                  _ change: ([String: String]) throws(TopicConfigChange.Problem) -> [String: String]) -> (ErrorCode, String?) {
        guard let c = session.connectedClient else { return Self.noSession }
        guard ReplicaAssignment.validateTopicName(topic), (try? c.exists(ZkPaths.topic(topic))) != nil else {
            return (.unknownTopicOrPartition, "topic '\(topic)' does not exist")
        }
        for _ in 0..<10 {
            var current: [String: String] = [:]
            var version: Int32?
            do {
                let (d, st) = try c.getData(ZkPaths.topicConfig(topic))
                current = (try? TopicConfigPayload.decode(d).config) ?? [:]
                version = st.version
            } catch let e as CoordError where e.isNoNode {
            } catch {
                return (.coordinatorNotAvailable, "coordd: \(error)")
            }
            let next: [String: String]
            do { next = try change(current) } catch { return (error.code, error.message) }
            if let why = LogManager.validate(topicConfig: next) { return (.invalidConfig, why) }
            if validateOnly { return (.none, nil) }
            let ops = Self.configWriteOps(TopicAdmin.alterTopicConfig(topic: topic, config: next, configZkVersion: version))
            do {
                try? c.createRecursive(ZkPaths.configTopics)
                try? c.createRecursive(ZkPaths.configChanges)
                try c.multi(ops)
            } catch let e as CoordError where e.isNodeExists || e.isBadVersion {
                continue
            } catch {
                return (.coordinatorNotAvailable, "coordd: \(error)")
            }
            logger.info("topic \(topic) config overrides set to \(next.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })")
            pruneConfigChanges(c)
            return (.none, nil)
        }
        return (.coordinatorNotAvailable, "concurrent config changes to topic \(topic); retry")
    }

    /// Bounded notification history: the oldest go once there are more than readers need.
    /// A config write (entity znode and change notification) as coordd multi ops; config writes never delete.
    static func configWriteOps(_ ops: [ZkOp]) -> [CoordOp] {
        ops.compactMap {
            switch $0 {
            case .create(let p, let d, _, let seq): return .create(path: p, data: d, mode: seq ? .persistentSequential : .persistent)
            case .setData(let p, let d, let v): return .setData(path: p, data: d, version: v)
            case .delete: return nil
            }
        }
    }

    func pruneConfigChanges(_ c: CoordClient) {
        guard let names = try? c.getChildren(ZkPaths.configChanges), names.count > TopicConfigChanges.keptNotifications else { return }
        for n in names.sorted().prefix(names.count - TopicConfigChanges.keptNotifications / 2) {
            try? c.delete("\(ZkPaths.configChanges)/\(n)")
        }
    }
}
