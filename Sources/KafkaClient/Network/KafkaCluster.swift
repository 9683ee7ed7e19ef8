import Dispatch
import Protocol
import Synchronization
import Transport

/// Where a request should go.
public enum RequestTarget: Sendable, Equatable {
    /// A broker by node id (from metadata).
    case node(Int32)
    /// Any broker: a connected one with the fewest requests in flight, else a bootstrap server.
    case any
    /// The controller (CreateTopics, DeleteTopics, CreatePartitions).
    case controller
}

/// The network side shared by producer, consumer and admin: one event-loop thread, one connection
/// per broker, a metadata cache refreshed on demand and when stale. Thread-safe: public methods may
/// be called from any thread except the loop's own (the blocking ones), and completions of the
/// async ones run on the loop thread, so they must not block.
public final class KafkaCluster: @unchecked Sendable {
    public let config: ClientConfig
    let loop: EventLoop
    private let bootstrap: [HostPort]

    // Loop-confined.
    private var connections: [Int32: BrokerConnection] = [:]
    private var metadataState = ClusterMetadata()
    private var interestingTopics: Set<String> = []
    private var metadataWaiters: [(Result<ClusterMetadata, KafkaError>) -> Void] = []
    private var metadataInFlight = false
    private var bootstrapCursor = 0
    private var tickTimer: TimerHandle?
    private var closed = false
    private var extraAddresses: [Int32: HostPort] = [:]

    private let snapshot = Mutex<ClusterMetadata>(ClusterMetadata())
    private let isClosed = Atomic<Bool>(false)

    public init(config: ClientConfig) throws {
        let addrs = config.bootstrapServers.compactMap(HostPort.init)
        guard !addrs.isEmpty, addrs.count == config.bootstrapServers.count else {
            throw KafkaError.invalidArgument("bad bootstrap servers \(config.bootstrapServers)")
        }
        self.config = config
        self.bootstrap = addrs
        self.loop = EventLoop(name: "kafka-client")
        loop.startThread()
        loop.execute { [self] in
            bootstrapCursor = Int.random(in: 0..<bootstrap.count)
            tick()
        }
    }

    deinit { loop.stop() }

    /// Closes every connection and stops the loop thread; pending requests fail with `.closed`.
    public func close() {
        guard !isClosed.exchange(true, ordering: .relaxed) else { return }
        let done = DispatchSemaphore(value: 0)
        loop.execute { [self] in
            closed = true
            for c in connections.values { c.close() }
            connections.removeAll()
            let w = metadataWaiters
            metadataWaiters.removeAll()
            for f in w { f(.failure(.closed)) }
            done.signal()
        }
        _ = done.wait(timeout: .now() + 2)
        loop.stop()
    }

    /// The latest metadata (a copy).
    public var metadata: ClusterMetadata { snapshot.withLock { $0 } }

    // MARK: requests

    /// Sends `req`; `completion` runs on the loop thread.
    public func send<R: KafkaRequestMessage>(_ req: R, to target: RequestTarget, timeoutMs: Int? = nil,
                                             completion: @escaping @Sendable (Result<R.Response, KafkaError>) -> Void) {
        if isClosed.load(ordering: .relaxed) { return completion(.failure(.closed)) }
        loop.execute { [self] in sendOnLoop(req, to: target, timeoutMs: timeoutMs, completion: completion) }
    }

    /// Blocking request/response. Never call from a completion handler (the loop thread).
    public func call<R: KafkaRequestMessage>(_ req: R, to target: RequestTarget, timeoutMs: Int? = nil) throws -> R.Response {
        precondition(!loop.inLoopThread, "blocking call on the client's loop thread")
        let box = ResultBox<R.Response>()
        send(req, to: target, timeoutMs: timeoutMs) { box.set($0) }
        let wait = (timeoutMs ?? config.requestTimeoutMs) + config.connectTimeoutMs + 1000
        guard let r = box.wait(timeoutMs: wait) else { throw KafkaError.timeout("\(R.api.name)") }
        return try r.get()
    }

