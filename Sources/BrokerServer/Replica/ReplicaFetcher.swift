import Synchronization
import BrokerCore
import Foundation
import Protocol
import Storage
import Transport

/// Follower replication: one thread per leader broker sends Fetch (replicaId = this broker) for all
/// partitions it follows on that leader and appends the answer to the local logs.
final class ReplicaFetcherManager: @unchecked Sendable {
    struct Assignment: Equatable { var leader: Int32; var host: String; var port: Int }

    private let lock = NSLock()
    private var assignments: [TopicPartition: Assignment] = [:]
    private var threads: [Int32: FetcherThread] = [:]
    private var stopped = false
    /// Set by the fault controls (`POST /faults/fetch?mode=pause`): no fetch leaves, so this broker
    /// falls out of every ISR it is in after replica.lag.time.max.ms, as if its fetches were lost.
    let paused = Atomic<Bool>(false)
    unowned let replicas: ReplicaManager
    let metadata: MetadataCache
    let brokerId: Int32
    let config: BrokerConfig
    let logger: Logger
    /// TLS to the leaders when the inter-broker listener is SSL/SASL_SSL.
    let interBrokerTLS: TLSContext?

    init(replicas: ReplicaManager, metadata: MetadataCache, config: BrokerConfig, logger: Logger, interBrokerTLS: TLSContext? = nil) {
        self.interBrokerTLS = interBrokerTLS
        self.replicas = replicas
        self.metadata = metadata
        self.brokerId = config.brokerID
        self.config = config
        self.logger = logger
    }

    func add(_ tp: TopicPartition, leader: Int32, host: String?, port: Int32?, offset: Int64) {
        var h = host ?? ""
        var p = Int(port ?? -1)
        if h.isEmpty || p <= 0, let b = metadata.broker(leader) { h = b.host; p = Int(b.port) }
        let a = Assignment(leader: leader, host: h, port: p)
        lock.withLock {
            guard !stopped else { return }
            assignments[tp] = a
            if let t = threads[leader], t.host == h, t.port == p { return }
            threads[leader]?.stop()
            let t = FetcherThread(manager: self, leader: leader, host: h, port: p)
            threads[leader] = t
            t.start()
        }
    }

    func remove(_ tp: TopicPartition) {
        _ = lock.withLock { assignments.removeValue(forKey: tp) }
    }

    func partitions(for leader: Int32) -> [TopicPartition] {
        lock.withLock { assignments.filter { $0.value.leader == leader }.map(\.key).sorted() }
    }

    func stop() {
        let all: [FetcherThread] = lock.withLock {
            stopped = true
            return Array(threads.values)
        }
        for t in all { t.stop() }
    }
}

final class FetcherThread: @unchecked Sendable {
    unowned let manager: ReplicaFetcherManager
    let leader: Int32
    let host: String
    let port: Int
    private let running = NSLock()
    private var isRunning = true
    private let client: KafkaBlockingClient

    init(manager: ReplicaFetcherManager, leader: Int32, host: String, port: Int) {
        self.manager = manager
        self.leader = leader
        self.host = host
        self.port = port
        client = KafkaBlockingClient(host: host, port: port, clientId: "broker-\(manager.brokerId)-fetcher-\(leader)",
                                     sasl: manager.config.security.interBrokerSasl, tls: manager.interBrokerTLS)
    }

    var active: Bool { running.withLock { isRunning } }

    func start() {
        let t = Thread { [self] in run() }
        t.name = "replica-fetcher-\(leader)"
        t.start()
    }

    func stop() { running.withLock { isRunning = false } }

