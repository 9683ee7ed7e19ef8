import Foundation
import Protocol
import Testing
import Transport

@Suite(.serialized, .ownThreads) struct BrokerLifecycleTests {
    @Test(.timeLimit(.minutes(2))) func recoversLogsAfterKill9AndStopsCleanlyOnSigterm() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: "log.segment.bytes=2048\nlog.index.interval.bytes=256")
        defer { cluster.cleanup() }
        let b = "127.0.0.1:\(cluster.port(1))"
        let lines = (0..<200).map { "k\($0):v\($0)" }.joined(separator: "\n") + "\n"
        #expect(try kcat(["-b", b, "-P", "-t", "durable", "-K:", "-X", "batch.num.messages=20"], stdin: lines).status == 0)
        // High watermarks are checkpointed periodically, so they survive the kill.
        let hwFile = "\(cluster.dir)/logs-1/replication-offset-checkpoint"
        ProcessHarness.waitUntil(timeout: 15, interval: 0.3) {
            (try? String(contentsOfFile: hwFile, encoding: .utf8))?.contains("durable 0 200\n") == true
        }
        #expect((try? String(contentsOfFile: hwFile, encoding: .utf8))?.contains("durable 0 200\n") == true)

        cluster.kill9(1)
        let part = "\(cluster.dir)/logs-1/durable-0"
        let segments = ((try? FileManager.default.contentsOfDirectory(atPath: part)) ?? []).filter { $0.hasSuffix(".log") }.sorted()
        #expect(segments.count >= 2, "expected several segments: \(segments)")
        let tail = part + "/" + (segments.last ?? "00000000000000000000.log")
        // A torn tail (half a batch) must be cut off at recovery, not crash the broker; a lost
        // index is rebuilt from the log.
        if let h = FileHandle(forWritingAtPath: tail) {
            h.seekToEndOfFile()
            h.write(Data([0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 1, 0, 0, 0]))
            try? h.close()
        }
        let tailIndex = String(tail.dropLast(4)) + ".index"
        try? FileManager.default.removeItem(atPath: tailIndex)
        try cluster.startBroker(1)
        var out = ""
        ProcessHarness.waitUntil(timeout: 20, interval: 0.3) {
            out = (try? kcat(["-b", b, "-C", "-t", "durable", "-o", "beginning", "-e", "-q", "-f", "%k:%s\\n"]))?.out ?? ""
            return out == lines
        }
        #expect(out == lines, "after restart read \(out.split(separator: "\n").count) of 200 records\n\(cluster.logs)")
        // Appends continue after the recovered end.
        #expect(try kcat(["-b", b, "-P", "-t", "durable", "-K:"], stdin: "after:restart\n").status == 0)
        let last = try kcat(["-b", b, "-C", "-t", "durable", "-o", "-1", "-e", "-q", "-f", "%o %k\\n"])
        #expect(last.out == "200 after\n", "\(last.out)\(last.err)")

        let status = cluster.procs[1]?.stop(grace: 10)
        #expect(status == 0, "\(cluster.logs)")
        #expect(cluster.procs[1]?.stderrText.contains("shut down cleanly") == true)
        #expect(FileManager.default.fileExists(atPath: tailIndex), "index of the torn segment was not rebuilt")
        let rp = try? String(contentsOfFile: "\(cluster.dir)/logs-1/recovery-point-offset-checkpoint", encoding: .utf8)
        #expect(rp?.contains("durable 0 201\n") == true, "recovery points after a clean stop: \(rp ?? "none")")
        #expect((try? String(contentsOfFile: hwFile, encoding: .utf8))?.contains("durable 0 201\n") == true)
    }

    @Test(.timeLimit(.minutes(2))) func badConfigExitsTwoAndDuplicateIdExitsOne() throws {
        guard let bin = ProcessHarness.binary("brokerd") else { Issue.record("brokerd not built"); return }
        let missing = try ProcessHarness.run(bin, ["/nonexistent/server.properties"], timeout: 10)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot read config"))

        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        let bad = cluster.dir + "/bad.properties"
        try "broker.id=abc\nzookeeper.connect=\(cluster.connectString)\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try ProcessHarness.run(bin, [bad], timeout: 10)
        #expect(r.status == 2)
        #expect(r.stderr.contains("broker.id"))

        // Same broker.id, different port: refused with a clear message.
        let dup = cluster.dir + "/dup.properties"
        let other = try ProcessHarness.freePort()
        try cluster.configText(1).replacingOccurrences(of: ":\(cluster.port(1))", with: ":\(other)")
            .replacingOccurrences(of: "logs-1", with: "logs-dup").write(toFile: dup, atomically: true, encoding: .utf8)
        let d = try ProcessHarness.run(bin, [dup], timeout: 20)
        #expect(d.status == 1)
        #expect(d.stderr.contains("already registered"), "\(d.stderr)")
        #expect(cluster.procs[1]?.isRunning == true)
    }
}

extension BrokerLifecycleTests {
    /// `zookeeper.connect=host:port/kafka`: the broker creates the chroot, as Kafka does, and keeps
    /// its whole layout under it.
    @Test(.timeLimit(.minutes(2))) func createsTheChrootAndRegistersUnderIt() throws {
        let cluster = try BrokerCluster(brokers: 1, chroot: "/kafka/prod")
        defer { cluster.cleanup() }
        let zk = try cluster.coordClient()
        defer { zk.close() }
        #expect(try zk.getChildren("/kafka/prod/brokers/ids") == ["1"])
        #expect(try zk.exists("/kafka/prod/brokers/seqid") != nil)
        #expect(try zk.exists("/kafka/prod/controller") != nil)
        #expect(try zk.exists("/brokers") == nil, "the layout leaked out of the chroot")
    }
}
