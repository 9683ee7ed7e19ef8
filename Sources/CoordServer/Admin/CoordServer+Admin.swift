import CoordCore
import Observability
import Transport

/// coordd's admin plane: ZooKeeper AdminServer commands, Prometheus metrics, health and the
/// timeline on `admin.serverAddress:admin.serverPort`, served from the HTTP server's own thread.
/// State is read on the coordd loop in one short hop; JSON and text are built off it.
extension CoordServer {
    /// Starts the admin server when zoo.cfg enables it. Returns its port (nil when off).
    @discardableResult
    public func startAdmin() throws -> Int? {
        guard config.adminEnableServer else { return nil }
        var r = Router()
        let box = UncheckedBox(self)
        r.get("/commands", sync: { _ in
            let names = AdminCommands.names.map { JSONValue.string($0) }
            return .json(.object([("commands", .array(names)), ("links", .array(AdminCommands.names.map { .string("/commands/" + $0) }))]), pretty: true)
        })
        r.get("/commands/*") { req, responder in
            let name = AdminCommands.canonical(req.routeRest)
            guard let name else {
                // ZooKeeper answers an unknown command with 200 and the error in the body.
                return responder.respond(.json(.object([("command", .string(req.routeRest)), ("error", .string("Unknown command: \(req.routeRest)"))]), pretty: true))
            }
            box.value.onLoop { s in
                let body = s.adminCommand(name)
                responder.respond(.json(body, pretty: true))
            }
        }
        r.get("/metrics") { _, responder in
            box.value.onLoop { s in
                let state = s.stateNow()
                let voters = s.config.servers.isEmpty ? 1 : s.config.servers.values.filter { $0.role == "participant" }.count
                let metrics = s.metrics
                // Render off the coordd loop: only the snapshot was taken there.
                s.admin?.loop.execute { responder.respond(.text(metrics.render(state, quorumSize: voters), contentType: PrometheusText.contentType)) }
            }
        }
        r.get("/health/live", sync: { _ in .json(.object([("status", .string("live"))])) })
        r.get("/health/ready") { _, responder in
            box.value.onLoop { s in
                let st = s.stateNow()
                if s.serving && (s.isStandalone || st.leaderId != nil) {
                    responder.respond(.json(.object([("status", .string("ready")), ("mode", .string(st.mode))])))
                } else {
                    responder.respond(.json(.object([("status", .string("not ready")), ("mode", .string(st.mode)),
                                                     ("reason", .string("not in a quorum with a leader"))]), status: 503))
                }
            }
        }
        r.addTimeline(timeline)
        let plane = FaultPlane(enabled: config.faultsEnable, token: config.faultsToken, timeline: timeline, logger: logger)
        r.addFaults(plane, actions: faultActions(plane), heal: { box.value.healFaults() })
        let server = HTTPServer(router: r, name: "coordd-admin", logger: logger)
        let p = try server.start(host: config.adminServerAddress, port: config.adminServerPort)
        admin = server
        logger("admin server on \(config.adminServerAddress):\(p) (/commands, /metrics, /health, /timeline\(config.faultsEnable ? ", /faults" : ""))")
        onLoop { s in  // the state lives on the loop
            let st = s.stateNow()
            s.timeline.record("server.started", clocks: [("zxid", st.lastZxid)], fields: [("mode", .string(st.mode))])
        }
        return p
    }

    /// Runs `f` on the coordd loop (where the tree and connections live).
    func onLoop(_ f: @escaping @Sendable (CoordServer) -> Void) {
        let box = UncheckedBox(self)
        loop.execute { f(box.value) }
    }

    // MARK: timeline hooks (loop thread)

    func noteSessionExpired(_ sid: Int64) {
        timeline.record("session.expired", clocks: [("zxid", tree.lastZxid)],
                        fields: [("session", .string(Self.hex(sid))), ("timeout_ms", .int(Int64(tree.sessions[sid]?.timeout ?? 0))),
                                 ("ephemerals", .int(Int64(tree.ephemerals[sid]?.count ?? 0)))])
    }

    func ephemeralsBeforeClose(_ txn: CoordTxn) -> Int {
        if case .closeSession = txn.op { return tree.ephemerals[txn.sessionId]?.count ?? 0 }
        return 0
    }

    func noteApplied(_ txn: CoordTxn, _ r: TxnResult, zxid: Int64, watchesFired: Int, ephemeralsBefore: Int) {
        if watchesFired > 0 { timeline.tally("watch.fired", Int64(watchesFired), clocks: [("zxid", zxid)]) }
        switch txn.op {
        case .createSession(let timeout, _):
            timeline.record("session.created", clocks: [("zxid", zxid)], fields: [("session", .string(Self.hex(txn.sessionId))), ("timeout_ms", .int(Int64(timeout)))])
        case .closeSession:
            timeline.record("session.closed", clocks: [("zxid", zxid)],
                            fields: [("session", .string(Self.hex(txn.sessionId))), ("ephemerals_removed", .int(Int64(ephemeralsBefore)))])
        case .create(_, _, _, _, let owner, _) where owner != 0 && r.err == 0:
            timeline.tally("ephemeral.created", 1, clocks: [("zxid", zxid)])
        default:
            break
        }
    }

    func noteSnapshot(zxid: Int64) {
        lastSnapshot = (zxid, WallClock.millis())
        timeline.record("snapshot.taken", clocks: [("zxid", zxid)], fields: [("nodes", .int(Int64(tree.nodeCount)))])
    }
}
