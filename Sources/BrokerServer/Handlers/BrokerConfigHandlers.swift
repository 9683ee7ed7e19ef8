import BrokerCore
import CoordClient
import Protocol

/// How an alteration turns a broker entity's stored dynamic configs into new ones.
typealias BrokerConfigChange = ([String: String], BrokerDynamicConfig.Level) throws(TopicConfigChange.Problem) -> [String: String]

/// Dynamic broker configs, Kafka's ZK mode: the receiving broker (clients route a BROKER resource
/// to that broker; "" may go to any) writes `/config/brokers/<id>` or `/config/brokers/<default>`
/// with a `config_change_` notification naming `brokers/<entity>`; every broker's watch re-reads
/// and applies (DynamicBrokerConfigs). BrokerDynamicConfig decides what is allowed.
extension RequestHandler {
    func alterBrokerConfig(_ name: String, validateOnly: Bool, _ change: BrokerConfigChange) -> (ErrorCode, String?) {
        let entity: String, level: BrokerDynamicConfig.Level
        do { (entity, level) = try BrokerDynamicConfig.entity(resourceName: name, localBroker: config.brokerID) } catch {
            return (error.code, error.message)
        }
        guard let c = session.connectedClient else { return Self.noSession }
        let path = ZkPaths.brokerConfig(entity)
        for _ in 0..<10 {
            var current: [String: String] = [:]
            var version: Int32?
            do {
                let (d, st) = try c.getData(path)
                current = (try? TopicConfigPayload.decode(d).config) ?? [:]
                version = st.version
            } catch let e as CoordError where e.isNoNode {
            } catch {
                return (.coordinatorNotAvailable, "coordd: \(error)")
            }
            let next: [String: String]
            do { next = try change(current, level) } catch { return (error.code, error.message) }
            if validateOnly { return (.none, nil) }
            let ops = Self.configWriteOps(BrokerDynamicConfig.writeOps(entity: entity, config: next, configZkVersion: version))
            do {
                try? c.createRecursive(ZkPaths.configBrokers)
                try? c.createRecursive(ZkPaths.configChanges)
                try c.multi(ops)
            } catch let e as CoordError where e.isNodeExists || e.isBadVersion {
                continue
            } catch {
                return (.coordinatorNotAvailable, "coordd: \(error)")
            }
            logger.info("dynamic broker configs of \(entity) set to \(DynamicBrokerConfigs.show(next))")
            pruneConfigChanges(c)
            return (.none, nil)
        }
        return (.coordinatorNotAvailable, "concurrent config changes to broker entity \(entity); retry")
    }

    /// DescribeConfigs of a BROKER resource: this broker (its id) or the cluster default ("").
    func describeBrokerConfigs(_ res: DescribeConfigsRequest.DescribeConfigsResource, includeSynonyms: Bool)
        -> DescribeConfigsResponse.DescribeConfigsResult {
        func failed(_ e: ErrorCode, _ m: String?) -> DescribeConfigsResponse.DescribeConfigsResult {
            .init(errorCode: e, errorMessage: m, resourceType: res.resourceType, resourceName: res.resourceName, configs: [])
        }
        let level: BrokerDynamicConfig.Level
        do { level = try BrokerDynamicConfig.entity(resourceName: res.resourceName, localBroker: config.brokerID).level } catch {
            return failed(error.code, error.message)
        }
        guard let brokerConfigs else { return failed(.unknownServerError, "dynamic broker configs not ready") }
        // Read from coordd first, so an alteration just acknowledged by any broker shows at once.
        if session.connectedClient != nil { brokerConfigs.reload(session) }
        let keys = res.configurationKeys.map { Set($0) }
        let configs = BrokerDynamicConfig.describe(brokerConfigs.layers(), level: level).filter { keys?.contains($0.name) ?? true }.map { e in
            DescribeConfigsResponse.DescribeConfigsResourceResult(
                name: e.name, value: e.value, readOnly: e.readOnly, isDefault: e.source == .defaultConfig, configSource: e.source.rawValue,
                isSensitive: e.isSensitive,
                synonyms: includeSynonyms ? e.synonyms.map { .init(name: $0.name, value: $0.value, source: $0.source.rawValue) } : [],
                configType: e.type.rawValue, documentation: nil)
        }
        return .init(errorCode: .none, errorMessage: nil, resourceType: res.resourceType, resourceName: res.resourceName, configs: configs)
    }
}
