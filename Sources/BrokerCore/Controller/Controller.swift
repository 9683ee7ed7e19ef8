import Protocol

/// The cluster controller as a pure state machine: ZooKeeper-mode Kafka's partition and replica
/// state machines folded into one `reconcile` rule per partition. The runtime feeds it events read
/// from coordd (watches, reads, broker responses) and performs the effects it returns in order:
/// znode writes first, then requests to brokers. If a write fails, the runtime drops the failed
/// partitions from the batch's requests (`removingPartitions`) — or the whole batch when the
/// controller epoch check failed — and feeds `.zkWriteFailed` back.
public struct Controller: Sendable {
    public let brokerId: BrokerID
    public let config: ControllerConfig
    public private(set) var isActive = false
    public private(set) var epoch: Int32 = 0
    public private(set) var epochZkVersion: Int32 = -1
    public private(set) var liveBrokers: [BrokerID: BrokerRegistration] = [:]
    public private(set) var shuttingDown: Set<BrokerID> = []
    public private(set) var topics: [String: TopicAssignment] = [:]
    public private(set) var states: [TopicPartition: ZkPartitionState] = [:]
    /// Topics being deleted → replicas that have not yet confirmed StopReplica(delete=true).
    public private(set) var deletions: [String: Set<ReplicaRef>] = [:]

    public struct ReplicaRef: Hashable, Sendable {
        public var topicPartition: TopicPartition
        public var broker: BrokerID
    }

    public init(brokerId: BrokerID, config: ControllerConfig = ControllerConfig()) {
        self.brokerId = brokerId
        self.config = config
    }

    /// The `/controller_epoch` write a freshly elected controller makes before anything else:
    /// create it at 1 when absent, else a conditional bump. The runtime then reads the cluster
    /// and sends `.becameController`.
    public static func epochBump(current: Int32?, zkVersion: Int32?) -> (epoch: Int32, op: ZkOp) {
        guard let current, let zkVersion else {
            return (1, .create(path: ZkPaths.controllerEpoch, data: ControllerEpochPayload.encode(1)))
        }
        let next = current &+ 1
        return (next, .setData(path: ZkPaths.controllerEpoch, data: ControllerEpochPayload.encode(next), expectedVersion: zkVersion))
    }

    public func replicas(of tp: TopicPartition) -> [BrokerID] { topics[tp.topic]?.partitions[tp.partition] ?? [] }

    public func isDeleting(_ topic: String) -> Bool { deletions[topic] != nil }

    public var allPartitions: [TopicPartition] {
        topics.keys.sorted().flatMap { t in
            (topics[t]?.partitions.keys.sorted() ?? []).map { TopicPartition(t, $0) }
        }
    }

    public mutating func handle(_ event: ControllerEvent) -> [ControllerEffect] {
        if case .becameController(let ctx) = event { return becomeController(ctx) }
        guard isActive else { return [] }
        var batch = Batch()
        switch event {
        case .becameController: break
        case .brokersChanged(let regs): onBrokersChanged(regs, &batch)
        case .topicsChanged(let all): onTopicsChanged(all, &batch)
        case .topicDeletionRequested(let names): onDeletionRequested(names, &batch)
        case .partitionStatesRead(let read):
            for tp in read.keys.sorted() {
                if let s = read[tp] ?? nil { states[tp] = s } else { states[tp] = nil }
                reconcile(tp, &batch)
                batch.sendLeaderAndIsr(tp, to: liveReplicas(tp))
            }
        case .isrChangeNotification(let paths, let read):
            for tp in read.keys.sorted() {
                guard let s = read[tp], topics[tp.topic] != nil else { continue }
                if s.zkVersion >= (states[tp]?.zkVersion ?? -1) { states[tp] = s }
                batch.metadataPartitions.insert(tp)
            }
            for p in paths { batch.zk.append(.delete(path: p)) }
        case .stopReplicaResponse(let from, let results): onStopReplicaResponse(from, results, &batch)
        case .controlledShutdown(let b): onControlledShutdown(b, &batch)
        case .preferredLeaderCheck: onPreferredLeaderCheck(&batch)
        case .zkWriteFailed(let op, let failure):
            switch failure {
            case .controllerEpochChanged, .connectionLoss:
                resign()
                return [.resign]
            case .badVersion, .noNode, .nodeExists:
                if let tp = ZkPaths.parsePartitionStatePath(op.path) { batch.extra.append(.readPartitionStates([tp])) }
            }
        }
        return flush(batch)
    }

