import KafkaClient

/// The console process: cluster clients, the router and the HTTP server.
public final class ConsoleApp: @unchecked Sendable {
    public let config: ConsoleConfig
    private let kafka: KafkaQueries
    private let coord: CoordQueries?
    private let server: HTTPServer

    public init(config: ConsoleConfig) throws {
        self.config = config
        kafka = try KafkaQueries(config: config)
        coord = config.zookeeperConnect.map { CoordQueries(connect: $0, timeoutMs: config.requestTimeoutMs) }
        let router = Router(config: config, kafka: kafka, coord: coord, timeline: TimelineQueries(endpoints: config.adminEndpoints))
        server = HTTPServer { req in router.handle(req) }
    }

    /// Binds the listener; the port is known after this (listener=...:0 picks a free one).
    public func start() throws -> Int {
        try server.start(host: config.listenHost, port: config.listenPort)
        return server.port
    }

    public func stop() {
        server.stop()
        coord?.close()
        kafka.close()
    }
}
