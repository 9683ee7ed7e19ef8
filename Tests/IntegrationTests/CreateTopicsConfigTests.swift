import Foundation
import Protocol
import Testing

/// CreateTopics refuses unknown topic config names and ill-typed values with INVALID_CONFIG, as
/// Kafka does (issue 14), instead of storing them and running without them.
@Suite(.serialized, .ownThreads) struct CreateTopicsConfigTests {
    @Test func unknownOrIllTypedConfigsAreRefused() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        func create(_ name: String, _ configs: [(String, String)]) throws -> CreateTopicsResponse.CreatableTopicResult? {
            let r = try RawKafka(port: cluster.port(1)).call(CreateTopicsRequest(topics: [
                .init(name: name, numPartitions: 1, replicationFactor: 1, assignments: [],
                      configs: configs.map { .init(name: $0.0, value: $0.1) }),
            ], timeoutMs: 30_000), version: 4)
            return r.topics.first
        }
        let typo = try create("typo", [("retention.msx", "1000")])
        #expect(typo?.errorCode == .invalidConfig && typo?.errorMessage?.contains("retention.msx") == true, "\(String(describing: typo))")
        let bad = try create("bad", [("retention.ms", "soon")])
        #expect(bad?.errorCode == .invalidConfig, "\(String(describing: bad))")
        let good = try create("good", [("retention.ms", "60000"), ("cleanup.policy", "compact,delete")])
        #expect(good?.errorCode == ErrorCode.none, "\(String(describing: good))")
        // Nothing was created for the refused ones.
        let md = try RawKafka(port: cluster.port(1)).call(MetadataRequest(topics: nil, allowAutoTopicCreation: false), version: 1)
        let names = Set(md.topics.map(\.name))
        #expect(names.contains("good") && !names.contains("typo") && !names.contains("bad"), "\(names)")
    }
}
