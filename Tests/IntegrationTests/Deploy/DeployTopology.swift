import Foundation
import Testing

/// The processes a deployment file describes (compose services, StatefulSet pods), and how to run
/// them on loopback: each process's container ports become free local ports, the names other
/// processes use for it become 127.0.0.1, its data and /tmp go to a temp dir. A config that names a
/// port its process does not expose, or a host nobody is called, fails the rewrite.
struct DeployedProcess {
    var name: String
    /// The id the entry point derives (COORDKAFKA_ID, or the pod ordinal plus the offset).
    var id: Int
    var daemon: String
    /// The config file as the deployment ships it (before the entry point fills @ID@).
    var template: String
    /// Where the deployment mounts it (the daemon's argument).
    var configPath: String
    /// The entry point's environment as the deployment sets it (COORDKAFKA_ID, HOSTNAME, …).
    var env: [String: String]
    /// @HOST@ as the process would see it (COORDKAFKA_HOST or the pod's FQDN).
    var host: String
    var containerPorts: Set<Int>
    /// host port → container port.
    var published: [Int: Int] = [:]
    /// Names other processes reach it by ("coordd1", "coordd-0.coordd").
    var aliases: [String]
    /// Seconds the orchestrator waits after SIGTERM before SIGKILL.
    var stopGrace: Double
}

struct DeployError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

enum DeployFiles {
    static var deployDir: String { ProcessHarness.packageRoot + "/deploy" }

    /// Every YAML document in `path`, as JSON-compatible Foundation values (PyYAML reads the YAML:
    /// the Swift toolchain has no YAML parser).
    static func yamlDocuments(_ path: String) throws -> [Any] {
        let script = "import json,sys,yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]))"
        let r = try ProcessHarness.run("/usr/bin/python3", ["-c", script, path], timeout: 30)
        guard r.status == 0, let docs = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [Any] else {
            throw DeployError("\(path) is not valid YAML: \(r.stderr)")
        }
        return docs
    }

    /// `key=value` lines of a properties/cfg text (comments and blanks dropped).
    static func properties(_ text: String) -> [(key: String, value: String)] {
        text.split(separator: "\n").compactMap { line in
            let l = line.trimmingCharacters(in: .whitespaces)
            guard !l.isEmpty, !l.hasPrefix("#"), let eq = l.firstIndex(of: "=") else { return nil }
            return (String(l[..<eq]).trimmingCharacters(in: .whitespaces), String(l[l.index(after: eq)...]).trimmingCharacters(in: .whitespaces))
        }
    }

    /// Every port a process's own config makes it listen on (container side).
    static func listenPorts(daemon: String, config: String) -> Set<Int> {
        var ports: Set<Int> = []
        for (k, v) in properties(config) {
            switch (daemon, k) {
            case ("coordd", "clientPort"), ("coordd", "admin.serverPort"), ("coordd", "secureClientPort"):
                if let p = Int(v) { ports.insert(p) }
            case ("brokerd", "listeners"), ("brokerd", "admin.listener"), ("console", "listener"):
                for part in v.split(separator: ",") { if let p = part.split(separator: ":").last.flatMap({ Int($0) }) { ports.insert(p) } }
            default: break
            }
        }
        return ports
    }
}

/// Runs a topology's processes on loopback through the real entry point script.
final class LoopbackDeployment {
    let processes: [DeployedProcess]
    let dir: String
    /// (process, container port) → local port.
    private(set) var ports: [String: [Int: Int]] = [:]
    private(set) var running: [String: ManagedProcess] = [:]

    init(_ processes: [DeployedProcess]) throws {
        self.processes = processes
        dir = try ProcessHarness.makeTempDir("deploy")
        for p in processes {
            var m: [Int: Int] = [:]
            for c in p.containerPorts.sorted() { m[c] = try ProcessHarness.freePort() }
            ports[p.name] = m
        }
    }

    func cleanup() {
        for p in running.values { p.kill9() }
        ProcessHarness.removeDir(dir)
    }

    func localPort(_ name: String, _ containerPort: Int) -> Int? { ports[name]?[containerPort] }

