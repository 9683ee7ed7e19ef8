import CoordClient
import Foundation
import Protocol
import Testing
import Transport

/// brokerd on the segmented log: what lands on disk, retention, disk errors, and follower
/// truncation by leader epoch. Real brokerd processes; kcat where a real client matters.
@Suite(.serialized, .ownThreads) struct BrokerStorageTests {
    // MARK: helpers

    static func names(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    static func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    /// Produces one batch of `values` and returns the partition's answer (nil: no answer).
    static func produce(_ port: Int, _ topic: String, _ values: [String], acks: Int16 = 1,
                        partition: Int32 = 0) throws -> ProduceResponse.PartitionProduceResponse? {
        let batch = try RecordBatch.build(values.enumerated().map { Record(offset: Int64($0.offset), key: nil, value: Array($0.element.utf8)) })
        let r = try RawKafka(port: port).call(ProduceRequest(acks: acks, timeoutMs: 5000, topicData: [
            .init(name: topic, partitionData: [.init(index: partition, records: batch)]),
        ]), version: 7)
        return r.responses.first?.partitionResponses.first
    }

    /// Retries a produce until the leader accepts it (leadership may still be moving).
    static func produceWhenReady(_ port: Int, _ topic: String, _ values: [String], acks: Int16 = 1) -> ErrorCode? {
        var last: ErrorCode?
        ProcessHarness.waitUntil(timeout: 30, interval: 0.2) {
            last = (try? produce(port, topic, values, acks: acks))??.errorCode
            return last == ErrorCode.none
        }
        return last
    }

    static func listOffset(_ port: Int, _ topic: String, _ ts: Int64) throws -> (ErrorCode, Int64)? {
        let r = try RawKafka(port: port).call(ListOffsetsRequest(replicaId: -1, topics: [
            .init(name: topic, partitions: [.init(partitionIndex: 0, timestamp: ts)]),
        ]), version: 2)
        return r.topics.first?.partitions.first.map { ($0.errorCode, $0.offset) }
    }

    static func fetch(_ port: Int, _ topic: String, at offset: Int64) throws -> FetchResponse.PartitionData? {
        let r = try RawKafka(port: port).call(FetchRequest(replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics: [
            .init(topic: topic, partitions: [.init(partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20)]),
        ]), version: 11)
        return r.responses.first?.partitions.first
    }

    static func createTopics(_ port: Int, _ topics: [CreateTopicsRequest.CreatableTopic]) throws -> [ErrorCode] {
        try RawKafka(port: port).call(CreateTopicsRequest(topics: topics, timeoutMs: 10_000), version: 4).topics.map(\.errorCode)
    }

    /// Base offsets of the partition's `.log` segments, without checking the layout (for polling).
    static func segmentBases(_ partitionDir: String) -> [Int64] {
        names(partitionDir).compactMap { f in f.hasSuffix(".log") ? Int64(f.dropLast(4)) : nil }.sorted()
    }

    /// Kafka's segment file names: 20-digit base offsets with .log, .index and .timeindex each.
    static func checkSegmentLayout(_ partitionDir: String) -> [Int64] {
        let files = names(partitionDir)
        var bases: [Int64] = []
        for f in files where f != "leader-epoch-checkpoint" {
            let parts = f.split(separator: ".", maxSplits: 1).map(String.init)
            #expect(parts.count == 2 && parts[0].count == 20 && parts[0].allSatisfy(\.isNumber), "unexpected file \(f) in \(partitionDir)")
            #expect(["log", "index", "timeindex"].contains(parts.last ?? ""), "unexpected file \(f)")
            if parts.count == 2, parts[1] == "log", let b = Int64(parts[0]) { bases.append(b) }
        }
        for b in bases {
            let stem = String(format: "%020lld", b)
            #expect(files.contains(stem + ".index") && files.contains(stem + ".timeindex"), "segment \(stem) lacks its indexes: \(files)")
        }
        #expect(files.contains("leader-epoch-checkpoint"))
        return bases.sorted()
    }

    // MARK: tests

    @Test(.timeLimit(.minutes(2))) func segmentsRollOverLogDirsAndKcatReadsAcrossThem() throws {
        let dirs = try ProcessHarness.makeTempDir("logdirs")
        defer { ProcessHarness.removeDir(dirs) }
        let cluster = try BrokerCluster(brokers: 1, extraConfig: """
            log.dirs=\(dirs)/a,\(dirs)/b
            log.segment.bytes=4096
            log.index.interval.bytes=512
            num.partitions=4
            """)
        defer { cluster.cleanup() }
        let b = "127.0.0.1:\(cluster.port(1))"
        let lines = (0..<2000).map { "key\($0):value-\($0)-" + String(repeating: "x", count: 20) }
        let p = try kcat(["-b", b, "-P", "-t", "rolled", "-p", "0", "-K:", "-X", "batch.num.messages=40"],
                         stdin: lines.joined(separator: "\n") + "\n", timeout: 60)
        #expect(p.status == 0, "\(p.err)\n\(cluster.logs)")

        let c = try kcat(["-b", b, "-C", "-t", "rolled", "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%o %k:%s\\n"], timeout: 60)
        let want = lines.enumerated().map { "\($0.offset) \($0.element)" }
        let got = c.out.split(separator: "\n").map(String.init)
        #expect(got == want, "read \(got.count) of \(want.count) records: \(c.err)")

        // Partitions are spread over both log dirs (the one with fewer partitions gets the next).
        let inA = Self.names("\(dirs)/a").filter { $0.hasPrefix("rolled-") }
        let inB = Self.names("\(dirs)/b").filter { $0.hasPrefix("rolled-") }
        #expect(inA.count == 2 && inB.count == 2, "a: \(inA) b: \(inB)")
        let home = inA.contains("rolled-0") ? "\(dirs)/a" : "\(dirs)/b"
        let part = "\(home)/rolled-0"

        let bases = Self.checkSegmentLayout(part)
        #expect(bases.count >= 10, "only \(bases.count) segments with segment.bytes=4096")
        #expect(bases.first == 0)
        #expect(Self.text("\(part)/leader-epoch-checkpoint") == "0\n1\n0 0\n")
        // Non-active segments are at most segment.bytes and have sparse index entries.
        for base in bases.dropLast() {
            let stem = String(format: "%@/%020lld", part, base)
            let size = (try? FileManager.default.attributesOfItem(atPath: stem + ".log")[.size] as? Int) ?? -1
            #expect(size > 0 && size <= 4096, "segment \(base) has \(size) bytes")
            let idx = (try? FileManager.default.attributesOfItem(atPath: stem + ".index")[.size] as? Int) ?? -1
            let tidx = (try? FileManager.default.attributesOfItem(atPath: stem + ".timeindex")[.size] as? Int) ?? -1
            #expect(idx > 0 && idx % 8 == 0 && tidx > 0 && tidx % 12 == 0, "indexes of \(base): \(idx), \(tidx) bytes")
        }

        // A clean stop leaves Kafka's checkpoint files in each log dir.
        #expect(cluster.procs[1]?.stop(grace: 15) == 0, "\(cluster.logs)")
        for d in ["\(dirs)/a", "\(dirs)/b"] {
            for f in ["recovery-point-offset-checkpoint", "replication-offset-checkpoint", "log-start-offset-checkpoint"] {
                #expect(FileManager.default.fileExists(atPath: "\(d)/\(f)"), "\(d)/\(f) missing")
            }
        }
        let rp = Self.text("\(home)/recovery-point-offset-checkpoint") ?? ""
        #expect(rp.hasPrefix("0\n2\n") && rp.contains("rolled 0 2000\n"), "recovery points: \(rp)")
        #expect(Self.text("\(home)/replication-offset-checkpoint")?.contains("rolled 0 2000\n") == true)
        #expect(Self.text("\(home)/log-start-offset-checkpoint")?.contains("rolled 0 0\n") == true)
    }

    @Test(.timeLimit(.minutes(2))) func retentionByBytesDeletesOldSegmentsAndMovesTheLogStart() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: "log.segment.bytes=1024\nlog.retention.check.interval.ms=300")
        defer { cluster.cleanup() }
        let port = cluster.port(1)
        let codes = try Self.createTopics(port, [
            .init(name: "short", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "retention.bytes", value: "3000")]),
            .init(name: "badcfg", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "retention.ms", value: "soon")]),
            .init(name: "badpolicy", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "cleanup.policy", value: "shred")]),
        ])
        #expect(codes == [.none, .invalidConfig, .invalidConfig])

        let lines = (0..<300).map { "record-\($0)-" + String(repeating: "y", count: 30) }
        let p = try kcat(["-b", "127.0.0.1:\(port)", "-P", "-t", "short", "-X", "batch.num.messages=10"],
                         stdin: lines.joined(separator: "\n") + "\n", timeout: 60)
        #expect(p.status == 0, "\(p.err)")

        let part = "\(cluster.dir)/logs-1/short-0"
        var earliest: Int64 = 0
        var bases: [Int64] = []
        var sizes: [Int] = []
        // Retention runs while kcat is still producing, so wait until it has caught up with the end:
        // what is left minus its oldest segment is under retention.bytes (3000).
        let settled = ProcessHarness.waitUntil(timeout: 20, interval: 0.2) {
            earliest = (try? Self.listOffset(port, "short", -2))??.1 ?? 0
            bases = Self.segmentBases(part)
            sizes = bases.map { b in
                (try? FileManager.default.attributesOfItem(atPath: String(format: "%@/%020lld.log", part, b))[.size] as? Int) ?? 0
            }
            return earliest > 0 && bases.first == earliest && sizes.reduce(0, +) - (sizes.first ?? 0) < 3000
        }
        #expect(settled, "earliest \(earliest), segments left: \(zip(bases, sizes).map { "\($0)" })\n\(cluster.logs)")
        #expect(Self.checkSegmentLayout(part) == bases)
        #expect(bases.count < 20)
        #expect(try Self.listOffset(port, "short", -1)?.1 == 300)

        // Below the log start: OFFSET_OUT_OF_RANGE carrying the new start.
        let old = try Self.fetch(port, "short", at: 0)
        #expect(old?.errorCode == .offsetOutOfRange && old?.logStartOffset == earliest)
        let c = try kcat(["-b", "127.0.0.1:\(port)", "-C", "-t", "short", "-o", "beginning", "-e", "-q", "-f", "%o\\n"])
        let offsets = c.out.split(separator: "\n").compactMap { Int64($0) }
        #expect(offsets.first == earliest && offsets.last == 299 && offsets.count == Int(300 - earliest), "\(c.err)")
        ProcessHarness.waitUntil(timeout: 10, interval: 0.3) {
            Self.text("\(cluster.dir)/logs-1/log-start-offset-checkpoint")?.contains("short 0 \(earliest)\n") == true
        }
        #expect(Self.text("\(cluster.dir)/logs-1/log-start-offset-checkpoint")?.contains("short 0 \(earliest)\n") == true)
    }

    @Test(.timeLimit(.minutes(2))) func compactedTopicKeepsTheLatestValuePerKey() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: "log.cleaner.backoff.ms=300")
        defer { cluster.cleanup() }
        let port = cluster.port(1)
        #expect(try Self.createTopics(port, [
            .init(name: "latest", numPartitions: 1, replicationFactor: 1,
                  configs: [.init(name: "cleanup.policy", value: "compact"), .init(name: "segment.bytes", value: "1024")]),
        ]) == [.none])
        let lines = (0..<20).flatMap { round in (0..<10).map { "k\($0):v\(round)" } }
        let p = try kcat(["-b", "127.0.0.1:\(port)", "-P", "-t", "latest", "-K:", "-X", "batch.num.messages=10"],
                         stdin: lines.joined(separator: "\n") + "\n", timeout: 60)
        #expect(p.status == 0, "\(p.err)")
        var got: [(Int64, String, String)] = []
        let compacted = ProcessHarness.waitUntil(timeout: 20, interval: 0.3) {
            let c = try? kcat(["-b", "127.0.0.1:\(port)", "-C", "-t", "latest", "-o", "beginning", "-e", "-q", "-f", "%o %k %s\\n"])
            got = (c?.out ?? "").split(separator: "\n").compactMap { line in
                let f = line.split(separator: " ").map(String.init)
                return f.count == 3 ? Int64(f[0]).map { ($0, f[1], f[2]) } : nil
            }
            return !got.isEmpty && got.count < 100
        }
        #expect(compacted, "\(got.count) records after compaction\n\(cluster.logs)")
        // Offsets keep their values (gaps where records went) and every key still reads as its newest value.
        #expect(zip(got, got.dropFirst()).allSatisfy { $0.0 < $1.0 } && got.last?.0 == 199)
        var latest: [String: String] = [:]
        for (_, k, v) in got { latest[k] = v }
        #expect(latest == Dictionary(uniqueKeysWithValues: (0..<10).map { ("k\($0)", "v19") }))
        #expect(cluster.procs[1]?.stderrText.contains("latest-0: compacted") == true)
    }

    @Test(.timeLimit(.minutes(1))) func badLogSettingsExitTwo() throws {
        guard let bin = ProcessHarness.binary("brokerd") else { Issue.record("brokerd not built"); return }
        let dir = try ProcessHarness.makeTempDir("badlog")
        defer { ProcessHarness.removeDir(dir) }
        for bad in ["log.segment.bytes=0", "log.segment.bytes=4294967296", "log.cleanup.policy=shred"] {
            let cfg = "\(dir)/server.properties"
            try "broker.id=1\nzookeeper.connect=127.0.0.1:1\nlog.dirs=\(dir)/logs\n\(bad)\n".write(toFile: cfg, atomically: true, encoding: .utf8)
            let r = try ProcessHarness.run(bin, [cfg], timeout: 20)
            #expect(r.status == 2 && r.stderr.contains("bad log configuration"), "\(bad): \(r.status) \(r.stderr)")
        }
    }

    @Test(.timeLimit(.minutes(2))) func aDeletedSegmentTakesOnlyItsPartitionOffline() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let port = cluster.port(1)
        // flush.messages=1: every append is fsynced, which notices the missing file at once.
        #expect(try Self.createTopics(port, [
            .init(name: "doomed", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "flush.messages", value: "1")]),
            .init(name: "healthy", numPartitions: 1, replicationFactor: 1),
        ]) == [.none, .none])
        #expect(Self.produceWhenReady(port, "doomed", ["a", "b"]) == ErrorCode.none)
        #expect(Self.produceWhenReady(port, "healthy", ["c"]) == ErrorCode.none)

        try FileManager.default.removeItem(atPath: "\(cluster.dir)/logs-1/doomed-0/00000000000000000000.log")
        #expect(try Self.produce(port, "doomed", ["lost"])?.errorCode == .kafkaStorageError)
        #expect(try Self.fetch(port, "doomed", at: 0)?.errorCode == .kafkaStorageError)
        #expect(try Self.listOffset(port, "doomed", -1)?.0 == .kafkaStorageError)

        #expect(try Self.produce(port, "healthy", ["d"])?.errorCode == ErrorCode.none)
        let c = try kcat(["-b", "127.0.0.1:\(port)", "-C", "-t", "healthy", "-o", "beginning", "-e", "-q"])
        #expect(c.out == "c\nd\n", "\(c.err)")
        #expect(cluster.procs[1]?.isRunning == true)
        #expect(cluster.procs[1]?.stderrText.contains("doomed-0 append failed; partition offline") == true, "\(cluster.logs)")

        // A clean stop works with an offline log; a partition that cannot be opened at the next
        // start stays offline while the others serve.
        #expect(cluster.procs[1]?.stop(grace: 15) == 0, "\(cluster.logs)")
        try "garbage".write(toFile: "\(cluster.dir)/logs-1/doomed-0/leader-epoch-checkpoint", atomically: true, encoding: .utf8)
        try cluster.startBroker(1)
        var healthy = ""
        ProcessHarness.waitUntil(timeout: 20, interval: 0.3) {
            healthy = (try? kcat(["-b", "127.0.0.1:\(port)", "-C", "-t", "healthy", "-o", "beginning", "-e", "-q"]))?.out ?? ""
            return healthy == "c\nd\n"
        }
        #expect(healthy == "c\nd\n", "\(cluster.logs)")
        #expect(try Self.fetch(port, "doomed", at: 0)?.errorCode == .kafkaStorageError)
        #expect(try Self.produce(port, "doomed", ["again"])?.errorCode == .kafkaStorageError)
        #expect(cluster.procs[1]?.stderrText.contains("doomed-0 in ") == true, "\(cluster.logs)")
    }

    /// KIP-101's divergence: broker 1 leads alone (ISR [1]) and writes offsets 10-19; it dies,
    /// broker 2 (which stopped at 10) is elected uncleanly and writes 10-14 in a newer epoch.
    /// Broker 1's checkpointed high watermark is 20, so truncating to it would keep its own 10-19;
    /// asking the leader where broker 1's latest epoch ends (10) cuts exactly the divergent tail.
    @Test(.timeLimit(.minutes(3))) func divergentFollowerTruncatesByLeaderEpochAndMatchesTheLeader() throws {
        let cluster = try BrokerCluster(brokers: 2, extraConfig: """
            unclean.leader.election.enable=true
            auto.leader.rebalance.enable=false
            replica.lag.time.max.ms=3000
            """)
        defer { cluster.cleanup() }
        let zk = try cluster.coordClient()
        defer { zk.close() }
        func state() -> (leader: Int, epoch: Int, isr: [Int])? {
            guard let j = cluster.znodeJSON(zk, "/brokers/topics/div/partitions/0/state"), let l = j["leader"] as? Int,
                  let e = j["leader_epoch"] as? Int, let isr = j["isr"] as? [Int] else { return nil }
            return (l, e, isr)
        }
        #expect(try Self.createTopics(cluster.port(1), [
            .init(name: "div", numPartitions: -1, replicationFactor: -1, assignments: [.init(partitionIndex: 0, brokerIds: [1, 2])]),
        ]) == [.none])
        #expect(ProcessHarness.waitUntil(timeout: 20, interval: 0.2) { state().map { $0.leader == 1 && $0.isr.sorted() == [1, 2] } ?? false })

        #expect(Self.produceWhenReady(cluster.port(1), "div", (0..<10).map { "committed-\($0)" }, acks: -1) == ErrorCode.none)
        cluster.kill9(2)
        let shrunk = ProcessHarness.waitUntil(timeout: 30, interval: 0.2) { state().map { $0.isr == [1] } ?? false }
        #expect(shrunk, "ISR did not shrink to [1]: \(String(describing: state()))\n\(cluster.logs)")
        // One batch per record, so no cut at a batch boundary can hide a wrong truncation point.
        for i in 10..<20 { #expect(Self.produceWhenReady(cluster.port(1), "div", ["only-on-1-\(i)"], acks: 1) == ErrorCode.none) }
        // Wait for the high watermark checkpoint (every 5 s) to say 20, the trap for HW truncation.
        let hwFile = "\(cluster.dir)/logs-1/replication-offset-checkpoint"
        #expect(ProcessHarness.waitUntil(timeout: 15, interval: 0.3) { Self.text(hwFile)?.contains("div 0 20\n") == true })

        cluster.kill9(1)
        #expect(ProcessHarness.waitUntil(timeout: 30, interval: 0.2) { (try? zk.exists("/brokers/ids/1")) ?? nil == nil })
        try cluster.startBroker(2)
        let unclean = ProcessHarness.waitUntil(timeout: 40, interval: 0.2) { state().map { $0.leader == 2 } ?? false }
        #expect(unclean, "broker 2 was not elected: \(String(describing: state()))\n\(cluster.logs)")
        #expect(Self.produceWhenReady(cluster.port(2), "div", (10..<15).map { "new-leader-\($0)" }, acks: 1) == ErrorCode.none)

        try cluster.startBroker(1)
        let l1 = "\(cluster.dir)/logs-1/div-0", l2 = "\(cluster.dir)/logs-2/div-0"
        let seg = "/00000000000000000000.log"
        let same = ProcessHarness.waitUntil(timeout: 40, interval: 0.3) {
            guard let a = FileManager.default.contents(atPath: l1 + seg), let b = FileManager.default.contents(atPath: l2 + seg) else { return false }
            return a == b && state()?.isr.contains(1) == true
        }
        #expect(same, "follower log differs from the leader's: \(String(describing: state()))\n\(cluster.logs)")
        #expect(Self.text(l1 + "/leader-epoch-checkpoint") == Self.text(l2 + "/leader-epoch-checkpoint"))
        let epochs = Self.text(l2 + "/leader-epoch-checkpoint") ?? ""
        #expect(epochs.hasPrefix("0\n2\n0 0\n") && epochs.hasSuffix(" 10\n"), "leader epochs: \(epochs)")
        #expect(cluster.procs[1]?.stderrText.contains("log end 20 -> 10") == true, "\(cluster.logs)")

        // And the old leader's divergent records are gone from what consumers see.
        let c = try kcat(["-b", cluster.bootstrap, "-C", "-t", "div", "-o", "beginning", "-e", "-q"])
        let want = (0..<10).map { "committed-\($0)" } + (10..<15).map { "new-leader-\($0)" }
        #expect(c.out.split(separator: "\n").map(String.init) == want, "\(c.err)")
    }
}
