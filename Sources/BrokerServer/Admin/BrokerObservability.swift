import BrokerCore
import Foundation
import Observability
import Protocol
import Synchronization
import Transport

/// brokerd's metrics (the names Prometheus' JMX exporter gives Kafka's MBeans) and its timeline.
/// Counters are bumped where things happen; per-partition gauges are read from the replica manager
/// at scrape time. Changes seen in the metadata cache (controller, partition leaders, topics) and
/// in groups are found by diffing once a second off the request path.
public final class BrokerObservability: Sendable {
    public let timeline: Timeline
    let brokerId: Int32
    let registry = MetricsRegistry()
    let requests: CounterFamily
    let requestTime: HistogramFamily
    let bytesInFamily: CounterFamily
    let bytesOutFamily: CounterFamily
    let replicationBytesOut: CounterFamily
    let isrShrinks: CounterFamily
    let isrExpands: CounterFamily
    /// Requests (or parts of them) the ACL authorizer refused, by operation and resource type.
    let authorizationDenied: CounterFamily
    let failedAuthentications: CounterFamily
    /// Cells per API key, made once: the request path indexes an array instead of a labelled map.
    private let perApi: [(Counter, Histogram)?]
    let handlerBusyNanos = Atomic<UInt64>(0)
    private let idle = Mutex<(at: UInt64, busy: UInt64, ratio: Double)>((MonotonicClock.nanos(), 0, 1))
    /// Published by the watcher, read by scrapes (no controller queue hop on a scrape).
    let controllerActive = Atomic<Bool>(false)
    private let seen = Mutex(Seen())

    struct Seen {
        var controllerId: Int32 = -2
        var controllerEpoch: Int32 = -1
        var active = false
        var leaders: [TopicPartition: (leader: Int32, epoch: Int32)] = [:]
        var topics: Set<String>?
        var generations: [String: (gen: Int32, state: String, members: Int)] = [:]
    }

