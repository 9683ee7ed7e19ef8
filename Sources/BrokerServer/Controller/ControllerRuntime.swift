import BrokerCore
import CoordClient
import Dispatch
import Foundation
import Protocol
import Transport

/// Runs BrokerCore's `Controller` on this broker: `/controller` election, `/controller_epoch` bump,
/// watches on brokers/topics/deletions/ISR notifications, and the effects (fenced znode writes, then
/// LeaderAndIsr/UpdateMetadata/StopReplica to brokers). All state lives on one serial queue.
final class ControllerRuntime: @unchecked Sendable {
    let session: CoordSession
    let config: BrokerConfig
    let logger: Logger
    let brokerId: Int32
    private let queue = DispatchQueue(label: "controller")
    private var controller: Controller
    private var channels: [Int32: ControllerChannel] = [:]
    private var stopped = false
    /// Unclean leader elections this controller made (logged with each; Kafka's UncleanLeaderElections).
    private var uncleanLeaderElections = 0
    /// Which broker holds `/controller` as far as we know (-1: none).
    private(set) var activeControllerId: Int32 = -1
    private var rebalanceTimerArmed = false
    /// Topics whose znode has a data watch armed (one-shot): partitions added to a topic rewrite its
    /// assignment, and only a data watch sees that. Tracked so each topic holds one watch at a time.
    private var watchedTopics: Set<String> = []

    /// TLS to the brokers when the inter-broker listener is SSL/SASL_SSL.
    let interBrokerTLS: TLSContext?

    init(session: CoordSession, config: BrokerConfig, logger: Logger, interBrokerTLS: TLSContext? = nil) {
        self.interBrokerTLS = interBrokerTLS
        self.session = session
        self.config = config
        self.logger = logger
        brokerId = config.brokerID
        var cc = ControllerConfig()
        cc.uncleanLeaderElection = config.uncleanLeaderElectionEnable
        cc.autoLeaderRebalance = config.autoLeaderRebalanceEnable
        cc.deleteTopicEnable = config.deleteTopicEnable
        controller = Controller(brokerId: config.brokerID, config: cc)
    }

    private var client: CoordClient { session.client }

    var isActive: Bool { queue.sync { controller.isActive } }
    /// The epoch this broker controls in, when it is the active controller (admin plane).
    var activeEpoch: Int32? { queue.sync { controller.isActive ? controller.epoch : nil } }

    func start() { queue.async { [self] in elect() } }

    /// ElectLeaders (preferred): on the active controller only; others answer NOT_CONTROLLER.
    func electPreferredLeaders(_ tps: [TopicPartition]) -> [TopicPartition: KafkaError] {
        queue.sync {
            let (results, effects) = controller.electPreferredLeaders(tps)
            perform(effects)
            return results
        }
    }

    func stop() {
        queue.sync {
            stopped = true
            if controller.isActive {
                _ = controller.handle(.zkWriteFailed(.delete(path: ZkPaths.controller), .controllerEpochChanged))
                try? client.delete(ZkPaths.controller)
            }
            for c in channels.values { c.stop() }
            channels = [:]
        }
    }

    /// The session expired: whatever we were, we are not controller any more.
    func sessionLost() {
        queue.async { [self] in
            watchedTopics.removeAll()
            if controller.isActive {
                logger.warn("resigning as controller (session lost)")
                _ = controller.handle(.zkWriteFailed(.delete(path: ZkPaths.controller), .connectionLoss))
            }
            activeControllerId = -1
        }
    }

    func newSession() { queue.async { [self] in elect() } }

    // MARK: - Election

