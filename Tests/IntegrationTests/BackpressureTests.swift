import Foundation
import Protocol
import Testing
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// Bad input never costs memory: connections that send one byte and go quiet, and clients that
/// pipeline requests without reading the replies, against real coordd and brokerd processes.
@Suite(.serialized, .ownThreads) struct BackpressureTests {
    static let quietConnections = 2000
    static let pipelined = 100_000

    /// How many quiet connections the test and the daemon can both hold (the daemon inherits the
    /// limit raised here); the test needs most of them to mean anything.
    private func connectionBudget(daemon pid: Int32) -> Int {
        let ours = Abuse.raiseFileLimit(Self.quietConnections + 500)
        let count = min(Self.quietConnections, ours - 200, Abuse.openFileLimit(pid) - 200)
        #expect(count >= Self.quietConnections / 2, "open-files limit too low: ours \(ours), daemon \(Abuse.openFileLimit(pid))")
        return count
    }

    /// A number from coordd's `stat` output.
    static func stat(_ key: String, port: Int) throws -> Int {
        let text = try fourLetterWord("stat", port: port)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }),
              let n = Int(line.split(separator: " ").last ?? "") else { throw HarnessError("no \(key) in stat: \(text)") }
        return n
    }

    /// Waits until the daemon's RSS stops changing (every connection read), returns it in KiB.
    private func settledRSS(_ pid: Int32) -> Int {
        var last = Abuse.rssKiB(pid)
        for _ in 0..<20 {
            usleep(250_000)
            let now = Abuse.rssKiB(pid)
            if abs(now - last) < 256 { return now }
            last = now
        }
        return last
    }

    @Test(.timeLimit(.minutes(3))) func coorddQuietConnectionsHoldNoReadBuffers() throws {
        Abuse.raiseFileLimit(Self.quietConnections + 500)
        let zk = try CoordProcess(extraConfig: "maxClientCnxns=0\n")
        defer { zk.cleanup() }
        guard let pid = zk.proc?.pid else { throw HarnessError("no coordd") }
        let count = connectionBudget(daemon: pid)
        try RawZK(port: zk.port).close()
        let before = settledRSS(pid)
        let fds = Abuse.quietConnections(port: zk.port, count: count, sending: [0])
        defer { fds.forEach { _ = Glibc.close($0) } }
        #expect(fds.count == count)
        let accepted = ProcessHarness.waitUntil(timeout: 30, interval: 0.2) {
            ((try? Self.stat("Connections", port: zk.port)) ?? 0) > count
        }
        #expect(accepted)
        let growth = settledRSS(pid) - before
        print("coordd: \(count) quiet connections grew RSS by \(growth / 1024) MiB")
        #expect(growth < 60 << 10, "coordd grew \(growth) KiB for \(count) quiet connections")
        #expect(try fourLetterWord("ruok", port: zk.port) == "imok")
        let c = try RawZK(port: zk.port)
        #expect(try c.create("/after") == 0)
        c.close()
    }

    @Test(.timeLimit(.minutes(3))) func brokerdQuietConnectionsHoldNoReadBuffers() throws {
        Abuse.raiseFileLimit(Self.quietConnections + 500)
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        guard let pid = cluster.procs[1]?.pid else { throw HarnessError("no brokerd") }
        let count = connectionBudget(daemon: pid)
        _ = try RawKafka(port: cluster.port(1)).call(ApiVersionsRequest(), version: 0)
        let before = settledRSS(pid)
        let fds = Abuse.quietConnections(port: cluster.port(1), count: count, sending: [0])
        defer { fds.forEach { _ = Glibc.close($0) } }
        #expect(fds.count == count)
        usleep(500_000)
        let growth = settledRSS(pid) - before
        print("brokerd: \(count) quiet connections grew RSS by \(growth / 1024) MiB")
        #expect(growth < 60 << 10, "brokerd grew \(growth) KiB for \(count) quiet connections")
        #expect(try RawKafka(port: cluster.port(1)).call(ApiVersionsRequest(), version: 0).errorCode == .none)
    }

    /// Floods for a few seconds while a well-behaved client keeps calling; returns the peak RSS
    /// growth in KiB and the well-behaved calls' latencies in ms.
    private func flood(pid: Int32, _ flooder: Flooder, seconds: Double, goodCall: () throws -> Void) rethrows -> (growth: Int, latencies: [Double]) {
        let before = Abuse.rssKiB(pid)
        var latencies: [Double] = []
        let peak = try Abuse.peakRSS(pid) {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                flooder.push()
                let t = MonotonicClock.nanos()
                try goodCall()
                latencies.append(Double(MonotonicClock.nanos() - t) / 1e6)
                usleep(50_000)
            }
        }
        return (peak - before, latencies)
    }

    /// The well-behaved client keeps being served: nine in ten calls within 500 ms and none stalled for
    /// seconds. (A single slow call is what a loaded 2-core machine does to any process; the test suite
    /// itself runs dozens of daemons beside this one.)
    static func expectResponsive(_ latencies: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        let sorted = latencies.sorted()
        #expect(!sorted.isEmpty, sourceLocation: sourceLocation)
        guard !sorted.isEmpty else { return }
        #expect(sorted[sorted.count * 9 / 10] < 500, "well-behaved client latencies \(latencies)", sourceLocation: sourceLocation)
        #expect(sorted.last! < 3000, "well-behaved client stalled: \(latencies)", sourceLocation: sourceLocation)
    }

    @Test(.timeLimit(.minutes(3))) func coorddStopsReadingAClientThatDoesNotReadItsReplies() throws {
        // Sessions of 30 s: a loaded machine can stall this test for seconds, and the abuser's session
        // expiring mid-flood is not what is measured.
        let zk = try CoordProcess(extraConfig: "maxSessionTimeout=60000\n")
        defer { zk.cleanup() }
        guard let pid = zk.proc?.pid else { throw HarnessError("no coordd") }
        let good = try RawZK(port: zk.port, timeout: 30_000)
        let kib = String(repeating: "x", count: 1024)
        #expect(try good.create("/bp", kib) == 0)
        // 100k reads of a 1 KiB node: ≈ 110 MB of replies if they were all queued.
        var stream: [UInt8] = []
        for i in 0..<Self.pipelined {
            let req: ZKRequest = i % 2 == 0 ? .getData(path: "/bp", watch: false) : .exists(path: "/bp", watch: false)
            stream += req.frame(xid: Int32(i + 1))
        }
        let abuser = try RawZK(port: zk.port, timeout: 30_000)
        let flooder = Flooder(abuser.sock, stream: stream)
        let (growth, latencies) = try flood(pid: pid, flooder, seconds: 6) { () throws in
            let data = try good.getData("/bp")
            #expect(data == kib)
        }
        // The kernel's socket buffers take the whole 2 MB stream; what shows the pause is how few
        // requests coordd handled (each reply is 1 KiB; it stops at a few MiB unread).
        let received = try Self.stat("Received", port: zk.port)
        print("coordd: pipelined \(flooder.sent) of \(stream.count) bytes, \(received) requests handled, RSS +\(growth / 1024) MiB, good client max \(latencies.max() ?? 0) ms")
        #expect(received < Self.pipelined / 4, "coordd handled \(received) requests although none of the replies was read")
        #expect(growth < 64 << 10, "coordd grew \(growth) KiB")
        Self.expectResponsive(latencies)
        flooder.close()
        // Healthy afterwards: new sessions and writes work, the flooded connection is gone.
        usleep(300_000)
        #expect(try fourLetterWord("ruok", port: zk.port) == "imok")
        let fresh = try RawZK(port: zk.port)
        #expect(try fresh.create("/after") == 0)
        #expect(try fresh.getData("/bp") == kib)
        fresh.close()
        good.close()
    }

    @Test(.timeLimit(.minutes(3))) func brokerdMutesAClientUntilItsResponseIsWritten() throws {
        let cluster = try BrokerCluster(brokers: 1)
        defer { cluster.cleanup() }
        guard let pid = cluster.procs[1]?.pid else { throw HarnessError("no brokerd") }
        let port = cluster.port(1)
        // A topic with many partitions makes each Metadata response ≈ 2 KB (≈ 200 MB for 100k).
        let created = try RawKafka(port: port).call(CreateTopicsRequest(topics: [
            .init(name: "bp", numPartitions: 64, replicationFactor: 1, assignments: [], configs: []),
        ], timeoutMs: 60_000), version: 4)
        #expect(created.topics.map(\.errorCode) == [.none])
        let good = try RawKafka(port: port)
        var stream: [UInt8] = []
        for i in 0..<Self.pipelined {
            stream += i % 2 == 0
                ? try KafkaRequestFrame.encode(MetadataRequest(topics: nil, allowAutoTopicCreation: false), version: 1, correlationId: Int32(i), clientId: "flood")
                : try KafkaRequestFrame.encode(ApiVersionsRequest(), version: 0, correlationId: Int32(i), clientId: "flood")
        }
        let flooder = Flooder(try BlockingSocket(host: "127.0.0.1", port: port), stream: stream)
        let (growth, latencies) = try flood(pid: pid, flooder, seconds: 6) { () throws in
            let r = try good.call(ApiVersionsRequest(), version: 0)
            #expect(r.errorCode == .none)
        }
        print("brokerd: pipelined \(flooder.sent) of \(stream.count) bytes, RSS +\(growth / 1024) MiB, good client max \(latencies.max() ?? 0) ms")
        #expect(growth < 64 << 10, "brokerd grew \(growth) KiB")
        Self.expectResponsive(latencies)
        flooder.close()
        usleep(300_000)
        let md = try RawKafka(port: port).call(MetadataRequest(topics: [.init(name: "bp")], allowAutoTopicCreation: false), version: 1)
        #expect(md.topics.first?.partitions.count == 64)
        #expect(cluster.procs[1]?.isRunning == true)
    }

    /// Reading stops at the soft bound, but watch events keep coming: past the hard cap a client
    /// that does not read them is closed instead of holding them without bound.
    @Test(.timeLimit(.minutes(3))) func coorddClosesAClientThatLetsWatchEventsPileUp() throws {
        // Sessions of 60 s (the most tickTime 3000 allows): the two clients do not ping meanwhile,
        // and on a loaded CI machine the 4,000 creates took longer than a 20 s session, which then
        // expired the abuser before its unread events reached the cap.
        let zk = try CoordProcess(tickTime: 3000)
        defer { zk.cleanup() }
        let n = 4000
        let stem = "/" + String(repeating: "w", count: 8000)
        let abuser = try RawZK(port: zk.port, timeout: 60_000)
        var watches: [UInt8] = []
        for i in 0..<n { watches += ZKRequest.exists(path: "\(stem)\(i)", watch: true).frame(xid: Int32(i + 1)) }
        try abuser.sock.sendAll(watches)
        for _ in 0..<n { _ = try abuser.readReply(op: ZKRequest.exists(path: "/", watch: false).opCode) }
        // Each create fires an 8 KB NodeCreated at the abuser, which reads nothing more: ≈ 32 MB.
        let good = try RawZK(port: zk.port, timeout: 60_000)
        let batch = 200
        for b in stride(from: 0, to: n, by: batch) {
            var creates: [UInt8] = []
            for i in b..<min(n, b + batch) { creates += ZKRequest.create(ZKCreate(path: "\(stem)\(i)", data: [], flags: 0)).frame(xid: Int32(i + 1)) }
            try good.sock.sendAll(creates)
            for _ in b..<min(n, b + batch) { #expect(try good.readReply(op: ZKOp.create).header.err == 0) }
        }
        let log = zk.proc?.waitForLine(containing: "watch events unread", timeout: 30)
        #expect(log != nil, "coordd kept queueing watch events for a client that does not read: \(zk.proc?.stderrText.suffix(2000) ?? "")")
        #expect(try fourLetterWord("ruok", port: zk.port) == "imok")
        #expect(try good.getData("\(stem)0") == "")
        good.close()
    }
}
