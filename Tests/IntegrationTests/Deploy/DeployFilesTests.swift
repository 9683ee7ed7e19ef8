import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// deploy/'s docker-compose.yml, Kubernetes manifests, systemd units and Dockerfile, checked against
/// what the daemons really do: every command line, port and config key is run on loopback through
/// the same entry point script the image uses (no Docker or Kubernetes on the test machine).
@Suite(.serialized, .ownThreads) struct DeployFilesTests {
    static let daemons: Set<String> = ["coordd", "brokerd", "console"]
    static let testSecret = "deploy-test-secret-0123456789abcdef0123456789abcdef"

    // MARK: docker-compose

    static func composeProcesses() throws -> (procs: [DeployedProcess], services: [String: [String: Any]]) {
        let path = DeployFiles.deployDir + "/docker-compose.yml"
        let doc = try #require(DeployFiles.yamlDocuments(path).first as? [String: Any])
        let services = try #require(doc["services"] as? [String: [String: Any]])
        let configs = try #require(doc["configs"] as? [String: [String: Any]])
        var procs: [DeployedProcess] = []
        for (name, s) in services.sorted(by: { $0.key < $1.key }) {
            guard let command = s["command"] as? [String], let daemon = command.first, daemons.contains(daemon) else { continue }
            #expect(command.count == 2, "\(name): command \(command)")
            let mounts = (s["configs"] as? [[String: Any]]) ?? []
            let mount = try #require(mounts.first { ($0["target"] as? String) == command[1] }, "\(name): \(command[1]) is not mounted")
            let source = try #require(mount["source"] as? String)
            let file = try #require(configs[source]?["file"] as? String, "\(name): config \(source) undefined")
            let template = try String(contentsOfFile: DeployFiles.deployDir + "/" + file, encoding: .utf8)
            var env = (s["environment"] as? [String: Any])?.mapValues { "\($0)" } ?? [:]
            for (k, v) in env where v.hasPrefix("${QUORUM_SECRET") { env[k] = testSecret }
            var containerPorts = Set(((s["expose"] as? [Any]) ?? []).compactMap { Int("\($0)") })
            var published: [Int: Int] = [:]
            for mapping in (s["ports"] as? [Any]) ?? [] {
                let parts = "\(mapping)".split(separator: ":").compactMap { Int($0) }
                try #require(parts.count == 2, "\(name): port mapping \(mapping)")
                published[parts[0]] = parts[1]
                #expect(containerPorts.contains(parts[1]), "\(name) publishes \(parts[1]) but does not expose it")
                containerPorts.insert(parts[1])
            }
            let hostname = (s["hostname"] as? String) ?? name
            let grace = (s["stop_grace_period"] as? String).flatMap { Double($0.dropLast()) } ?? 10
            #expect((s["stop_signal"] as? String) ?? "SIGTERM" == "SIGTERM", "\(name): the daemons stop cleanly on SIGTERM only")
            let id = try #require(env["COORDKAFKA_ID"].flatMap { Int($0) }, "\(name): no COORDKAFKA_ID")
            procs.append(DeployedProcess(name: name, id: id, daemon: daemon, template: template, configPath: command[1], env: env,
                                         host: env["COORDKAFKA_HOST"] ?? hostname, containerPorts: containerPorts,
                                         published: published, aliases: Array(Set([name, hostname])), stopGrace: grace))
        }
        return (procs, services)
    }