    private func elect() {
        guard !stopped, !controller.isActive else { return }
        let reg = ControllerRegistration(brokerId: brokerId, timestampMs: WallClock.millis())
        do {
            try client.create(ZkPaths.controller, data: reg.encoded(), mode: .ephemeral)
            becomeController()
            return
        } catch let e as CoordError where e.isNodeExists {
            // Someone else leads; watch it so we run again when it goes.
        } catch {
            logger.warn("controller election failed: \(error); retrying")
            queue.asyncAfter(deadline: .now() + 0.5) { [self] in elect() }
            return
        }
        do {
            let (d, st) = try client.getData(ZkPaths.controller, watcher: { [weak self] _ in
                guard let self else { return }
                self.queue.async { self.elect() }
            })
            let holder = (try? ControllerRegistration.decode(d))?.brokerId ?? -1
            activeControllerId = holder
            if st.ephemeralOwner == client.currentSessionID && holder == brokerId { becomeController() }
        } catch let e as CoordError where e.isNoNode {
            queue.async { [self] in elect() }
        } catch {
            queue.asyncAfter(deadline: .now() + 0.5) { [self] in elect() }
        }
    }

    private func becomeController() {
        do {
            var current: Int32?
            var version: Int32?
            do {
                let (d, st) = try client.getData(ZkPaths.controllerEpoch)
                current = try ControllerEpochPayload.decode(d)
                version = st.version
            } catch let e as CoordError where e.isNoNode {}
            let (epoch, op) = Controller.epochBump(current: current, zkVersion: version)
            let newVersion: Int32
            switch op {
            case .create(let p, let data, _, _):
                try client.create(p, data: data)
                newVersion = 0
            case .setData(let p, let data, let v):
                newVersion = try client.setData(p, data: data, version: v).version
            case .delete:
                return
            }
            activeControllerId = brokerId
            logger.info("elected controller with epoch \(epoch)")
            let ctx = ControllerContext(epoch: epoch, epochZkVersion: newVersion, liveBrokers: try readBrokers(),
                                        topics: try readTopics(), partitionStates: [:], topicsToDelete: try readDeletions())
            var withStates = ctx
            for (t, a) in ctx.topics {
                for p in a.partitions.keys {
                    let tp = TopicPartition(t, p)
                    if let s = try session.partitionState(tp) { withStates.partitionStates[tp] = s }
                }
            }
            try watchIsrNotifications()
            perform(controller.handle(.becameController(withStates)))
            armRebalanceTimer()
        } catch {
            logger.warn("could not take over as controller: \(error); resigning")
            try? client.delete(ZkPaths.controller)
            queue.asyncAfter(deadline: .now() + 0.5) { [self] in elect() }
        }
    }

    // MARK: - Reads with watches

    private func watcher(_ reread: @escaping @Sendable (ControllerRuntime) throws -> Void) -> CoordClient.Watcher {
        { [weak self] _ in
            guard let self else { return }
            self.queue.async {
                guard self.controller.isActive, !self.stopped else { return }
                do { try reread(self) } catch { self.logger.warn("controller re-read failed: \(error)") }
            }
        }
    }

    private func readBrokers() throws -> [BrokerRegistration] {
        let ids = try client.getChildren(ZkPaths.brokerIds, watcher: watcher { rt in
            rt.perform(rt.controller.handle(.brokersChanged(try rt.readBrokers())))
        })
        var out: [BrokerRegistration] = []
        for s in ids {
            guard let id = Int32(s) else { continue }
            guard let (d, st) = try? client.getData(ZkPaths.broker(id)), var r = try? BrokerRegistration.decode(id: id, d) else { continue }
            r.epoch = st.czxid
            out.append(r)
        }
        return out.sorted { $0.id < $1.id }
    }

    private func readTopics() throws -> [String: TopicAssignment] {
        let names = try client.getChildren(ZkPaths.brokerTopics, watcher: watcher { rt in
            rt.perform(rt.controller.handle(.topicsChanged(try rt.readTopics())))
        })
        var out: [String: TopicAssignment] = [:]
        for t in names {
            let arm = !watchedTopics.contains(t)
            guard let (d, st) = try? client.getData(ZkPaths.topic(t), watcher: arm ? topicDataWatcher(t) : nil) else { continue }
            if arm { watchedTopics.insert(t) }
            guard var a = try? TopicAssignment.decode(d) else { continue }
            if a.topicId == nil {
                // A topic an older tool wrote has no id: the controller gives it one, as Kafka 2.8+
                // does; conditional, so a concurrent change wins and is read again.
                a.topicId = .random()
                if (try? client.setData(ZkPaths.topic(t), data: a.encoded(), version: st.version)) == nil { a.topicId = nil }
            }
            out[t] = a
        }
        return out
    }

