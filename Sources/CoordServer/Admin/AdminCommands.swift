#if canImport(Glibc)
import Glibc
#endif
import CoordCore
import Observability
import Transport

/// ZooKeeper 3.8's AdminServer commands: same names, aliases and JSON keys, so tools built for
/// ZooKeeper's `/commands/<name>` read coordd unchanged. Every answer has "command" and "error".
enum AdminCommands {
    /// Primary name and aliases, as ZooKeeper registers them.
    static let table: [(String, [String])] = [
        ("configuration", ["conf", "config"]), ("connections", ["cons"]), ("dump", []), ("environment", ["env", "envi"]),
        ("is_read_only", ["isro"]), ("last_snapshot", ["lsnp"]), ("leader", ["lead"]), ("monitor", ["mntr"]), ("ruok", []),
        ("server_stats", ["srvr"]), ("stats", ["stat"]), ("voting_view", []), ("watches", ["wchc"]),
        ("watches_by_path", ["wchp"]), ("watch_summary", ["wchs"]), ("zabstate", []),
    ]

    static var names: [String] { table.map(\.0) }

    static func canonical(_ name: String) -> String? {
        table.first { $0.0 == name || $0.1.contains(name) }?.0
    }
}

extension CoordServer {
    /// Loop thread: the command's answer for the current state.
    func adminCommand(_ name: String) -> JSONValue {
        var out: [(String, JSONValue)] = [("command", .string(name))]
        let s = stateNow()
        let serverRequired = !["environment", "monitor", "zabstate"].contains(name)
        if serverRequired && !serving {
            out.append(("error", .string("This ZooKeeper instance is not currently serving requests")))
            return .object(out)
        }
        out.append(("error", .null))
        switch name {
        case "ruok": break
        case "configuration": out += confFields()
        case "connections":
            out.append(("connections", .array(connectionInfo(brief: false))))
            out.append(("secure_connections", .array([])))
        case "dump":
            var expiry: [(String, JSONValue)] = []
            for (t, ids) in tracker.expiryBuckets.sorted(by: { $0.key < $1.key }) {
                expiry.append((String(t), .array(ids.sorted().map { .int($0) })))
            }
            out.append(("expiry_time_to_session_ids", .object(expiry)))
            out.append(("session_id_to_ephemeral_paths", .object(tree.ephemerals.sorted { $0.key < $1.key }.map {
                (String($0.key), .array($0.value.sorted().map { .string($0.string) }))
            })))
        case "environment": out += environment()
        case "is_read_only": out.append(("read_only", .bool(false)))
        case "last_snapshot":
            out.append(("zxid", .string(String(UInt64(bitPattern: lastSnapshot?.zxid ?? -1), radix: 16))))
            out.append(("timestamp", .int(lastSnapshot?.time ?? -1)))
        case "leader":
            if isStandalone {
                out.append(("error", .string("server is not initialized")))
                out.remove(at: 1)
            } else {
                out.append(("is_leader", .bool(s.mode == "leader")))
                out.append(("leader_id", .int(Int64(s.leaderId ?? -1))))
                let ip = s.leaderId.flatMap { config.servers[$0] }.map { "\($0.host):\($0.peerPort)" } ?? ""
                out.append(("leader_ip", .string(ip)))
            }
        case "monitor": out += monitorFields(s)
        case "server_stats", "stats":
            out += serverStats(s)
            if name == "stats" {
                out.append(("connections", .array(connectionInfo(brief: true))))
                out.append(("secure_connections", .array([])))
            }
        case "voting_view":
            var view: [(String, JSONValue)] = []
            for (id, e) in config.servers.sorted(by: { $0.key < $1.key }) {
                var v = "\(e.host):\(e.peerPort):\(e.electionPort):\(e.role)"
                if let cp = e.clientPort { v += ";\(e.clientHost ?? "0.0.0.0"):\(cp)" }
                view.append((String(id), .string(v)))
            }
            out.append(("current_config", .object(view)))
        case "watches":
            out.append(("session_id_to_watched_paths", .object(cnxs.values.sorted { $0.id < $1.id }.compactMap { c in
                let all = watches.paths(of: c.id).all
                return all.isEmpty ? nil : (String(c.sessionId), .array(all.map { .string($0) }))
            })))
        case "watches_by_path":
            var byPath: [ZKPathKey: Set<Int64>] = [:]
            for c in cnxs.values {
                for path in watches.paths(of: c.id).all { byPath[ZKPathKey(path), default: []].insert(c.sessionId) }
            }
            out.append(("path_to_session_ids", .object(byPath.sorted { $0.key < $1.key }.map { ($0.key.string, .array($0.value.sorted().map { .int($0) })) })))
        case "watch_summary":
            let watching = cnxs.values.filter { !watches.paths(of: $0.id).isEmpty }.count
            out.append(("num_connections", .int(Int64(watching))))
            out.append(("num_paths", .int(Int64(s.watchedPaths))))
            out.append(("num_total_watches", .int(Int64(s.watchCount))))
        case "zabstate":
            let isVoter = config.servers[config.myid ?? -1]?.role == "participant"
            out.append(("voting", .bool(!isStandalone && isVoter)))
            out.append(("zabstate", .string(zabState)))
        default: break
        }
        return .object(out)
    }

