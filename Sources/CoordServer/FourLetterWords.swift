#if canImport(Glibc)
import Glibc
#endif
import CoordCore

/// Four-letter-word admin commands answered on the client port (text, then close).
enum FourLetterWords {
    static let all: Set<String> = ["ruok", "srvr", "stat", "mntr", "conf", "cons", "envi", "wchs", "isro", "dump"]
}

extension CoordServer {
    func fourLetterWord(_ word: String) -> String {
        if let allowed = config.fourLetterWhitelist, !allowed.contains(word) {
            return "\(word) is not executed because it is not in the whitelist.\n"
        }
        let s = stateNow()
        switch word {
        case "ruok":
            return "imok"
        case "isro":
            // kazoo's read-only clients poll this to find a read-write server again.
            return serving ? "rw" : (readOnlyActive ? "ro" : "null")
        case "srvr", "stat":
            // ZooKeeper's words for a member between leaders.
            guard serving || readOnlyActive else { return "This ZooKeeper instance is not currently serving requests\n" }
            return serverSummary(s, clients: word == "stat" ? connectionLines(brief: true) : nil)
        case "cons":
            return connectionLines(brief: false) + "\n"
        case "mntr":
            var rows: [(String, String)] = [
                ("zk_version", version),
                ("zk_server_state", s.mode),
                ("zk_avg_latency", fmt(s.avgLatencyMs)),
                ("zk_max_latency", fmt(s.maxLatencyMs)),
                ("zk_min_latency", fmt(s.minLatencyMs)),
                ("zk_packets_received", "\(s.received)"),
                ("zk_packets_sent", "\(s.sent)"),
                ("zk_num_alive_connections", "\(s.connections)"),
                ("zk_outstanding_requests", "\(s.outstanding)"),
                ("zk_znode_count", "\(s.nodeCount)"),
                ("zk_watch_count", "\(s.watchCount)"),
                ("zk_ephemerals_count", "\(s.ephemerals)"),
                ("zk_approximate_data_size", "\(s.approximateDataSize)"),
                ("zk_global_sessions", "\(s.sessions)"),
                ("zk_last_zxid", Self.hex(s.lastZxid)),
                ("zk_max_file_descriptor_count", "\(fdLimit())"),
                ("zk_auth_failed_count", "\(authFailures)"),
            ]
            if s.mode == "leader" {
                rows.append(("zk_followers", "\(s.followers)"))
                rows.append(("zk_synced_followers", "\(s.syncedFollowers)"))
                rows.append(("zk_synced_non_voting_followers", "0"))
                rows.append(("zk_synced_observers", "\(s.syncedObservers)"))
            }
            return rows.map { "\($0.0)\t\($0.1)\n" }.joined()
        case "conf":
            var out = "clientPort=\(port)\n"
            out += "clientPortAddress=\(config.listenHost)\n"
            out += "dataDir=\(config.snapDir)\n"
            out += "dataLogDir=\(config.logDir)\n"
            out += "tickTime=\(config.tickTime)\n"
            out += "maxClientCnxns=\(config.maxClientCnxns)\n"
            out += "minSessionTimeout=\(config.effectiveMinSessionTimeout)\n"
            out += "maxSessionTimeout=\(config.effectiveMaxSessionTimeout)\n"
            out += "serverId=\(config.myid ?? 0)\n"
            out += "jute.maxbuffer=\(config.maxBuffer)\n"
            if !config.servers.isEmpty {
                out += "initLimit=\(config.initLimit)\nsyncLimit=\(config.syncLimit)\n"
                for (id, e) in config.servers.sorted(by: { $0.key < $1.key }) {
                    out += "server.\(id)=\(e.host):\(e.peerPort):\(e.electionPort):\(e.role)"
                    if let cp = e.clientPort { out += ";\(e.clientHost ?? "0.0.0.0"):\(cp)" }
                    out += "\n"
                }
            }
            return out
        case "envi":
            var uts = utsname()
            uname(&uts)
            let host = withUnsafePointer(to: uts.nodename) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
            return "Environment:\nzookeeper.version=\(version)\nhost.name=\(host)\nos.name=Linux\nuser.dir=\(config.dataDir)\n"
        case "wchs":
            return "\(cnxs.values.filter { !watches.paths(of: $0.id).isEmpty }.count) connections watching \(s.watchedPaths) paths\nTotal watches:\(s.watchCount)\n"
        case "dump":
            var out = "SessionTracker dump:\nGlobal Sessions(\(tree.sessions.count)):\n"
            for (id, info) in tree.sessions.sorted(by: { $0.key < $1.key }) { out += "\(Self.hex(id))\t\(info.timeout)ms\n" }
            out += "ephemeral nodes dump:\nSessions with Ephemerals (\(tree.ephemerals.count)):\n"
            for (id, paths) in tree.ephemerals.sorted(by: { $0.key < $1.key }) {
                out += "\(Self.hex(id)):\n"
                for p in paths.sorted() { out += "\t\(p)\n" }
            }
            return out
        default:
            return ""
        }
    }

    private func fmt(_ v: Double) -> String {
        let r = (v * 1000).rounded() / 1000
        return "\(r)"
    }

    private func serverSummary(_ s: CoordServerState, clients: String?) -> String {
        var out = "Zookeeper version: \(version), built on coordd\n"
        if let clients { out += "Clients:\n" + clients + "\n" }
        out += "Latency min/avg/max: \(fmt(s.minLatencyMs))/\(fmt(s.avgLatencyMs))/\(fmt(s.maxLatencyMs))\n"
        out += "Received: \(s.received)\n"
        out += "Sent: \(s.sent)\n"
        out += "Connections: \(s.connections)\n"
        out += "Outstanding: \(s.outstanding)\n"
        out += "Zxid: \(Self.hex(s.lastZxid))\n"
        out += "Mode: \(s.mode)\n"
        out += "Node count: \(s.nodeCount)\n"
        return out
    }

    private func connectionLines(brief: Bool) -> String {
        cnxs.values.sorted { $0.id < $1.id }.map { c in
            var line = " /\(c.conn.peer)[\(c.phase == .connected ? 1 : 0)](queued=\(c.queued),recved=\(c.received),sent=\(c.sent)"
            if !brief {
                line += ",sid=\(Self.hex(c.sessionId)),lzxid=\(Self.hex(c.lastZxid)),to=\(c.timeout)"
            }
            return line + ")\n"
        }.joined()
    }

    private func fdLimit() -> UInt64 {
        var rl = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl)
        return UInt64(rl.rlim_cur)
    }
}
