import KafkaClient

/// `kafkactl configs`: DescribeConfigs / IncrementalAlterConfigs, printed as kafka-configs.sh does.
func runConfigs(_ c: ConfigsCommand) throws {
    let admin = try Admin(config: clientConfig(c.bootstrap))
    defer { admin.close() }
    if c.entityType == "brokers" { return try runBrokerConfigs(c, admin) }
    switch c.action {
    case .describe:
        let dynamic = try admin.describeTopicConfigs(c.entityName).filter { $0.source == 1 }
        let shown = dynamic.map { "\($0.name)=\($0.isSensitive ? "null" : ($0.value ?? "null"))" }.joined(separator: ",")
        print("Dynamic configs for topic \(c.entityName) are:\(shown.isEmpty ? "" : "\n  " + shown)")
    case .alter(let set, let delete):
        try admin.alterTopicConfigs(c.entityName, set: set, delete: delete)
        print("Completed updating config for topic \(c.entityName).")
    }
}

/// Broker entities: one broker by id, or (entity name "") the cluster-wide default.
private func runBrokerConfigs(_ c: ConfigsCommand, _ admin: Admin) throws {
    let broker = c.entityName.isEmpty ? nil : Int32(c.entityName)
    switch c.action {
    case .describe:
        let entries = try admin.describeBrokerConfigs(broker)
        // Without --all, kafka-configs.sh shows only the entity's own dynamic values.
        let own: Int8 = broker == nil ? 3 : 2
        let shown = c.all ? entries : entries.filter { $0.source == own }
        let title = broker.map { "\(c.all ? "All" : "Dynamic") configs for broker \($0) are:" } ?? "Default configs for brokers in the cluster are:"
        print(title)
        for e in shown {
            let synonyms = e.synonyms.map { "\(sourceName($0.source)):\($0.name)=\($0.value ?? "null")" }.joined(separator: ", ")
            print("  \(e.name)=\(e.isSensitive ? "null" : (e.value ?? "null")) sensitive=\(e.isSensitive) synonyms={\(synonyms)}")
        }
    case .alter(let set, let delete):
        try admin.alterBrokerConfigs(broker, set: set, delete: delete)
        print(broker.map { "Completed updating config for broker \($0)." } ?? "Completed updating default config for brokers in the cluster.")
    }
}

private func sourceName(_ s: Int8) -> String {
    switch s {
    case 1: return "DYNAMIC_TOPIC_CONFIG"
    case 2: return "DYNAMIC_BROKER_CONFIG"
    case 3: return "DYNAMIC_DEFAULT_BROKER_CONFIG"
    case 4: return "STATIC_BROKER_CONFIG"
    case 5: return "DEFAULT_CONFIG"
    default: return "UNKNOWN"
    }
}
