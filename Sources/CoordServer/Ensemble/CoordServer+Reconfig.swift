import CoordCore
import Protocol
import Storage
import Transport

/// ZooKeeper's dynamic reconfiguration (`reconfig`, op 16) on the runtime side. The ensemble's
/// membership lives in `/zookeeper/config` (replicated by the reconfig txn, kept by snapshots),
/// so a restarting server takes it from its own state; zoo.cfg's server.N lines are only the
/// starting point (and how a joining server finds the ensemble).
extension CoordServer {
    /// The configuration zoo.cfg gives, as `/zookeeper/config` shows it (version 0).
    var staticEnsembleConfig: EnsembleConfig {
        var servers: [UInt64: EnsembleServer] = [:]
        for (id, e) in config.servers { servers[UInt64(id)] = e }
        return EnsembleConfig(servers: servers)
    }

    /// What `/zookeeper/config` holds, if a reconfig wrote it.
    var reconfiguredEnsemble: EnsembleConfig? {
        guard let data = tree.node("/zookeeper/config")?.data, let text = String(validating: data, as: UTF8.self),
              let c = try? EnsembleConfig(text: text), c.version != .zero else { return nil }
        return c
    }

    var currentEnsembleConfig: EnsembleConfig { reconfiguredEnsemble ?? staticEnsembleConfig }

    /// Until a reconfig writes it, /zookeeper/config shows zoo.cfg's servers (as ZooKeeper's does).
    func initConfigNode() {
        guard !config.servers.isEmpty, reconfiguredEnsemble == nil else { return }
        tree.initConfigNode(Array(staticEnsembleConfig.text.utf8))
    }

    /// The restore's configuration: the newer of the state's and the one saved at its commit.
    func restoredMembership(_ restore: inout QuorumRestore) {
        guard let c = reconfiguredEnsemble, c.version > restore.membershipZxid else { return }
        restore.membership = c.membership
        restore.membershipZxid = c.version
        logger("configuration from the data (version \(String(c.version.raw, radix: 16))): voters \(c.membership.voters), observers \(c.membership.observers)")
    }

    /// Peer addresses beyond zoo.cfg's: the state's configuration and reconfigs in the log that
    /// are not applied yet (a server they add may be the next leader).
    func reconfiguredAddresses(log: [QuorumTxn]) -> [UInt64: PeerLinks.Address] {
        var out: [UInt64: PeerLinks.Address] = [:]
        var configs = reconfiguredEnsemble.map { [$0] } ?? []
        for t in log {
            guard let (_, payload) = QuorumMembership.decode(txnData: t.data), let txn = try? CoordTxn(bytes: payload),
                  case .setData(_, let data?, _) = txn.op, let text = String(validating: data, as: UTF8.self),
                  let c = try? EnsembleConfig(text: text) else { continue }
            configs.append(c)
        }
        for c in configs {
            for s in c.servers.values { out[s.id] = PeerLinks.Address(host: s.host, port: s.peerPort) }
        }
        return out
    }

    /// Leader: a reconfig request, judged by prep against the configuration in force and the
    /// quorum; the txn goes out wrapped with the membership it brings.
    func prepReconfigRequest(_ req: ZKRequest, request: ClientRequest, sessionId: Int64, cxid: Int32, access: Access,
                             failed: (Int32) -> Void) {
        guard let q = quorum, case .reconfig(let joining, let leaving, let members, let version) = req else { return }
        let context = ReconfigContext(enabled: config.reconfigEnabled, current: config.servers.isEmpty ? nil : currentEnsembleConfig,
                                      refusal: { q.peer.reconfigRefusal($0) })
        let zxid = Int64(bitPattern: q.nextZxid.raw)
        let (outcome, next) = prep.prepReconfig(joining: joining, leaving: leaving, newMembers: members, curConfigId: version,
                                                sessionId: sessionId, cxid: cxid, zxid: zxid, time: WallClock.millis(),
                                                tree: tree, access: access, context: context)
        switch outcome {
        case .txn(let t):
            guard let next else { return }
            logger("reconfig proposed at \(CoordServer.hex(zxid)): voters \(next.membership.voters), observers \(next.membership.observers)")
            q.propose(next.membership.txnData(payload: t.serialize()), origin: request.origin)
        case .failed(let err, _):
            failed(err)
        }
    }

    /// Every server, once the reconfig is applied: it answers with the new configuration (a
    /// GetDataResponse, as ZooKeeper's) and learns where added servers are.
    func reconfigApplied(_ r: TxnResult, zxid: Zxid, reply: OriginWait?) {
        let c = reconfiguredEnsemble
        if let w = reply {
            let data = tree.node("/zookeeper/config")?.data
            let response: ZKResponse = if case .stat(let stat) = r.response { .data(data, stat) } else { r.response }
            w.reply.state = .done(err: r.err, zxid: Int64(bitPattern: zxid.raw), response: response)
            if !w.cnx.conn.isClosed { drain(w.cnx) }
        }
        guard let c else { return }
        learnPeers(of: c)
        logger("reconfig committed at \(zxid): voters \(c.membership.voters), observers \(c.membership.observers)")
        timeline.record("quorum.reconfig", clocks: [("epoch", Int64(zxid.epoch)), ("zxid", Int64(bitPattern: zxid.raw))],
                        fields: [("voters", .string(c.membership.voters.map(String.init).joined(separator: ","))),
                                 ("observers", .string(c.membership.observers.map(String.init).joined(separator: ",")))])
    }

    func learnPeers(of c: EnsembleConfig) {
        var more: [UInt64: PeerLinks.Address] = [:]
        for s in c.servers.values { more[s.id] = PeerLinks.Address(host: s.host, port: s.peerPort) }
        quorum?.links?.learn(more)
    }
}