    func sendOnLoop<R: KafkaRequestMessage>(_ req: R, to target: RequestTarget, timeoutMs: Int? = nil,
                                            completion: @escaping (Result<R.Response, KafkaError>) -> Void) {
        guard !closed else { return completion(.failure(.closed)) }
        switch target {
        case .node(let id):
            guard let c = connection(to: id) else {
                return completion(.failure(.broker(.brokerNotAvailable, "node \(id) not in metadata")))
            }
            c.send(req, timeoutMs: timeoutMs, completion: completion)
        case .any:
            anyConnection().send(req, timeoutMs: timeoutMs, completion: completion)
        case .controller:
            let ctl = metadataState.controllerId
            if ctl >= 0, let c = connection(to: ctl) {
                c.send(req, timeoutMs: timeoutMs, completion: completion)
            } else {
                refreshMetadataOnLoop(topics: []) { [self] r in
                    switch r {
                    case .failure(let e): completion(.failure(e))
                    case .success(let md):
                        guard md.controllerId >= 0, let c = connection(to: md.controllerId) else {
                            return completion(.failure(.broker(.notController, "no controller in metadata")))
                        }
                        c.send(req, timeoutMs: timeoutMs, completion: completion)
                    }
                }
            }
        }
    }

    func sendOneWayOnLoop<R: KafkaRequestMessage>(_ req: R, to node: Int32, completion: @escaping (KafkaError?) -> Void) {
        guard let c = connection(to: node) else { return completion(.broker(.brokerNotAvailable, "node \(node)")) }
        c.sendOneWay(req, completion: completion)
    }

    func inFlight(node: Int32) -> Int { connections[node]?.inFlight ?? 0 }

    private func connection(to id: Int32) -> BrokerConnection? {
        if let c = connections[id], c.isUsable { return c }
        let addr: HostPort
        if id < 0 {
            let i = Int(-id - 1)
            guard i < bootstrap.count else { return nil }
            addr = bootstrap[i]
        } else if let a = extraAddresses[id] {
            addr = a
        } else {
            guard let b = metadataState.brokers[id] else { return nil }
            addr = b.address
        }
        let c = BrokerConnection(nodeId: id, address: addr, loop: loop, config: config)
        c.onClose = { [weak self] conn, _ in
            guard let self else { return }
            if connections[conn.nodeId] === conn { connections[conn.nodeId] = nil }
        }
        connections[id] = c
        c.start()
        return c
    }

    private func anyConnection() -> BrokerConnection {
        if let best = connections.values.filter({ $0.state == .ready }).min(by: { $0.inFlight < $1.inFlight }) { return best }
        // Nothing connected: take the known brokers, then the bootstrap servers, in turn, so one dead
        // server (the first in the list, say) is not asked again and again.
        let candidates = metadataState.brokers.keys.sorted() + (0..<bootstrap.count).map { Int32(-1 - $0) }
        let i = bootstrapCursor % candidates.count
        bootstrapCursor += 1
        return connection(to: candidates[i]) ?? connection(to: Int32(-1 - (i % bootstrap.count)))!
    }

    /// Gives a connection id its own address, e.g. a second connection to a group coordinator so
    /// long JoinGroup calls do not hold up fetches (brokers answer one request per connection at a time).
    public func registerNode(_ id: Int32, address: HostPort) {
        loop.execute { [self] in
            if extraAddresses[id] != address, let old = connections[id] {
                old.close()
                connections[id] = nil
            }
            extraAddresses[id] = address
        }
    }

    // MARK: metadata

    /// Adds topics the cached metadata should track.
    public func track(topics: [String]) {
        loop.execute { [self] in interestingTopics.formUnion(topics) }
    }

    /// Fetches metadata (tracked topics plus `topics`; nil = all topics) and waits for it.
    @discardableResult
    public func refreshMetadata(topics: [String]? = [], allowAutoCreate: Bool = false, timeoutMs: Int? = nil) throws -> ClusterMetadata {
        let box = ResultBox<ClusterMetadata>()
        loop.execute { [self] in
            refreshMetadataOnLoop(topics: topics, allowAutoCreate: allowAutoCreate) { box.set($0) }
        }
        guard let r = box.wait(timeoutMs: (timeoutMs ?? config.requestTimeoutMs) + config.connectTimeoutMs) else {
            throw KafkaError.timeout("metadata")
        }
        return try r.get()
    }

