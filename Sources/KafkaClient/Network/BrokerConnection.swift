import Protocol
import Sasl
import Transport

/// Picks, per API, the highest version both sides support (I/O-free).
public enum VersionNegotiation {
    public static func negotiate(_ broker: [ApiVersionsResponse.ApiVersion]) -> [KafkaAPI: Int16] {
        var out: [KafkaAPI: Int16] = [:]
        for v in broker {
            guard let api = KafkaAPI(rawValue: v.apiKey) else { continue }
            let ours = api.supportedVersions
            let hi = min(ours.upperBound, v.maxVersion), lo = max(ours.lowerBound, v.minVersion)
            if lo <= hi { out[api] = hi }
        }
        return out
    }
}

/// One TCP connection to one broker, owned by the cluster's event loop (all calls on the loop thread).
/// Requests are pipelined and matched to responses by correlation id; the first exchange is
/// ApiVersions, and requests made before it completes wait for it.
final class BrokerConnection {
    enum State { case connecting, negotiating, ready, closed }

    private struct Pending {
        let api: KafkaAPI
        let deadlineMs: UInt64
        let handle: (Result<[UInt8], KafkaError>) -> Void
    }

    let nodeId: Int32
    let address: HostPort
    private let loop: EventLoop
    private let clientId: String
    private let requestTimeoutMs: Int
    private var conn: Connection?
    private(set) var state: State = .connecting
    private var decoder: FrameDecoder
    private var pending: [Int32: Pending] = [:]
    private var waiting: [(BrokerConnection) -> Void] = []
    private var failWaiting: [(KafkaError) -> Void] = []
    private var nextCorrelation: Int32 = 1
    private let connectDeadlineMs: UInt64
    private(set) var versions: [KafkaAPI: Int16] = [:]
    private let sasl: ClientSasl?
    private let tls: TLSContext?
    var onClose: ((BrokerConnection, KafkaError) -> Void)?

    init(nodeId: Int32, address: HostPort, loop: EventLoop, config: ClientConfig) {
        self.nodeId = nodeId
        self.address = address
        self.loop = loop
        self.clientId = config.clientId
        self.requestTimeoutMs = config.requestTimeoutMs
        self.decoder = FrameDecoder(maxFrameBytes: config.maxResponseBytes)
        self.connectDeadlineMs = MonotonicClock.millis() + UInt64(config.connectTimeoutMs)
        self.sasl = config.sasl
        self.tls = config.tls
    }

    var inFlight: Int { pending.count }
    var isUsable: Bool { state != .closed }

    func start() {
        do {
            let c = try Connection(connectingTo: address.host, port: address.port, loop: loop)
            conn = c
            // TLS: onConnect comes once the handshake is over (the server's certificate checked against the host).
            if let tls { try c.useTLS(tls, serverName: address.host) }
            c.onConnect = { [weak self] _ in self?.negotiate() }
            c.onRead = { [weak self] _, buf in self?.received(buf) }
            c.onClose = { [weak self] _, err in
                self?.fail(.network(err.map { "\($0)" } ?? "connection to \(self?.address.description ?? "?") closed"))
            }
            c.start()
        } catch {
            // Fail on the next turn so callers never see a completion from inside their own send().
            loop.schedule(afterMillis: 0) { [self] in fail(.network("\(error)")) }
        }
    }

    func close() { fail(.closed) }

    /// Fails requests past their deadline (and the connection with them, as Kafka's clients do:
    /// a broker that stopped answering one request will not answer the next either).
    func checkTimeouts(nowMs: UInt64) {
        if state == .connecting || state == .negotiating, nowMs > connectDeadlineMs {
            fail(.timeout("connecting to \(address)"))
            return
        }
        if let late = pending.values.first(where: { $0.deadlineMs <= nowMs }) {
            fail(.timeout("\(late.api.name) to \(address) (node \(nodeId))"))
        }
    }

