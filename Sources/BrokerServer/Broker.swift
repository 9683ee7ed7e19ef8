import BrokerCore
import CoordClient
import Foundation
import Glibc
import Observability
import Protocol
import Sasl
import Transport

/// A running brokerd: network threads, handler threads, replica manager and fetchers, the coordd
/// session and (when elected) the controller. `start` returns once the broker is registered.
public final class Broker: @unchecked Sendable {
    public let config: BrokerConfig
    let logger: Logger
    let metadata = MetadataCache()
    let replicas: ReplicaManager
    let fetchers: ReplicaFetcherManager
    /// brokerd's own TLS client side towards the inter-broker listener of the others (nil: plaintext).
    let interBrokerTLS: TLSContext?
    private(set) var session: CoordSession!
    private(set) var controller: ControllerRuntime!
    private(set) var handler: RequestHandler!
    private let channel: RequestChannel
    /// One network server per listener, all feeding the same request channel.
    private var networks: [KafkaNetworkServer] = []

    /// The `clients` fault on every listener (see KafkaNetworkServer.clientFault).
    func setClientFault(_ value: Int) {
        for n in networks { n.clientFault.store(value, ordering: .relaxed) }
    }
    private var handlerThreads: [Thread] = []
    private let stopLock = NSLock()
    private var stopped = false
    private let allStopped = DispatchGroup()
    /// The endpoint clients are told to use (the bound port when configured as 0).
    public private(set) var advertised = BrokerConfig.Endpoint(name: "PLAINTEXT", host: "127.0.0.1", port: 0)
    /// Called when the broker must exit (duplicate broker.id after a session expiry).
    public var onFatal: (@Sendable (FatalBrokerError) -> Void)?
    /// Metrics and the timeline; the admin HTTP server when `admin.listener` is set.
    let observability: BrokerObservability
    private var admin: BrokerAdmin?
    public private(set) var adminPort: Int?

    public init(config: BrokerConfig) throws {
        self.config = config
        logger = Logger(prefix: "[broker \(config.brokerID)] ")
        replicas = try ReplicaManager(brokerId: config.brokerID, config: config, logger: logger)
        do {
            let log = logger
            interBrokerTLS = try config.security.interBrokerTLS.map { try TLSContext(client: $0, logger: { log.warn($0) }) }
        } catch {
            throw FatalBrokerError(description: "inter-broker listener \(config.security.interBrokerListenerName) TLS (ssl.*): \(error)", exitCode: 2)
        }
        fetchers = ReplicaFetcherManager(replicas: replicas, metadata: metadata, config: config, logger: logger, interBrokerTLS: interBrokerTLS)
        replicas.fetchers = fetchers
        let adminOn = config.raw["admin.listener"] != nil
        let log = logger
        observability = BrokerObservability(brokerId: config.brokerID, timelineDirectory: adminOn ? config.logDirs.first.map { $0 + "/timeline" } : nil,
                                            logger: { log.info($0) })
        replicas.observability = observability
        channel = RequestChannel(capacity: max(1, config.queuedMaxRequests))
    }

    /// A listener's per-connection state: PLAINTEXT needs none; SASL listeners get a fresh session.
    private func securityFactory(_ listener: String) -> @Sendable () -> ConnectionSecurity {
        let sec = config.security.listeners[listener]
        let maxToken = config.security.saslMaxReceiveSize
        guard let sec, sec.securityProtocol.isSasl else { return { ConnectionSecurity(listener: listener, sasl: nil) } }
        let users = sec.plainUsers
        let mechs = sec.saslMechanisms
        // The network servers stop before the broker goes away: unowned is safe.
        return { [unowned self] in
            ConnectionSecurity(listener: listener, sasl: SaslServerSession(enabled: mechs, maxTokenBytes: maxToken) { m in
                if m == .plain { return .plain(PlainServer(users: users)) }
                return .scram(ScramServer(mechanism: m) { user in self.handler?.scramCredential(user: user, mechanism: m) }
                    ?? ScramServer(digest: .sha256, mechanism: m) { _ in nil })
            })
        }
    }

