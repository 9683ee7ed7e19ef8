import CoordCore
import Sasl
import Transport

/// zoo.cfg, as ZooKeeper reads it: `key=value` lines, `#` comments, `server.N=` ensemble lines.
public struct ZooConfig: Sendable, Equatable {
    /// A `server.N=` line.
    public typealias ServerEntry = EnsembleServer

    public var dataDir = ""
    public var dataLogDir: String?
    public var clientPort = 0
    public var clientPortAddress: String?
    /// TLS client port (ZooKeeper's secureClientPort); served beside clientPort when both are set.
    public var secureClientPort: Int?
    public var secureClientPortAddress: String?
    /// The secure port's TLS settings, from the ssl.* keys (see ZooTLSKeys).
    public var secureClientTLS: TLSConfig?
    /// Whether clientPort was configured (a secure-only server opens no plaintext port).
    public var hasClientPort = true
    public var tickTime: Int32 = 2000
    public var initLimit = 10
    public var syncLimit = 5
    public var maxClientCnxns = 60
    public var minSessionTimeout: Int32?
    public var maxSessionTimeout: Int32?
    /// Largest accepted client frame (jute.maxbuffer).
    public var maxBuffer = 0xfffff
    /// nil: every four-letter word is allowed (`*`). Without the key only `srvr`, as ZooKeeper 3.5+.
    public var fourLetterWhitelist: Set<String>? = ["srvr"]
    /// Super digest, skipACL, digest provider switch (ZooKeeper's system properties, given in
    /// zoo.cfg without their `zookeeper.` prefix as ZooKeeper reads them).
    public var auth = AuthPolicy()
    /// Transactions between snapshots.
    public var snapCount = 100_000
    public var servers: [Int: ServerEntry] = [:]
    /// ZooKeeper's AdminServer keys. ZooKeeper turns it on by default on 8080; coordd only when asked.
    public var adminEnableServer = false
    public var adminServerAddress = "0.0.0.0"
    public var adminServerPort = 8080
    public var myid: Int?
    /// ZooKeeper's peerType: "observer" or "participant"; nil when not given. It must agree with
    /// this server's own `server.N` line (checked once myid is known, see `checkPeerType`).
    public var peerType: String?
    /// Shared secret of the ensemble's peer links (`PeerAuth`); nil: peers are not authenticated.
    public var quorumSecretFile: String?
    /// Bind the quorum port on every address instead of this server's `server.N` host (ZooKeeper's
    /// quorumListenOnAllIPs): a container or pod may not resolve its own name when it starts.
    public var quorumListenOnAllIPs = false
    /// Fault controls on the admin server (coordd's own keys; docs/operations.md).
    public var faultsEnable = false
    public var faultsToken: String?
    /// TTL nodes (zookeeper.extendedTypesEnabled); off by default as in ZooKeeper.
    public var extendedTypesEnabled = false
    /// ContainerManager: how often the leader looks for empty containers and expired TTL nodes,
    /// how many it deletes per minute at most, and after how long a never-used container goes (0: never).
    public var containerCheckIntervalMs = 60_000
    public var containerMaxPerMinute = 10_000
    public var containerMaxNeverUsedIntervalMs = 0
    /// SASL for client connections (authProvider, JAAS file, superUser, enforced authentication).
    public var sasl = ZooSaslConfig()
    /// ZooKeeper's read-only mode (the `readonlymode.enabled` system property): cut off from the
    /// quorum, the server serves reads to clients that allow it (`canBeReadOnly`).
    public var readOnlyModeEnabled = false
    /// ZooKeeper's local sessions: a new session lives on its server only (no txn) until it
    /// creates an ephemeral, which needs `localSessionsUpgradingEnabled` (else EphemeralOnLocalSession).
    public var localSessionsEnabled = false
    public var localSessionsUpgradingEnabled = false
    /// ZooKeeper's reconfigEnabled: the reconfig op may change the ensemble (off by default).
    public var reconfigEnabled = false
    /// Keys we accept but do not use (autopurge.*, etc.).
    public var ignored: [String: String] = [:]

