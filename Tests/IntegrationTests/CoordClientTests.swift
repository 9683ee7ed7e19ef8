import CoordClient
import Foundation
import Spawn
import Protocol
import Synchronization
import Testing
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// The Swift ZooKeeper client against Apache ZooKeeper 3.8 (proves the client speaks the real
/// protocol) and against coordd (the same expectations hold for both servers).
@Suite(.timeLimit(.minutes(2)), .ownThreads)
struct CoordClientTests {
    enum Server: String, CaseIterable, Sendable { case zookeeper, coordd }

    @Test(arguments: Server.allCases)
    func createsReadsWatchesAndExpiresEphemeralsOnClose(server: Server) throws {
        let zk: (port: Int, stop: () -> Void)
        switch server {
        case .zookeeper:
            let z = try RealZooKeeper.start()
            zk = (z.port, z.stop)
        case .coordd:
            let c = try CoordProcess()
            zk = (c.port, c.cleanup)
        }
        defer { zk.stop() }
        let client = CoordClient(connectString: "127.0.0.1:\(zk.port)/kafka", sessionTimeoutMs: 6000)
        try client.start()
        try CoordClient(connectString: "127.0.0.1:\(zk.port)", sessionTimeoutMs: 6000).withStarted { try $0.createRecursive("/kafka") }
        try client.createRecursive("/brokers/ids")
        #expect(try client.create("/brokers/ids/1", data: Array("b1".utf8), mode: .ephemeral) == "/brokers/ids/1")
        #expect(throws: CoordError.self) { try client.create("/brokers/ids/1", mode: .ephemeral) }
        let (data, stat) = try client.getData("/brokers/ids/1")
        #expect(data == Array("b1".utf8))
        #expect(stat.ephemeralOwner == client.currentSessionID)

        let fired = Mutex<[WatchEvent]>([])
        let seen = DispatchSemaphore(value: 0)
        #expect(try client.getChildren("/brokers/ids") { e in fired.withLock { $0.append(e) }; seen.signal() } == ["1"])
        try client.create("/brokers/ids/2", mode: .ephemeral)
        #expect(seen.wait(timeout: .now() + 5) == .success)
        #expect(fired.withLock { $0 } == [WatchEvent(kind: .childrenChanged, path: "/brokers/ids")])

        #expect(try client.exists("/nope") == nil)
        let s1 = try client.setData("/brokers/ids/1", data: [1], version: stat.version)
        #expect(s1.version == stat.version + 1)
        do {
            try client.setData("/brokers/ids/1", data: [2], version: stat.version)
            Issue.record("stale version accepted")
        } catch let e as CoordError {
            #expect(e.isBadVersion)
        }
        // Sequence numbers come from the parent's cversion, so a fresh parent starts at 0.
        try client.create("/seqs")
        let seqs = try (0..<3).map { _ in try client.create("/seqs/n-", mode: .persistentSequential) }
        #expect(seqs == ["/seqs/n-0000000000", "/seqs/n-0000000001", "/seqs/n-0000000002"])
        try client.multi([.create(path: "/m", data: [], mode: .persistent), .setData(path: "/m", data: [9], version: 0)])
        #expect(try client.getData("/m").data == [9])
        client.close()

        let other = CoordClient(connectString: "127.0.0.1:\(zk.port)/kafka", sessionTimeoutMs: 6000)
        try other.start()
        defer { other.close() }
        #expect(try other.getChildren("/brokers/ids") == [])
    }
}

/// Apache ZooKeeper 3.8 from Debian's package, standalone, on a free port.
final class RealZooKeeper: @unchecked Sendable {
    let process: ChildProcess
    let port: Int
    let dataDir: URL

    static func start(jvmFlags: [String] = []) throws -> RealZooKeeper {
        let port = try ProcessHarness.freePort()
        let dir = URL(fileURLWithPath: try ProcessHarness.makeTempDir("zookeeper"))
        let p = try ChildProcess("/usr/bin/java", jvmFlags + ["-Dzookeeper.4lw.commands.whitelist=*", "-Dzookeeper.admin.enableServer=false",
                       "-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar",
                       "org.apache.zookeeper.server.ZooKeeperServerMain", String(port), dir.path],
                       stdout: .null, stderr: .null)
        let zk = RealZooKeeper(process: p, port: port, dataDir: dir)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? fourLetterWord("ruok", port: port)) == "imok" { return zk }
            usleep(100_000)
        }
        zk.stop()
        throw CoordError.connectionLoss
    }

    private init(process: ChildProcess, port: Int, dataDir: URL) {
        self.process = process
        self.port = port
        self.dataDir = dataDir
    }

    func stop() {
        if process.isRunning {
            process.signal(SIGTERM)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDir)
    }
}

extension CoordClient {
    /// Starts, runs `body`, and closes (for one-off setup steps).
    func withStarted<T>(_ body: (CoordClient) throws -> T) throws -> T {
        try start()
        defer { close() }
        return try body(self)
    }
}
