import BrokerServer
import Foundation
import Glibc
import Transport

// brokerd server.properties — a Kafka broker that registers in coordd.
let args = CommandLine.arguments
guard args.count == 2 else {
    Logger.raw("usage: brokerd server.properties\n")
    exit(2)
}
guard let data = FileManager.default.contents(atPath: args[1]) else {
    Logger.raw("brokerd: cannot read config file \(args[1])\n")
    exit(2)
}
var config: BrokerConfig
do {
    config = try BrokerConfig.parse(String(decoding: data, as: UTF8.self))
    // Kafka operators give the JAAS file for ZooKeeper in KAFKA_OPTS.
    try config.resolveZooKeeperSasl(environment: ProcessInfo.processInfo.environment) { path in
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
} catch {
    Logger.raw("brokerd: bad config \(args[1]): \(error)\n")
    exit(2)
}

if !config.unknownKeys.isEmpty {
    // Kafka logs unknown configs and goes on; security keys never get here (they are refused).
    Logger.raw("brokerd: WARN the configuration keys \(config.unknownKeys.sorted().joined(separator: ", ")) are not known and are ignored\n")
}

// Signals are blocked before any thread starts so only the main thread's sigwait sees them.
TerminationSignals.block()
let broker: Broker
do {
    broker = try Broker(config: config)
    broker.onFatal = { f in
        Logger.raw("brokerd: \(f.description)\n")
        exit(f.exitCode)
    }
    try broker.start()
} catch let f as FatalBrokerError {
    Logger.raw("brokerd: \(f.description)\n")
    exit(f.exitCode)
} catch {
    Logger.raw("brokerd: cannot start: \(error)\n")
    exit(1)
}
if let z = config.zookeeperSasl {
    Logger.raw("brokerd: logging in to coordd with SASL DIGEST-MD5 as \(z.login.user) (JAAS section \(z.section) of \(z.jaasFile))\(config.zookeeperSetACL ? ", znodes with secure ACLs" : "")\n")
}
Logger.raw("brokerd: started (broker.id=\(config.brokerID), listening on \(broker.advertised.host):\(broker.advertised.port))\n")
let sig = TerminationSignals.wait()
Logger.raw("brokerd: signal \(sig), stopping\n")
broker.shutdown()
exit(0)