    @Test func composeFileStartsTheClusterItDescribes() throws {
        let (procs, services) = try Self.composeProcesses()
        #expect(procs.filter { $0.daemon == "coordd" }.count == 3 && procs.filter { $0.daemon == "brokerd" }.count == 3)
        for p in procs {
            let listens = DeployFiles.listenPorts(daemon: p.daemon, config: p.template)
            #expect(listens.isSubset(of: p.containerPorts), "\(p.name) listens on \(listens.sorted()) but exposes \(p.containerPorts.sorted())")
            let s = services[p.name] ?? [:]
            if let test = (s["healthcheck"] as? [String: Any])?["test"] as? [String],
               let port = test.joined(separator: " ").firstMatch(of: /\/dev\/tcp\/127\.0\.0\.1\/([0-9]+)/).flatMap({ Int($0.1) }) {
                #expect(listens.contains(port), "\(p.name): the healthcheck asks port \(port), which it does not listen on")
            }
            for dep in ((s["depends_on"] as? [String: Any]) ?? [:]).keys { #expect(services[dep] != nil, "\(p.name) depends on unknown \(dep)") }
        }
        // The ensemble before the brokers, the brokers before the console.
        for b in procs where b.daemon == "brokerd" {
            let deps = Set(((services[b.name]?["depends_on"] as? [String: Any]) ?? [:]).keys)
            #expect(deps == Set(procs.filter { $0.daemon == "coordd" }.map(\.name)), "\(b.name) depends on \(deps.sorted())")
        }
        try checkPrometheus(services: services, procs: procs)

        let d = try LoopbackDeployment(procs)
        defer { d.cleanup() }
        try DeploymentCheck.run(d, coordd: procs.filter { $0.daemon == "coordd" }.map(\.name),
                                brokers: procs.filter { $0.daemon == "brokerd" }.map(\.name),
                                console: procs.first { $0.daemon == "console" }?.name) { broker in
            // Host clients use the EXTERNAL listener the compose file publishes.
            guard let p = procs.first(where: { $0.name == broker }), let (_, c) = p.published.first else { return nil }
            return d.localPort(broker, c)
        }
    }

    func checkPrometheus(services: [String: [String: Any]], procs: [DeployedProcess]) throws {
        let prom = try #require(services["prometheus"], "no prometheus service")
        let mount = try #require((prom["configs"] as? [[String: Any]])?.first)
        #expect(mount["source"] as? String == "prometheus_yml")
        let path = DeployFiles.deployDir + "/compose/prometheus.yml"
        let doc = try #require(DeployFiles.yamlDocuments(path).first as? [String: Any])
        var targets: [String] = []
        for job in (doc["scrape_configs"] as? [[String: Any]]) ?? [] {
            for sc in (job["static_configs"] as? [[String: Any]]) ?? [] { targets += (sc["targets"] as? [String]) ?? [] }
        }
        let admins = procs.filter { $0.daemon != "console" }.map { p -> String in
            let props = DeployFiles.properties(p.template)
            let port = props.first { $0.key == "admin.serverPort" }?.value
                ?? props.first { $0.key == "admin.listener" }?.value.split(separator: ":").last.map(String.init) ?? "?"
            return "\(p.name):\(port)"
        }
        #expect(Set(targets) == Set(admins), "prometheus scrapes \(targets.sorted()), the daemons' admin servers are \(admins.sorted())")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let r = try ProcessHarness.run("/usr/bin/promtool", ["check", "config", path], timeout: 30)
            #expect(r.status == 0, "promtool check config: \(r.stdout) \(r.stderr)")
        }
    }

    // MARK: Kubernetes