    /// Asks for a refresh without waiting (after NOT_LEADER_OR_FOLLOWER and friends).
    public func requestMetadataRefresh() {
        loop.execute { [self] in refreshMetadataOnLoop(topics: []) { _ in } }
    }

    /// Coalesces concurrent refreshes for tracked topics; explicit topic lists get their own request.
    func refreshMetadataOnLoop(topics: [String]?, allowAutoCreate: Bool = false,
                               completion: @escaping (Result<ClusterMetadata, KafkaError>) -> Void) {
        guard !closed else { return completion(.failure(.closed)) }
        var wanted: [String]?
        if let topics {
            interestingTopics.formUnion(topics)
            wanted = interestingTopics.sorted()
        } else {
            wanted = nil
        }
        let coalesce = topics != nil && topics!.allSatisfy { metadataState.topics[$0] != nil || interestingTopics.contains($0) } && !allowAutoCreate
        if coalesce && metadataInFlight {
            metadataWaiters.append(completion)
            return
        }
        if coalesce { metadataInFlight = true; metadataWaiters.append(completion) }
        let req = MetadataRequest(topics: wanted.map { $0.map { MetadataRequest.Topic(name: $0) } },
                                  allowAutoTopicCreation: allowAutoCreate)
        // A server that cannot be reached is skipped: try each known broker and bootstrap server once.
        var attemptsLeft = metadataState.brokers.count + bootstrap.count
        func attempt() {
            attemptsLeft -= 1
            anyConnection().send(req) { [self] r in
                switch r {
                case .success(let resp):
                    metadataState.apply(resp, requestedTopics: wanted, nowMs: MonotonicClock.millis())
                    let md = metadataState
                    snapshot.withLock { $0 = md }
                    finish(.success(md))
                case .failure(.network) where attemptsLeft > 0 && !closed:
                    attempt()
                case .failure(let e):
                    finish(.failure(e))
                }
            }
        }
        attempt()
        func finish(_ r: Result<ClusterMetadata, KafkaError>) {
            if coalesce {
                metadataInFlight = false
                let w = metadataWaiters
                metadataWaiters.removeAll()
                for f in w { f(r) }
            } else {
                completion(r)
            }
        }
    }

    /// Snapshot of loop-side metadata for loop-side users.
    var metadataOnLoop: ClusterMetadata { metadataState }

    private func tick() {
        guard !closed else { return }
        let now = MonotonicClock.millis()
        for c in Array(connections.values) { c.checkTimeouts(nowMs: now) }
        if !interestingTopics.isEmpty, now > metadataState.updatedAtMs + UInt64(config.metadataMaxAgeMs), !metadataInFlight {
            refreshMetadataOnLoop(topics: []) { _ in }
        }
        tickTimer = loop.schedule(afterMillis: 100) { [weak self] in self?.tick() }
    }

    /// Runs `body` on the loop thread.
    func onLoop(_ body: @escaping @Sendable () -> Void) { loop.execute(body) }
    func schedule(afterMs ms: Int, _ body: @escaping () -> Void) { _ = loop.schedule(afterMillis: ms, body) }
}

/// A one-shot result handed from the loop thread to a waiting caller.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let sem = DispatchSemaphore(value: 0)
    private let value = Mutex<Result<T, KafkaError>?>(nil)

    func set(_ r: Result<T, KafkaError>) {
        let first = value.withLock { v -> Bool in
            if v != nil { return false }
            v = r
            return true
        }
        if first { sem.signal() }
    }

    func wait(timeoutMs: Int) -> Result<T, KafkaError>? {
        guard sem.wait(timeout: .now() + .milliseconds(timeoutMs)) == .success else { return nil }
        return value.withLock { $0 }
    }
}
