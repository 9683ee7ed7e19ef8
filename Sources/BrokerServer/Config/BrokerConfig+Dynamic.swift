import BrokerCore

/// Dynamic broker configs (BrokerDynamicConfig decides; this maps its keys onto the fields brokerd runs with).
extension BrokerConfig {
    /// The config with the keys brokerd applies live taken from `merged` (server.properties
    /// overlaid with `/config/brokers/<default>` and `/config/brokers/<id>`). Values were checked
    /// when written; one that does not parse (a hand-written znode) keeps the previous value.
    func applyingDynamic(_ merged: [String: String]) -> BrokerConfig {
        var c = self
        func value(_ k: String) -> String? { merged[k]?.trimmed }
        func long(_ k: String) -> Int64? { value(k).flatMap { Int64($0) } }
        func int(_ k: String) -> Int? { value(k).flatMap { Int($0) }.flatMap { $0 <= Int(Int32.max) ? $0 : nil } }
        if let v = int("log.segment.bytes"), v >= 14 { c.logSegmentBytes = Int64(v) }
        if let v = BrokerDynamicConfig.millis(merged, "log.roll.ms"), v >= 1 { c.logSegmentMs = v }
        if let v = BrokerDynamicConfig.millis(merged, "log.retention.ms") { c.logRetentionMs = v }
        if let v = long("log.retention.bytes") { c.logRetentionBytes = v }
        if let v = int("log.index.interval.bytes"), v >= 1 { c.logIndexIntervalBytes = v }
        if let v = long("log.flush.interval.messages"), v >= 1 { c.logFlushIntervalMessages = v }
        if let v = long("log.flush.interval.ms"), v >= 0 { c.logFlushIntervalMs = v }
        if let v = value("log.cleanup.policy"), !v.isEmpty { c.logCleanupPolicy = v }
        if let v = int("message.max.bytes"), v >= 1 { c.messageMaxBytes = v }
        if let v = int("min.insync.replicas"), v >= 1 { c.minInsyncReplicas = v }
        // Read from `raw` by LogManager.brokerDefaults and the cleaner.
        for k in ["log.cleaner.delete.retention.ms", "log.message.timestamp.type", "log.index.size.max.bytes", "log.cleaner.backoff.ms",
                  "sasl.kerberos.service.name", "sasl.kerberos.kinit.cmd", "sasl.kerberos.ticket.renew.window.factor",
                  "sasl.kerberos.ticket.renew.jitter", "sasl.kerberos.min.time.before.relogin", "sasl.kerberos.principal.to.local.rules"] {
            if let v = merged[k] { c.raw[k] = v }
        }
        return c
    }

    /// Kafka's built-in defaults of the keys brokerd knows (DescribeConfigs' DEFAULT_CONFIG), from
    /// the same field defaults server.properties starts from.
    static var builtInDefaults: [String: String] {
        let d = BrokerConfig()
        return [
            "num.partitions": "\(d.numPartitions)", "default.replication.factor": "\(d.defaultReplicationFactor)",
            "min.insync.replicas": "\(d.minInsyncReplicas)", "message.max.bytes": "\(d.messageMaxBytes)",
            "log.segment.bytes": "\(d.logSegmentBytes)", "log.roll.hours": "168", "log.retention.hours": "168",
            "log.retention.bytes": "\(d.logRetentionBytes)", "log.retention.check.interval.ms": "\(d.logRetentionCheckIntervalMs)",
            "log.index.interval.bytes": "\(d.logIndexIntervalBytes)", "log.index.size.max.bytes": "10485760",
            "log.flush.interval.messages": "\(d.logFlushIntervalMessages)", "log.cleanup.policy": d.logCleanupPolicy,
            "log.cleaner.enable": "true", "log.cleaner.backoff.ms": "15000", "log.cleaner.delete.retention.ms": "86400000",
            "log.message.timestamp.type": "CreateTime", "log.dirs": "/tmp/kafka-logs",
            "replica.lag.time.max.ms": "\(d.replicaLagTimeMaxMs)", "replica.fetch.wait.max.ms": "\(d.replicaFetchWaitMaxMs)",
            "replica.fetch.min.bytes": "\(d.replicaFetchMinBytes)", "replica.fetch.max.bytes": "\(d.replicaFetchMaxBytes)",
            "auto.create.topics.enable": "\(d.autoCreateTopicsEnable)", "delete.topic.enable": "\(d.deleteTopicEnable)",
            "unclean.leader.election.enable": "\(d.uncleanLeaderElectionEnable)", "auto.leader.rebalance.enable": "\(d.autoLeaderRebalanceEnable)",
            "leader.imbalance.check.interval.seconds": "\(d.leaderImbalanceCheckIntervalSeconds)",
            "num.network.threads": "\(d.numNetworkThreads)", "num.io.threads": "\(d.numIOThreads)", "background.threads": "10",
            "queued.max.requests": "\(d.queuedMaxRequests)", "socket.request.max.bytes": "\(d.socketRequestMaxBytes)",
            "offsets.topic.num.partitions": "\(d.offsetsTopicNumPartitions)", "offsets.topic.replication.factor": "\(d.offsetsTopicReplicationFactor)",
            "offsets.retention.minutes": "\(d.offsetsRetentionMinutes)",
            "transaction.state.log.num.partitions": "\(d.transactionStateLogNumPartitions)",
            "transaction.state.log.replication.factor": "\(d.transactionStateLogReplicationFactor)",
            "transaction.max.timeout.ms": "\(d.transactionMaxTimeoutMs)", "transactional.id.expiration.ms": "\(d.transactionalIdExpirationMs)",
            "group.initial.rebalance.delay.ms": "\(d.groupInitialRebalanceDelayMs)",
            "group.min.session.timeout.ms": "\(d.groupMinSessionTimeoutMs)", "group.max.session.timeout.ms": "\(d.groupMaxSessionTimeoutMs)",
            "controlled.shutdown.enable": "\(d.controlledShutdownEnable)", "broker.id.generation.enable": "\(d.brokerIDGenerationEnable)",
            "zookeeper.session.timeout.ms": "\(d.zookeeperSessionTimeoutMs)",
            "sasl.kerberos.min.time.before.relogin": "60000", "sasl.kerberos.kinit.cmd": "/usr/bin/kinit",
            "sasl.kerberos.ticket.renew.window.factor": "0.8", "sasl.kerberos.ticket.renew.jitter": "0.05",
            "sasl.kerberos.principal.to.local.rules": "DEFAULT",
        ]
    }
}