    public init() {}

    public var effectiveMinSessionTimeout: Int32 { minSessionTimeout ?? tickTime * 2 }
    public var effectiveMaxSessionTimeout: Int32 { maxSessionTimeout ?? tickTime * 20 }
    public var logDir: String { (dataLogDir ?? dataDir) + "/version-2" }
    public var snapDir: String { dataDir + "/version-2" }
    public var listenHost: String { clientPortAddress ?? "0.0.0.0" }
    public var secureListenHost: String { secureClientPortAddress ?? clientPortAddress ?? "0.0.0.0" }

    /// `environment`: SASL settings given ZooKeeper-style as `-Dzookeeper.<key>=` in
    /// `$SERVER_JVMFLAGS $JVMFLAGS` count as well (zoo.cfg lines come after them and win).
    public static func parse(_ text: String, environment: [String: String] = [:]) throws(ZooConfigError) -> ZooConfig {
        var c = ZooConfig()
        var sawClientPort = false
        var tlsKeys = ZooTLSKeys()
        let flags = [environment["SERVER_JVMFLAGS"], environment["JVMFLAGS"]].compactMap { $0 }.joined(separator: " ")
        // Authentication settings given to the JVM come first, as if they were zoo.cfg lines 0, -1, ...
        let fromFlags = JvmFlags.systemProperties(in: flags).filter { ZooSaslConfig.readFromJvmFlags($0.name) || $0.name == "readonlymode.enabled" }
        let lines = fromFlags.map { "\($0.name)=\($0.value)"[...] } + text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, raw) in lines.enumerated() {
            let n = i - fromFlags.count
            let line = String(raw).trimmed(" \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else { throw ZooConfigError("line \(n + 1): expected key=value, got '\(line)'") }
            let key = String(line[..<eq]).trimmed(" \t")
            let value = String(line[line.index(after: eq)...]).trimmed(" \t")
            func int(_ lo: Int = 0, _ hi: Int = Int(Int32.max)) throws(ZooConfigError) -> Int {
                guard let v = Int(value), v >= lo, v <= hi else { throw ZooConfigError("\(key): '\(value)' is not a number in \(lo)...\(hi)") }
                return v
            }
            switch key {
            case "dataDir": c.dataDir = value
            case "readonlymode.enabled":
                guard ["true", "false"].contains(value.lowercased()) else { throw ZooConfigError("\(key): '\(value)' is not true or false") }
                c.readOnlyModeEnabled = value.lowercased() == "true"
            case "localSessionsEnabled", "localSessionsUpgradingEnabled":
                guard ["true", "false"].contains(value.lowercased()) else { throw ZooConfigError("\(key): '\(value)' is not true or false") }
                if key == "localSessionsEnabled" { c.localSessionsEnabled = value.lowercased() == "true" } else { c.localSessionsUpgradingEnabled = value.lowercased() == "true" }
            case "reconfigEnabled", "zookeeper.reconfigEnabled":
                guard ["true", "false"].contains(value.lowercased()) else { throw ZooConfigError("\(key): '\(value)' is not true or false") }
                c.reconfigEnabled = value.lowercased() == "true"
            case "dynamicConfigFile":
                // Membership changes live in /zookeeper/config (replicated, snapshotted); a
                // separate file of server.N lines would be a second truth.
                throw ZooConfigError("dynamicConfigFile: coordd keeps reconfigured membership in its data (see docs/coordd.md, \"Reconfig\"); put the server.N lines in zoo.cfg")
            case "dataLogDir": c.dataLogDir = value
            case "clientPort": c.clientPort = try int(0, 65535); sawClientPort = true
            case "clientPortAddress": c.clientPortAddress = value
            case "secureClientPort": c.secureClientPort = try int(0, 65535)
            case "secureClientPortAddress": c.secureClientPortAddress = value
            case "serverCnxnFactory", "zookeeper.serverCnxnFactory":
                // ZooKeeper needs Netty for a secure port; coordd serves both kinds of port itself.
                guard ["org.apache.zookeeper.server.NettyServerCnxnFactory", "org.apache.zookeeper.server.NIOServerCnxnFactory"].contains(value) else {
                    throw ZooConfigError("\(key)=\(value): expected org.apache.zookeeper.server.NettyServerCnxnFactory or NIOServerCnxnFactory")
                }
            case "client.portUnification", "zookeeper.client.portUnification", "portUnification":
                if value.lowercased() != "false" { throw ZooConfigError("\(key)=\(value): coordd serves TLS on secureClientPort only, not on clientPort; remove it") }
            case "peerType":
                let t = value.lowercased()
                guard t == "observer" || t == "participant" else { throw ZooConfigError("Unrecognised peertype: \(value)") }
                c.peerType = t
            case "tickTime": c.tickTime = Int32(try int(1))
            case "initLimit": c.initLimit = try int(1)
            case "syncLimit": c.syncLimit = try int(1)
            case "maxClientCnxns": c.maxClientCnxns = try int(0)
            case "minSessionTimeout":
                let v = try int(-1)
                c.minSessionTimeout = v == -1 ? nil : Int32(v)
            case "maxSessionTimeout":
                let v = try int(-1)
                c.maxSessionTimeout = v == -1 ? nil : Int32(v)
            case "jute.maxbuffer": c.maxBuffer = try int(1024, 1 << 30)
            case "snapCount": c.snapCount = try int(2)
            case "faults.enable":
                guard let b = Bool(value.lowercased()) else { throw ZooConfigError("faults.enable: '\(value)' is not true or false") }
                c.faultsEnable = b
            case "faults.token":
                guard value.utf8.count >= 16 else { throw ZooConfigError("faults.token: at least 16 characters") }
                c.faultsToken = value
            case "quorumListenOnAllIPs":
                guard let b = Bool(value.lowercased()) else { throw ZooConfigError("quorumListenOnAllIPs: '\(value)' is not true or false") }
                c.quorumListenOnAllIPs = b
            case "admin.enableServer":
                guard let b = Bool(value.lowercased()) else { throw ZooConfigError("admin.enableServer: '\(value)' is not true or false") }
                c.adminEnableServer = b
            case "admin.serverAddress": c.adminServerAddress = value
            case "admin.serverPort": c.adminServerPort = try int(0, 65535)
            case "admin.forceHttps", "admin.needClientAuth", "admin.portUnification":
                // TLS settings for the admin port: refusing beats serving it in the clear.
                if value.lowercased() != "false" { throw ZooConfigError("\(key)=\(value): the admin server has no TLS in coordd; remove it") }
            case "admin.commandURL":
                if value != "/commands" { throw ZooConfigError("admin.commandURL=\(value): coordd serves commands at /commands only") }
            case "4lw.commands.whitelist":
                let words = value.split(separator: ",").map { String($0).trimmed(" \t") }.filter { !$0.isEmpty }
                // zkServer.sh needs srvr, so ZooKeeper always allows it.
                c.fourLetterWhitelist = words.contains("*") ? nil : Set(words).union(["srvr"])
            case "extendedTypesEnabled", "zookeeper.extendedTypesEnabled":
                guard let b = Bool(value.lowercased()) else { throw ZooConfigError("\(key): '\(value)' is not true or false") }
                c.extendedTypesEnabled = b
            case "znode.container.checkIntervalMs", "zookeeper.znode.container.checkIntervalMs":
                c.containerCheckIntervalMs = try int(1)
            case "znode.container.maxPerMinute", "zookeeper.znode.container.maxPerMinute":
                c.containerMaxPerMinute = try int(1)
            case "znode.container.maxNeverUsedIntervalMs", "zookeeper.znode.container.maxNeverUsedIntervalMs":
                c.containerMaxNeverUsedIntervalMs = try int(0)
            case "DigestAuthenticationProvider.superDigest", "zookeeper.DigestAuthenticationProvider.superDigest":
                guard value.contains(":") else { throw ZooConfigError("\(key): expected user:base64(sha1(user:password)), as DigestAuthenticationProvider.generateDigest prints") }
                c.auth.superDigest = value
            case "skipACL", "zookeeper.skipACL":
                c.auth.skipACL = value == "yes"
            case "DigestAuthenticationProvider.enabled", "zookeeper.DigestAuthenticationProvider.enabled":
                c.auth.digestEnabled = value.lowercased() == "true"
            case "DigestAuthenticationProvider.digestAlg", "zookeeper.DigestAuthenticationProvider.digestAlg":
                guard ["SHA1", "SHA-1"].contains(value.uppercased()) else {
                    throw ZooConfigError("\(key)=\(value): coordd computes digest ids with SHA1 only")
                }
            default:
                if try c.sasl.take(key, value) {
                    continue
                } else if try tlsKeys.take(key, value) {
                    continue
                } else if key.hasPrefix("server.") {
                    guard let id = Int(key.dropFirst(7)), id >= 0 else { throw ZooConfigError("\(key): bad server id") }
                    c.servers[id] = try parseServer(id: id, value)
                } else if key == "quorum.auth.secretFile" {
                    guard !value.isEmpty else { throw ZooConfigError("quorum.auth.secretFile: empty path") }
                    c.quorumSecretFile = value
                } else if (key.hasPrefix("quorum.auth.") || key == "sslQuorum") && value.lowercased() != "false" {
                    // A security setting we do not implement must not leave the quorum open.
                    throw ZooConfigError("\(key)=\(value): coordd has no quorum SASL/TLS; authenticate peers with quorum.auth.secretFile=PATH (a shared secret, see docs/coordd.md)")
                } else {
                    // autopurge.*, admin.*, reconfig flags and the like: accepted, not used.
                    c.ignored[key] = value
                }
            }
        }
        if c.dataDir.isEmpty { throw ZooConfigError("dataDir is not set") }
        try c.sasl.apply(to: &c.auth)
        if let min = c.minSessionTimeout, let max = c.maxSessionTimeout, min > max {
            throw ZooConfigError("minSessionTimeout \(min) > maxSessionTimeout \(max)")
        }
        if c.secureClientPort != nil {
            c.secureClientTLS = try tlsKeys.serverConfig()
        } else if !tlsKeys.values.isEmpty {
            throw ZooConfigError("\(tlsKeys.values.keys.sorted().joined(separator: ", ")) given without secureClientPort: clientPort is never TLS; set secureClientPort")
        }
        c.hasClientPort = sawClientPort || c.servers.values.contains(where: { $0.clientPort != nil })
        if !c.hasClientPort && c.secureClientPort == nil {
            throw ZooConfigError("clientPort is not set")
        }
        return c
    }

    /// An observer is named twice, as ZooKeeper has it: `:observer` on its `server.N` line (in every
    /// server's zoo.cfg) and `peerType=observer` in its own. A mismatch is refused rather than
    /// guessed: one side would count it as a voter and the other not.
    public func checkPeerType() throws(ZooConfigError) {
        guard let id = myid, let me = servers[id] else { return }
        let own = peerType ?? "participant"
        guard own == me.role else {
            throw ZooConfigError("peerType=\(peerType ?? "(unset, participant)") but server.\(id) is '\(me.role)': "
                + "an observer needs both peerType=observer and ':observer' on its server.\(id) line")
        }
        guard servers.values.contains(where: { $0.role == "participant" }) else {
            throw ZooConfigError("every server.N line is an observer: an ensemble needs participants")
        }
    }

    /// host:peerPort:electionPort[:participant|observer][;[clientHost:]clientPort]
    static func parseServer(id: Int, _ value: String) throws(ZooConfigError) -> ServerEntry {
        do {
            return try EnsembleServer(id: UInt64(id), spec: value)
        } catch {
            throw ZooConfigError(error.message)
        }
    }
}

public struct ZooConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    func trimmed(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
