import CoordClient
import Foundation
import Protocol
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// A coordination service plus N brokerd processes on free ports, each with its own temp log dir.
/// The coordination service is coordd when built, else Apache ZooKeeper; BROKER_TESTS_COORD=zookeeper
/// or =coordd forces one. `coordServers: 3` starts a 3-server coordd ensemble instead (the classic
/// deployment). `cleanup` kills everything and removes the temp dirs.
final class BrokerCluster: @unchecked Sendable {
    let dir: String
    private var coordd: CoordProcess?
    private var zookeeper: RealZooKeeper?
    /// The coordd ensemble, when started with `coordServers` > 1.
    private(set) var ensemble: EnsembleProcesses?
    let coordPort: Int
    let connectString: String
    private(set) var ports: [Int32: Int] = [:]
    private(set) var procs: [Int32: ManagedProcess] = [:]
    let extraConfig: String

    /// Appended to `zookeeper.connect` in the brokers' configs (e.g. "/kafka").
    let chroot: String

    /// More config lines for one broker, given its id and port (e.g. `advertised.listeners`).
    let brokerConfig: ((_ id: Int32, _ port: Int) throws -> String)?
    /// The `listeners` value for one broker, given its id and port (default `PLAINTEXT://127.0.0.1:<port>`).
    let listeners: (@Sendable (_ id: Int32, _ port: Int) -> String)?

    /// Runs before each start of a broker with its log dir's path (e.g. to mount a tmpfs there).
    let prepareLogDir: ((_ id: Int32, _ path: String) throws -> Void)?

    init(brokers: Int, coordServers: Int = 1, chroot: String = "", extraConfig: String = "",
         brokerConfig: ((_ id: Int32, _ port: Int) throws -> String)? = nil,
         prepareLogDir: ((_ id: Int32, _ path: String) throws -> Void)? = nil,
         listeners: (@Sendable (_ id: Int32, _ port: Int) -> String)? = nil) throws {
        self.listeners = listeners
        dir = try ProcessHarness.makeTempDir("brokers")
        self.extraConfig = extraConfig
        self.brokerConfig = brokerConfig
        self.prepareLogDir = prepareLogDir
        self.chroot = chroot
        let choice = ProcessInfo.processInfo.environment["BROKER_TESTS_COORD"] ?? ""
        if coordServers > 1 {
            let e = try EnsembleProcesses(servers: coordServers)
            ensemble = e
            guard e.waitForLeader(followers: coordServers - 1) != nil else {
                e.cleanup()
                ProcessHarness.removeDir(dir)
                throw HarnessError("coordd ensemble elected no leader")
            }
            coordPort = e.clientPorts[0]
        } else if choice != "zookeeper", ProcessHarness.binary("coordd") != nil {
            let c = try CoordProcess()
            coordd = c
            coordPort = c.port
        } else {
            let z = try RealZooKeeper.start()
            zookeeper = z
            coordPort = z.port
        }
        connectString = ensemble.map { $0.connectString(Array(0..<$0.count)) } ?? "127.0.0.1:\(coordPort)"
        do {
            for id in 1...Int32(brokers) { ports[id] = try ProcessHarness.freePort() }
            for id in 1...Int32(brokers) { try startBroker(id) }
        } catch {
            cleanup()
            throw error
        }
    }

    func port(_ id: Int32) -> Int { ports[id] ?? -1 }
    func logDir(_ id: Int32) -> String { "\(dir)/logs-\(id)" }
    var bootstrap: String { ports.keys.sorted().filter { procs[$0]?.isRunning == true }.map { "127.0.0.1:\(port($0))" }.joined(separator: ",") }

    func configText(_ id: Int32) throws -> String {
        // Per-broker lines come last: they may override the base (a later key wins).
        try brokerConfig.map { baseConfigText(id) + "\n" + (try $0(id, port(id))) } ?? baseConfigText(id)
    }