    /// Sends a request; `completion` runs on the loop thread exactly once.
    func send<R: KafkaRequestMessage>(_ req: R, timeoutMs: Int? = nil,
                                      completion: @escaping (Result<R.Response, KafkaError>) -> Void) {
        switch state {
        case .closed:
            completion(.failure(.network("connection to \(address) closed")))
            return
        case .connecting, .negotiating:
            waiting.append { c in c.send(req, timeoutMs: timeoutMs, completion: completion) }
            failWaiting.append { completion(.failure($0)) }
            return
        case .ready:
            break
        }
        guard let version = versions[R.api] else {
            completion(.failure(.broker(.unsupportedVersion, "broker \(address) does not support \(R.api.name) in our range \(R.api.supportedVersions)")))
            return
        }
        let corr = nextCorrelation
        nextCorrelation = nextCorrelation == Int32.max ? 1 : nextCorrelation + 1
        let frame: [UInt8]
        do {
            frame = try KafkaRequestFrame.encode(req, version: version, correlationId: corr, clientId: clientId)
        } catch {
            completion(.failure(.invalidArgument("cannot encode \(R.api.name) v\(version): \(error)")))
            return
        }
        let deadline = MonotonicClock.millis() + UInt64(timeoutMs ?? requestTimeoutMs)
        pending[corr] = Pending(api: R.api, deadlineMs: deadline) { result in
            switch result {
            case .failure(let e): completion(.failure(e))
            case .success(let bytes):
                do {
                    completion(.success(try KafkaResponseFrame.decode(R.Response.self, frame: bytes, version: version).body))
                } catch {
                    completion(.failure(.protocolViolation("\(R.api.name) v\(version) response: \(error)")))
                }
            }
        }
        conn?.write(frame)
    }

    /// Sends a request the broker will not answer (Produce with acks=0).
    func sendOneWay<R: KafkaRequestMessage>(_ req: R, completion: @escaping (KafkaError?) -> Void) {
        switch state {
        case .closed:
            completion(.network("connection to \(address) closed"))
        case .connecting, .negotiating:
            waiting.append { c in c.sendOneWay(req, completion: completion) }
            failWaiting.append { completion($0) }
        case .ready:
            guard let version = versions[R.api] else { return completion(.broker(.unsupportedVersion, R.api.name)) }
            let corr = nextCorrelation
            nextCorrelation = nextCorrelation == Int32.max ? 1 : nextCorrelation + 1
            do {
                conn?.write(try KafkaRequestFrame.encode(req, version: version, correlationId: corr, clientId: clientId))
                completion(nil)
            } catch {
                completion(.invalidArgument("\(error)"))
            }
        }
    }

    // MARK: ApiVersions

