import BrokerCore
import Foundation
import Observability
import Protocol

/// brokerd's admin HTTP server (`admin.listener=HOST:PORT`): /metrics, /v1 JSON views, health and
/// the timeline. Runs on its own thread; every view reads the broker's shared state under the
/// same locks the request path takes, briefly, and builds JSON outside them.
final class BrokerAdmin: @unchecked Sendable {
    let broker: Broker
    let obs: BrokerObservability
    let server: HTTPServer
    private var watcher: Thread?
    private let stopped = NSLock()
    private var isStopped = false

    /// HOST:PORT, or an error naming the setting.
    static func parseListener(_ v: String) throws -> (String, Int) {
        guard let colon = v.lastIndex(of: ":"), let port = Int(v[v.index(after: colon)...]), (0...65535).contains(port) else {
            throw FatalBrokerError(description: "admin.listener=\(v): expected HOST:PORT", exitCode: 2)
        }
        var host = String(v[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    init(broker: Broker, obs: BrokerObservability) {
        self.broker = broker
        self.obs = obs
        var r = Router()
        let b = broker
        r.get("/metrics", sync: { _ in .text(BrokerAdmin.renderMetrics(b, obs), contentType: PrometheusText.contentType) })
        r.get("/v1/cluster", sync: { _ in .json(BrokerAdmin.cluster(b), pretty: true) })
        r.get("/v1/topics", sync: { _ in .json(.object([("topics", .array(b.metadata.topicNames.map { BrokerAdmin.topic(b, $0) }))]), pretty: true) })
        r.get("/v1/topics/*", sync: { req in
            guard b.metadata.partitions(of: req.routeRest) != nil else { return .error(404, "no such topic: \(req.routeRest)") }
            return .json(BrokerAdmin.topic(b, req.routeRest), pretty: true)
        })
        r.get("/v1/groups", sync: { _ in .json(BrokerAdmin.groups(b), pretty: true) })
        r.get("/v1/groups/*", sync: { req in
            guard let g = BrokerAdmin.group(b, req.routeRest) else { return .error(404, "group \(req.routeRest) is not coordinated by this broker") }
            return .json(g, pretty: true)
        })
        r.addHealth(ready: { BrokerAdmin.notReadyReason(b) })
        r.addTimeline(obs.timeline)
        let plane = FaultPlane(enabled: broker.config.faultsEnable, token: broker.config.faultsToken, timeline: obs.timeline,
                               logger: { broker.logger.info($0) })
        r.addFaults(plane, actions: BrokerAdmin.faultActions(b, plane), heal: { BrokerAdmin.healFaults(b) })
        server = HTTPServer(router: r, name: "broker-admin", logger: { broker.logger.info($0) })
    }

    func start(host: String, port: Int) throws -> Int {
        let p: Int
        do { p = try server.start(host: host, port: port) } catch {
            throw FatalBrokerError(description: "cannot listen on admin.listener \(host):\(port): \(error)", exitCode: 1)
        }
        let t = Thread { [self] in
            while !stopped.withLock({ isStopped }) {
                observeOnce()
                usleep(1_000_000)
            }
        }
        t.name = "broker-admin-watch"
        t.start()
        watcher = t
        return p
    }

    func stop() {
        stopped.withLock { isStopped = true }
        server.stop()
        obs.timeline.stop()
    }

    private func observeOnce() {
        guard let controller = broker.controller, let handler = broker.handler else { return }
        let groups = handler.groups.read { c, _, _ in c.groups.values.map { ($0.groupId, $0.generationId, "\($0.state)", $0.members.count) } }
        let epoch = controller.activeEpoch
        obs.observe(metadata: broker.metadata, controllerActive: epoch != nil, controllerEpoch: epoch ?? broker.metadata.controllerEpoch, groups: groups)
    }

    // MARK: views

    /// Nil when ready: registered in coordd, metadata from a controller, every partition hosted here caught up.
    static func notReadyReason(_ b: Broker) -> String? {
        guard let s = b.session, s.client.isConnected else { return "no coordd session" }
        guard b.metadata.controllerId >= 0 else { return "no metadata from a controller yet" }
        for (tp, info) in b.metadataPartitions() where info.replicas.contains(b.config.brokerID) && !info.isr.contains(b.config.brokerID) {
            return "\(tp) is not in sync on this broker"
        }
        return nil
    }

    static func cluster(_ b: Broker) -> JSONValue {
        let m = b.metadata
        return .object([
            ("broker_id", .int(Int64(b.config.brokerID))), ("cluster_id", b.handler?.clusterId.map { .string($0) } ?? .null),
            ("controller", .object([("id", .int(Int64(m.controllerId))), ("epoch", .int(Int64(m.controllerEpoch))),
                                    ("active_here", .bool(b.observability.controllerActive.load(ordering: .relaxed)))])),
            ("brokers", .array(m.brokers.map { .object([("id", .int(Int64($0.id))), ("host", .string($0.host)), ("port", .int(Int64($0.port))),
                                                        ("rack", $0.rack.map { .string($0) } ?? .null)]) })),
            ("coordd", .object([("connect", .string(b.config.zookeeperConnect)), ("connected", .bool(b.session?.client.isConnected ?? false)),
                                ("session_id", .string("0x" + String(UInt64(bitPattern: b.session?.client.currentSessionID ?? 0), radix: 16)))])),
        ])
    }

    static func topic(_ b: Broker, _ name: String) -> JSONValue {
        let parts = (b.metadata.partitions(of: name) ?? [:]).sorted { $0.key < $1.key }
        let local = b.localPartitionStats()
        return .object([("name", .string(name)), ("partitions", .array(parts.map { p, info in
            var f: [(String, JSONValue)] = [
                ("partition", .int(Int64(p))), ("leader", .int(Int64(info.leader))), ("leader_epoch", .int(Int64(info.leaderEpoch))),
                ("replicas", .array(info.replicas.map { .int(Int64($0)) })), ("isr", .array(info.isr.map { .int(Int64($0)) })),
                ("offline_replicas", .array(info.offline.map { .int(Int64($0)) })),
            ]
            if let l = local[TopicPartition(name, p)] {
                f += [("local", .object([("role", .string(l.leader ? "leader" : "follower")), ("high_watermark", .int(l.hw)),
                                         ("log_end_offset", .int(l.leo)), ("log_start_offset", .int(l.logStart)), ("size_bytes", .int(Int64(l.size)))]))]
            }
            return .object(f)
        }))])
    }

    static func groups(_ b: Broker) -> JSONValue {
        guard let h = b.handler else { return .object([("groups", .array([]))]) }
        let list = h.groups.read { c, _, _ in c.groups.values.sorted { $0.groupId < $1.groupId }.map { g -> JSONValue in
            .object([("group", .string(g.groupId)), ("state", .string("\(g.state)")), ("generation", .int(Int64(g.generationId))),
                     ("members", .int(Int64(g.members.count))), ("protocol_type", g.protocolType.map { .string($0) } ?? .null)])
        } }
        return .object([("coordinator", .int(Int64(b.config.brokerID))), ("groups", .array(list))])
    }

    static func group(_ b: Broker, _ id: String) -> JSONValue? {
        guard let h = b.handler else { return nil }
        let local = b.localPartitionStats()
        return h.groups.read { c, _, _ -> JSONValue? in
            guard let g = c.groups[id] else { return nil }
            let members: [JSONValue] = g.memberOrder.compactMap { g.members[$0] }.map { m in
                .object([("member_id", .string(m.memberId)), ("client_id", .string(m.clientId)), ("client_host", .string(m.clientHost)),
                         ("assignment_bytes", .int(Int64(m.assignment.count)))])
            }
            let offsets: [JSONValue] = (c.offsets[id] ?? [:]).sorted { $0.key < $1.key }.map { tp, v in
                var f: [(String, JSONValue)] = [("topic", .string(tp.topic)), ("partition", .int(Int64(tp.partition))), ("committed", .int(v.offset))]
                if let l = local[tp], l.leader { f += [("log_end_offset", .int(l.hw)), ("lag", .int(max(0, l.hw - v.offset)))] }
                return .object(f)
            }
            return .object([("group", .string(g.groupId)), ("state", .string("\(g.state)")), ("generation", .int(Int64(g.generationId))),
                            ("protocol", g.protocolName.map { .string($0) } ?? .null), ("leader", g.leaderId.map { .string($0) } ?? .null),
                            ("members", .array(members)), ("offsets", .array(offsets))])
        }
    }

    // MARK: metrics

    static func renderMetrics(_ b: Broker, _ obs: BrokerObservability) -> String {
        var t = PrometheusText(reservingCapacity: 64 * 1024)
        let local = b.localPartitionStats().sorted { $0.key < $1.key }
        let led = local.filter { $0.value.leader }
        t.single("kafka_server_replicamanager_underreplicatedpartitions", .gauge, help: "Partitions led here whose ISR is smaller than their replica set",
                 led.filter { $0.value.isr < $0.value.replicas }.count)
        t.single("kafka_server_replicamanager_partitioncount", .gauge, help: "Partitions hosted here", local.count)
        t.single("kafka_server_replicamanager_leadercount", .gauge, help: "Partitions led here", led.count)
        t.single("kafka_server_replicamanager_underminisrpartitioncount", .gauge, help: "Partitions led here whose ISR is below min.insync.replicas",
                 led.filter { $0.value.isr < $0.value.minIsr }.count)
        let active = obs.controllerActive.load(ordering: .relaxed)
        t.single("kafka_controller_kafkacontroller_activecontrollercount", .gauge, help: "1 on the active controller", active ? 1 : 0)
        var offline = 0
        if active {
            let live = Set(b.metadata.brokers.map(\.id))
            offline = b.metadataPartitions().filter { $0.1.leader < 0 || !live.contains($0.1.leader) }.count
        }
        t.single("kafka_controller_kafkacontroller_offlinepartitionscount", .gauge, help: "Partitions without a live leader (controller only)", offline)
        t.single("kafka_controller_kafkacontroller_controllerepoch", .gauge, help: "Controller epoch this broker knows", Int(b.metadata.controllerEpoch))
        t.single("kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent", .gauge, help: "Share of request handler time idle since the last scrape",
                 obs.idleRatio(threads: max(1, b.config.numIOThreads)))
        t.family("kafka_log_log_logendoffset", .gauge, help: "Log end offset per partition hosted here")
        for (tp, s) in local { t.sample("kafka_log_log_logendoffset", [("topic", tp.topic), ("partition", String(tp.partition))], Double(s.leo)) }
        t.family("kafka_log_log_logstartoffset", .gauge, help: "Log start offset per partition hosted here")
        for (tp, s) in local { t.sample("kafka_log_log_logstartoffset", [("topic", tp.topic), ("partition", String(tp.partition))], Double(s.logStart)) }
        t.family("kafka_log_log_size", .gauge, help: "Log size in bytes per partition hosted here")
        for (tp, s) in local { t.sample("kafka_log_log_size", [("topic", tp.topic), ("partition", String(tp.partition))], Double(s.size)) }
        t.family("kafka_cluster_partition_underreplicated", .gauge, help: "1 when a partition led here is under-replicated")
        for (tp, s) in led { t.sample("kafka_cluster_partition_underreplicated", [("topic", tp.topic), ("partition", String(tp.partition))], s.isr < s.replicas ? 1 : 0) }
        if let h = b.handler {
            let lags = h.groups.read { c, _, _ in c.offsets.flatMap { g, offs in offs.map { (g, $0.key, $0.value.offset) } } }
            t.family("kafka_consumergroup_lag", .gauge, help: "Committed offset behind the high watermark, per group and partition led here")
            for (g, tp, off) in lags.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
                guard let s = b.localPartitionStatsCache(local, tp), s.leader else { continue }
                t.sample("kafka_consumergroup_lag", [("consumergroup", g), ("topic", tp.topic), ("partition", String(tp.partition))], Double(max(0, s.hw - off)))
            }
        }
        return t.output + obs.registry.render()
    }
}

struct LocalPartitionStats {
    var leader: Bool
    var isr: Int
    var replicas: Int
    var minIsr: Int
    var hw: Int64
    var leo: Int64
    var logStart: Int64
    var size: Int
}

extension Broker {
    /// Every partition hosted here, read under each partition's lock.
    func localPartitionStats() -> [TopicPartition: LocalPartitionStats] {
        var out: [TopicPartition: LocalPartitionStats] = [:]
        for p in replicas.allPartitions {
            p.lock.withLock {
                guard !p.deleted, let log = p.log else { return }
                out[p.tp] = LocalPartitionStats(leader: p.leader != nil, isr: p.leader?.isr.count ?? 0, replicas: p.leader?.replicas.count ?? p.replicas.count,
                                                minIsr: p.minInsyncReplicas, hw: p.highWatermark, leo: log.logEndOffset, logStart: log.logStartOffset, size: log.size)
            }
        }
        return out
    }

    func localPartitionStatsCache(_ sorted: [(key: TopicPartition, value: LocalPartitionStats)], _ tp: TopicPartition) -> LocalPartitionStats? {
        // Sorted by key: binary search keeps the lag loop flat as partitions grow.
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid].key < tp { lo = mid + 1 } else { hi = mid }
        }
        return lo < sorted.count && sorted[lo].key == tp ? sorted[lo].value : nil
    }

    func metadataPartitions() -> [(TopicPartition, MetadataCache.PartitionInfo)] {
        metadata.topicNames.flatMap { t in (metadata.partitions(of: t) ?? [:]).map { (TopicPartition(t, $0.key), $0.value) } }
    }
}
