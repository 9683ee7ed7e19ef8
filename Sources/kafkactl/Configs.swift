import KafkaClient

/// `kafkactl configs`: DescribeConfigs / IncrementalAlterConfigs, printed as kafka-configs.sh does.
func runConfigs(_ c: ConfigsCommand) throws {
    let admin = try Admin(config: clientConfig(c.bootstrap))
    defer { admin.close() }
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