    /// The template rewritten for loopback, @ID@ and @HOST@ filled as the entry point would (ports such
    /// as EXTERNAL's 1909@ID@ depend on them). The entry point still derives the id itself for myid,
    /// so a mismatch leaves coordd outside its own server list.
    func localize(_ p: DeployedProcess) throws -> String {
        // Comments go: only what the daemon reads is rewritten and checked.
        var text = p.template.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }.joined(separator: "\n")
            .replacingOccurrences(of: "@HOST@", with: p.host).replacingOccurrences(of: "@ID@", with: "\(p.id)")
        func port(_ who: DeployedProcess, _ c: Int, _ context: String) throws -> Int {
            guard let l = ports[who.name]?[c] else {
                throw DeployError("\(p.name): '\(context)' uses port \(c), which \(who.name) does not expose")
            }
            return l
        }
        // Other processes by name: host:port[:port] (server.N lines carry two ports).
        let byAlias = processes.flatMap { q in q.aliases.map { ($0, q) } }.sorted { $0.0.count > $1.0.count }
        for (alias, q) in byAlias {
            let pattern = "(?<![A-Za-z0-9.-])" + NSRegularExpression.escapedPattern(for: alias) + ":([0-9]+)(?::([0-9]+))?"
            text = try replace(pattern, in: text) { m in
                var out = "127.0.0.1:\(try port(q, Int(m[1])!, m[0]))"
                if let second = Int(m[2]) { out += ":\(try port(q, second, m[0]))" }
                return out
            }
        }
        // Its own ports: wildcard binds, published host ports, bare port keys.
        text = try replace("0\\.0\\.0\\.0:([0-9]+)", in: text) { m in "127.0.0.1:\(try port(p, Int(m[1])!, m[0]))" }
        text = try replace("localhost:([0-9]+)", in: text) { m in
            guard let c = p.published[Int(m[1])!] else { throw DeployError("\(p.name): '\(m[0])' is not a port it publishes") }
            return "127.0.0.1:\(try port(p, c, m[0]))"
        }
        text = try replace("(?m)^(clientPort|secureClientPort|admin\\.serverPort)=([0-9]+)$", in: text) { m in
            "\(m[1])=\(try port(p, Int(m[2])!, m[0]))"
        }
        // /tmp first: the temp dir itself may live under /tmp.
        text = text.replacingOccurrences(of: "/tmp/", with: "\(dir)/\(p.name)/tmp/")
            .replacingOccurrences(of: "/var/lib/coordkafka", with: "\(dir)/\(p.name)/data")
        // Whatever still names a host nobody is called is a typo in the deployment file.
        let leftovers = try NSRegularExpression(pattern: "(?<![A-Za-z0-9.:-])([A-Za-z][A-Za-z0-9.-]*):[0-9]+")
        for m in leftovers.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let host = String(text[Range(m.range(at: 1), in: text)!])
            throw DeployError("\(p.name): host '\(host)' is not a process of this deployment")
        }
        return text
    }

    /// Starts one process through deploy/docker/entrypoint.sh, as the container would.
    func start(_ name: String) throws {
        guard let p = processes.first(where: { $0.name == name }) else { throw DeployError("no process \(name)") }
        let base = "\(dir)/\(p.name)"
        try FileManager.default.createDirectory(atPath: base + "/tmp", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/data", withIntermediateDirectories: true)
        let template = base + "/template.conf"
        try localize(p).write(toFile: template, atomically: true, encoding: .utf8)
        guard let bin = ProcessHarness.binary(p.daemon) else { throw DeployError("\(p.daemon) not built") }
        var env = p.env
        env["COORDKAFKA_BIN_DIR"] = (bin as NSString).deletingLastPathComponent
        env["COORDKAFKA_RENDERED"] = base + "/rendered.conf"
        running[name] = try ManagedProcess("/bin/bash", [DeployFiles.deployDir + "/docker/entrypoint.sh", p.daemon, template],
                                           stderrPath: base + "/stderr.log", env: env)
    }

    /// SIGTERM as the orchestrator sends it; the exit status, or nil when it outlived its grace.
    func stop(_ name: String) -> Int32? {
        guard let m = running[name], let p = processes.first(where: { $0.name == name }) else { return nil }
        m.process.signal(SIGTERM)
        let inTime = m.process.wait(seconds: p.stopGrace)
        if !inTime { m.process.signal(SIGKILL) }
        let status = m.process.waitUntilExit()
        return inTime ? status : nil
    }

    func log(_ name: String) -> String { running[name]?.stderrText ?? "" }

    /// Replaces each match by `f(groups)`; a group that did not take part is "".
    private func replace(_ pattern: String, in text: String, _ f: ([String]) throws -> String) throws -> String {
        let re = try NSRegularExpression(pattern: pattern)
        var out = ""
        var last = text.startIndex
        for m in re.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let whole = Range(m.range, in: text)!
            out += text[last..<whole.lowerBound]
            let groups = (0..<m.numberOfRanges).map { i in Range(m.range(at: i), in: text).map { String(text[$0]) } ?? "" }
            out += try f(groups)
            last = whole.upperBound
        }
        return out + text[last...]
    }
}

