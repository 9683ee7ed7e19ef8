import Foundation
import Protocol
import Testing

/// DescribeLogDirs (35) through kafka-python's describe_log_dirs (compat/describe_log_dirs.py) and raw v4.
@Suite(.serialized, .ownThreads) struct DescribeLogDirsTests {
    @Test func logDirsListPartitionsWithTheirSizes() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let script = ProcessHarness.packageRoot + "/Tests/IntegrationTests/compat/describe_log_dirs.py"
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", script, cluster.bootstrap, "ld"], timeout: 120)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let text = r.stdout
        // kafka-python gives the raw fields: our log dir, partition 0 with the bytes produced, 1 empty.
        #expect(text.contains(cluster.logDir(1)), "\(text)")
        let d = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        func partitions(_ key: String) -> [Int: [String: Any]] {
            var out: [Int: [String: Any]] = [:]
            for b in d[key] as? [[String: Any]] ?? [] {
                for dir in b["log_dirs"] as? [[String: Any]] ?? [] {
                    for t in dir["topics"] as? [[String: Any]] ?? [] where t["name"] as? String == "ld" {
                        for p in t["partitions"] as? [[String: Any]] ?? [] { out[p["partition_index"] as? Int ?? -1] = p }
                    }
                }
            }
            return out
        }
        let all = partitions("all")
        #expect((all[0]?["partition_size"] as? Int ?? 0) > 50 * 200, "\(text)")
        #expect(all[1]?["partition_size"] as? Int == 0 && all[0]?["offset_lag"] as? Int == 0, "\(text)")
        #expect(all[0]?["is_future_key"] as? Bool == false, "\(text)")
        #expect(Set(partitions("one").keys) == [1], "\(text)")

        let raw = try RawKafka(port: cluster.port(1)).call(DescribeLogDirsRequest(topics: nil), version: 4)
        #expect(raw.errorCode == .none && raw.results.map(\.logDir) == [cluster.logDir(1)] && raw.results[0].errorCode == .none)
        #expect(raw.results[0].topics.first { $0.name == "ld" }?.partitions.count == 2)

        let k = try SwiftClientCLITests.kafkactl(["log-dirs", "--describe", "--topic-list", "ld", "--bootstrap-server", cluster.bootstrap])
        #expect(k.status == 0 && k.out.contains(#""partition":"ld-1""#) && k.out.contains(#""logDir":"\#(cluster.logDir(1))""#), "\(k.out)\(k.err)")
    }
}
