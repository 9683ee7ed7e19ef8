import Protocol
@_exported import enum Sasl.SaslMechanism
import Sasl
import Transport

/// SASL credentials: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (`sasl.mechanism`, `sasl.username`, `sasl.password`).
public struct ClientSasl: Sendable, Equatable {
    public var mechanism: SaslMechanism
    public var username: String
    public var password: String
    public init(mechanism: SaslMechanism, username: String, password: String) {
        self.mechanism = mechanism
        self.username = username
        self.password = password
    }
}

/// Settings shared by producer, consumer and admin (Kafka's names in comments).
public struct ClientConfig: Sendable {
    /// bootstrap.servers, "host:port" each.
    public var bootstrapServers: [String]
    /// client.id
    public var clientId: String
    /// request.timeout.ms
    public var requestTimeoutMs: Int
    /// socket.connection.setup.timeout.ms
    public var connectTimeoutMs: Int
    /// metadata.max.age.ms
    public var metadataMaxAgeMs: Int
    /// retry.backoff.ms
    public var retryBackoffMs: Int
    /// reconnect.backoff.ms
    public var reconnectBackoffMs: Int
    /// Largest response frame accepted (guards memory against a bad peer).
    public var maxResponseBytes: Int
    /// security.protocol=SASL_PLAINTEXT with sasl.mechanism / sasl.username / sasl.password (nil: PLAINTEXT).
    public var sasl: ClientSasl?
    /// security.protocol=SSL or SASL_SSL: every broker connection speaks TLS with this context (nil: plaintext).
    /// `ClientTLS.config(properties:)` reads Kafka's client ssl.* keys.
    public var tls: TLSContext?

    public init(bootstrapServers: [String], clientId: String = "swift-kafka",
                requestTimeoutMs: Int = 30000, connectTimeoutMs: Int = 10000,
                metadataMaxAgeMs: Int = 300_000, retryBackoffMs: Int = 100,
                reconnectBackoffMs: Int = 50, maxResponseBytes: Int = 128 << 20) {
        self.bootstrapServers = bootstrapServers
        self.clientId = clientId
        self.requestTimeoutMs = requestTimeoutMs
        self.connectTimeoutMs = connectTimeoutMs
        self.metadataMaxAgeMs = metadataMaxAgeMs
        self.retryBackoffMs = retryBackoffMs
        self.reconnectBackoffMs = reconnectBackoffMs
        self.maxResponseBytes = maxResponseBytes
    }

    /// Parses "h1:p1,h2:p2"; throws on an empty list or a bad entry.
    public static func parseBootstrap(_ s: String) throws -> [String] {
        let parts = s.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw KafkaError.invalidArgument("empty bootstrap server list") }
        for p in parts where HostPort(p) == nil {
            throw KafkaError.invalidArgument("bad bootstrap server '\(p)' (want host:port)")
        }
        return parts
    }
}

/// A "host:port" pair.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) { self.host = host; self.port = port }

    public init?(_ s: String) {
        let t = s.trimmingWhitespace()
        if t.hasPrefix("[") {
            guard let close = t.firstIndex(of: "]") else { return nil }
            let rest = t[t.index(after: close)...]
            guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()), (1...65535).contains(p) else { return nil }
            host = String(t[t.index(after: t.startIndex)..<close])
            port = p
            return
        }
        guard let colon = t.lastIndex(of: ":"), let p = Int(t[t.index(after: colon)...]),
              (1...65535).contains(p), colon != t.startIndex else { return nil }
        // "a:1,b:2" passed as one server must not become host "a:1,b" (it then fails late, at resolve).
        guard !t[..<colon].contains(where: { $0 == "," || $0 == " " || $0 == "\t" }) else { return nil }
        host = String(t[..<colon])
        port = p
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A topic and partition.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(_ topic: String, _ partition: Int32) { self.topic = topic; self.partition = partition }
    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        a.topic != b.topic ? a.topic < b.topic : a.partition < b.partition
    }
    public var description: String { "\(topic)-\(partition)" }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