    private func run() {
        let rm = manager.replicas
        let cfg = manager.config
        while active {
            if manager.paused.load(ordering: .relaxed) {
                usleep(50_000)
                continue
            }
            let tps = manager.partitions(for: leader)
            var topics: [String: [FetchRequest.FetchPartition]] = [:]
            var asked: [TopicPartition: ReplicaManager.FollowState] = [:]
            var truncating: [TopicPartition: ReplicaManager.FollowState] = [:]
            for tp in tps {
                guard let st = rm.followState(tp) else { continue }
                if st.epochToAsk != nil {
                    truncating[tp] = st
                    continue
                }
                asked[tp] = st
                topics[tp.topic, default: []].append(FetchRequest.FetchPartition(
                    partition: tp.partition, currentLeaderEpoch: st.epoch, fetchOffset: st.offset,
                    logStartOffset: st.logStart, partitionMaxBytes: Int32(clamping: cfg.replicaFetchMaxBytes)))
            }
            if port <= 0 || (topics.isEmpty && truncating.isEmpty) {
                usleep(50_000)
                continue
            }
            // A failed round (the leader may not know its new epoch yet) is retried after a pause;
            // partitions already fetching carry on meanwhile.
            let truncationFailed = !truncating.isEmpty && !truncate(truncating)
            if topics.isEmpty {
                if truncationFailed && active { usleep(200_000) }
                continue
            }
            let req = FetchRequest(replicaId: manager.brokerId, maxWaitMs: Int32(cfg.replicaFetchWaitMaxMs),
                                   minBytes: Int32(cfg.replicaFetchMinBytes), maxBytes: Int32(clamping: cfg.replicaFetchMaxBytes * 10),
                                   isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
                                   topics: topics.keys.sorted().map { FetchRequest.FetchTopic(topic: $0, partitions: topics[$0] ?? []) })
            let resp: FetchResponse
            do {
                resp = try client.send(req, version: 11, timeoutMs: cfg.replicaFetchWaitMaxMs + 10_000)
            } catch {
                if active { usleep(200_000) }
                continue
            }
            guard active else { break }
            var backoff = truncationFailed
            for t in resp.responses {
                for p in t.partitions {
                    let tp = TopicPartition(t.topic, p.partitionIndex)
                    guard let st = asked[tp], manager.partitions(for: leader).contains(tp) else { continue }
                    switch p.errorCode {
                    case .none:
                        do {
                            _ = try rm.appendAsFollower(tp, records: p.records ?? [], fetchOffset: st.offset, currentLeaderEpoch: st.epoch,
                                                        leaderHW: p.highWatermark, leaderLogStart: p.logStartOffset)
                        } catch let e as LogError where e.isOutOfSpace {
                            // Logged (rate-limited) by the replica manager; the next round refetches.
                            backoff = true
                        } catch {
                            manager.logger.warn("follower append \(tp) from \(leader): \(error)")
                            backoff = true
                        }
                    case .offsetOutOfRange:
                        let target = st.offset < p.logStartOffset ? p.logStartOffset : max(p.logStartOffset, min(st.offset, p.highWatermark))
                        manager.logger.info("\(tp): fetch offset \(st.offset) out of range on leader \(leader); resetting to \(target)")
                        try? rm.resetFollower(tp, to: target)
                    default:
                        // Not leader / fenced epoch / storage error: wait for the controller's next LeaderAndIsr.
                        backoff = true
                    }
                }
            }
            if backoff { usleep(100_000) }
        }
        client.close()
    }

    /// One OffsetForLeaderEpoch round for partitions that just became followers: the leader says
    /// where our latest epoch ends on its log, and we cut ours there (KIP-101). False on failure.
    private func truncate(_ parts: [TopicPartition: ReplicaManager.FollowState]) -> Bool {
        var byTopic: [String: [OffsetForLeaderEpochRequest.OffsetForLeaderPartition]] = [:]
        for (tp, st) in parts {
            guard let e = st.epochToAsk else { continue }
            byTopic[tp.topic, default: []].append(.init(partition: tp.partition, currentLeaderEpoch: st.epoch, leaderEpoch: e))
        }
        let req = OffsetForLeaderEpochRequest(replicaId: manager.brokerId,
                                              topics: byTopic.keys.sorted().map { .init(topic: $0, partitions: byTopic[$0] ?? []) })
        let resp: OffsetForLeaderEpochResponse
        do {
            resp = try client.send(req, version: 3, timeoutMs: 10_000)
        } catch {
            manager.logger.info("OffsetForLeaderEpoch to leader \(leader) failed: \(error)")
            return false
        }
        var ok = true
        for t in resp.topics {
            for p in t.partitions {
                let tp = TopicPartition(t.topic, p.partition)
                guard let st = parts[tp], let asked = st.epochToAsk else { continue }
                guard p.errorCode == .none else {
                    // The leader may not have its LeaderAndIsr yet (UNKNOWN_LEADER_EPOCH): ask again shortly.
                    ok = false
                    continue
                }
                do {
                    try manager.replicas.truncateToLeaderEpochEnd(tp, currentLeaderEpoch: st.epoch, asked: asked,
                                                                  leaderEpoch: p.leaderEpoch, leaderEndOffset: p.endOffset)
                } catch {
                    manager.logger.warn("truncating \(tp): \(error)")
                    ok = false
                }
            }
        }
        return ok
    }
}
