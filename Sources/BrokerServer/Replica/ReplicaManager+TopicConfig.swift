import BrokerCore
import Storage

/// Topic config overrides applied to the hosted partitions: at LeaderAndIsr, and live when
/// AlterConfigs / IncrementalAlterConfigs change `/config/topics/<t>` (TopicConfigChanges).
extension ReplicaManager {
    /// The log settings and min.insync.replicas a topic's partitions run with.
    func effectiveConfig(_ topic: String, _ overrides: [String: String]) -> (LogConfig, Int) {
        var topicCfg = overrides
        if topic == "__consumer_offsets" {
            // Kafka creates it compacted with 100 MiB segments; keep that unless told otherwise.
            topicCfg["cleanup.policy"] = topicCfg["cleanup.policy"] ?? "compact"
            topicCfg["segment.bytes"] = topicCfg["segment.bytes"] ?? "104857600"
        }
        let minIsr = Int(topicCfg["min.insync.replicas"]?.trimmed ?? "").flatMap { $0 >= 1 ? $0 : nil } ?? defaultMinInsyncReplicas.load(ordering: .relaxed)
        return (logs.config(overrides: topicCfg), minIsr)
    }

    /// New overrides for a topic: every local partition of it takes them at once (retention and
    /// cleanup at the next maintenance pass, min.insync.replicas on the next produce).
    func applyTopicConfig(_ topic: String, _ overrides: [String: String]) {
        let (logCfg, minIsr) = effectiveConfig(topic, overrides)
        let mine = lock.withLock { () -> [Partition] in
            topicOverrides[topic] = overrides
            return partitions.values.filter { $0.tp.topic == topic }
        }
        for p in mine {
            p.lock.withLock {
                p.log?.updateConfig(logCfg)
                p.minInsyncReplicas = minIsr
                p.leader?.config.minInsyncReplicas = minIsr
            }
        }
        if !mine.isEmpty && !overrides.isEmpty { logger.info("topic \(topic): config now \(overrides.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })") }
    }

    /// New broker-level settings (dynamic broker configs over server.properties): the log defaults,
    /// min.insync.replicas and cleaner backoff change, and every hosted topic is re-applied so the
    /// ones without their own override take the new values at once.
    func applyBrokerConfig(_ c: BrokerConfig) {
        let defaults: LogConfig
        do {
            defaults = try LogManager.brokerDefaults(c)
        } catch {
            logger.warn("dynamic broker configs not applied: \(error)")
            return
        }
        logs.setDefaults(defaults)
        defaultMinInsyncReplicas.store(c.minInsyncReplicas, ordering: .relaxed)
        cleanerBackoffMs.store(Self.cleanerBackoff(c), ordering: .relaxed)
        let topics = lock.withLock { Set(partitions.keys.map(\.topic)).map { ($0, topicOverrides[$0] ?? [:]) } }
        for (t, o) in topics { applyTopicConfig(t, o) }
    }

    static func cleanerBackoff(_ c: BrokerConfig) -> UInt64 {
        UInt64(max(1, Int64(c.raw["log.cleaner.backoff.ms"]?.trimmed ?? "") ?? 15_000))
    }
}