    private func baseConfigText(_ id: Int32) -> String {
        """
        broker.id=\(id)
        listeners=\(listeners?(id, port(id)) ?? "PLAINTEXT://127.0.0.1:\(port(id))")
        log.dirs=\(logDir(id))
        zookeeper.connect=\(connectString)\(chroot)
        zookeeper.session.timeout.ms=4000
        num.partitions=1
        replica.fetch.wait.max.ms=200
        num.io.threads=4
        num.network.threads=2
        \(extraConfig)
        """
    }

    func startBroker(_ id: Int32) throws {
        guard let bin = ProcessHarness.binary("brokerd") else { throw HarnessError("brokerd binary not found: run swift build") }
        // A restarted broker's old port may meanwhile be the local end of some other test's outgoing
        // connection (ports come from the ephemeral range); then it moves to a fresh port.
        try prepareLogDir?(id, logDir(id))
        for attempt in 1...3 {
            let cfg = "\(dir)/broker-\(id).properties"
            try configText(id).write(toFile: cfg, atomically: true, encoding: .utf8)
            let p = try ManagedProcess(bin, [cfg], stderrPath: "\(dir)/broker-\(id)-\(UInt32.random(in: 0...UInt32.max)).log")
            procs[id] = p
            if p.waitForLine(containing: "brokerd: started", timeout: 40) != nil { return }
            let text = p.stderrText
            p.kill9()
            if attempt < 3, text.contains("Address already in use") {
                ports[id] = try ProcessHarness.freePort()
                continue
            }
            throw HarnessError("broker \(id) did not start: \(text)")
        }
    }

    func kill9(_ id: Int32) { procs[id]?.kill9() }

    func cleanup() {
        for p in procs.values { p.kill9() }
        coordd?.cleanup()
        zookeeper?.stop()
        ensemble?.cleanup()
        ProcessHarness.removeDir(dir)
    }

    /// A CoordClient on the cluster's coordination service (closed by the caller).
    func coordClient() throws -> CoordClient {
        let c = CoordClient(connectString: connectString, sessionTimeoutMs: 6000)
        try c.start()
        return c
    }

    /// The JSON object stored at `path`, or nil.
    func znodeJSON(_ c: CoordClient, _ path: String) -> [String: Any]? {
        guard let (d, _) = try? c.getData(path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(d))) as? [String: Any]
    }

    /// All broker logs, for failure messages.
    var logs: String { procs.keys.sorted().map { "--- broker \($0)\n" + (procs[$0]?.stderrText.suffix(3000) ?? "") }.joined(separator: "\n") }
}

/// One blocking Kafka connection speaking raw protocol frames, for tests that need exact control.
final class RawKafka {
    let socket: BlockingSocket
    private var correlation: Int32 = 0

    init(port: Int) throws {
        socket = try BlockingSocket(host: "127.0.0.1", port: port, connectTimeoutMillis: 3000, ioTimeoutMillis: 10_000)
    }

    deinit { socket.close() }

    func call<M: KafkaRequestMessage>(_ req: M, version: Int16) throws -> M.Response {
        correlation += 1
        try socket.sendAll(try KafkaRequestFrame.encode(req, version: version, correlationId: correlation, clientId: "tests"))
        let frame = try socket.readFrame()
        return try KafkaResponseFrame.decode(M.Response.self, frame: frame, version: version).body
    }

    /// True when the broker closed the connection (EOF) instead of answering.
    func closedByPeer() -> Bool {
        (try? socket.readExactly(1)) == nil
    }
}

func kcat(_ args: [String], stdin: String? = nil, timeout: Double = 30) throws -> (status: Int32, out: String, err: String) {
    if let stdin {
        let dir = try ProcessHarness.makeTempDir("kcat")
        defer { ProcessHarness.removeDir(dir) }
        try stdin.write(toFile: dir + "/in", atomically: true, encoding: .utf8)
        let r = try ProcessHarness.run("/bin/sh", ["-c", "exec /usr/bin/kcat \"$@\" < \(dir)/in", "kcat"] + args, timeout: timeout)
        return (r.status, r.stdout, r.stderr)
    }
    let r = try ProcessHarness.run("/usr/bin/kcat", args, timeout: timeout)
    return (r.status, r.stdout, r.stderr)
}