    static func kubernetesProcesses() throws -> (procs: [DeployedProcess], docs: [[String: Any]]) {
        var docs: [[String: Any]] = []
        for f in ["coordd.yaml", "brokerd.yaml", "console.yaml"] {
            docs += try DeployFiles.yamlDocuments(DeployFiles.deployDir + "/kubernetes/" + f).compactMap { $0 as? [String: Any] }
        }
        func named(_ kind: String, _ name: String) -> [String: Any]? {
            docs.first { $0["kind"] as? String == kind && ($0["metadata"] as? [String: Any])?["name"] as? String == name }
        }
        var procs: [DeployedProcess] = []
        for w in docs where ["StatefulSet", "Deployment"].contains(w["kind"] as? String ?? "") {
            let wname = try #require((w["metadata"] as? [String: Any])?["name"] as? String)
            let spec = try #require(w["spec"] as? [String: Any])
            let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
            let c = try #require((pod["containers"] as? [[String: Any]])?.first)
            let args = try #require(c["args"] as? [String])
            try #require(args.count == 2 && daemons.contains(args[0]), "\(wname): args \(args)")
            let mount = try #require((c["volumeMounts"] as? [[String: Any]])?.first { args[1].hasPrefix(($0["mountPath"] as? String ?? "?") + "/") })
            let volume = try #require((pod["volumes"] as? [[String: Any]])?.first { $0["name"] as? String == mount["name"] as? String })
            let cmName = try #require((volume["configMap"] as? [String: Any])?["name"] as? String, "\(wname): \(args[1]) is not from a ConfigMap")
            let file = String(args[1].split(separator: "/").last ?? "")
            let template = try #require((named("ConfigMap", cmName)?["data"] as? [String: String])?[file], "ConfigMap \(cmName) has no \(file)")
            var env: [String: String] = [:]
            for e in (c["env"] as? [[String: Any]]) ?? [] {
                let n = e["name"] as? String ?? ""
                env[n] = (e["value"] as? String) ?? (e["valueFrom"] != nil ? testSecret : "")
                if let ref = (e["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any] {
                    #expect(ref["name"] as? String != nil && ref["key"] as? String != nil, "\(wname): secretKeyRef \(ref)")
                }
            }
            let ports = (c["ports"] as? [[String: Any]]) ?? []
            let byName = Dictionary(uniqueKeysWithValues: ports.compactMap { p in (p["name"] as? String).map { ($0, p["containerPort"] as? Int ?? -1) } })
            for probe in ["readinessProbe", "livenessProbe"] {
                guard let get = (c[probe] as? [String: Any])?["httpGet"] as? [String: Any] else { continue }
                let port = (get["port"] as? Int) ?? (get["port"] as? String).flatMap { byName[$0] }
                #expect(port.map { DeployFiles.listenPorts(daemon: args[0], config: template).contains($0) } == true,
                        "\(wname): \(probe) port \(get["port"] ?? "-") is not one the daemon listens on")
            }
            let grace = Double((pod["terminationGracePeriodSeconds"] as? Int) ?? 30)
            let containerPorts = Set(byName.values)
            if w["kind"] as? String == "StatefulSet" {
                let service = try #require(spec["serviceName"] as? String)
                let headless = try #require(named("Service", service)?["spec"] as? [String: Any], "\(wname): no Service \(service)")
                #expect(headless["clusterIP"] as? String == "None", "\(service) must be headless")
                #expect(headless["publishNotReadyAddresses"] as? Bool == true, "\(service): peers must resolve before they are ready")
                #expect(spec["podManagementPolicy"] as? String == "Parallel", "\(wname): pods become ready only together")
                let replicas = try #require(spec["replicas"] as? Int)
                for i in 0..<replicas {
                    let podName = "\(wname)-\(i)"
                    var penv = env
                    penv["HOSTNAME"] = podName
                    procs.append(DeployedProcess(name: podName, id: i + (Int(env["COORDKAFKA_ID_OFFSET"] ?? "0") ?? 0), daemon: args[0], template: template, configPath: args[1], env: penv,
                                                 host: "\(podName).\(service)", containerPorts: containerPorts,
                                                 aliases: ["\(podName).\(service)"], stopGrace: grace))
                }
            } else {
                procs.append(DeployedProcess(name: wname, id: Int(env["COORDKAFKA_ID"] ?? "0") ?? 0, daemon: args[0], template: template, configPath: args[1], env: env,
                                             host: wname, containerPorts: containerPorts, aliases: [wname], stopGrace: grace))
            }
        }
        return (procs, docs)
    }