    private func topicDataWatcher(_ topic: String) -> CoordClient.Watcher {
        { [weak self] _ in
            guard let self else { return }
            self.queue.async {
                self.watchedTopics.remove(topic)
                guard self.controller.isActive, !self.stopped else { return }
                do { self.perform(self.controller.handle(.topicsChanged(try self.readTopics()))) } catch {
                    self.logger.warn("controller re-read failed: \(error)")
                }
            }
        }
    }

    private func readDeletions() throws -> [String] {
        try client.getChildren(ZkPaths.deleteTopics, watcher: watcher { rt in
            rt.perform(rt.controller.handle(.topicDeletionRequested(try rt.readDeletions())))
        })
    }

    private func watchIsrNotifications() throws {
        let names = try client.getChildren(ZkPaths.isrChangeNotification, watcher: watcher { rt in try rt.watchIsrNotifications() })
        guard controller.isActive, !names.isEmpty else { return }
        var tps: Set<TopicPartition> = []
        var paths: [String] = []
        for n in names.sorted() {
            let path = ZkPaths.isrChangeNotification + "/" + n
            paths.append(path)
            if let (d, _) = try? client.getData(path), let list = try? IsrChangePayload.decode(d) { tps.formUnion(list) }
        }
        var states: [TopicPartition: ZkPartitionState] = [:]
        for tp in tps { if let s = try session.partitionState(tp) { states[tp] = s } }
        perform(controller.handle(.isrChangeNotification(notifications: paths, states: states)))
    }

    private func armRebalanceTimer() {
        guard config.autoLeaderRebalanceEnable, !rebalanceTimerArmed else { return }
        rebalanceTimerArmed = true
        let interval = Double(max(1, config.leaderImbalanceCheckIntervalSeconds))
        queue.asyncAfter(deadline: .now() + interval) { [self] in
            rebalanceTimerArmed = false
            guard controller.isActive, !stopped else { return }
            perform(controller.handle(.preferredLeaderCheck))
            armRebalanceTimer()
        }
    }

    // MARK: - Effects

