import BrokerCore
import Foundation
import Protocol
import Transport

/// Follower replication: one thread per leader broker sends Fetch (replicaId = this broker) for all
/// partitions it follows on that leader and appends the answer to the local logs.
final class ReplicaFetcherManager: @unchecked Sendable {
    struct Assignment: Equatable { var leader: Int32; var host: String; var port: Int }

    private let lock = NSLock()
    private var assignments: [TopicPartition: Assignment] = [:]
    private var threads: [Int32: FetcherThread] = [:]
    private var stopped = false
    unowned let replicas: ReplicaManager
    let metadata: MetadataCache
    let brokerId: Int32
    let config: BrokerConfig
    let logger: Logger

    init(replicas: ReplicaManager, metadata: MetadataCache, config: BrokerConfig, logger: Logger) {
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
        client = KafkaBlockingClient(host: host, port: port, clientId: "broker-\(manager.brokerId)-fetcher-\(leader)")
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
            let tps = manager.partitions(for: leader)
            var topics: [String: [FetchRequest.FetchPartition]] = [:]
            for tp in tps {
                guard let st = rm.followState(tp) else { continue }
                topics[tp.topic, default: []].append(FetchRequest.FetchPartition(
                    partition: tp.partition, currentLeaderEpoch: st.epoch, fetchOffset: st.offset,
                    logStartOffset: st.logStart, partitionMaxBytes: Int32(clamping: cfg.replicaFetchMaxBytes)))
            }
            if topics.isEmpty || port <= 0 {
                usleep(50_000)
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
            var backoff = false
            for t in resp.responses {
                for p in t.partitions {
                    let tp = TopicPartition(t.topic, p.partitionIndex)
                    guard manager.partitions(for: leader).contains(tp) else { continue }
                    switch p.errorCode {
                    case .none:
                        do {
                            _ = try rm.appendAsFollower(tp, records: p.records ?? [], leaderHW: p.highWatermark,
                                                        leaderLogStart: p.logStartOffset)
                        } catch {
                            manager.logger.warn("follower append \(tp) from \(leader): \(error)")
                            backoff = true
                        }
                    case .offsetOutOfRange:
                        guard let st = rm.followState(tp) else { continue }
                        let target = st.offset < p.logStartOffset ? p.logStartOffset : max(p.logStartOffset, min(st.offset, p.highWatermark))
                        manager.logger.info("\(tp): fetch offset \(st.offset) out of range on leader \(leader); resetting to \(target)")
                        try? rm.resetFollower(tp, to: target)
                    default:
                        // Not leader / fenced epoch: wait for the controller's next LeaderAndIsr.
                        backoff = true
                    }
                }
            }
            if backoff { usleep(100_000) }
        }
        client.close()
    }
}