    @Test func kubernetesManifestsStartTheClusterTheyDescribe() throws {
        let (procs, docs) = try Self.kubernetesProcesses()
        let coordd = procs.filter { $0.daemon == "coordd" }
        #expect(coordd.count % 2 == 1 && coordd.count >= 3, "the ensemble needs an odd number of voters")
        // server.N names pod N - COORDKAFKA_ID_OFFSET of the StatefulSet, and every pod is a server.
        let offset = Int(coordd.first?.env["COORDKAFKA_ID_OFFSET"] ?? "0") ?? 0
        let servers = DeployFiles.properties(coordd.first?.template ?? "").filter { $0.key.hasPrefix("server.") }
        #expect(servers.count == coordd.count)
        for (k, v) in servers {
            let id = Int(k.dropFirst(7)) ?? -1
            let host = String(v.split(separator: ":").first ?? "")
            #expect(coordd.first { $0.name == host.split(separator: ".").first.map(String.init) }?.aliases.contains(host) == true
                    && host.hasPrefix("coordd-\(id - offset)."), "\(k)=\(v) is not pod \(id - offset)")
        }
        // Every Service and PodDisruptionBudget selects pods that exist, on ports they have.
        let workloads = docs.filter { ["StatefulSet", "Deployment"].contains($0["kind"] as? String ?? "") }
        func podLabels(_ w: [String: Any]) -> [String: String] {
            ((((w["spec"] as? [String: Any])?["template"] as? [String: Any])?["metadata"] as? [String: Any])?["labels"] as? [String: String]) ?? [:]
        }
        for doc in docs where ["Service", "PodDisruptionBudget"].contains(doc["kind"] as? String ?? "") {
            let spec = doc["spec"] as? [String: Any] ?? [:]
            let selector = (spec["selector"] as? [String: String]) ?? ((spec["selector"] as? [String: Any])?["matchLabels"] as? [String: String]) ?? [:]
            let matched = workloads.filter { w in selector.allSatisfy { podLabels(w)[$0.key] == $0.value } }
            #expect(!selector.isEmpty && matched.count == 1, "\(doc["kind"] ?? "") \((doc["metadata"] as? [String: Any])?["name"] ?? ""): selector \(selector)")
            guard let w = matched.first, doc["kind"] as? String == "Service" else { continue }
            let c = (((w["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])?["containers"] as? [[String: Any]]
            let names = Set((c?.first?["ports"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
            for port in (spec["ports"] as? [[String: Any]]) ?? [] {
                #expect(names.contains(port["targetPort"] as? String ?? "?"), "Service port \(port) targets no container port")
            }
        }
        let d = try LoopbackDeployment(procs)
        defer { d.cleanup() }
        try DeploymentCheck.run(d, coordd: coordd.map(\.name), brokers: procs.filter { $0.daemon == "brokerd" }.map(\.name),
                                console: procs.first { $0.daemon == "console" }?.name) { d.localPort($0, 9092) }
    }

    // MARK: Dockerfile and entry point

    @Test func dockerfileBuildsWhatTheDeploymentsRun() throws {
        let text = try String(contentsOfFile: DeployFiles.deployDir + "/docker/Dockerfile", encoding: .utf8)
        let package = try String(contentsOfFile: ProcessHarness.packageRoot + "/Package.swift", encoding: .utf8)
        for daemon in Self.daemons {
            #expect(text.contains("--product \(daemon)"), "the image does not build \(daemon)")
            #expect(package.contains(".executable(name: \"\(daemon)\""), "\(daemon) is not a product of the package")
        }
        #expect(text.contains("COPY deploy/docker/entrypoint.sh /usr/local/bin/coordkafka-entrypoint.sh"))
        #expect(text.contains("ENTRYPOINT [\"/usr/local/bin/coordkafka-entrypoint.sh\"]"))
        // Only the C libraries the package links (systemLibrary targets) are installed at run time.
        #expect(text.contains("libssl3") && text.contains("zlib1g "))
    }

    @Test func entryPointRefusesAnotherServersDataAndAMissingId() throws {
        let dir = try ProcessHarness.makeTempDir("entrypoint")
        defer { ProcessHarness.removeDir(dir) }
        let template = dir + "/zoo.cfg"
        try "dataDir=\(dir)/data\nclientPort=2181\nquorum.auth.secretFile=\(dir)/secret\n".write(toFile: template, atomically: true, encoding: .utf8)
        let script = DeployFiles.deployDir + "/docker/entrypoint.sh"
        let render = ["COORDKAFKA_RENDER_ONLY": "1", "COORDKAFKA_RENDERED": dir + "/out.cfg"]
        // A pod name without an ordinal and no COORDKAFKA_ID: refused, nothing written.
        var r = try ProcessHarness.run("/bin/bash", [script, "coordd", template], timeout: 10, env: render.merging(["HOSTNAME": "coordd"]) { $1 })
        #expect(r.status == 2 && r.stderr.contains("COORDKAFKA_ID"), "\(r)")
        // Pod coordd-2 with offset 1 is server 3; the secret lands 0600 and leaves the environment.
        r = try ProcessHarness.run("/bin/bash", [script, "coordd", template], timeout: 10,
                                   env: render.merging(["HOSTNAME": "coordd-2", "COORDKAFKA_ID_OFFSET": "1", "COORDKAFKA_QUORUM_SECRET": "s3cret"]) { $1 })
        #expect(r.status == 0, "\(r)")
        #expect((try? String(contentsOfFile: dir + "/data/myid", encoding: .utf8)) == "3\n")
        let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/secret")
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        #expect((try? String(contentsOfFile: dir + "/secret", encoding: .utf8)) == "s3cret")
        // The same volume mounted for another server: refused.
        r = try ProcessHarness.run("/bin/bash", [script, "coordd", template], timeout: 10, env: render.merging(["COORDKAFKA_ID": "1"]) { $1 })
        #expect(r.status == 2 && r.stderr.contains("myid says 3"), "\(r)")
        r = try ProcessHarness.run("/bin/bash", [script, "zkServer", template], timeout: 10, env: render)
        #expect(r.status == 2, "\(r)")
    }
}
