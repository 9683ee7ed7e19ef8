#if canImport(Glibc)
import Glibc
#endif
import CoordServer
import Storage

// coordd zoo.cfg — a ZooKeeper-compatible coordination server.

@Sendable func log(_ msg: String) {
    // One write(2) per line so lines from different threads do not interleave.
    let line = Array("coordd: \(msg)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

func fail(_ msg: String) -> Never {
    log(msg)
    exit(2)
}

let args = CommandLine.arguments
guard args.count == 2 else { fail("usage: coordd /path/to/zoo.cfg") }

let fs = PosixFileSystem()
let text: String
do {
    text = String(decoding: try fs.read(args[1]), as: UTF8.self)
} catch {
    fail("cannot read config \(args[1]): \(error)")
}

// ZooKeeper operators give SASL settings to the JVM in these (zkServer.sh passes both).
var environment: [String: String] = [:]
for name in ["SERVER_JVMFLAGS", "JVMFLAGS"] {
    if let v = getenv(name) { environment[name] = String(cString: v) }
}
var config: ZooConfig
do {
    config = try ZooConfig.parse(text, environment: environment)
    try config.sasl.resolve(environment: environment) { try fs.read($0) }
} catch {
    fail("bad config \(args[1]): \(error)")
}
if let users = config.sasl.users {
    log("SASL DIGEST-MD5 for clients: \(users.count) users in section \(config.sasl.section) of \(config.sasl.jaasFile ?? "")")
} else if config.auth.saslEnabled {
    log("authProvider SASLAuthenticationProvider without a JAAS file: sasl ACLs are valid but no client can authenticate by SASL")
}
if let raw = try? fs.read(config.dataDir + "/myid") {
    let s = String(decoding: raw, as: UTF8.self).filter { !$0.isWhitespace }
    guard let id = Int(s), id >= 0, id < 256 else { fail("bad myid file in \(config.dataDir): '\(s)'") }
    // Session ids carry myid in their top byte; 0xFF there marks a TTL node's owner.
    guard id < 255 else { fail("myid 255 is reserved: session ids of server 255 would read as TTL node owners (ZooKeeper's extended types allow 254 at most)") }
    config.myid = id
}
if let id = config.myid, let me = config.servers[id], let cp = me.clientPort, config.clientPort == 0 {
    config.clientPort = cp
    if config.clientPortAddress == nil, let h = me.clientHost { config.clientPortAddress = h }
}
if !config.servers.isEmpty {
    guard let id = config.myid, config.servers[id] != nil else {
        fail("ensemble of \(config.servers.count) servers configured, but \(config.dataDir)/myid is missing or names no server.N line")
    }
    log("ensemble of \(config.servers.count) servers configured, this is server \(id)")
}

// Signals are taken synchronously on this thread; block them before any other thread starts.
signal(SIGPIPE, SIG_IGN)
var mask = sigset_t()
sigemptyset(&mask)
sigaddset(&mask, SIGTERM)
sigaddset(&mask, SIGINT)
pthread_sigmask(SIG_BLOCK, &mask, nil)

let server = CoordServer(config: config, fs: fs, logger: log)
let port: Int
do {
    port = try server.start()
} catch {
    log("cannot start: \(error)")
    exit(1)
}
if config.hasClientPort { log("serving clients on \(config.listenHost):\(port)") }
if config.secureClientPort != nil { log("serving TLS clients on \(config.secureListenHost):\(server.securePort)") }
do {
    try server.startAdmin()
} catch {
    log("cannot start the admin server on \(config.adminServerAddress):\(config.adminServerPort): \(error)")
    server.stop()
    exit(1)
}

var sig: Int32 = 0
sigwait(&mask, &sig)
log("signal \(sig): shutting down")
server.stop()
log("stopped")
exit(0)
