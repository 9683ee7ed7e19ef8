import Foundation
import KafkaClient
import Outbox

// outbox-sample: the transactional outbox (seed note 003) on SQLite and the Swift Kafka client.
// See docs/outbox.md.

let usage = """
    usage: outbox-sample <command> [options]
      order   --db FILE [--count N] [--interval-ms MS]      place N orders (order row + outbox row, one SQLite txn)
      relay   --db FILE --bootstrap-server H:P[,H:P] [--topic T] [--batch N] [--until-empty] [--pace-ms MS]
              [--transactional-id ID]
      consume --db FILE --bootstrap-server H:P[,H:P] [--topic T] [--expect N] [--idle-exit-ms MS] [--timeout-ms MS]
      status  --db FILE [--applied-db FILE]               counts as key=value lines
      demo    --bootstrap-server H:P[,H:P] [--dir DIR] [--orders N] [--topic T]
                                                          everything end to end, then checks exactly-once
    """

func fail(_ msg: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("outbox-sample: \(msg)\n".utf8))
    exit(status)
}

/// One line to stdout, written at once (the integration test reads it while the process runs).
func say(_ s: String) {
    FileHandle.standardOutput.write(Data((s + "\n").utf8))
}

struct Options {
    var values: [String: String] = [:]
    var flags: Set<String> = []
    static let flagNames: Set<String> = ["--until-empty"]

    init(_ args: ArraySlice<String>) {
        var it = args.makeIterator()
        while let a = it.next() {
            guard a.hasPrefix("--") else { fail("unexpected argument '\(a)'\n\(usage)") }
            if Self.flagNames.contains(a) { flags.insert(a); continue }
            guard let v = it.next() else { fail("\(a) needs a value") }
            values[a] = v
        }
    }

    func string(_ k: String) -> String? { values[k] }
    func required(_ k: String) -> String {
        guard let v = values[k] else { fail("\(k) is required\n\(usage)") }
        return v
    }
    func int(_ k: String, _ d: Int) -> Int {
        guard let s = values[k] else { return d }
        guard let v = Int(s), v >= 0 else { fail("\(k) wants a non-negative number, not '\(s)'") }
        return v
    }
    func servers() -> [String] {
        do { return try ClientConfig.parseBootstrap(required("--bootstrap-server")) } catch { fail("\(error)") }
    }
}

let args = CommandLine.arguments
guard args.count >= 2 else { fail(usage) }
let command = args[1]
let opts = Options(args.dropFirst(2))
let topic = opts.string("--topic") ?? "orders"

do {
    switch command {
    case "order":
        let store = try OrderStore(path: opts.required("--db"))
        let n = opts.int("--count", 10), interval = opts.int("--interval-ms", 0)
        var first: Int64?, last: Int64 = 0
        for i in 0..<n {
            let (order, _) = try store.placeOrder(customer: "customer-\(i % 17)", amountCents: Int64(100 + (i * 37) % 9900))
            first = first ?? order
            last = order
            if interval > 0 { usleep(UInt32(interval) * 1000) }
        }
        say("order: placed \(n) orders" + (first.map { " (ids \($0)...\(last))" } ?? ""))
    case "relay":
        var rc = RelayConfig(bootstrapServers: opts.servers())
        rc.topic = topic
        rc.batchSize = max(1, opts.int("--batch", 50))
        rc.exitWhenEmpty = opts.flags.contains("--until-empty")
        rc.paceMs = opts.int("--pace-ms", 0)
        rc.transactionalId = opts.string("--transactional-id") ?? rc.transactionalId
        rc.log = { say($0) }
        rc.crashAfterCommits = ProcessInfo.processInfo.environment["OUTBOX_RELAY_CRASH_AFTER_COMMITS"].flatMap { Int($0) }
        let relay = Relay(store: try OrderStore(path: opts.required("--db")), config: rc)
        try relay.run()
        say("relay: done, published \(relay.published) events, recovered \(relay.recovered)")
    case "consume":
        let applier = try Applier(path: opts.required("--db"), bootstrapServers: opts.servers(), topic: topic)
        applier.log = { say($0) }
        let expect = opts.string("--expect").map { _ in Int64(opts.int("--expect", 0)) }
        try applier.run(expect: expect, idleExitMs: opts.string("--idle-exit-ms").map { _ in opts.int("--idle-exit-ms", 0) },
                        timeoutMs: opts.string("--timeout-ms").map { _ in opts.int("--timeout-ms", 0) })
        say("consume: done, \(try applier.appliedCount()) orders applied, \(try applier.duplicatesSkipped()) duplicates skipped")
    case "status":
        let c = try OrderStore(path: opts.required("--db")).counts()
        say("orders=\(c.orders)\noutbox=\(c.outbox)\nsent=\(c.sent)")
        if let a = opts.string("--applied-db") {
            let applier = try Applier(path: a, bootstrapServers: ["127.0.0.1:9092"], topic: topic)
            say("applied=\(try applier.appliedCount())\nduplicates=\(try applier.duplicatesSkipped())")
        }
    case "demo":
        try Demo.run(servers: opts.servers(), dir: opts.string("--dir"), orders: opts.int("--orders", 100), topic: topic)
    case "-h", "--help", "help":
        say(usage)
    default:
        fail("unknown command '\(command)'\n\(usage)")
    }
} catch {
    fail("\(error)", status: 1)
}