    var uptimeMillis: Int64 { WallClock.millis() - startedAtMillis }

    static func openFileDescriptors() -> Int {
        guard let d = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(d) }
        var n = -2  // "." and ".."
        while readdir(d) != nil { n += 1 }
        return n - 1  // the directory stream's own descriptor
    }

    static func maxFileDescriptors() -> Int {
        var rl = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl)
        return Int(clamping: rl.rlim_cur)
    }

    /// ZooKeeper's phases: election, discovery, synchronization, broadcast ("" standalone).
    var zabState: String {
        guard let q = quorum, !isStandalone else { return "" }
        switch q.peer.currentStatus.role {
        case .looking: return "election"
        case .leading, .following: return q.peer.currentStatus.serving ? "broadcast" : "synchronization"
        }
    }

    private func confFields() -> [(String, JSONValue)] {
        var f: [(String, JSONValue)] = [
            ("client_port", .int(Int64(port))), ("data_dir", .string(config.snapDir)), ("data_log_dir", .string(config.logDir)),
            ("tick_time", .int(Int64(config.tickTime))), ("max_client_cnxns", .int(Int64(config.maxClientCnxns))),
            ("min_session_timeout", .int(Int64(config.effectiveMinSessionTimeout))),
            ("max_session_timeout", .int(Int64(config.effectiveMaxSessionTimeout))), ("server_id", .int(Int64(config.myid ?? 0))),
            ("client_port_listen_backlog", .int(-1)),
        ]
        if let me = config.myid.flatMap({ config.servers[$0] }) {
            f += [("init_limit", .int(Int64(config.initLimit))), ("sync_limit", .int(Int64(config.syncLimit))), ("election_alg", .int(3)),
                  ("election_port", .int(Int64(me.electionPort))), ("quorum_port", .int(Int64(me.peerPort))),
                  ("peer_type", .int(me.role == "participant" ? 0 : 1))]
        }
        return f
    }

    private func connectionInfo(brief: Bool) -> [JSONValue] {
        cnxs.values.sorted { $0.id < $1.id }.map { c in
            var f: [(String, JSONValue)] = [
                ("remote_socket_address", .string(c.conn.peer)), ("interest_ops", .int(c.conn.isReadPaused ? 0 : 1)),
                ("outstanding_requests", .int(Int64(c.queued))), ("packets_received", .int(Int64(c.received))), ("packets_sent", .int(Int64(c.sent))),
            ]
            if !brief {
                f += [("session_id", .string(String(UInt64(bitPattern: c.sessionId), radix: 16))), ("session_timeout", .int(Int64(c.timeout))),
                      ("last_zxid", .string("0x" + String(UInt64(bitPattern: c.lastZxid), radix: 16)))]
            }
            return .object(f)
        }
    }

    private func monitorFields(_ s: CoordServerState) -> [(String, JSONValue)] {
        var f: [(String, JSONValue)] = [
            ("version", .string(version)), ("server_state", .string(s.mode)),
            ("avg_latency", .double(s.avgLatencyMs)), ("max_latency", .double(s.maxLatencyMs)), ("min_latency", .double(s.minLatencyMs)),
            ("packets_received", .int(Int64(s.received))), ("packets_sent", .int(Int64(s.sent))),
            ("num_alive_connections", .int(Int64(s.connections))), ("outstanding_requests", .int(Int64(s.outstanding))),
            ("znode_count", .int(Int64(s.nodeCount))), ("watch_count", .int(Int64(s.watchCount))),
            ("ephemerals_count", .int(Int64(s.ephemerals))), ("approximate_data_size", .int(Int64(s.approximateDataSize))),
            ("global_sessions", .int(Int64(s.sessions))), ("last_zxid", .string(Self.hex(s.lastZxid))),
            ("quorum_size", .int(Int64(config.servers.isEmpty ? 1 : config.servers.values.filter { $0.role == "participant" }.count))),
            ("uptime", .int(uptimeMillis)), ("proposal_count", .int(Int64(metrics.proposals.value))),
            ("open_file_descriptor_count", .int(Int64(Self.openFileDescriptors()))), ("max_file_descriptor_count", .int(Int64(Self.maxFileDescriptors()))),
        ]
        if s.mode == "leader" {
            f += [("learners", .int(Int64(s.followers))), ("synced_followers", .int(Int64(s.syncedFollowers))),
                  ("synced_non_voting_followers", .int(0)), ("synced_observers", .int(Int64(s.syncedObservers)))]
        }
        return f
    }

    private func serverStats(_ s: CoordServerState) -> [(String, JSONValue)] {
        [
            ("version", .string(version + ", built on coordd")), ("read_only", .bool(false)),
            ("server_stats", .object([
                ("packets_sent", .int(Int64(s.sent))), ("packets_received", .int(Int64(s.received))),
                ("fsync_threshold_exceed_count", .int(0)),
                ("client_response_stats", .object([("last_buffer_size", .int(-1)), ("min_buffer_size", .int(-1)), ("max_buffer_size", .int(-1))])),
                ("last_processed_zxid", .int(s.lastZxid)), ("outstanding_requests", .int(Int64(s.outstanding))),
                ("server_state", .string(s.mode)), ("avg_latency", .double(s.avgLatencyMs)), ("max_latency", .int(Int64(s.maxLatencyMs))),
                ("min_latency", .int(Int64(s.minLatencyMs))), ("num_alive_client_connections", .int(Int64(s.connections))),
                ("provider_null", .bool(false)), ("uptime", .int(uptimeMillis)), ("auth_failed_count", .int(Int64(metrics.authFailed.value))),
                ("non_mtlsremote_conn_count", .int(0)), ("non_mtlslocal_conn_count", .int(0)),
            ])),
            ("client_response", .object([("last_buffer_size", .int(-1)), ("min_buffer_size", .int(-1)), ("max_buffer_size", .int(-1))])),
            ("node_count", .int(Int64(s.nodeCount))),
        ]
    }

    private func environment() -> [(String, JSONValue)] {
        var uts = utsname()
        uname(&uts)
        func field<T>(_ v: T) -> String { withUnsafePointer(to: v) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } } }
        return [
            ("zookeeper.version", .string(version)), ("host.name", .string(field(uts.nodename))),
            ("os.name", .string(field(uts.sysname))), ("os.arch", .string(field(uts.machine))), ("os.version", .string(field(uts.release))),
            ("user.dir", .string(config.dataDir)),
        ]
    }
}
