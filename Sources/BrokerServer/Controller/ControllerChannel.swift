import Dispatch
import Foundation
import Protocol
import Transport

/// The controller's connection to one broker: requests go out in order on a serial queue, each
/// retried until the broker answers (it may still be starting) or the channel is stopped.
final class ControllerChannel: @unchecked Sendable {
    enum Request {
        case leaderAndIsr(Protocol.LeaderAndIsrRequest)
        case updateMetadata(Protocol.UpdateMetadataRequest)
        case stopReplica(Protocol.StopReplicaRequest)
    }

    let target: Int32
    private let client: KafkaBlockingClient
    private let queue: DispatchQueue
    private let logger: Logger
    private let lock = NSLock()
    private var stopped = false

    init(target: Int32, host: String, port: Int, from: Int32, sasl: InterBrokerSasl? = nil, tls: TLSContext? = nil, logger: Logger) {
        self.target = target
        self.logger = logger
        client = KafkaBlockingClient(host: host, port: port, clientId: "controller-\(from)", sasl: sasl, tls: tls)
        queue = DispatchQueue(label: "controller-channel-\(target)")
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    func stop() {
        lock.withLock { stopped = true }
        queue.async { [client] in client.close() }
    }

    func send(_ r: Request, onStopReplica: (@Sendable (StopReplicaResponse?) -> Void)? = nil) {
        let box = RequestBox(r)
        queue.async { [self] in
            var attempt = 0
            while !isStopped && attempt < 60 {
                attempt += 1
                do {
                    switch box.request {
                    case .leaderAndIsr(let req): _ = try client.send(req, version: 2, timeoutMs: 10_000)
                    case .updateMetadata(let req): _ = try client.send(req, version: 7, timeoutMs: 10_000)
                    case .stopReplica(let req):
                        let resp = try client.send(req, version: 1, timeoutMs: 10_000)
                        onStopReplica?(resp)
                    }
                    return
                } catch {
                    if attempt == 1 || attempt % 10 == 0 { logger.info("controller request to broker \(target) failed: \(error); retrying") }
                    usleep(250_000)
                }
            }
            if case .stopReplica = box.request { onStopReplica?(nil) }
        }
    }
}

private struct RequestBox: @unchecked Sendable {
    let request: ControllerChannel.Request
    init(_ r: ControllerChannel.Request) { request = r }
}
