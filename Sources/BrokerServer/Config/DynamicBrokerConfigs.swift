import BrokerCore
import CoordClient
import Synchronization

/// This broker's dynamic configs as Kafka keeps them in ZooKeeper mode: `/config/brokers/<id>` and
/// `/config/brokers/<default>`, re-read at every session start and whenever a `config_change_`
/// names `brokers/<id>` or `brokers/<default>` (TopicConfigChanges watches). The effective config
/// is always recomputed from server.properties, so deleting a dynamic key restores the static value.
final class DynamicBrokerConfigs: Sendable {
    let staticConfig: BrokerConfig
    private struct State {
        var perBroker: [String: String] = [:]
        var clusterDefault: [String: String] = [:]
        var current: BrokerConfig
    }
    private let state: Mutex<State>
    private let logger: Logger
    /// Told of each new effective config (the replica manager's applyBrokerConfig).
    private let apply: @Sendable (BrokerConfig) -> Void

    init(config: BrokerConfig, logger: Logger, apply: @escaping @Sendable (BrokerConfig) -> Void) {
        staticConfig = config
        state = Mutex(State(current: config))
        self.logger = logger
        self.apply = apply
    }

    /// The config the broker runs with now.
    var current: BrokerConfig { state.withLock { $0.current } }

    var entity: String { "\(staticConfig.brokerID)" }

    func layers() -> BrokerDynamicConfig.Layers {
        state.withLock { s in
            BrokerDynamicConfig.Layers(perBroker: s.perBroker, clusterDefault: s.clusterDefault, staticProps: staticConfig.raw,
                                       defaults: BrokerConfig.builtInDefaults)
        }
    }

    /// Re-reads both entities; applies the result when it differs. False when coordd could not answer.
    @discardableResult
    func reload(_ session: CoordSession) -> Bool {
        guard let c = session.connectedClient,
              let perBroker = read(c, entity), let clusterDefault = read(c, "<default>") else { return false }
        let changed = state.withLock { s -> BrokerConfig? in
            guard s.perBroker != perBroker || s.clusterDefault != clusterDefault else { return nil }
            s.perBroker = perBroker
            s.clusterDefault = clusterDefault
            let l = BrokerDynamicConfig.Layers(perBroker: perBroker, clusterDefault: clusterDefault, staticProps: staticConfig.raw)
            s.current = staticConfig.applyingDynamic(BrokerDynamicConfig.merged(l))
            return s.current
        }
        if let next = changed {
            logger.info("dynamic broker configs: broker \(entity) \(Self.show(perBroker)), cluster default \(Self.show(clusterDefault))")
            apply(next)
        }
        return true
    }

    /// One entity's stored configs: [:] when absent; nil when coordd did not answer. Keys that are
    /// not valid dynamic configs (a hand-edited znode) are logged and left out.
    private func read(_ c: CoordClient, _ entity: String) -> [String: String]? {
        let stored: [String: String]
        do {
            let (d, _) = try c.getData(ZkPaths.brokerConfig(entity))
            guard let p = try? TopicConfigPayload.decode(d) else {
                logger.warn("\(ZkPaths.brokerConfig(entity)) is not a config znode; ignored")
                return [:]
            }
            stored = p.config
        } catch let e as CoordError where e.isNoNode {
            return [:]
        } catch {
            return nil
        }
        let level: BrokerDynamicConfig.Level = entity == "<default>" ? .clusterDefault : .perBroker
        var kept: [String: String] = [:]
        for (k, v) in stored {
            do {
                try BrokerDynamicConfig.validate([k: v], level: level)
                kept[k] = v
            } catch {
                logger.warn("\(ZkPaths.brokerConfig(entity)): ignoring \(k): \(error.message)")
            }
        }
        return kept
    }

    static func show(_ c: [String: String]) -> String {
        "[" + c.keys.sorted().map { "\($0)=\(SensitiveConfig.displayValue($0, c[$0]) ?? "(hidden)")" }.joined(separator: ", ") + "]"
    }
}