/// What every topology must do once running: a quorum, three registered brokers, a replicated
/// topic that takes and serves records, a console that answers, and clean stops on SIGTERM.
enum DeploymentCheck {
    static func run(_ d: LoopbackDeployment, coordd: [String], brokers: [String], console: String?,
                    bootstrapPort: (String) -> Int?) throws {
        for c in coordd { try d.start(c) }
        for c in coordd {
            let admin = try #require(d.processes.first { $0.name == c }.flatMap { p in
                DeployFiles.properties(p.template).first { $0.key == "admin.serverPort" }.flatMap { Int($0.value) }
            }.flatMap { d.localPort(c, $0) })
            let ready = ProcessHarness.waitUntil(timeout: 60, interval: 0.2) { (try? AdminHTTP.get(admin, "/health/ready").status) == 200 }
            #expect(ready, "\(c) never became ready: \(d.log(c).suffix(1500))")
        }
        for b in brokers { try d.start(b) }
        for b in brokers {
            let admin = try #require(adminPort(d, b))
            let ready = ProcessHarness.waitUntil(timeout: 90, interval: 0.2) { (try? AdminHTTP.get(admin, "/health/ready").status) == 200 }
            #expect(ready, "\(b) never became ready: \(d.log(b).suffix(1500))")
            #expect(!d.log(b).contains("are not known"), "\(b) warns about config keys: \(d.log(b))")
        }
        let bootstrap = brokers.compactMap { bootstrapPort($0).map { "127.0.0.1:\($0)" } }.joined(separator: ",")
        let records = (0..<50).map { "deploy-\($0)" }.joined(separator: "\n") + "\n"
        let produced = try kcat(["-b", bootstrap, "-P", "-t", "deployed", "-X", "acks=all", "-X", "topic.metadata.refresh.interval.ms=500"],
                                stdin: records, timeout: 60)
        #expect(produced.status == 0, "produce: \(produced.err)")
        let consumed = try kcat(["-b", bootstrap, "-C", "-t", "deployed", "-o", "beginning", "-e", "-q", "-c", "50"], timeout: 60)
        #expect(Set(consumed.out.split(separator: "\n").map(String.init)) == Set((0..<50).map { "deploy-\($0)" }),
                "consumed \(consumed.out.split(separator: "\n").count) of 50: \(consumed.err)")
        let meta = try kcat(["-b", bootstrap, "-L", "-t", "deployed"], timeout: 30)
        #expect(meta.out.contains("3 brokers"), "metadata: \(meta.out)")
        #expect(meta.out.contains("replicas: ") && !meta.out.contains("Broker: Leader not available"), "metadata: \(meta.out)")
        if let console {
            try d.start(console)
            let http = try #require(d.processes.first { $0.name == console }.flatMap { p in
                DeployFiles.listenPorts(daemon: "console", config: p.template).first }.flatMap { d.localPort(console, $0) })
            let up = ProcessHarness.waitUntil(timeout: 30, interval: 0.2) { (try? AdminHTTP.get(http, "/").status) == 200 }
            #expect(up, "console: \(d.log(console))")
            let overview = try? AdminHTTP.get(http, "/api/overview").text
            #expect(overview?.contains("brokers") == true, "console overview: \(overview ?? "-")")
        }
        // Stop in the reverse order, each within the grace the orchestrator allows.
        for name in ([console].compactMap { $0 } + brokers + coordd) {
            let status = d.stop(name)
            #expect(status == 0, "\(name) did not stop cleanly on SIGTERM (status \(status.map(String.init) ?? "killed after grace")): \(d.log(name).suffix(800))")
        }
    }

    static func adminPort(_ d: LoopbackDeployment, _ broker: String) -> Int? {
        guard let p = d.processes.first(where: { $0.name == broker }),
              let v = DeployFiles.properties(p.template).first(where: { $0.key == "admin.listener" })?.value,
              let c = v.split(separator: ":").last.flatMap({ Int($0) }) else { return nil }
        return d.localPort(broker, c)
    }
}
