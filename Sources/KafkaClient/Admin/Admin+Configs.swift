import Protocol

extension Admin {
    public struct ConfigEntry: Equatable, Sendable {
        public var name: String
        public var value: String?
        /// DescribeConfigs' source code (1 DYNAMIC_TOPIC_CONFIG, 2 DYNAMIC_BROKER_CONFIG,
        /// 3 DYNAMIC_DEFAULT_BROKER_CONFIG, 4 STATIC_BROKER_CONFIG, 5 DEFAULT_CONFIG).
        public var source: Int8
        public var isSensitive: Bool
        public var readOnly = false
        public var synonyms: [Synonym] = []
    }

    public struct Synonym: Equatable, Sendable {
        public var name: String
        public var value: String?
        public var source: Int8
    }

    /// A broker's configs (DescribeConfigs v1 with synonyms), asked of that broker; nil: the
    /// cluster-wide default entity, asked of any broker.
    public func describeBrokerConfigs(_ broker: Int32?) throws -> [ConfigEntry] {
        let name = broker.map { "\($0)" } ?? ""
        if broker != nil { _ = try cluster.refreshMetadata(topics: []) }  // the broker's address
        let r = try cluster.call(DescribeConfigsRequest(resources: [.init(resourceType: 4, resourceName: name, configurationKeys: nil)],
                                                        includeSynonyms: true),
                                 to: broker.map { .node($0) } ?? .any)
        guard let res = r.results.first else { throw KafkaError.invalidArgument("empty DescribeConfigs answer") }
        if res.errorCode != .none { throw KafkaError.broker(res.errorCode, res.errorMessage ?? "DescribeConfigs broker \(name)") }
        return res.configs.map {
            ConfigEntry(name: $0.name, value: $0.value, source: $0.configSource, isSensitive: $0.isSensitive, readOnly: $0.readOnly,
                        synonyms: $0.synonyms.map { Synonym(name: $0.name, value: $0.value, source: $0.source) })
        }
    }

    /// Sets and deletes a broker's dynamic configs (IncrementalAlterConfigs to that broker), or
    /// the cluster-wide defaults when `broker` is nil.
    public func alterBrokerConfigs(_ broker: Int32?, set: [String: String], delete: [String]) throws {
        let name = broker.map { "\($0)" } ?? ""
        if broker != nil { _ = try cluster.refreshMetadata(topics: []) }  // the broker's address
        let ops = set.keys.sorted().map { IncrementalAlterConfigsRequest.IncrementalAlterableConfig(name: $0, configOperation: 0, value: set[$0]) }
            + delete.map { .init(name: $0, configOperation: 1, value: nil) }
        let r = try cluster.call(IncrementalAlterConfigsRequest(resources: [.init(resourceType: 4, resourceName: name, configs: ops)],
                                                                validateOnly: false), to: broker.map { .node($0) } ?? .any)
        if let e = r.responses.first(where: { $0.errorCode != .none }) {
            throw KafkaError.broker(e.errorCode, e.errorMessage ?? "IncrementalAlterConfigs broker \(name)")
        }
    }

    /// A topic's configs (DescribeConfigs v1).
    public func describeTopicConfigs(_ topic: String) throws -> [ConfigEntry] {
        let r = try cluster.call(DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic, configurationKeys: nil)]), to: .any)
        guard let res = r.results.first else { throw KafkaError.invalidArgument("empty DescribeConfigs answer") }
        if res.errorCode != .none { throw KafkaError.broker(res.errorCode, res.errorMessage ?? "DescribeConfigs \(topic)") }
        return res.configs.map { ConfigEntry(name: $0.name, value: $0.value, source: $0.configSource, isSensitive: $0.isSensitive) }
    }

    /// Sets and deletes topic config overrides (IncrementalAlterConfigs).
    public func alterTopicConfigs(_ topic: String, set: [String: String], delete: [String]) throws {
        let ops = set.keys.sorted().map { IncrementalAlterConfigsRequest.IncrementalAlterableConfig(name: $0, configOperation: 0, value: set[$0]) }
            + delete.map { .init(name: $0, configOperation: 1, value: nil) }
        let r = try cluster.call(IncrementalAlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic, configs: ops)],
                                                                validateOnly: false), to: .any)
        if let e = r.responses.first(where: { $0.errorCode != .none }) {
            throw KafkaError.broker(e.errorCode, e.errorMessage ?? "IncrementalAlterConfigs \(topic)")
        }
    }
}

extension Admin {
    /// DeleteRecords, to each partition's leader: the new low watermark per partition, or its error.
    public func deleteRecords(_ targets: [DeleteRecordsTarget]) throws -> [(DeleteRecordsTarget, Result<Int64, KafkaError>)] {
        let metadata = try cluster.refreshMetadata(topics: Array(Set(targets.map(\.topic))))
        var out: [(DeleteRecordsTarget, Result<Int64, KafkaError>)] = []
        for t in targets {
            guard let leader = metadata.leader(for: TopicPartition(t.topic, t.partition)) else {
                out.append((t, .failure(.broker(.leaderNotAvailable, "no leader for \(t.topic)-\(t.partition)"))))
                continue
            }
            let req = DeleteRecordsRequest(topics: [.init(name: t.topic, partitions: [.init(partitionIndex: t.partition, offset: t.offset)])], timeoutMs: 30_000)
            let r = try cluster.call(req, to: .node(leader))
            guard let p = r.topics.first?.partitions.first else { throw KafkaError.invalidArgument("empty DeleteRecords answer") }
            out.append((t, p.errorCode == .none ? .success(p.lowWatermark) : .failure(.broker(p.errorCode, "\(t.topic)-\(t.partition)"))))
        }
        return out
    }
}

extension Admin {
    /// DescribeLogDirs on every broker (nil topics: all partitions), by broker id.
    public func describeLogDirs(topics: [String]?) throws -> [Int32: DescribeLogDirsResponse] {
        let metadata = try cluster.refreshMetadata(topics: topics)
        let wanted = topics.map { names in
            names.map { n in DescribeLogDirsRequest.DescribableLogDirTopic(topic: n, partitions: (0..<Int32(metadata.topics[n]?.partitions.count ?? 0)).map { $0 }) }
        }
        var out: [Int32: DescribeLogDirsResponse] = [:]
        for id in metadata.brokers.keys.sorted() { out[id] = try cluster.call(DescribeLogDirsRequest(topics: wanted), to: .node(id)) }
        return out
    }
}
