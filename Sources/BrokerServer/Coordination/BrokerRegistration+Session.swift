import BrokerCore
import CoordClient
import Dispatch
import Foundation
import Protocol
import Synchronization
import Transport

/// Why the broker must stop (the process exits with `exitCode`).
public struct FatalBrokerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public let exitCode: Int32
}

/// The broker's coordd session: `/brokers/ids/<id>` registration (ephemeral), re-registration after
/// session expiry, and the znode helpers the rest of the broker uses.
final class CoordSession: @unchecked Sendable {
    let config: BrokerConfig
    let logger: Logger
    /// Made at once but started by `start()`, after the Kafka port is open: request handlers use
    /// `connectedClient` so that nothing waits on (or crashes for) a session that is not there yet.
    let client: CoordClient
    let registration: BrokerRegistration
    /// Runs after a fresh session has re-registered (controller election, watches).
    var onNewSession: (@Sendable () -> Void)?
    /// Runs when the session is lost (resign controllership).
    var onSessionLost: (@Sendable () -> Void)?
    var onFatal: (@Sendable (FatalBrokerError) -> Void)?
    /// Runs with the czxid of our `/brokers/ids/<id>` znode (the KIP-380 broker epoch) each time
    /// the registration is made or found to be ours.
    var onRegistered: (@Sendable (Int64) -> Void)?
    private let events = DispatchQueue(label: "coord-session")
    private let stateLock = NSLock()
    private var closing = false
    private var waitedForStale = false
    private var started = false

    /// TLS to coordd's secure port (zookeeper.ssl.client.enable), nil for plaintext.
    let tls: TLSContext?

    /// `endpoints`: every advertised listener, the inter-broker one first (brokers use the first).
    init(config: BrokerConfig, advertised: BrokerConfig.Endpoint, endpoints: [BrokerConfig.Endpoint] = [],
         tls: TLSContext? = nil, logger: Logger) {
        self.config = config
        self.logger = logger
        self.tls = tls
        let relay = SessionEventRelay()
        client = CoordClient(connectString: config.zookeeperConnect, sessionTimeoutMs: config.zookeeperSessionTimeoutMs, tls: tls,
                             sasl: config.zookeeperSasl?.login, acl: Self.aclPolicy(config)) { ev in
            relay.forward(ev)
        }
        let eps = (endpoints.isEmpty ? [advertised] : endpoints).map { BrokerEndpoint(listener: $0.name, host: $0.host, port: Int32($0.port)) }
        var reg = BrokerRegistration(id: config.brokerID, endpoints: eps, rack: config.rack, timestampMs: WallClock.millis())
        reg.securityProtocols = config.security.protocolMap.mapValues(\.rawValue)
        registration = reg
        relay.set { [weak self] ev in self?.sessionEvent(ev) }
    }

    static func saslRefused(_ config: BrokerConfig) -> FatalBrokerError {
        FatalBrokerError(description: "coordd refused our SASL login (JAAS section \(config.zookeeperSasl?.section ?? "Client")"
                         + " of \(config.zookeeperSasl?.jaasFile ?? "?")): check the username and password", exitCode: 1)
    }

    /// `start()`'s failure as the broker reports it.
    func connectFailure(_ error: Error) -> FatalBrokerError {
        if let e = error as? CoordError, e.code == ZKErr.authFailed { return Self.saslRefused(config) }
        return FatalBrokerError(description: "cannot connect to coordd at \(config.zookeeperConnect): \(error)", exitCode: 1)
    }

    /// Kafka's secure znode ACLs with zookeeper.set.acl=true, open ones otherwise.
    static func aclPolicy(_ config: BrokerConfig) -> CoordACLPolicy {
        let secure = config.zookeeperSetACL
        return CoordACLPolicy { ZkSecureACLs.acls(secure: secure, path: $0) }
    }

    /// The client while a session is established; nil before `start()` and while disconnected, when
    /// a request that needs coordd gets a retriable error instead of waiting for it.
    var connectedClient: CoordClient? {
        guard stateLock.withLock({ started && !closing }), client.isConnected else { return nil }
        return client
    }

    func start() throws {
        try createChrootIfMissing()
        let c = client
        stateLock.withLock { started = true }
        do {
            try c.start(timeoutMs: config.zookeeperConnectionTimeoutMs)
        } catch {
            throw connectFailure(error)
        }
        for p in ZkPaths.persistentParents { try? c.createRecursive(p) }
        try register()
    }

    /// Like Kafka, a chroot in `zookeeper.connect` ("h1:p1,h2:p2/kafka") is created when missing,
    /// through a short session without the chroot.
    private func createChrootIfMissing() throws {
        let (_, chroot) = config.coordServersAndChroot
        guard !chroot.isEmpty, let slash = config.zookeeperConnect.firstIndex(of: "/") else { return }
        let root = CoordClient(connectString: String(config.zookeeperConnect[..<slash]), sessionTimeoutMs: config.zookeeperSessionTimeoutMs, tls: tls,
                               sasl: config.zookeeperSasl?.login, acl: Self.aclPolicy(config))
        do {
            try root.start(timeoutMs: config.zookeeperConnectionTimeoutMs)
        } catch {
            throw connectFailure(error)
        }
        defer { root.close() }
        do {
            try root.createRecursive(chroot)
        } catch {
            throw FatalBrokerError(description: "cannot create the chroot \(chroot) in coordd: \(error)", exitCode: 1)
        }
    }