    // MARK: - Events

    private mutating func becomeController(_ ctx: ControllerContext) -> [ControllerEffect] {
        isActive = true
        epoch = ctx.epoch
        epochZkVersion = ctx.epochZkVersion
        liveBrokers = Dictionary(ctx.liveBrokers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        shuttingDown = []
        topics = ctx.topics
        states = ctx.partitionStates.filter { topics[$0.key.topic] != nil }
        deletions = [:]
        var batch = Batch()
        batch.metadataFull = Set(liveBrokers.keys)
        // Deletions first, so partitions on their way out are not given new leaders.
        onDeletionRequested(ctx.topicsToDelete, &batch)
        for tp in allPartitions where !isDeleting(tp.topic) {
            reconcile(tp, &batch)
            batch.sendLeaderAndIsr(tp, to: liveReplicas(tp))
        }
        return flush(batch)
    }

    private mutating func onBrokersChanged(_ regs: [BrokerRegistration], _ batch: inout Batch) {
        let next = Dictionary(regs.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        // A broker that re-registered (new timestamp) restarted between two watches: it lost its
        // in-memory state, so treat it as a failure followed by a startup.
        let bounced = Set(next.keys.filter { id in liveBrokers[id].map { !$0.sameBroker(as: next[id]) } ?? false })
        // Same process, new session (new broker epoch): it kept its state, but refuses requests for
        // its old registration, so it gets everything again under the new epoch.
        let reregistered = Set(next.keys.filter { id in
            liveBrokers[id].map { $0.sameBroker(as: next[id]) && $0.epoch != next[id]?.epoch } ?? false
        })
        let dead = Set(liveBrokers.keys.filter { next[$0] == nil }).union(bounced)
        let started = Set(next.keys.filter { liveBrokers[$0] == nil }).union(bounced).union(reregistered)
        batch.brokersChanged = !dead.isEmpty || !started.isEmpty
        if !dead.isEmpty {
            liveBrokers = next.filter { !bounced.contains($0.key) }
            shuttingDown.subtract(dead)
            for tp in allPartitions { reconcile(tp, &batch) }
        }
        liveBrokers = next
        guard !started.isEmpty else { return }
        batch.metadataFull.formUnion(started)
        for tp in allPartitions where !isDeleting(tp.topic) {
            reconcile(tp, &batch)
            batch.sendLeaderAndIsr(tp, to: replicas(of: tp).filter { started.contains($0) })
        }
        // Deletions wait for replicas that were down; retry them now.
        for t in deletions.keys.sorted() {
            let pending = (deletions[t] ?? []).filter { started.contains($0.broker) }
            for ref in pending.sorted(by: { $0.topicPartition < $1.topicPartition }) {
                batch.stopReplica(ref, leaderEpoch: leaderEpoch(ref.topicPartition))
            }
        }
    }

    private mutating func onTopicsChanged(_ all: [String: TopicAssignment], _ batch: inout Batch) {
        for t in all.keys.sorted() {
            guard let a = all[t] else { continue }
            let old = topics[t]
            if old == a { continue }
            // Existing partitions keep their replicas: moving them needs the reassignment protocol.
            var merged = a
            if let old { for (p, r) in old.partitions { merged.partitions[p] = r } }
            topics[t] = merged
            for p in merged.partitions.keys.sorted() where old?.partitions[p] == nil {
                let tp = TopicPartition(t, p)
                reconcile(tp, &batch)
            }
        }
        for t in topics.keys.sorted() where all[t] == nil && !isDeleting(t) {
            for tp in states.keys where tp.topic == t { states[tp] = nil }
            topics[t] = nil
        }
    }

    private mutating func onDeletionRequested(_ names: [String], _ batch: inout Batch) {
        for t in Set(names).sorted() {
            guard config.deleteTopicEnable, let a = topics[t] else {
                batch.zk.append(.delete(path: ZkPaths.deleteTopic(t)))
                continue
            }
            if deletions[t] != nil { continue }
            var pending: Set<ReplicaRef> = []
            for (p, replicas) in a.partitions {
                for b in replicas { pending.insert(ReplicaRef(topicPartition: TopicPartition(t, p), broker: b)) }
            }
            deletions[t] = pending
            for p in a.partitions.keys { batch.metadataPartitions.insert(TopicPartition(t, p)) }
            for ref in pending.sorted(by: { ($0.topicPartition, $0.broker) < ($1.topicPartition, $1.broker) })
            where liveBrokers[ref.broker] != nil {
                batch.stopReplica(ref, leaderEpoch: leaderEpoch(ref.topicPartition))
            }
            completeDeletionIfDone(t, &batch)
        }
    }

    private mutating func onStopReplicaResponse(_ from: BrokerID, _ results: [TopicPartition: KafkaError], _ batch: inout Batch) {
        var touched: Set<String> = []
        for (tp, error) in results where error == .noError {
            if deletions[tp.topic]?.remove(ReplicaRef(topicPartition: tp, broker: from)) != nil { touched.insert(tp.topic) }
        }
        for t in touched.sorted() { completeDeletionIfDone(t, &batch) }
    }

    private mutating func completeDeletionIfDone(_ t: String, _ batch: inout Batch) {
        guard let pending = deletions[t], pending.isEmpty else { return }
        batch.zk.append(.delete(path: ZkPaths.topic(t), recursive: true))
        batch.zk.append(.delete(path: ZkPaths.topicConfig(t)))
        batch.zk.append(.delete(path: ZkPaths.deleteTopic(t)))
        deletions[t] = nil
        topics[t] = nil
        for tp in states.keys where tp.topic == t { states[tp] = nil }
        batch.metadataPartitions = batch.metadataPartitions.filter { $0.topic != t }
    }

    private mutating func onControlledShutdown(_ b: BrokerID, _ batch: inout Batch) {
        guard liveBrokers[b] != nil else {
            batch.extra.append(.controlledShutdownResponse(to: b, error: .brokerNotAvailable, remainingLeaders: []))
            return
        }
        shuttingDown.insert(b)
        var remaining: [TopicPartition] = []
        for tp in allPartitions where !isDeleting(tp.topic) {
            let replicas = replicas(of: tp)
            guard replicas.count > 1, replicas.contains(b), let s = states[tp]?.leaderAndIsr else { continue }
            if s.leader == b {
                if let next = replicas.first(where: { s.isr.contains($0) && canLead($0) }) {
                    write(tp, LeaderAndIsr(leader: next, leaderEpoch: s.leaderEpoch &+ 1,
                                           isr: s.isr.filter { !shuttingDown.contains($0) }, controllerEpoch: epoch), &batch)
                } else {
                    remaining.append(tp)
                }
            } else if s.isr.contains(b) {
                write(tp, LeaderAndIsr(leader: s.leader, leaderEpoch: s.leaderEpoch &+ 1,
                                       isr: s.isr.filter { $0 != b }, controllerEpoch: epoch), &batch)
                batch.stopReplica(ReplicaRef(topicPartition: tp, broker: b), leaderEpoch: s.leaderEpoch &+ 1, delete: false)
            }
        }
        batch.extra.append(.controlledShutdownResponse(to: b, error: .noError, remainingLeaders: remaining))
    }

    private mutating func onPreferredLeaderCheck(_ batch: inout Batch) {
        guard config.autoLeaderRebalance else { return }
        var byPreferred: [BrokerID: [TopicPartition]] = [:]
        for tp in allPartitions where !isDeleting(tp.topic) && states[tp] != nil {
            if let p = replicas(of: tp).first { byPreferred[p, default: []].append(tp) }
        }
        for b in byPreferred.keys.sorted() {
            let tps = byPreferred[b] ?? []
            let notLed = tps.filter { states[$0]?.leaderAndIsr.leader != b }
            guard !tps.isEmpty, notLed.count * 100 > config.leaderImbalancePerBrokerPercentage * tps.count else { continue }
            for tp in notLed { electPreferred(tp, &batch) }
        }
    }

    /// Moves leadership back to the first assigned replica if it is live and in sync.
    @discardableResult
    private mutating func electPreferred(_ tp: TopicPartition, _ batch: inout Batch) -> KafkaError {
        guard let s = states[tp]?.leaderAndIsr, let preferred = replicas(of: tp).first else { return .unknownTopicOrPartition }
        if s.leader == preferred { return .electionNotNeeded }
        guard canLead(preferred), s.isr.contains(preferred) else { return .preferredLeaderNotAvailable }
        write(tp, LeaderAndIsr(leader: preferred, leaderEpoch: s.leaderEpoch &+ 1, isr: s.isr, controllerEpoch: epoch), &batch)
        return .noError
    }

    /// Preferred leader election on request (ElectLeaders / kafka-leader-election.sh).
    public mutating func electPreferredLeaders(_ tps: [TopicPartition]) -> (results: [TopicPartition: KafkaError], effects: [ControllerEffect]) {
        guard isActive else { return (Dictionary(tps.map { ($0, KafkaError.notController) }, uniquingKeysWith: { a, _ in a }), []) }
        var batch = Batch()
        var results: [TopicPartition: KafkaError] = [:]
        for tp in tps { results[tp] = electPreferred(tp, &batch) }
        return (results, flush(batch))
    }

    private mutating func resign() {
        isActive = false
        liveBrokers = [:]
        shuttingDown = []
        topics = [:]
        states = [:]
        deletions = [:]
    }

    // MARK: - The partition rule

    private func canLead(_ b: BrokerID) -> Bool { liveBrokers[b] != nil && !shuttingDown.contains(b) }

    private func liveReplicas(_ tp: TopicPartition) -> [BrokerID] { replicas(of: tp).filter { liveBrokers[$0] != nil } }

    private func leaderEpoch(_ tp: TopicPartition) -> Int32 { states[tp]?.leaderAndIsr.leaderEpoch ?? -1 }

    /// Brings one partition to the state the live broker set calls for: created if new, a live
    /// leader from the ISR if it lost its leader, dead replicas out of the ISR. Every change
    /// bumps the leader epoch so brokers can tell old instructions from new.
    private mutating func reconcile(_ tp: TopicPartition, _ batch: inout Batch) {
        guard !isDeleting(tp.topic) else { return }
        let replicas = replicas(of: tp)
        guard !replicas.isEmpty else { return }
        guard let s = states[tp]?.leaderAndIsr else {
            let live = replicas.filter(canLead)
            guard let leader = live.first else { return }  // stays new until a replica is up
            write(tp, LeaderAndIsr(leader: leader, leaderEpoch: 0, isr: live, controllerEpoch: epoch), &batch, isNew: true)
            return
        }
        let liveIsr = s.isr.filter { liveBrokers[$0] != nil }
        if s.leader >= 0 && liveBrokers[s.leader] != nil {
            if liveIsr.count != s.isr.count {
                write(tp, LeaderAndIsr(leader: s.leader, leaderEpoch: s.leaderEpoch &+ 1, isr: liveIsr, controllerEpoch: epoch), &batch)
            }
            return
        }
        if let leader = replicas.first(where: { s.isr.contains($0) && canLead($0) }) {
            write(tp, LeaderAndIsr(leader: leader, leaderEpoch: s.leaderEpoch &+ 1, isr: liveIsr, controllerEpoch: epoch), &batch)
        } else if config.uncleanLeaderElection, let leader = replicas.first(where: canLead) {
            write(tp, LeaderAndIsr(leader: leader, leaderEpoch: s.leaderEpoch &+ 1, isr: [leader], controllerEpoch: epoch), &batch)
            batch.extra.append(.uncleanLeaderElected(tp, leader: leader, lastIsr: s.isr))
        } else if s.leader != noLeader {
            // Offline. The dead ISR is kept: any of its members holds every committed offset,
            // so the first to return can lead without losing acknowledged data.
            write(tp, LeaderAndIsr(leader: noLeader, leaderEpoch: s.leaderEpoch &+ 1, isr: s.isr, controllerEpoch: epoch), &batch)
        }
    }

    private mutating func write(_ tp: TopicPartition, _ next: LeaderAndIsr, _ batch: inout Batch, isNew: Bool = false) {
        let path = ZkPaths.partitionState(tp)
        if let old = states[tp] {
            batch.zk.append(.setData(path: path, data: next.encoded(), expectedVersion: old.zkVersion))
            states[tp] = ZkPartitionState(next, zkVersion: old.zkVersion &+ 1)
        } else {
            batch.zk.append(.create(path: path, data: next.encoded()))
            states[tp] = ZkPartitionState(next, zkVersion: 0)
        }
        if isNew { batch.newPartitions.insert(tp) }
        batch.sendLeaderAndIsr(tp, to: liveReplicas(tp))
    }

    // MARK: - Batching requests

    /// Accumulates one event's consequences; requests are built at flush time from the final
    /// state, so each broker gets one request per kind carrying the latest partition states.
    struct Batch: Sendable {
        var zk: [ZkOp] = []
        var leaderAndIsr: [BrokerID: Set<TopicPartition>] = [:]
        var newPartitions: Set<TopicPartition> = []
        var metadataPartitions: Set<TopicPartition> = []
        var metadataFull: Set<BrokerID> = []
        var brokersChanged = false
        var stopReplicas: [BrokerID: [StopReplicaPartition]] = [:]
        var extra: [ControllerEffect] = []

        init() {}

        mutating func sendLeaderAndIsr(_ tp: TopicPartition, to brokers: [BrokerID]) {
            for b in brokers { leaderAndIsr[b, default: []].insert(tp) }
            metadataPartitions.insert(tp)
        }

        mutating func stopReplica(_ ref: ReplicaRef, leaderEpoch: Int32, delete: Bool = true) {
            stopReplicas[ref.broker, default: []].append(
                StopReplicaPartition(topicPartition: ref.topicPartition, leaderEpoch: leaderEpoch, deletePartition: delete))
        }
    }

    private func info(_ tp: TopicPartition, isNew: Bool) -> PartitionStateInfo? {
        guard let s = states[tp] else { return nil }
        let replicas = replicas(of: tp)
        let l = s.leaderAndIsr
        return PartitionStateInfo(topicPartition: tp, controllerEpoch: l.controllerEpoch,
                                  leader: isDeleting(tp.topic) ? leaderDuringDelete : l.leader,
                                  leaderEpoch: l.leaderEpoch, isr: l.isr, zkVersion: s.zkVersion, replicas: replicas,
                                  offlineReplicas: replicas.filter { liveBrokers[$0] == nil }, isNew: isNew)
    }

    private func flush(_ batch: Batch) -> [ControllerEffect] {
        var out: [ControllerEffect] = batch.zk.map { .zkWrite($0, controllerEpochZkVersion: epochZkVersion) }
        let brokers = liveBrokers.keys.sorted()
        for b in batch.leaderAndIsr.keys.sorted() where liveBrokers[b] != nil {
            let parts = (batch.leaderAndIsr[b] ?? []).sorted().filter { !isDeleting($0.topic) }
                .compactMap { info($0, isNew: batch.newPartitions.contains($0)) }
            guard !parts.isEmpty else { continue }
            let leaders = Set(parts.map { $0.leader }).sorted().compactMap { liveBrokers[$0] }
            out.append(.leaderAndIsr(to: b, LeaderAndIsrRequest(controllerId: brokerId, controllerEpoch: epoch,
                                                                partitions: parts, liveLeaders: leaders)))
        }
        let live = brokers.compactMap { liveBrokers[$0] }
        let changed = batch.metadataPartitions.sorted().compactMap { info($0, isNew: false) }
        if !changed.isEmpty || batch.brokersChanged || !batch.metadataFull.isEmpty {
            let all = allPartitions.compactMap { info($0, isNew: false) }
            for b in brokers {
                let full = batch.metadataFull.contains(b)
                if !full && changed.isEmpty && !batch.brokersChanged { continue }
                let parts = full ? all : changed
                var ids: [String: KafkaUUID] = [:]
                for t in Set(parts.map(\.topicPartition.topic)) { ids[t] = topics[t]?.topicId }
                out.append(.updateMetadata(to: b, UpdateMetadataRequest(controllerId: brokerId, controllerEpoch: epoch,
                                                                        partitions: parts, liveBrokers: live, topicIds: ids)))
            }
        }
        for b in batch.stopReplicas.keys.sorted() where liveBrokers[b] != nil {
            out.append(.stopReplica(to: b, StopReplicaRequest(controllerId: brokerId, controllerEpoch: epoch,
                                                              partitions: batch.stopReplicas[b] ?? [])))
        }
        return out + batch.extra
    }
}

extension Controller {
    /// The runtime's rule for failed writes: a partition whose state write failed must not be
    /// announced to brokers (the state was never stored, and the controller will re-read and
    /// decide again with a fresh epoch). Strips those partitions from the batch's requests.
    public static func removingPartitions(_ failed: Set<TopicPartition>, from effects: [ControllerEffect]) -> [ControllerEffect] {
        guard !failed.isEmpty else { return effects }
        return effects.compactMap { e in
            switch e {
            case .leaderAndIsr(let to, var r):
                r.partitions.removeAll { failed.contains($0.topicPartition) }
                return r.partitions.isEmpty ? nil : .leaderAndIsr(to: to, r)
            case .updateMetadata(let to, var r):
                r.partitions.removeAll { failed.contains($0.topicPartition) }
                return .updateMetadata(to: to, r)
            default:
                return e
            }
        }
    }
}
