import Dispatch
import Foundation
import KafkaClient
import Protocol
import Sasl
import Synchronization

/// Unbuffered line output, so piped consumers see records as they arrive.
func out(_ s: String) {
    FileHandle.standardOutput.write(Data((s + "\n").utf8))
}

func eprint(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Turns SIGINT/SIGTERM into a flag the main loop polls, so consumers can commit and leave cleanly.
final class StopFlag: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    private var sources: [DispatchSourceSignal] = []

    init() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [self] in
                // A second signal, or a main loop stuck in a blocking call for 5 s, ends the process.
                if flag.exchange(true, ordering: .relaxed) { exit(130) }
                DispatchQueue.global().asyncAfter(deadline: .now() + 5) { exit(130) }
            }
            s.resume()
            sources.append(s)
        }
    }

    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// `--command-config FILE` (anywhere on the command line, as Kafka's tools take it): client properties
/// such as security.protocol, sasl.*, ssl.* for every command; per-command props override them.
func commandConfigProperties() -> [String: String] {
    let args = CommandLine.arguments
    var path: String?
    for (i, a) in args.enumerated() {
        if a == "--command-config", i + 1 < args.count { path = args[i + 1] }
        if a.hasPrefix("--command-config=") { path = String(a.dropFirst("--command-config=".count)) }
    }
    guard let path else { return [:] }
    guard let data = FileManager.default.contents(atPath: path) else {
        eprint("kafkactl: cannot read --command-config \(path)")
        exit(2)
    }
    var out: [String: String] = [:]
    for line in String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
        let t = line.trimmingCharacters(in: .whitespaces)
        if t.isEmpty || t.hasPrefix("#") || t.hasPrefix("!") { continue }
        guard let eq = t.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
        out[t[..<eq].trimmingCharacters(in: .whitespaces)] = t[t.index(after: eq)...].trimmingCharacters(in: .whitespaces)
    }
    return out
}

/// The command line without `--command-config FILE` (the tools' parser does not know it).
func argumentsWithoutCommandConfig(_ args: [String]) -> [String] {
    var out: [String] = []
    var skip = false
    for a in args {
        if skip { skip = false; continue }
        if a == "--command-config" { skip = true; continue }
        if a.hasPrefix("--command-config=") { continue }
        out.append(a)
    }
    return out
}

func clientConfig(_ bootstrap: [String], _ commandProps: [String: String] = [:]) -> ClientConfig {
    let props = commandConfigProperties().merging(commandProps) { _, cmd in cmd }
    var c = ClientConfig(bootstrapServers: bootstrap, clientId: props["client.id"] ?? "kafkactl")
    if let t = props["request.timeout.ms"].flatMap(Int.init) { c.requestTimeoutMs = t }
    // SASL: Kafka's property names, or KAFKA_SASL_MECHANISM / KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD.
    let env = ProcessInfo.processInfo.environment
    var security = props
    for (key, variable) in [("sasl.mechanism", "KAFKA_SASL_MECHANISM"), ("sasl.username", "KAFKA_SASL_USERNAME"), ("sasl.password", "KAFKA_SASL_PASSWORD")]
    where security[key] == nil {
        // The environment's username/password must not override a sasl.jaas.config from the file.
        if key != "sasl.mechanism" && security["sasl.jaas.config"] != nil { continue }
        if let v = env[variable] { security[key] = v }
    }
    do {
        try ClientSecurity.apply(security, to: &c, strict: false)
    } catch {
        eprint("kafkactl: \(error)")
        exit(2)
    }
    return c
}

func compressionType(_ s: String) -> CompressionType {
    switch s {
    case "gzip": .gzip
    case "snappy": .snappy
    case "lz4": .lz4
    default: .none
    }
}

/// Applies the producer properties kafkactl understands (Kafka names).
func applyProducerProps(_ c: inout ProducerConfig, _ p: [String: String]) throws {
    for (k, v) in p {
        switch k {
        case "acks": c.acks = try KafkaCtlCommand.parseAcks(v)
        case "batch.size": c.batchSize = try intProp(k, v)
        case "linger.ms": c.lingerMs = try intProp(k, v)
        case "buffer.memory": c.bufferMemory = try intProp(k, v)
        case "compression.type":
            guard ["none", "gzip", "snappy", "lz4"].contains(v) else { throw CLIError("unsupported compression.type \(v)") }
            c.compression = compressionType(v)
        case "enable.idempotence": c.enableIdempotence = v == "true"
        case "retries": c.retries = try intProp(k, v)
        case "max.in.flight.requests.per.connection": c.maxInFlightPerConnection = try intProp(k, v)
        case "delivery.timeout.ms": c.deliveryTimeoutMs = try intProp(k, v)
        case "max.request.size": c.maxRequestSize = try intProp(k, v)
        case "bootstrap.servers", "client.id", "request.timeout.ms", "key.serializer", "value.serializer": break
        case let k where k == "security.protocol" || k.hasPrefix("ssl.") || k.hasPrefix("sasl."): break  // clientConfig's
        default: eprint("kafkactl: ignoring unsupported producer property \(k)")
        }
    }
}

func applyConsumerProps(_ c: inout ConsumerConfig, _ p: [String: String]) throws {
    for (k, v) in p {
        switch k {
        case "fetch.min.bytes": c.fetchMinBytes = try intProp(k, v)
        case "fetch.max.bytes": c.fetchMaxBytes = try intProp(k, v)
        case "fetch.max.wait.ms": c.fetchMaxWaitMs = try intProp(k, v)
        case "max.partition.fetch.bytes": c.maxPartitionFetchBytes = try intProp(k, v)
        case "max.poll.records": c.maxPollRecords = try intProp(k, v)
        case "enable.auto.commit": c.enableAutoCommit = v == "true"
        case "auto.commit.interval.ms": c.autoCommitIntervalMs = try intProp(k, v)
        case "session.timeout.ms": c.sessionTimeoutMs = try intProp(k, v)
        case "heartbeat.interval.ms": c.heartbeatIntervalMs = try intProp(k, v)
        case "max.poll.interval.ms": c.maxPollIntervalMs = try intProp(k, v)
        case "auto.offset.reset":
            guard let r = OffsetReset(rawValue: v) else { throw CLIError("auto.offset.reset must be earliest, latest or none") }
            c.autoOffsetReset = r
        case "partition.assignment.strategy":
            c.assignmentStrategies = try v.split(separator: ",").map {
                guard let s = AssignmentStrategy(kafkaName: String($0)) else { throw CLIError("unknown assignor \($0)") }
                return s
            }
        case "group.id": c.groupId = v
        case "bootstrap.servers", "client.id", "request.timeout.ms", "key.deserializer", "value.deserializer": break
        case let k where k == "security.protocol" || k.hasPrefix("ssl.") || k.hasPrefix("sasl."): break  // clientConfig's
        default: eprint("kafkactl: ignoring unsupported consumer property \(k)")
        }
    }
}

func intProp(_ k: String, _ v: String) throws -> Int {
    guard let n = Int(v), n >= 0 else { throw CLIError("property \(k) wants a non-negative integer, got '\(v)'") }
    return n
}

/// Left-aligned columns, each as wide as its widest cell plus a gap (as Kafka's tools print them).
func printTable(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in i == cells.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count + 1) }
            .joined(separator: "")
    }
    print(line(header))
    for r in rows { print(line(r)) }
}

func timestampString(_ ms: Int64) -> String {
    let f = DateFormatter()
    f.dateFormat = "yyyy-MM-dd HH:mm:ss:SSS"
    return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}