    private func perform(_ effects: [ControllerEffect]) {
        // Partitions whose state write failed: the requests after it in this batch carry that
        // unwritten state (a leader epoch coordd never recorded), so they must not go out. A broker
        // acting on it would write in an epoch a later controller hands out again, and leader-epoch
        // truncation could no longer find where the logs diverge. The re-read sends the real state.
        var unwritten: Set<TopicPartition> = []
        for e in effects {
            guard !stopped else { return }
            switch e {
            case .zkWrite(let op, let v):
                if let failure = write(op, epochVersion: v) {
                    if let tp = ZkPaths.parsePartitionStatePath(op.path) { unwritten.insert(tp) }
                    perform(controller.handle(.zkWriteFailed(op, failure)))
                    if !controller.isActive { return }
                }
            case .leaderAndIsr(let to, var req) where !unwritten.isEmpty:
                req.partitions.removeAll { unwritten.contains($0.topicPartition) }
                if !req.partitions.isEmpty { channel(to)?.send(.leaderAndIsr(ControllerRuntime.convert(req, brokerEpoch: brokerEpoch(to)))) }
            case .updateMetadata(let to, var req) where !unwritten.isEmpty:
                req.partitions.removeAll { unwritten.contains($0.topicPartition) }
                channel(to)?.send(.updateMetadata(ControllerRuntime.convert(req, brokerEpoch: brokerEpoch(to))))
            case .readPartitionStates(let tps):
                var read: [TopicPartition: ZkPartitionState?] = [:]
                for tp in tps { read[tp] = (try? session.partitionState(tp)).flatMap { $0 } }
                perform(controller.handle(.partitionStatesRead(read)))
            case .leaderAndIsr(let to, let req):
                channel(to)?.send(.leaderAndIsr(ControllerRuntime.convert(req, brokerEpoch: brokerEpoch(to))))
            case .updateMetadata(let to, let req):
                channel(to)?.send(.updateMetadata(ControllerRuntime.convert(req, brokerEpoch: brokerEpoch(to))))
            case .stopReplica(let to, let req):
                for del in [true, false] {
                    let parts = req.partitions.filter { $0.deletePartition == del }
                    guard !parts.isEmpty else { continue }
                    var byTopic: [String: [Int32]] = [:]
                    for p in parts { byTopic[p.topicPartition.topic, default: []].append(p.topicPartition.partition) }
                    let wire = Protocol.StopReplicaRequest(controllerId: req.controllerId, controllerEpoch: req.controllerEpoch,
                                                           brokerEpoch: brokerEpoch(to), deletePartitions: del,
                                                           topics: byTopic.keys.sorted().map { .init(name: $0, partitionIndexes: byTopic[$0] ?? []) })
                    channel(to)?.send(.stopReplica(wire)) { [weak self] resp in
                        guard let self, let resp else { return }
                        var results: [TopicPartition: KafkaError] = [:]
                        for p in resp.partitionErrors {
                            results[TopicPartition(p.topicName, p.partitionIndex)] = KafkaError(rawValue: p.errorCode.rawValue) ?? .unknownServerError
                        }
                        let done = results
                        self.queue.async { self.perform(self.controller.handle(.stopReplicaResponse(from: to, results: done))) }
                    }
                }
            case .controlledShutdownResponse:
                break
            case .uncleanLeaderElected(let tp, let leader, let isr):
                uncleanLeaderElections += 1
                logger.warn("unclean leader election: \(tp.topic)-\(tp.partition) led by out-of-sync broker \(leader) "
                            + "(last ISR \(isr)); records acknowledged only by the last ISR may be lost "
                            + "(unclean_leader_elections_total=\(uncleanLeaderElections))")
            case .resign:
                logger.warn("another controller took over; resigning")
                activeControllerId = -1
                queue.async { [self] in elect() }
            }
        }
        // Channels to brokers that left are closed; new ones open on demand.
        for id in channels.keys where controller.liveBrokers[id] == nil {
            channels[id]?.stop()
            channels[id] = nil
        }
    }

    /// A fenced write: multi(check /controller_epoch version, op). nil on success.
    private func write(_ op: ZkOp, epochVersion: Int32) -> ZkWriteFailure? {
        let check = CoordOp.check(path: ZkPaths.controllerEpoch, version: epochVersion)
        do {
            switch op {
            case .create(let path, let data, let ephemeral, let sequential):
                if let slash = path.lastIndex(of: "/"), slash != path.startIndex { try? client.createRecursive(String(path[..<slash])) }
                let mode: CreateMode = ephemeral ? (sequential ? .ephemeralSequential : .ephemeral) : (sequential ? .persistentSequential : .persistent)
                _ = try client.multi([check, .create(path: path, data: data, mode: mode)])
            case .setData(let path, let data, let v):
                _ = try client.multi([check, .setData(path: path, data: data, version: v)])
            case .delete(let path, let v, let recursive):
                if recursive { try deleteChildren(path) }
                _ = try client.multi([check, .delete(path: path, version: v)])
            }
            return nil
        } catch let e as CoordError {
            if let st = try? client.exists(ZkPaths.controllerEpoch), st.version != epochVersion { return .controllerEpochChanged }
            if e.isNoNode { return op.isDelete ? nil : .noNode }
            if e.isNodeExists { return .nodeExists }
            if e.isBadVersion { return .badVersion }
            return .connectionLoss
        } catch {
            return .connectionLoss
        }
    }

    private func deleteChildren(_ path: String) throws {
        let kids: [String]
        do { kids = try client.getChildren(path) } catch let e as CoordError where e.isNoNode { return }
        for k in kids {
            let child = path + "/" + k
            try deleteChildren(child)
            do { try client.delete(child) } catch let e as CoordError where e.isNoNode {}
        }
    }

