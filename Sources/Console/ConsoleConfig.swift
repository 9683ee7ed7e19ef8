import CoordClient
import Crypto
import KafkaClient
import Transport

/// console.properties, parsed and checked (I/O-free). Unknown keys and bad values are errors: an
/// operator who typed `readonly=false` must not get a read-only console without being told, and
/// one who typed `read.only=flase` must not get a writable one.
public struct ConsoleConfig: Sendable, Equatable {
    public var listenHost: String
    public var listenPort: Int
    /// bootstrap.servers
    public var bootstrapServers: [String]
    /// zookeeper.connect (optional: without it the Znodes page says so).
    public var zookeeperConnect: String?
    /// read.only (default true): no write action is allowed at all.
    public var readOnly: Bool
    /// admin.token: writes need it in the X-Console-Token header (required when read.only=false).
    public var adminToken: String?
    /// admin.endpoints: host:port of the daemons' HTTP admin endpoints, for the timeline and overview.
    public var adminEndpoints: [HostPort]
    /// request.timeout.ms for the cluster clients (a dead broker must not hold a page for 30 s).
    public var requestTimeoutMs: Int
    /// faults.token: sent to the daemons' fault controls when they require one (their faults.token).
    public var faultsToken: String?
    /// Kafka's client keys (security.protocol, sasl.*, ssl.*): the SASL login and TLS to the brokers.
    public var kafkaSasl: ClientSasl?
    public var kafkaTLS: TLSConfig?
    /// ZooKeeper's client keys (zookeeper.ssl.*, zookeeper.clientCnxnSocket): TLS to coordd's secureClientPort.
    public var zookeeperTLS: TLSConfig?
    /// java.security.auth.login.config, zookeeper.sasl.clientconfig, zookeeper.sasl.client as given;
    /// `resolveZooKeeperSasl` reads the JAAS file into `zookeeperSasl`.
    public var zookeeperSaslKeys: [String: String] = [:]
    public var zookeeperSasl: ZooKeeperSasl?

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let description: String
        init(_ d: String) { description = d }
    }

    public static let knownKeys: Set<String> = Set<String>([
        "listener", "bootstrap.servers", "zookeeper.connect", "read.only", "admin.token", "admin.endpoints", "request.timeout.ms",
        "faults.token",
    ]).union(kafkaSecurityKeys).union(ZooKeeperClientTLS.known).union(zookeeperSaslKeyNames)

    static let kafkaSecurityKeys: Set<String> = Set(["security.protocol"]).union(ClientSecurity.saslKeys).union(ClientTLS.known)
    static let zookeeperSaslKeyNames: Set<String> = [ZooKeeperSasl.jaasProperty, ZooKeeperSasl.sectionProperty, ZooKeeperSasl.enableProperty]

    /// Parses Java-properties style text: `key=value` lines, `#`/`!` comments.
    public static func parse(_ text: String) throws -> ConsoleConfig {
        var kv: [String: String] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimming(" \t\r")
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let eq = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw Invalid("line \(n + 1): expected key=value, got '\(line)'")
            }
            let key = String(line[..<eq]).trimming(" \t")
            let value = String(line[line.index(after: eq)...]).trimming(" \t")
            guard knownKeys.contains(key) else {
                throw Invalid("line \(n + 1): unknown key '\(key)' (known: \(knownKeys.sorted().joined(separator: ", ")))")
            }
            kv[key] = value
        }
        return try ConsoleConfig(kv)
    }

    init(_ kv: [String: String]) throws {
        let listener = kv["listener"] ?? "127.0.0.1:8080"
        guard let hp = HostPort(listener) else { throw Invalid("listener: '\(listener)' is not host:port") }
        listenHost = hp.host
        listenPort = hp.port
        guard let bs = kv["bootstrap.servers"], !bs.isEmpty else { throw Invalid("bootstrap.servers is required") }
        do { bootstrapServers = try ClientConfig.parseBootstrap(bs) } catch { throw Invalid("bootstrap.servers: \(error)") }
        if let zk = kv["zookeeper.connect"], !zk.isEmpty {
            let hosts = zk.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
            let parts = hosts.split(separator: ",")
            guard !parts.isEmpty, parts.allSatisfy({ HostPort(String($0)) != nil }) else {
                throw Invalid("zookeeper.connect: '\(zk)' is not host:port[,host:port...][/chroot]")
            }
            zookeeperConnect = zk
        }
        switch kv["read.only"] ?? "true" {
        case "true": readOnly = true
        case "false": readOnly = false
        case let v: throw Invalid("read.only: '\(v)' is neither true nor false")
        }
        adminToken = kv["admin.token"].flatMap { $0.isEmpty ? nil : $0 }
        if !readOnly {
            guard let t = adminToken else { throw Invalid("read.only=false needs admin.token (writes are allowed only with the token)") }
            guard t.count >= 16 else { throw Invalid("admin.token must be at least 16 characters") }
        }
        adminEndpoints = []
        for e in (kv["admin.endpoints"] ?? "").split(separator: ",") {
            guard let hp = HostPort(String(e)) else { throw Invalid("admin.endpoints: '\(e)' is not host:port") }
            adminEndpoints.append(hp)
        }
        let timeout = kv["request.timeout.ms"] ?? "5000"
        guard let t = Int(timeout), (100...120_000).contains(t) else { throw Invalid("request.timeout.ms: '\(timeout)' is not 100..120000") }
        requestTimeoutMs = t
        faultsToken = kv["faults.token"].flatMap { $0.isEmpty ? nil : $0 }
        let kafkaKeys = kv.filter { Self.kafkaSecurityKeys.contains($0.key) }
        do {
            kafkaSasl = try ClientSecurity.sasl(kafkaKeys, strict: true)
            kafkaTLS = try ClientTLS.config(properties: kafkaKeys)
        } catch let KafkaError.invalidArgument(why) {
            throw Invalid(why)
        }
        do {
            zookeeperTLS = try ZooKeeperClientTLS.config(kv.filter { ZooKeeperClientTLS.isKey($0.key) }, program: "console")
        } catch {
            throw Invalid(error.description)
        }
        zookeeperSaslKeys = kv.filter { Self.zookeeperSaslKeyNames.contains($0.key) }
        if zookeeperConnect == nil, let k = (kv.keys.filter { ZooKeeperClientTLS.isKey($0) || Self.zookeeperSaslKeyNames.contains($0) }).sorted().first {
            throw Invalid("\(k) given without zookeeper.connect")
        }
    }

    /// Reads the JAAS file of `java.security.auth.login.config` (its `Client` section, or the one
    /// `zookeeper.sasl.clientconfig` names): the console's DIGEST-MD5 login to coordd.
    public mutating func resolveZooKeeperSasl(read: (String) throws -> [UInt8]) throws {
        let keys = zookeeperSaslKeys
        do {
            zookeeperSasl = try ZooKeeperSasl.resolve(property: { keys[$0] }, origin: { $0 }, program: "console", read: read)
        } catch {
            throw Invalid(error.description)
        }
        if let path = keys[ZooKeeperSasl.jaasProperty], !path.isEmpty, zookeeperSasl == nil, keys[ZooKeeperSasl.enableProperty]?.lowercased() != "false" {
            // A JAAS file given for coordd that yields no login would silently connect unauthenticated.
            throw Invalid("\(ZooKeeperSasl.jaasProperty)=\(path) has no \(keys[ZooKeeperSasl.sectionProperty] ?? "Client") section")
        }
    }

    /// True when a request carrying `token` may change the cluster.
    public func allowsWrite(token: String?) -> Bool {
        guard !readOnly, let want = adminToken, let got = token else { return false }
        return Digests.constantTimeEqual(Array(want.utf8), Array(got.utf8))
    }
}


extension StringProtocol {
    func trimming(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
