import Foundation
import Protocol
import Testing

/// A broker whose partition logs need more file descriptors than its limit refuses to start with
/// a clear message (it used to mark partitions offline, then die on SIGILL creating its event loop).
@Suite(.serialized, .ownThreads) struct BrokerFdLimitTests {
    @Test(.timeLimit(.minutes(3))) func tooFewFileDescriptorsIsAClearStartupError() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        // Retried: on a loaded machine the 60 partitions can take longer than one call's socket timeout.
        #expect(ProcessHarness.waitUntil(timeout: 90, interval: 1) {
            let e = try? BrokerStorageTests.createTopics(cluster.port(1), [.init(name: "many", numPartitions: 60, replicationFactor: 1, assignments: [], configs: [])])
            return e == [.none] || e == [.topicAlreadyExists]
        })
        #expect(ProcessHarness.waitUntil(timeout: 90, interval: 0.2) {
            (try? FileManager.default.contentsOfDirectory(atPath: cluster.logDir(1)))?.filter { $0.hasPrefix("many-") }.count == 60
        })
        cluster.kill9(1)
        let bin = try #require(ProcessHarness.binary("brokerd"))
        let cfg = "\(cluster.dir)/broker-1.properties"
        // 60 partitions × 3 files each do not fit in 120 descriptors.
        let r = try ProcessHarness.run("/bin/sh", ["-c", "ulimit -n 120 && exec \(bin) \(cfg)"], timeout: 60)
        #expect(!r.timedOut && r.status == 1, "status \(r.status)\n\(r.stderr.suffix(2000))")
        #expect((r.stdout + r.stderr).contains("out of file descriptors loading"), "\(r.stderr.suffix(2000))")
    }
}
