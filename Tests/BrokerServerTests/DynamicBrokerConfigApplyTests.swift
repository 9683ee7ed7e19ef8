import BrokerCore
@testable import BrokerServer
import Storage
import Testing

/// Every key BrokerDynamicConfig calls applied really changes what the broker runs with: the
/// config fields, the topic log defaults built from them, or the raw keys the cleaner reads.
@Suite struct DynamicBrokerConfigApplyTests {
    func defaults(_ merged: [String: String]) throws -> (BrokerConfig, LogConfig) {
        var base = BrokerConfig()
        base.brokerID = 1
        let c = base.applyingDynamic(merged)
        return (c, try LogManager.brokerDefaults(c))
    }

    @Test func everyAppliedKeyChangesTheRunningConfig() throws {
        let base = try defaults([:])
        let cases: [(String, String, (BrokerConfig, LogConfig) -> Bool)] = [
            ("log.segment.bytes", "2048", { $1.segmentBytes == 2048 }),
            ("log.roll.ms", "1234", { $1.segmentMs == 1234 }),
            ("log.roll.hours", "2", { $1.segmentMs == 7_200_000 }),
            ("log.retention.ms", "5000", { $1.retentionMs == 5000 }),
            ("log.retention.minutes", "3", { $1.retentionMs == 180_000 }),
            ("log.retention.hours", "1", { $1.retentionMs == 3_600_000 }),
            ("log.retention.bytes", "4096", { $1.retentionBytes == 4096 }),
            ("log.index.interval.bytes", "128", { $1.indexIntervalBytes == 128 }),
            ("log.index.size.max.bytes", "8192", { $1.segmentIndexBytes == 8192 }),
            ("log.flush.interval.messages", "10", { $1.flushMessages == 10 }),
            ("log.flush.interval.ms", "700", { $1.flushMs == 700 }),
            ("log.cleanup.policy", "compact", { $1.cleanupCompact && !$1.cleanupDelete }),
            ("log.cleaner.delete.retention.ms", "99", { $1.deleteRetentionMs == 99 }),
            ("log.message.timestamp.type", "LogAppendTime", { $1.messageTimestampType == .logAppendTime }),
            ("message.max.bytes", "3000", { $1.maxMessageBytes == 3000 }),
            ("min.insync.replicas", "2", { c, _ in c.minInsyncReplicas == 2 }),
            ("log.cleaner.backoff.ms", "250", { c, _ in ReplicaManager.cleanerBackoff(c) == 250 }),
        ]
        #expect(Set(cases.map(\.0)) == Set(BrokerDynamicConfig.appliedNames), "a key is applied without a test, or tested but not applied")
        for (k, v, changed) in cases {
            #expect(!changed(base.0, base.1), "\(k) already \(v) by default")
            let (c, l) = try defaults([k: v])
            #expect(changed(c, l), "\(k)=\(v) did not change the running config")
        }
    }

    @Test func deletingADynamicValueRestoresTheStaticOne() throws {
        var s = BrokerConfig()
        s.raw = ["log.retention.hours": "5"]
        s.logRetentionMs = 5 * 3_600_000
        let dynamic = s.applyingDynamic(BrokerDynamicConfig.merged(.init(perBroker: ["log.retention.ms": "10"], staticProps: s.raw)))
        #expect(dynamic.logRetentionMs == 10)
        let back = s.applyingDynamic(BrokerDynamicConfig.merged(.init(staticProps: s.raw)))
        #expect(back.logRetentionMs == 5 * 3_600_000)
    }
}