    /// Creates the ephemeral registration. Another live session holding the id is fatal (duplicate
    /// broker.id); our own (after a reconnect) is fine.
    func register() throws {
        let path = ZkPaths.broker(config.brokerID)
        do {
            try client.create(path, data: registration.encoded(), mode: .ephemeral)
            // Our own session reads its own write, so this is the czxid the controller will see.
            let epoch = (try? client.exists(path))??.czxid
            logger.info("registered \(path) at \(registration.host):\(registration.port) (broker epoch \(epoch.map(String.init) ?? "unknown"))")
            if let epoch { onRegistered?(epoch) }
        } catch let e as CoordError where e.isNodeExists {
            if let st = try? client.exists(path), st.ephemeralOwner == client.currentSessionID {
                onRegistered?(st.czxid)
                return
            }
            // Our own endpoint there means our previous incarnation (we hold its port now): its session
            // is dying after a kill -9, so wait for the ephemeral to go instead of refusing to start.
            if let (d, _) = try? client.getData(path), let old = try? BrokerRegistration.decode(id: config.brokerID, d),
               old.host == registration.host, old.port == registration.port, !waitedForStale {
                waitedForStale = true
                logger.info("\(path) is held by a previous session of this broker; waiting for it to expire")
                let deadline = MonotonicClock.millis() + UInt64(config.zookeeperSessionTimeoutMs) * 2 + 5000
                while MonotonicClock.millis() < deadline, (try? client.exists(path)) ?? nil != nil { usleep(100_000) }
                return try register()
            }
            throw FatalBrokerError(description: "broker.id \(config.brokerID) is already registered at \(path) by another broker; "
                                   + "each broker needs a unique broker.id", exitCode: 1)
        }
    }

    private func sessionEvent(_ ev: SessionEvent) {
        switch ev {
        case .expired:
            guard !stateLock.withLock({ closing }) else { return }
            logger.warn("coordd session expired; starting a new session and registering again")
            onSessionLost?()
            events.async { [self] in reestablish() }
        case .authFailed:
            // Retrying the same JAAS password cannot help; Kafka stops too when ZooKeeper refuses it.
            onFatal?(Self.saslRefused(config))
        case .disconnected:
            logger.warn("disconnected from coordd")
        case .connected(let server):
            logger.info("connected to coordd \(server)")
        }
    }

    private func reestablish() {
        client.reopen()
        let deadline = MonotonicClock.millis() + 60_000
        while !client.isConnected && MonotonicClock.millis() < deadline {
            if stateLock.withLock({ closing }) { return }
            usleep(20_000)
        }
        do {
            try register()
            onNewSession?()
        } catch let f as FatalBrokerError {
            onFatal?(f)
        } catch {
            logger.error("re-registration failed: \(error); retrying")
            events.asyncAfter(deadline: .now() + 1) { [self] in reestablish() }
        }
    }

    func close() {
        let wasStarted = stateLock.withLock { () -> Bool in
            closing = true
            return started
        }
        if wasStarted { client.close() }
    }

    // MARK: - Helpers

    /// Reads a partition state znode.
    func partitionState(_ tp: TopicPartition) throws -> ZkPartitionState? {
        do {
            let (d, st) = try client.getData(ZkPaths.partitionState(tp))
            return ZkPartitionState(try LeaderAndIsr.decode(d), zkVersion: st.version)
        } catch let e as CoordError where e.isNoNode { return nil }
    }

    /// The leader's conditional ISR write; the new znode version or nil if it lost.
    func writeIsr(_ tp: TopicPartition, _ state: LeaderAndIsr, expectedVersion: Int32) -> Int32? {
        do {
            return try client.setData(ZkPaths.partitionState(tp), data: state.encoded(), version: expectedVersion).version
        } catch {
            logger.info("ISR update for \(tp) lost (\(error)); waiting for the controller")
            return nil
        }
    }

    func notifyIsrChange(_ tps: [TopicPartition]) {
        _ = try? client.create(ZkPaths.isrChangePrefix, data: IsrChangePayload.encode(tps), mode: .persistentSequential)
    }
}

/// Hands the client's session events to the session, which cannot capture itself before its
/// client exists.
private final class SessionEventRelay: Sendable {
    private let handler = Mutex<(@Sendable (SessionEvent) -> Void)?>(nil)

    func set(_ h: @escaping @Sendable (SessionEvent) -> Void) { handler.withLock { $0 = h } }
    func forward(_ ev: SessionEvent) { handler.withLock { $0 }?(ev) }
}