    static let msBuckets: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]

    init(brokerId: Int32, timelineDirectory: String?, logger: @escaping @Sendable (String) -> Void) {
        self.brokerId = brokerId
        timeline = Timeline(daemon: "broker.\(brokerId)", directory: timelineDirectory, logger: logger)
        requests = registry.counter("kafka_network_requestmetrics_requests_total", help: "Requests handled, by API", labels: ["request"])
        requestTime = registry.histogram("kafka_network_requestmetrics_localtimems", help: "Time a request handler thread spent on a request, ms",
                                         labels: ["request"], buckets: Self.msBuckets)
        bytesInFamily = registry.counter("kafka_server_brokertopicmetrics_bytesin_total", help: "Bytes appended by producers, by topic", labels: ["topic"])
        bytesOutFamily = registry.counter("kafka_server_brokertopicmetrics_bytesout_total", help: "Bytes sent to consumers, by topic", labels: ["topic"])
        replicationBytesOut = registry.counter("kafka_server_brokertopicmetrics_replicationbytesout_total", help: "Bytes sent to follower replicas, by topic", labels: ["topic"])
        isrShrinks = registry.counter("kafka_server_replicamanager_isrshrinks_total", help: "ISR shrinks of partitions led here")
        isrExpands = registry.counter("kafka_server_replicamanager_isrexpands_total", help: "ISR expansions of partitions led here")
        authorizationDenied = registry.counter("kafka_security_authorizer_denied_total", help: "Authorization checks the ACL authorizer denied",
                                               labels: ["operation", "resource_type"])
        // Kafka's socket-server-metrics failed-authentication-total, as the JMX exporter names it.
        failedAuthentications = registry.counter("kafka_server_socket_server_metrics_failed_authentication_total",
                                                 help: "SASL authentications that failed, by listener", labels: ["listener"])
        var cells: [(Counter, Histogram)?] = []
        for key in Int16(0)..<128 {
            let name = KafkaAPI(rawValue: key)?.name
            cells.append(name.map { [requests, requestTime] in (requests.labels($0), requestTime.labels($0)) })
        }
        perApi = cells
        isrShrinks.inc(0)
        isrExpands.inc(0)
    }

    // MARK: hooks (any thread)

    func request(apiKey: Int16, nanos: UInt64) {
        handlerBusyNanos.add(nanos, ordering: .relaxed)
        guard apiKey >= 0, Int(apiKey) < perApi.count, let (count, time) = perApi[Int(apiKey)] else { return }
        count.inc()
        time.observe(Double(nanos) / 1_000_000)
    }

    func bytesIn(_ topic: String, _ n: Int) { bytesInFamily.labels(topic).inc(Double(n)) }

    func bytesOut(_ topic: String, _ n: Int, replication: Bool) {
        (replication ? replicationBytesOut : bytesOutFamily).labels(topic).inc(Double(n))
    }

    func isrChanged(_ tp: TopicPartition, from old: [Int32], to new: LeaderAndIsr) {
        let removed = Set(old).subtracting(new.isr), added = Set(new.isr).subtracting(old)
        let clocks: [(String, Int64)] = [("controller_epoch", Int64(new.controllerEpoch)), ("leader_epoch", Int64(new.leaderEpoch))]
        let base: [(String, JSONValue)] = [("topic", .string(tp.topic)), ("partition", .int(Int64(tp.partition))),
                                           ("isr", .array(new.isr.map { .int(Int64($0)) })), ("old_isr", .array(old.map { .int(Int64($0)) }))]
        if !removed.isEmpty {
            isrShrinks.inc()
            timeline.record("isr.shrink", clocks: clocks, fields: base + [("removed", .array(removed.sorted().map { .int(Int64($0)) }))])
        }
        if !added.isEmpty {
            isrExpands.inc()
            timeline.record("isr.expand", clocks: clocks, fields: base + [("added", .array(added.sorted().map { .int(Int64($0)) }))])
        }
    }

    /// Share of handler time idle since the previous scrape (Kafka's RequestHandlerAvgIdlePercent).
    func idleRatio(threads: Int) -> Double {
        let now = MonotonicClock.nanos(), busy = handlerBusyNanos.load(ordering: .relaxed)
        return idle.withLock { s in
            let dt = Double(now - s.at) * Double(max(1, threads))
            if dt >= 1e8 {  // at least 100 ms of handler time to judge by
                s.ratio = max(0, min(1, 1 - Double(busy - s.busy) / dt))
                s.at = now
                s.busy = busy
            }
            return s.ratio
        }
    }

    // MARK: diffing (the watcher thread, once a second)

    func observe(metadata: MetadataCache, controllerActive active: Bool, controllerEpoch: Int32, groups: [(String, Int32, String, Int)]) {
        controllerActive.store(active, ordering: .relaxed)
        var events: [(String, [(String, Int64)], [(String, JSONValue)])] = []
        seen.withLock { s in
            if active != s.active {
                events.append((active ? "controller.elected" : "controller.resigned", [("controller_epoch", Int64(controllerEpoch))], [("broker", .int(Int64(brokerId)))]))
                s.active = active
            }
            let cid = metadata.controllerId
            if cid != s.controllerId, s.controllerId != -2 {
                events.append(("controller.changed", [("controller_epoch", Int64(controllerEpoch))], [("old", .int(Int64(s.controllerId))), ("new", .int(Int64(cid)))]))
            }
            s.controllerId = cid
            // Leader moves and topics are recorded once, by the active controller that made them.
            var leaders: [TopicPartition: (leader: Int32, epoch: Int32)] = [:]
            var topics: Set<String> = []
            for t in metadata.topicNames {
                topics.insert(t)
                for (p, info) in metadata.partitions(of: t) ?? [:] { leaders[TopicPartition(t, p)] = (info.leader, info.leaderEpoch) }
            }
            if active {
                for (tp, now) in leaders.sorted(by: { $0.key < $1.key }) {
                    // A partition of a topic created since the last look gets its first leader
                    // (old -1), so the timeline knows every leader from the start.
                    let was = s.leaders[tp]?.leader ?? (s.topics.map { !$0.contains(tp.topic) } == true ? -1 : now.leader)
                    guard was != now.leader else { continue }
                    events.append(("partition.leader_changed", [("controller_epoch", Int64(controllerEpoch)), ("leader_epoch", Int64(now.epoch))],
                                   [("topic", .string(tp.topic)), ("partition", .int(Int64(tp.partition))),
                                    ("old", .int(Int64(was))), ("new", .int(Int64(now.leader)))]))
                }
                if let old = s.topics {
                    for t in topics.subtracting(old).sorted() { events.append(("topic.created", [("controller_epoch", Int64(controllerEpoch))], [("topic", .string(t))])) }
                    for t in old.subtracting(topics).sorted() { events.append(("topic.deleted", [("controller_epoch", Int64(controllerEpoch))], [("topic", .string(t))])) }
                }
            }
            s.leaders = leaders
            s.topics = topics
            var gens: [String: (gen: Int32, state: String, members: Int)] = [:]
            for (g, gen, state, members) in groups {
                gens[g] = (gen, state, members)
                if let was = s.generations[g], was.gen == gen { continue }
                if gen == 0 { continue }
                events.append(("group.rebalanced", [("generation", Int64(gen))], [("group", .string(g)), ("state", .string(state)), ("members", .int(Int64(members)))]))
            }
            s.generations = gens
        }
        for (k, c, f) in events { timeline.record(k, clocks: c, fields: f) }
    }
}

