import BrokerCore
import CoordClient
import Foundation
import Glibc
import Protocol
import Transport

/// A running brokerd: network threads, handler threads, replica manager and fetchers, the coordd
/// session and (when elected) the controller. `start` returns once the broker is registered.
public final class Broker: @unchecked Sendable {
    public let config: BrokerConfig
    let logger: Logger
    let metadata = MetadataCache()
    let replicas: ReplicaManager
    let fetchers: ReplicaFetcherManager
    private(set) var session: CoordSession!
    private(set) var controller: ControllerRuntime!
    private(set) var handler: RequestHandler!
    private let channel: RequestChannel
    private let network: KafkaNetworkServer
    private var handlerThreads: [Thread] = []
    private let stopLock = NSLock()
    private var stopped = false
    private let allStopped = DispatchGroup()
    /// The endpoint clients are told to use (the bound port when configured as 0).
    public private(set) var advertised = BrokerConfig.Endpoint(name: "PLAINTEXT", host: "127.0.0.1", port: 0)
    /// Called when the broker must exit (duplicate broker.id after a session expiry).
    public var onFatal: (@Sendable (FatalBrokerError) -> Void)?

    public init(config: BrokerConfig) throws {
        self.config = config
        logger = Logger(prefix: "[broker \(config.brokerID)] ")
        replicas = try ReplicaManager(brokerId: config.brokerID, config: config, logger: logger)
        fetchers = ReplicaFetcherManager(replicas: replicas, metadata: metadata, config: config, logger: logger)
        replicas.fetchers = fetchers
        channel = RequestChannel(capacity: max(1, config.queuedMaxRequests))
        network = KafkaNetworkServer(networkThreads: config.numNetworkThreads, channel: channel,
                                     maxRequestBytes: config.socketRequestMaxBytes)
    }

    public func start() throws {
        try replicas.loadLogs()
        guard let listener = config.listeners.first else { throw FatalBrokerError(description: "no listener configured", exitCode: 2) }
        let bindHost = listener.host.isEmpty ? "0.0.0.0" : listener.host
        let port: Int
        do { port = try network.start(host: bindHost, port: listener.port) } catch {
            throw FatalBrokerError(description: "cannot listen on \(bindHost):\(listener.port): \(error)", exitCode: 1)
        }
        var adv = config.effectiveAdvertisedListeners.first ?? listener
        if adv.port == 0 || (config.advertisedListeners == nil && adv.port == listener.port) { adv.port = port }
        advertised = adv

        let session = CoordSession(config: config, advertised: adv, logger: logger)
        self.session = session
        let controller = ControllerRuntime(session: session, config: config, logger: logger)
        self.controller = controller
        handler = RequestHandler(config: config, metadata: metadata, replicas: replicas, session: session, advertised: adv, logger: logger)
        replicas.writeIsr = { [weak session] tp, state, v in session?.writeIsr(tp, state, expectedVersion: v) }
        replicas.notifyIsrChange = { [weak session] tps in session?.notifyIsrChange(tps) }
        replicas.topicConfig = { [weak session] topic in session?.topicConfig(topic) }
        session.onSessionLost = { [weak controller] in controller?.sessionLost() }
        session.onNewSession = { [weak controller] in controller?.newSession() }
        session.onFatal = { [weak self] f in self?.onFatal?(f) }

        // Handlers must run before registration: the controller's first LeaderAndIsr may come at once.
        for i in 0..<max(1, config.numIOThreads) {
            allStopped.enter()
            let t = Thread { [self] in
                while let r = channel.take() { handler.handle(r) }
                allStopped.leave()
            }
            t.name = "kafka-request-handler-\(i)"
            t.start()
            handlerThreads.append(t)
        }
        startTicker()

        try session.start()
        handler.clusterId = readOrCreateClusterId()
        controller.start()
    }

    private func readOrCreateClusterId() -> String? {
        let c = session.client
        if let (d, _) = try? c.getData(ZkPaths.clusterId), let id = try? ClusterIdPayload.decode(d) { return id.id }
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let id = ClusterIdPayload(uuidBytes: bytes)
        _ = try? c.create(ZkPaths.clusterId, data: id.encoded())
        if let (d, _) = try? c.getData(ZkPaths.clusterId), let read = try? ClusterIdPayload.decode(d) { return read.id }
        return id.id
    }

    /// Purgatory deadlines, ISR shrink checks, high-watermark checkpoints and log flushes.
    private func startTicker() {
        allStopped.enter()
        let t = Thread { [self] in
            var lastShrink: UInt64 = 0
            var lastCheckpoint: UInt64 = MonotonicClock.millis()
            while !isStopped {
                usleep(5_000)
                let now = MonotonicClock.millis()
                replicas.delayed.expire(now: now)
                if now - lastShrink >= 1000 {
                    lastShrink = now
                    replicas.maybeShrinkIsrs()
                }
                if now - lastCheckpoint >= 5000 {
                    lastCheckpoint = now
                    replicas.checkpoint(flush: config.logFlushIntervalMs != nil)
                }
            }
            allStopped.leave()
        }
        t.name = "broker-ticker"
        t.start()
    }

    private var isStopped: Bool { stopLock.withLock { stopped } }

    /// Stops serving, answers parked requests, checkpoints and flushes logs, closes the session.
    public func shutdown() {
        let first = stopLock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        logger.info("shutting down")
        fetchers.stop()
        controller?.stop()
        handler?.groups.stop()
        replicas.delayed.expire(now: MonotonicClock.millis(), all: true)
        channel.close()
        network.stop()
        _ = allStopped.wait(timeout: .now() + 5)
        replicas.shutdown()
        session?.close()
        logger.info("shut down cleanly")
    }
}
