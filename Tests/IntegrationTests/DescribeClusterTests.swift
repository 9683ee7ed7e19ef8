import Foundation
import Protocol
import Testing

/// DescribeCluster (API 60) through confluent-kafka's AdminClient.describe_cluster() and on the wire.
@Suite(.serialized, .ownThreads) struct DescribeClusterTests {
    @Test func adminClientDescribesTheClusterAsMetadataDoes() throws {
        let cluster = try BrokerCluster(brokers: 2)
        defer { cluster.cleanup() }
        let script = """
        import json, sys
        from confluent_kafka.admin import AdminClient
        a = AdminClient({"bootstrap.servers": sys.argv[1]})
        d = a.describe_cluster(request_timeout=20).result()
        print(json.dumps({"id": d.cluster_id, "controller": d.controller.id if d.controller else None,
                          "nodes": sorted([n.id, n.host, n.port] for n in d.nodes)}))
        """
        var out = ""
        // Until both brokers are registered and the controller is known.
        let ok = ProcessHarness.waitUntil(timeout: 60, interval: 0.5) {
            let r = try? ProcessHarness.run("/usr/bin/env", ["python3", "-c", script, cluster.bootstrap], timeout: 60)
            out = r.map { $0.stdout + $0.stderr } ?? "?"
            return r?.status == 0 && (out.contains(#""controller": 1"#) || out.contains(#""controller": 2"#))
        }
        #expect(ok, "\(out)")
        let d = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        let nodes = d?["nodes"] as? [[Any]] ?? []
        #expect(nodes.count == 2 && nodes.map { "\($0[0])" } == ["1", "2"], "\(out)")
        #expect(nodes.map { $0[2] as? Int } == [cluster.port(1), cluster.port(2)], "\(out)")
        // The same cluster id Metadata gives.
        let md = try RawKafka(port: cluster.port(1)).call(MetadataRequest(topics: [], allowAutoTopicCreation: false), version: 2)
        #expect((d?["id"] as? String) == md.clusterId, "\(out) vs \(md.clusterId ?? "-")")
        // Authorized operations when asked: without an authorizer every cluster operation Kafka lists
        // (CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11,
        // IDEMPOTENT_WRITE 12); not asked, the protocol's "not provided".
        let k = try RawKafka(port: cluster.port(2))
        let raw = try k.call(DescribeClusterRequest(includeClusterAuthorizedOperations: true), version: 0)
        let bits = [5, 7, 8, 9, 10, 11, 12].reduce(Int32(0)) { $0 | (1 << $1) }
        #expect(raw.errorCode == .none && raw.brokers.count == 2 && raw.clusterAuthorizedOperations == bits, "\(raw.clusterAuthorizedOperations)")
        #expect(try k.call(DescribeClusterRequest(includeClusterAuthorizedOperations: false), version: 0).clusterAuthorizedOperations == Int32.min)
    }
}