    private func negotiate(version: Int16 = KafkaAPI.apiVersions.supportedVersions.upperBound) {
        state = .negotiating
        let corr = nextCorrelation
        nextCorrelation += 1
        let req = ApiVersionsRequest(clientSoftwareName: "swift-kafka", clientSoftwareVersion: "1.0")
        guard let frame = try? KafkaRequestFrame.encode(req, version: version, correlationId: corr, clientId: clientId) else {
            return fail(.protocolViolation("cannot encode ApiVersions"))
        }
        pending[corr] = Pending(api: .apiVersions, deadlineMs: connectDeadlineMs + UInt64(requestTimeoutMs)) { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(let e): fail(e)
            case .success(let bytes):
                do {
                    var r = ByteReader(bytes)
                    _ = try r.readInt32()  // correlation id; ApiVersions responses use header v0
                    let resp = try ApiVersionsResponse.decodeAnswer(from: &r, requestedVersion: version)
                    if resp.errorCode == .unsupportedVersion {
                        // The broker lists the ApiVersions range it has; retry at its highest (once).
                        let theirs = resp.apiKeys.first { $0.apiKey == KafkaAPI.apiVersions.rawValue }?.maxVersion ?? 0
                        let retry = min(theirs, version - 1)
                        guard retry >= 0, retry < version else { return fail(.broker(.unsupportedVersion, "ApiVersions")) }
                        return negotiate(version: retry)
                    }
                    guard !resp.errorCode.isError else { return fail(.broker(resp.errorCode, "ApiVersions")) }
                    versions = VersionNegotiation.negotiate(resp.apiKeys)
                    if let sasl { authenticate(sasl) } else { becomeReady() }
                } catch {
                    fail(.protocolViolation("ApiVersions v\(version) response: \(error)"))
                }
            }
        }
        conn?.write(frame)
    }

    private func becomeReady() {
        state = .ready
        let w = waiting
        waiting.removeAll()
        failWaiting.removeAll()
        for run in w { run(self) }
    }

    /// A request while still negotiating (SASL): bypasses the ready-state queue.
    private func early<R: KafkaRequestMessage>(_ req: R, version: Int16, _ done: @escaping (R.Response) -> Void) {
        let corr = nextCorrelation
        nextCorrelation += 1
        guard let frame = try? KafkaRequestFrame.encode(req, version: version, correlationId: corr, clientId: clientId) else {
            return fail(.protocolViolation("cannot encode \(R.api.name)"))
        }
        pending[corr] = Pending(api: R.api, deadlineMs: connectDeadlineMs + UInt64(requestTimeoutMs)) { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(let e): fail(e)
            case .success(let bytes):
                do { done(try KafkaResponseFrame.decode(R.Response.self, frame: bytes, version: version).body) } catch {
                    fail(.protocolViolation("\(R.api.name) response: \(error)"))
                }
            }
        }
        conn?.write(frame)
    }

    /// SaslHandshake v1, then SaslAuthenticate rounds (PLAIN: one; SCRAM: two and a server-signature check).
    private func authenticate(_ a: ClientSasl) {
        early(SaslHandshakeRequest(mechanism: a.mechanism.rawValue), version: 1) { [weak self] hs in
            guard let self else { return }
            guard hs.errorCode == .none else {
                return fail(.broker(hs.errorCode, "SASL mechanism \(a.mechanism.rawValue) not enabled (broker offers \(hs.mechanisms))"))
            }
            let step: ([UInt8], @escaping ([UInt8]) -> Void) -> Void = { [weak self] token, next in
                self?.early(SaslAuthenticateRequest(authBytes: token), version: 1) { r in
                    guard r.errorCode == .none else {
                        self?.fail(.broker(r.errorCode, "SASL authentication failed: \(r.errorMessage ?? "")"))
                        return
                    }
                    next(r.authBytes)
                }
            }
            guard let digest = a.mechanism.scramDigest else {
                return step(PlainServer.clientToken(user: a.username, password: a.password)) { [weak self] _ in self?.becomeReady() }
            }
            var c = ScramClient(digest: digest, user: a.username, password: a.password)
            step(c.firstMessage()) { [weak self] first in
                do {
                    let final = try c.finalMessage(serverFirst: first)
                    step(final) { [weak self] serverFinal in
                        do {
                            try c.verify(serverFinal: serverFinal)
                            self?.becomeReady()
                        } catch { self?.fail(.protocolViolation("\(error)")) }
                    }
                } catch { self?.fail(.protocolViolation("\(error)")) }
            }
        }
    }

    // MARK: input

    private func received(_ buf: UnsafeRawBufferPointer) {
        decoder.append(buf)
        while state != .closed {
            switch decoder.next() {
            case .needMoreData:
                return
            case .tooLarge(let n):
                return fail(.protocolViolation("response frame of \(n) bytes from \(address)"))
            case .negativeLength(let n):
                return fail(.protocolViolation("negative frame length \(n) from \(address)"))
            case .frame(let frame):
                guard let corr = KafkaResponseFrame.correlationId(of: frame), let p = pending.removeValue(forKey: corr) else {
                    return fail(.protocolViolation("response with unknown correlation id from \(address)"))
                }
                p.handle(.success(frame))
            }
        }
    }

    private func fail(_ error: KafkaError) {
        guard state != .closed else { return }
        state = .closed
        let c = conn
        conn = nil
        c?.onClose = nil
        c?.close()
        let p = pending
        pending.removeAll()
        let fw = failWaiting
        waiting.removeAll()
        failWaiting.removeAll()
        for (_, x) in p.sorted(by: { $0.key < $1.key }) { x.handle(.failure(error)) }
        for f in fw { f(error) }
        onClose?(self, error)
    }
}
