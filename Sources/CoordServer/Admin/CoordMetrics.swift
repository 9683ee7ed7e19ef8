import Observability

/// coordd's metrics under the names of ZooKeeper's Prometheus metrics provider. Histograms are
/// updated where things happen (one lock each); gauges are read from a state snapshot at scrape.
final class CoordMetrics: Sendable {
    let registry = MetricsRegistry()
    /// ZooKeeper reports these in milliseconds.
    static let msBuckets: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
    let electionTime: HistogramFamily
    let fsync: HistogramFamily
    let readLatency: HistogramFamily
    let updateLatency: HistogramFamily
    let proposals: CounterFamily
    let authFailed: CounterFamily

    init() {
        electionTime = registry.histogram("election_time", help: "Time from LOOKING to a decided leader, ms", buckets: Self.msBuckets)
        fsync = registry.histogram("fsynctime", help: "fsync time of a transaction log batch, ms", buckets: Self.msBuckets)
        readLatency = registry.histogram("readlatency", help: "Read request latency, ms", buckets: Self.msBuckets)
        updateLatency = registry.histogram("updatelatency", help: "Update request latency, ms", buckets: Self.msBuckets)
        // Counted like ZooKeeper's proposal_count; `_total` is added for promtool, the name stays findable.
        proposals = registry.counter("proposal_count_total", help: "Proposals sent by this server as leader")
        authFailed = registry.counter("auth_failed_count_total", help: "Failed authentications (auth and SASL packets, unauthenticated requests refused)")
    }

    /// Update ops as ZooKeeper counts them for updatelatency (create, delete, setData, setACL, multi, create2, container, TTL).
    static let updateOps: Set<Int32> = [1, 2, 5, 7, 14, 15, 19, 21, -10, -11]

    func observeLatency(ms: Double, op: Int32) {
        (Self.updateOps.contains(op) ? updateLatency : readLatency).observe(ms)
    }

    /// The scrape: gauges from `s`, then the histograms. ZooKeeper's `*_count` gauge names are
    /// written as `untyped`: promtool rejects a gauge whose name ends in `_count`, and renaming
    /// them would break dashboards built for ZooKeeper.
    func render(_ s: CoordServerState, quorumSize: Int) -> String {
        var t = PrometheusText(reservingCapacity: 8192)
        t.single("znode_count", .untyped, help: "Number of znodes", s.nodeCount)
        t.single("watch_count", .untyped, help: "Number of watches", s.watchCount)
        t.single("ephemerals_count", .untyped, help: "Number of ephemeral nodes", s.ephemerals)
        t.single("approximate_data_size", .gauge, help: "Approximate size of znode data and paths, bytes", s.approximateDataSize)
        t.single("num_alive_connections", .gauge, help: "Open client connections", s.connections)
        t.single("outstanding_requests", .gauge, help: "Requests received but not answered", s.outstanding)
        t.single("global_sessions", .gauge, help: "Sessions in the ensemble", s.sessions)
        t.single("quorum_size", .gauge, help: "Voting members of the ensemble", quorumSize)
        t.single("synced_followers", .gauge, help: "Followers in sync with this leader (0 elsewhere)", s.syncedFollowers)
        t.single("synced_observers", .gauge, help: "Observers in sync with this leader (0 elsewhere)", s.syncedObservers)
        t.single("learners", .gauge, help: "Followers connected to this leader (0 elsewhere)", s.followers)
        t.single("packets_received", .gauge, help: "Client packets received", Double(s.received))
        t.single("packets_sent", .gauge, help: "Client packets sent", Double(s.sent))
        t.family("server_state", .gauge, help: "1 for this server's current role")
        for role in ["leader", "follower", "observer", "looking", "standalone"] {
            t.sample("server_state", [("state", role)], s.mode == role ? 1 : 0)
        }
        t.single("last_zxid", .gauge, help: "Last applied zxid", Double(s.lastZxid))
        return t.output + registry.render()
    }
}