    /// ControlledShutdown from broker `b`: leadership moves off it, it leaves the ISRs it is in,
    /// and it will not be elected again until it re-registers. Answers the partitions that keep it
    /// as leader (no other in-sync replica); the broker retries while there are any.
    func controlledShutdown(broker b: Int32, brokerEpoch: Int64) -> (ErrorCode, [TopicPartition]) {
        queue.sync {
            guard controller.isActive else { return (.notController, []) }
            // KIP-380: a request from an earlier registration of that broker is stale.
            if brokerEpoch >= 0, let known = controller.liveBrokers[b]?.epoch, known != brokerEpoch { return (.staleBrokerEpoch, []) }
            let effects = controller.handle(.controlledShutdown(b))
            var answer: (ErrorCode, [TopicPartition]) = (.unknownServerError, [])
            for case let .controlledShutdownResponse(to, e, remaining) in effects where to == b { answer = (ErrorCode(e.rawValue), remaining) }
            perform(effects)
            logger.info("controlled shutdown of broker \(b): \(answer.0 == .none ? "leadership moved" : "\(answer.0)"), \(answer.1.count) partitions remaining")
            return answer
        }
    }

    /// The recipient's registration czxid as last read from `/brokers/ids` (KIP-380).
    private func brokerEpoch(_ id: Int32) -> Int64 { controller.liveBrokers[id]?.epoch ?? -1 }

    private func channel(_ id: Int32) -> ControllerChannel? {
        if let c = channels[id] { return c }
        guard let reg = controller.liveBrokers[id] else { return nil }
        let c = ControllerChannel(target: id, host: reg.host, port: Int(reg.port), from: brokerId, sasl: config.security.interBrokerSasl, tls: interBrokerTLS, logger: logger)
        channels[id] = c
        return c
    }

    // MARK: - Conversions to wire requests

    static func convert(_ r: BrokerCore.LeaderAndIsrRequest, brokerEpoch: Int64) -> Protocol.LeaderAndIsrRequest {
        var byTopic: [String: [Protocol.LeaderAndIsrRequest.LeaderAndIsrPartitionState]] = [:]
        for p in r.partitions {
            byTopic[p.topicPartition.topic, default: []].append(.init(
                partitionIndex: p.topicPartition.partition, controllerEpoch: p.controllerEpoch, leader: p.leader,
                leaderEpoch: p.leaderEpoch, isr: p.isr, partitionEpoch: p.zkVersion, replicas: p.replicas, isNew: p.isNew))
        }
        return Protocol.LeaderAndIsrRequest(
            controllerId: r.controllerId, controllerEpoch: r.controllerEpoch, brokerEpoch: brokerEpoch,
            topicStates: byTopic.keys.sorted().map { .init(topicName: $0, partitionStates: byTopic[$0] ?? []) },
            liveLeaders: r.liveLeaders.map { .init(brokerId: $0.id, hostName: $0.host, port: $0.port) })
    }

    static func convert(_ r: BrokerCore.UpdateMetadataRequest, brokerEpoch: Int64) -> Protocol.UpdateMetadataRequest {
        var byTopic: [String: [Protocol.UpdateMetadataRequest.UpdateMetadataPartitionState]] = [:]
        for p in r.partitions {
            byTopic[p.topicPartition.topic, default: []].append(.init(
                partitionIndex: p.topicPartition.partition, controllerEpoch: p.controllerEpoch, leader: p.leader,
                leaderEpoch: p.leaderEpoch, isr: p.isr, zkVersion: p.zkVersion, replicas: p.replicas, offlineReplicas: p.offlineReplicas))
        }
        return Protocol.UpdateMetadataRequest(
            controllerId: r.controllerId, controllerEpoch: r.controllerEpoch, brokerEpoch: brokerEpoch,
            topicStates: byTopic.keys.sorted().map { .init(topicName: $0, topicId: r.topicIds[$0] ?? .zero, partitionStates: byTopic[$0] ?? []) },
            liveBrokers: r.liveBrokers.map { b in
                .init(id: b.id, endpoints: b.endpoints.map { .init(port: $0.port, host: $0.host, listener: $0.listener, securityProtocol: 0) },
                      rack: b.rack)
            })
    }
}

extension ZkOp {
    var isDelete: Bool { if case .delete = self { return true } else { return false } }
}