    /// SSL/SASL_SSL listeners: the server TLS context and, on SSL, the certificate-to-principal mapping.
    private func listenerTLS(_ name: String) throws -> (TLSContext?, (@Sendable (String, String) -> String?)?) {
        guard let sec = config.security.listeners[name], let tlsConfig = sec.tls else { return (nil, nil) }
        let log = logger
        // Any peer can fail a handshake at will: at most 10 such lines a second per listener.
        let handshakeLog = RateLimitedLog(perSecond: 10) { log.warn($0) }
        let ctx: TLSContext
        do { ctx = try TLSContext(server: tlsConfig, logger: { handshakeLog($0) }) } catch {
            throw FatalBrokerError(description: "listener \(name) TLS (ssl.*): \(error)", exitCode: 2)
        }
        guard sec.securityProtocol == .ssl else { return (ctx, nil) }
        let mapper = sec.principalMapper
        return (ctx, { dn, peer in
            guard let user = mapper.name(forDN: dn) else {
                log.info("TLS authentication of \(peer) failed: no ssl.principal.mapping.rules rule applies to \(dn)")
                return nil
            }
            log.info("authenticated \(peer) as User:\(user) on \(name) (client certificate)")
            return user
        })
    }

    public func start() throws {
        let adminAt = try config.raw["admin.listener"].map(BrokerAdmin.parseListener)
        try replicas.loadLogs()
        guard !config.listeners.isEmpty else { throw FatalBrokerError(description: "no listener configured", exitCode: 2) }
        var bound: [String: Int] = [:]
        for listener in config.listeners {
            let bindHost = listener.host.isEmpty ? "0.0.0.0" : listener.host
            let (tls, certificatePrincipal) = try listenerTLS(listener.name)
            let n = KafkaNetworkServer(networkThreads: config.numNetworkThreads, channel: channel, maxRequestBytes: config.socketRequestMaxBytes,
                                       name: "kafka-network-\(listener.name.lowercased())",
                                       maxUnauthenticatedBytes: config.security.saslMaxReceiveSize, makeSecurity: securityFactory(listener.name),
                                       tls: tls, certificatePrincipal: certificatePrincipal)
            do { bound[listener.name] = try n.start(host: bindHost, port: listener.port) } catch {
                throw FatalBrokerError(description: "cannot listen on \(listener.name) \(bindHost):\(listener.port): \(error)", exitCode: 1)
            }
            networks.append(n)
            logger.info("listening on \(listener.name)://\(bindHost):\(bound[listener.name] ?? listener.port) (\(config.security.protocolMap[listener.name]?.rawValue ?? "?"))")
        }
        // Advertised endpoints with the bound ports (port 0, or advertised.listeners left out).
        var advertisedAll = config.effectiveAdvertisedListeners.map { e -> BrokerConfig.Endpoint in
            var e = e
            if let listener = config.listeners.first(where: { $0.name == e.name }), let port = bound[e.name],
               e.port == 0 || (config.advertisedListeners == nil && e.port == listener.port) { e.port = port }
            return e
        }
        // The inter-broker listener first: brokers (controller channel, fetchers) use a registration's first endpoint.
        if let i = advertisedAll.firstIndex(where: { $0.name == config.security.interBrokerListenerName }) {
            advertisedAll.insert(advertisedAll.remove(at: i), at: 0)
        }
        let adv = advertisedAll[0]
        advertised = adv

        let zookeeperTLS: TLSContext?
        do {
            let log = logger
            zookeeperTLS = try config.zookeeperTLS.map { try TLSContext(client: $0, logger: { log.warn($0) }) }
        } catch {
            throw FatalBrokerError(description: "zookeeper.ssl.*: \(error)", exitCode: 2)
        }
        let session = CoordSession(config: config, advertised: adv, endpoints: advertisedAll, tls: zookeeperTLS, logger: logger)
        self.session = session
        let controller = ControllerRuntime(session: session, config: config, logger: logger, interBrokerTLS: interBrokerTLS)
        self.controller = controller
        let acls = config.security.authorizer.map { AclStore(config: $0, logger: logger, denied: observability.authorizationDenied) }
        if let a = config.security.authorizer {
            // Brokers' own requests (controller channel, follower fetches) are checked too.
            let ib = config.security.interBrokerSasl.map { "User:" + $0.username } ?? "User:ANONYMOUS"
            logger.info("ACL authorizer \(a.className): super.users \(a.superUsers.sorted()), allow.everyone.if.no.acl.found=\(a.allowEveryoneIfNoAclFound)")
            if !a.superUsers.contains(ib) {
                logger.warn("brokers talk to each other as \(ib), which is not in super.users: it needs CLUSTER_ACTION on the cluster (ACL) or the cluster stalls")
            }
        }
        handler = RequestHandler(config: config, metadata: metadata, replicas: replicas, session: session, advertised: adv, acls: acls, logger: logger)
        handler.controller = controller
        handler.interBrokerTLS = interBrokerTLS
        handler.advertisedListeners = Dictionary(advertisedAll.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        replicas.writeIsr = { [weak session] tp, state, v in session?.writeIsr(tp, state, expectedVersion: v) }
        replicas.notifyIsrChange = { [weak session] tps in session?.notifyIsrChange(tps) }
        replicas.topicConfig = { [weak session] topic in session?.topicConfig(topic) }
        let brokerConfigs = DynamicBrokerConfigs(config: config, logger: logger) { [weak replicas] in replicas?.applyBrokerConfig($0) }
        handler.brokerConfigs = brokerConfigs
        let topicConfigChanges = TopicConfigChanges(replicas: replicas, brokerConfigs: brokerConfigs, logger: logger)
        let obs = observability
        handler.onAuthenticationFailed = { listener in
            obs.failedAuthentications.labels(listener).inc()
            obs.timeline.tally("auth.failed")
        }
        let controllerGuard = handler.controllerGuard
        session.onRegistered = { controllerGuard.registered(brokerEpoch: $0) }
        session.onSessionLost = { [weak controller] in
            obs.timeline.record("broker.session_lost")
            controllerGuard.sessionLost()
            controller?.sessionLost()
        }
        session.onNewSession = { [weak controller, weak session] in
            obs.timeline.record("broker.registered", fields: [("session", .string(Self.hexSession(session))), ("again", .bool(true))])
            controller?.newSession()
            if let session {
                acls?.sessionStarted(session)
                topicConfigChanges.sessionStarted(session)
            }
        }
        session.onFatal = { [weak self] f in self?.onFatal?(f) }

        // Handlers must run before registration: the controller's first LeaderAndIsr may come at once.
        for i in 0..<max(1, config.numIOThreads) {
            allStopped.enter()
            let t = Thread { [self] in
                while let r = channel.take() {
                    let t0 = MonotonicClock.nanos()
                    handler.handle(r)
                    let key = r.frame.count >= 2 ? Int16(bitPattern: UInt16(r.frame[0]) << 8 | UInt16(r.frame[1])) : -1
                    observability.request(apiKey: key, nanos: MonotonicClock.nanos() - t0)
                }
                allStopped.leave()
            }
            t.name = "kafka-request-handler-\(i)"
            t.start()
            handlerThreads.append(t)
        }
        startTicker()

        try session.start()
        observability.timeline.record("broker.registered", fields: [("session", .string(Self.hexSession(session))), ("endpoint", .string("\(adv.host):\(adv.port)"))])
        acls?.sessionStarted(session)
        topicConfigChanges.sessionStarted(session)
        handler.clusterId = readOrCreateClusterId()
        controller.start()
        if let (host, port) = adminAt {
            let a = BrokerAdmin(broker: self, obs: observability)
            adminPort = try a.start(host: host, port: port)
            admin = a
            logger.info("admin server on \(host):\(adminPort ?? port) (/metrics, /v1, /health, /timeline)")
        }
    }

    static func hexSession(_ s: CoordSession?) -> String { "0x" + String(UInt64(bitPattern: s?.client.currentSessionID ?? 0), radix: 16) }

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
        // While still serving, so clients and followers move to the new leaders first.
        if config.controlledShutdownEnable, session?.connectedClient != nil { controlledShutdown() }
        admin?.stop()
        observability.timeline.stop()
        fetchers.stop()
        controller?.stop()
        handler?.groups.stop()
        handler?.transactions.stop()
        replicas.delayed.expire(now: MonotonicClock.millis(), all: true)
        channel.close()
        for n in networks { n.stop() }
        _ = allStopped.wait(timeout: .now() + 5)
        replicas.shutdown()
        session?.close()
        logger.info("shut down cleanly")
    }
}
