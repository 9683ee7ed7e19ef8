import Foundation
import Spawn
import Transport

/// Starts a 3-server ensemble on loopback — coordd or Apache ZooKeeper 3.8 from Debian's package —
/// from the same zoo.cfg, so both are measured on the same footing (fsync on, same tick).
final class LocalEnsemble {
    enum Kind: String { case coordd, zookeeper }

    let kind: Kind
    let dir: URL
    let clientPorts: [Int]
    private var processes: [ChildProcess] = []
    /// How each server was started, to start it again (`restart`).
    private var commands: [(exe: String, args: [String], log: String)] = []

    var connectString: String { clientPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") }
    var pids: [Int32] { processes.map { $0.pid } }

    /// `extra` is appended to every zoo.cfg (the observability bench turns the admin server on with it).
    /// `heap`: ZooKeeper's JVM heap flag (the scale bench needs more than 1 GB for a million znodes).
    /// `observers`: server numbers (1-based) that join as observers (`peerType=observer`, `:observer`).
    init(kind: Kind, servers: Int = 3, observers: Set<Int> = [], coorddPath: String, heap: String = "-Xmx1g",
         extra: (_ server: Int) throws -> String = { _ in "admin.enableServer=false\n" }) throws {
        self.kind = kind
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(kind.rawValue)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var ports: [Int] = []
        for _ in 0..<(servers * 3) { ports.append(try freePort()) }
        clientPorts = Array(ports[0..<servers])
        for i in 1...servers {
            let data = dir.appendingPathComponent("data\(i)")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try "\(i)\n".write(to: data.appendingPathComponent("myid"), atomically: true, encoding: .utf8)
            var cfg = """
            tickTime=2000
            initLimit=10
            syncLimit=5
            dataDir=\(data.path)
            clientPort=\(clientPorts[i - 1])
            clientPortAddress=127.0.0.1
            4lw.commands.whitelist=*
            maxClientCnxns=0

            """
            cfg += try extra(i)
            if observers.contains(i) { cfg += "peerType=observer\n" }
            if servers > 1 {
                for j in 1...servers {
                    cfg += "server.\(j)=127.0.0.1:\(ports[servers + j - 1]):\(ports[2 * servers + j - 1])"
                        + (observers.contains(j) ? ":observer\n" : "\n")
                }
            }
            let cfgURL = dir.appendingPathComponent("zoo\(i).cfg")
            try cfg.write(to: cfgURL, atomically: true, encoding: .utf8)
            let log = dir.appendingPathComponent("server\(i).log").path
            let command: (String, [String], String)
            switch kind {
            case .coordd:
                command = (coorddPath, [cfgURL.path], log)
            case .zookeeper:
                command = ("/usr/bin/java", [heap, "-Dzookeeper.log.dir=\(dir.path)", "-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar",
                           servers > 1 ? "org.apache.zookeeper.server.quorum.QuorumPeerMain" : "org.apache.zookeeper.server.ZooKeeperServerMain",
                           cfgURL.path], log)
            }
            commands.append(command)
            processes.append(try ChildProcess(command.0, command.1, stdout: .null, stderr: .file(log)))
        }
    }

    /// Waits until some server reports itself leader (or standalone).
    func waitForLeader(timeoutSeconds: Double = 60) throws -> Int {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            for (i, port) in clientPorts.enumerated() {
                if let out = try? fourLetterWord("srvr", port: port),
                   out.contains("Mode: leader") || out.contains("Mode: standalone") {
                    return i
                }
            }
            usleep(100_000)
        }
        throw BenchError("\(kind.rawValue): no leader after \(timeoutSeconds) s (logs in \(dir.path))")
    }

    /// Resident memory of each server process, in KiB (from /proc).
    func rssKiB() -> [Int] {
        pids.map { pid in
            guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                  let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
    }

    func kill(_ index: Int) {
        processes[index].signal(SIGKILL)
        processes[index].waitUntilExit()
    }

    /// kill -9, then the same command again (recovery from the data dir).
    func restart(_ index: Int) throws {
        kill(index)
        let c = commands[index]
        processes[index] = try ChildProcess(c.exe, c.args, stdout: .null, stderr: .file(c.log + ".restart"))
    }

    func stop() {
        for p in processes { p.signal(SIGTERM) }
        for p in processes { p.waitUntilExit() }
        try? FileManager.default.removeItem(at: dir)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func freePort() throws -> Int {
    let fd = try Socket.listen(host: "127.0.0.1", port: 0)
    defer { close(fd) }
    return Socket.localPort(fd)
}

func fourLetterWord(_ word: String, port: Int) throws -> String {
    let s = try BlockingSocket(host: "127.0.0.1", port: port, connectTimeoutMillis: 500, ioTimeoutMillis: 2000)
    try s.sendAll(Array(word.utf8))
    return String(decoding: try s.readToEnd(), as: UTF8.self)
}

/// Latency samples in nanoseconds → percentiles in milliseconds.
struct LatencyStats {
    var samples: [UInt64] = []

    mutating func add(_ ns: UInt64) { samples.append(ns) }

    func percentileMillis(_ p: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        let idx = min(sorted.count - 1, Int(Double(sorted.count - 1) * p))
        return Double(sorted[idx]) / 1e6
    }
}
