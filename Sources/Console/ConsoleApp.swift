import Dispatch
import KafkaClient
import Observability
import Transport

/// The console process: cluster clients, the router and the HTTP server.
public final class ConsoleApp: @unchecked Sendable {
    public let config: ConsoleConfig
    private let kafka: KafkaQueries
    private let coord: CoordQueries?
    private let server: HTTPServer

    public init(config: ConsoleConfig) throws {
        self.config = config
        kafka = try KafkaQueries(config: config)
        let coordTLS: TLSContext?
        do { coordTLS = try config.zookeeperTLS.map { try TLSContext(client: $0) } } catch { throw ConsoleConfig.Invalid("zookeeper.ssl.*: \(error)") }
        coord = config.zookeeperConnect.map {
            CoordQueries(connect: $0, timeoutMs: config.requestTimeoutMs, tls: coordTLS, sasl: config.zookeeperSasl?.login)
        }
        let router = Router(config: config, kafka: kafka, coord: coord, timeline: TimelineQueries(endpoints: config.adminEndpoints, timeoutMillis: config.requestTimeoutMs))
        var limits = HTTPLimits()
        limits.maxBodyBytes = 1 << 20  // a produced message
        limits.requestsPerSecond = 1000
        limits.maxConnections = 256
        // Handlers make blocking cluster calls: they run on workers (at most 16 at once), never on the server's loop.
        let workers = DispatchQueue(label: "console-api", attributes: .concurrent)
        let slots = DispatchSemaphore(value: 16)
        server = HTTPServer(limits: limits, name: "console-http") { req, responder in
            workers.async {
                slots.wait()
                defer { slots.signal() }
                responder.respond(router.handle(req))
            }
        }
    }

    /// Binds the listener; the port is known after this (listener=...:0 picks a free one).
    public func start() throws -> Int {
        try server.start(host: config.listenHost, port: config.listenPort)
    }

    public func stop() {
        server.stop()
        coord?.close()
        kafka.close()
    }
}
