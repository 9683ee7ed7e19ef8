import BrokerCore
import CoordClient
import Dispatch
import Glibc
import Synchronization

/// Kafka's ZK-mode config change listener for topics: watches `/config/changes` and, for each new
/// `config_change_N` naming `topics/<t>`, re-reads `/config/topics/<t>` and hands it to the
/// replica manager, so every broker runs an altered topic config without a restart. A change
/// naming `brokers/<id>` or `brokers/<default>` re-reads this broker's dynamic configs.
final class TopicConfigChanges: Sendable {
    private let replicas: ReplicaManager
    private let logger: Logger
    private let queue = DispatchQueue(label: "topic-config-changes")
    /// The highest notification sequence applied (-1: none seen this process).
    private let lastSeen = Mutex<Int64>(-1)
    /// Notifications kept for late readers; older ones are pruned by the writer.
    static let keptNotifications = 1000

    private let brokerConfigs: DynamicBrokerConfigs?

    init(replicas: ReplicaManager, brokerConfigs: DynamicBrokerConfigs? = nil, logger: Logger) {
        self.replicas = replicas
        self.brokerConfigs = brokerConfigs
        self.logger = logger
    }

    /// A (new) session: re-arm the watch and re-read every hosted topic's config, since changes
    /// made while the session was down were not seen.
    func sessionStarted(_ session: CoordSession) {
        queue.async { [self] in
            for _ in 0..<30 {
                guard session.connectedClient != nil else { usleep(200_000); continue }
                do {
                    try process(session, initial: true)
                    if let b = brokerConfigs, !b.reload(session) { throw CoordError.connectionLoss }
                    let topics = Set(replicas.allPartitions.map(\.tp.topic))
                    for t in topics { if let c = session.topicConfig(t) { replicas.applyTopicConfig(t, c) } }
                    return
                } catch {
                    usleep(200_000)
                }
            }
            logger.warn("could not watch \(ZkPaths.configChanges); topic config changes apply at the next LeaderAndIsr")
        }
    }

    private func process(_ session: CoordSession, initial: Bool) throws {
        guard let c = session.connectedClient else {
            queue.asyncAfter(deadline: .now() + 0.5) { [weak self, weak session] in
                guard let self, let session else { return }
                do { try self.process(session, initial: false) } catch { self.sessionStarted(session) }
            }
            return
        }
        let children = try c.getChildren(ZkPaths.configChanges, watcher: { [weak self, weak session] _ in
            guard let self, let session else { return }
            self.queue.async {
                do { try self.process(session, initial: false) } catch { self.sessionStarted(session) }
            }
        })
        let prefix = "config_change_"
        let seqs = children.compactMap { n -> (Int64, String)? in
            guard n.hasPrefix(prefix), let s = Int64(n.dropFirst(prefix.count)) else { return nil }
            return (s, n)
        }.sorted { $0.0 < $1.0 }
        let last = lastSeen.withLock { $0 }
        if let top = seqs.last?.0 { lastSeen.withLock { $0 = max($0, top) } }
        if initial { return }
        var topics: [String] = []
        var brokers = false
        for (seq, name) in seqs where seq > last {
            guard let (d, _) = try? c.getData("\(ZkPaths.configChanges)/\(name)"),
                  let entity = try? ConfigChangePayload.decode(d) else { continue }
            if entity == "brokers/<default>" || entity == "brokers/\(replicas.brokerId)" { brokers = true }
            guard entity.hasPrefix("topics/") else { continue }
            let t = String(entity.dropFirst("topics/".count))
            if !topics.contains(t) { topics.append(t) }
        }
        if brokers, let b = brokerConfigs, !b.reload(session) { throw CoordError.connectionLoss }
        for t in topics { if let cfg = session.topicConfig(t) { replicas.applyTopicConfig(t, cfg) } }
    }
}
