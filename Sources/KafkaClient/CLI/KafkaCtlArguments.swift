/// Argument parsing for `kafkactl` (hand-written, I/O-free so it can be tested). Flags follow Kafka's
/// tools: `--flag value` or `--flag=value`; repeated `--property k=v`.
public enum KafkaCtlCommand: Equatable, Sendable {
    case topics(TopicsCommand)
    case consoleProducer(ConsoleProducerOptions)
    case consoleConsumer(ConsoleConsumerOptions)
    case consumerGroups(ConsumerGroupsCommand)
    case datagen(DatagenOptions)
    case perfProducer(PerfProducerOptions)
    case perfConsumer(PerfConsumerOptions)
    case userScram(UserScramCommand)
    case acls(AclsCommand)
    case configs(ConfigsCommand)
    case deleteRecords(DeleteRecordsCommand)
    case logDirs(LogDirsCommand)
    case help(String?)
}

/// `user-scram --add --user U --password P [--mechanism SCRAM-SHA-256|SCRAM-SHA-512] [--iterations N]`.
public struct UserScramCommand: Equatable, Sendable {
    public var bootstrap: [String]
    public var user: String
    public var password: String
    public var mechanism: String
    public var iterations: Int
}

public struct CLIError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ m: String) { message = m }
    public var description: String { message }
}

public struct TopicsCommand: Equatable, Sendable {
    public enum Action: Equatable, Sendable {
        case create(topic: String, partitions: Int32?, replicationFactor: Int16?, configs: [String: String], ifNotExists: Bool)
        case describe(topic: String?)
        case list
        case delete(topic: String)
        case alter(topic: String, partitions: Int32)
    }
    public var bootstrap: [String]
    public var action: Action
}

public struct ConsoleProducerOptions: Equatable, Sendable {
    public var bootstrap: [String]
    public var topic: String
    public var parseKey = false
    public var keySeparator = "\t"
    public var acks: Int16 = -1
    public var compression = "none"
    public var properties: [String: String] = [:]
}

public struct ConsoleConsumerOptions: Equatable, Sendable {
    public var bootstrap: [String]
    public var topic: String
    public var group: String?
    public var fromBeginning = false
    public var maxMessages: Int?
    public var timeoutMs: Int?
    public var partition: Int32?
    public var offset: String?
    public var printKey = false
    public var printPartition = false
    public var printOffset = false
    public var keySeparator = "\t"
    public var properties: [String: String] = [:]
}

public struct ConsumerGroupsCommand: Equatable, Sendable {
    public enum Action: Equatable, Sendable {
        case list
        case describe(group: String)
        case resetOffsets(group: String, topic: String, toEarliest: Bool, execute: Bool)
    }
    public var bootstrap: [String]
    public var action: Action
}

public struct DatagenOptions: Equatable, Sendable {
    public enum Kind: String, Sendable { case orders, pageviews }
    public var bootstrap: [String]
    public var topic: String
    public var kind: Kind
    /// Records per second; nil = as fast as possible.
    public var rate: Double?
    /// nil = until interrupted.
    public var count: Int?
    public var seed: UInt64?
    public var properties: [String: String] = [:]
}

public struct PerfProducerOptions: Equatable, Sendable {
    public var bootstrap: [String]
    public var topic: String
    public var numRecords: Int
    public var recordSize: Int
    /// Records per second; -1 = unthrottled.
    public var throughput: Double
    public var acks: Int16 = -1
    public var properties: [String: String] = [:]
}

public struct PerfConsumerOptions: Equatable, Sendable {
    public var bootstrap: [String]
    public var topic: String
    public var messages: Int
    public var group: String?
    public var timeoutMs: Int = 10_000
    public var properties: [String: String] = [:]
}

/// Tokenized flags: each `--name` with its value (nil for switches), in order.
struct ParsedFlags {
    var values: [String: [String]] = [:]
    var switches: Set<String> = []
    static let multi: Set<String> = ["producer-props", "consumer-props"]

    init(_ args: ArraySlice<String>, valued: Set<String>, switches allowed: Set<String>) throws {
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            guard a.hasPrefix("--"), a.count > 2 else { throw CLIError("unexpected argument '\(a)'") }
            var name = String(a.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if allowed.contains(name) {
                guard inline == nil else { throw CLIError("--\(name) takes no value") }
                switches.insert(name)
            } else if valued.contains(name) {
                if let inline {
                    values[name, default: []].append(inline)
                } else {
                    i += 1
                    guard i < args.endIndex else { throw CLIError("--\(name) needs a value") }
                    values[name, default: []].append(args[i])
                    // Kafka's --producer-props/--consumer-props take several k=v words.
                    while Self.multi.contains(name), i + 1 < args.endIndex, !args[i + 1].hasPrefix("--") {
                        i += 1
                        values[name, default: []].append(args[i])
                    }
                }
            } else {
                throw CLIError("unknown option --\(name)")
            }
            i += 1
        }
    }

    func has(_ s: String) -> Bool { switches.contains(s) || values[s] != nil }
    func string(_ n: String) -> String? { values[n]?.last }
    func required(_ n: String) throws -> String {
        guard let v = string(n), !v.isEmpty else { throw CLIError("missing required option --\(n)") }
        return v
    }
    func int(_ n: String) throws -> Int? {
        guard let s = string(n) else { return nil }
        guard let v = Int(s) else { throw CLIError("--\(n) wants an integer, got '\(s)'") }
        return v
    }
    func double(_ n: String) throws -> Double? {
        guard let s = string(n) else { return nil }
        guard let v = Double(s) else { throw CLIError("--\(n) wants a number, got '\(s)'") }
        return v
    }
    /// Repeated `k=v` values (also space-separated lists after one flag, as --producer-props allows).
    func properties(_ names: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for n in names {
            for v in values[n] ?? [] {
                for item in v.split(separator: " ") {
                    guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                        throw CLIError("--\(n) wants key=value, got '\(item)'")
                    }
                    out[String(item[..<eq])] = String(item[item.index(after: eq)...])
                }
            }
        }
        return out
    }
    func bootstrap() throws -> [String] {
        do {
            return try ClientConfig.parseBootstrap(string("bootstrap-server") ?? "localhost:9092")
        } catch {
            throw CLIError("\(error)")
        }
    }
}

extension KafkaCtlCommand {
    public static let usage = """
    usage: kafkactl <command> [options]   (--bootstrap-server HOST:PORT, default localhost:9092)
      topics --create --topic T [--partitions N] [--replication-factor R] [--config k=v] [--if-not-exists]
      topics --describe [--topic T] | --list | --delete --topic T | --alter --topic T --partitions N
      console-producer --topic T [--property parse.key=true --property key.separator=:] [--acks 0|1|all]
                       [--compression-codec none|gzip|snappy|lz4]
      console-consumer --topic T [--group G] [--from-beginning] [--max-messages N] [--timeout-ms MS]
                       [--partition P --offset earliest|latest|N] [--property print.key=true ...]
      consumer-groups --list | --describe --group G
                      | --reset-offsets --group G --topic T (--to-earliest|--to-latest) (--execute|--dry-run)
      datagen --topic T --kind orders|pageviews [--rate N] [--count N] [--seed S] [--producer-property k=v]
      perf-producer --topic T --num-records N --record-size B --throughput N|-1 [--acks 0|1|all]
                    [--producer-props k=v ...]
      user-scram --add --user U --password P [--mechanism SCRAM-SHA-256|SCRAM-SHA-512] [--iterations N]
      perf-consumer --topic T --messages N [--group G] [--timeout MS] [--consumer-props k=v ...]
      acls --add|--remove|--list [--allow-principal User:U]... [--deny-principal User:U]... [--allow-host H] [--deny-host H]
           [--operation OP]... [--topic T]... [--group G]... [--cluster] [--transactional-id T]...
           [--resource-pattern-type literal|prefixed|match|any] [--principal User:U (with --list)]
      configs --describe --entity-type topics --entity-name T
      configs --alter --entity-type topics --entity-name T [--add-config k=v,k2=[a,b]] [--delete-config k,k2]
      delete-records --offset-json-file F   ({"partitions":[{"topic":"t","partition":0,"offset":N}],"version":1})
      log-dirs --describe [--topic-list T1,T2]
    """

    public static func parse(_ argv: [String]) throws -> KafkaCtlCommand {
        guard let cmd = argv.first else { throw CLIError("no command given\n\(usage)") }
        let rest = argv.dropFirst()
        if rest.contains("--help") || rest.contains("-h") { return .help(cmd) }
        switch cmd {
        case "help", "--help", "-h": return .help(nil)
        case "topics": return .topics(try parseTopics(rest))
        case "console-producer": return .consoleProducer(try parseConsoleProducer(rest))
        case "console-consumer": return .consoleConsumer(try parseConsoleConsumer(rest))
        case "consumer-groups": return .consumerGroups(try parseGroups(rest))
        case "datagen": return .datagen(try parseDatagen(rest))
        case "perf-producer": return .perfProducer(try parsePerfProducer(rest))
        case "perf-consumer": return .perfConsumer(try parsePerfConsumer(rest))
        case "user-scram":
            let f = try ParsedFlags(rest, valued: ["bootstrap-server", "user", "password", "mechanism", "iterations"], switches: ["add"])
            guard f.switches.contains("add") else { throw CLIError("user-scram needs --add") }
            return .userScram(UserScramCommand(bootstrap: try f.bootstrap(), user: try f.required("user"), password: try f.required("password"),
                                               mechanism: f.string("mechanism") ?? "SCRAM-SHA-256", iterations: try f.int("iterations") ?? 4096))
        case "acls": return .acls(try parseAcls(rest))
        case "configs": return .configs(try parseConfigs(rest))
        case "delete-records": return .deleteRecords(try parseDeleteRecords(rest))
        case "log-dirs": return .logDirs(try parseLogDirs(rest))
        default: throw CLIError("unknown command '\(cmd)'\n\(usage)")
        }
    }

    public static func parseAcks(_ s: String) throws -> Int16 {
        switch s.lowercased() {
        case "all", "-1": return -1
        case "0": return 0
        case "1": return 1
        default: throw CLIError("acks must be 0, 1, -1 or all, got '\(s)'")
        }
    }

    static func positiveInt32(_ v: Int?, _ name: String) throws -> Int32? {
        guard let v else { return nil }
        guard v > 0, v <= Int(Int32.max) else { throw CLIError("--\(name) must be a positive integer") }
        return Int32(v)
    }

    static func parseTopics(_ a: ArraySlice<String>) throws -> TopicsCommand {
        let f = try ParsedFlags(a, valued: ["bootstrap-server", "topic", "partitions", "replication-factor", "config"],
                                switches: ["create", "describe", "list", "delete", "alter", "if-not-exists", "if-exists"])
        let actions = ["create", "describe", "list", "delete", "alter"].filter { f.switches.contains($0) }
        guard actions.count == 1 else {
            throw CLIError("topics needs exactly one of --create, --describe, --list, --delete, --alter")
        }
        let bs = try f.bootstrap()
        switch actions[0] {
        case "create":
            let rf = try f.int("replication-factor")
            if let rf, rf <= 0 || rf > Int(Int16.max) { throw CLIError("--replication-factor must be a positive integer") }
            return TopicsCommand(bootstrap: bs, action: .create(
                topic: try f.required("topic"), partitions: try positiveInt32(try f.int("partitions"), "partitions"),
                replicationFactor: rf.map { Int16($0) }, configs: try f.properties(["config"]),
                ifNotExists: f.switches.contains("if-not-exists")))
        case "describe":
            return TopicsCommand(bootstrap: bs, action: .describe(topic: f.string("topic")))
        case "list":
            return TopicsCommand(bootstrap: bs, action: .list)
        case "delete":
            return TopicsCommand(bootstrap: bs, action: .delete(topic: try f.required("topic")))
        default:
            guard let p = try positiveInt32(try f.int("partitions"), "partitions") else {
                throw CLIError("--alter needs --partitions N")
            }
            return TopicsCommand(bootstrap: bs, action: .alter(topic: try f.required("topic"), partitions: p))
        }
    }

    static func parseBool(_ s: String?, _ name: String) throws -> Bool {
        guard let s else { return false }
        switch s.lowercased() {
        case "true": return true
        case "false": return false
        default: throw CLIError("property \(name) wants true or false, got '\(s)'")
        }
    }

    static func parseConsoleProducer(_ a: ArraySlice<String>) throws -> ConsoleProducerOptions {
        let f = try ParsedFlags(a, valued: ["bootstrap-server", "broker-list", "topic", "property", "producer-property", "acks",
                                            "request-required-acks", "compression-codec"], switches: ["sync"])
        let bsString = f.string("bootstrap-server") ?? f.string("broker-list") ?? "localhost:9092"
        var o = ConsoleProducerOptions(bootstrap: try bootstrapList(bsString), topic: try f.required("topic"))
        let props = try f.properties(["property"])
        o.parseKey = try parseBool(props["parse.key"], "parse.key")
        if let sep = props["key.separator"] {
            guard !sep.isEmpty else { throw CLIError("key.separator must not be empty") }
            o.keySeparator = sep
        }
        o.properties = try f.properties(["producer-property"])
        if let acks = f.string("acks") ?? f.string("request-required-acks") ?? o.properties["acks"] { o.acks = try parseAcks(acks) }
        if let c = f.string("compression-codec") ?? o.properties["compression.type"] {
            guard ["none", "gzip", "snappy", "lz4"].contains(c) else { throw CLIError("unsupported compression '\(c)'") }
            o.compression = c
        }
        return o
    }

    static func bootstrapList(_ s: String) throws -> [String] {
        do { return try ClientConfig.parseBootstrap(s) } catch { throw CLIError("\(error)") }
    }

    static func parseConsoleConsumer(_ a: ArraySlice<String>) throws -> ConsoleConsumerOptions {
        let f = try ParsedFlags(a, valued: ["bootstrap-server", "topic", "group", "max-messages", "timeout-ms", "partition",
                                            "offset", "property", "consumer-property"],
                                switches: ["from-beginning"])
        var o = ConsoleConsumerOptions(bootstrap: try f.bootstrap(), topic: try f.required("topic"))
        o.group = f.string("group")
        o.fromBeginning = f.switches.contains("from-beginning")
        if let m = try f.int("max-messages") {
            guard m > 0 else { throw CLIError("--max-messages must be positive") }
            o.maxMessages = m
        }
        if let t = try f.int("timeout-ms") {
            guard t >= 0 else { throw CLIError("--timeout-ms must not be negative") }
            o.timeoutMs = t
        }
        if let p = try f.int("partition") {
            guard p >= 0, p <= Int(Int32.max) else { throw CLIError("--partition must not be negative") }
            o.partition = Int32(p)
        }
        if let off = f.string("offset") {
            guard off == "earliest" || off == "latest" || Int64(off).map({ $0 >= 0 }) == true else {
                throw CLIError("--offset wants earliest, latest or a non-negative number")
            }
            guard o.partition != nil else { throw CLIError("--offset needs --partition") }
            o.offset = off
        }
        if o.group != nil && o.partition != nil { throw CLIError("--group and --partition cannot be combined") }
        let props = try f.properties(["property"])
        o.printKey = try parseBool(props["print.key"], "print.key")
        o.printPartition = try parseBool(props["print.partition"], "print.partition")
        o.printOffset = try parseBool(props["print.offset"], "print.offset")
        if let sep = props["key.separator"] { o.keySeparator = sep }
        o.properties = try f.properties(["consumer-property"])
        return o
    }

    static func parseGroups(_ a: ArraySlice<String>) throws -> ConsumerGroupsCommand {
        let f = try ParsedFlags(a, valued: ["bootstrap-server", "group", "topic"],
                                switches: ["list", "describe", "reset-offsets", "to-earliest", "to-latest", "execute", "dry-run",
                                           "members", "offsets"])
        let actions = ["list", "describe", "reset-offsets"].filter { f.switches.contains($0) }
        guard actions.count == 1 else { throw CLIError("consumer-groups needs exactly one of --list, --describe, --reset-offsets") }
        let bs = try f.bootstrap()
        switch actions[0] {
        case "list": return ConsumerGroupsCommand(bootstrap: bs, action: .list)
        case "describe": return ConsumerGroupsCommand(bootstrap: bs, action: .describe(group: try f.required("group")))
        default:
            let e = f.switches.contains("to-earliest"), l = f.switches.contains("to-latest")
            guard e != l else { throw CLIError("--reset-offsets needs exactly one of --to-earliest, --to-latest") }
            let x = f.switches.contains("execute"), d = f.switches.contains("dry-run")
            guard !(x && d) else { throw CLIError("--execute and --dry-run cannot be combined") }
            return ConsumerGroupsCommand(bootstrap: bs, action: .resetOffsets(group: try f.required("group"), topic: try f.required("topic"),
                                                                              toEarliest: e, execute: x))
        }
    }

    static func parseDatagen(_ a: ArraySlice<String>) throws -> DatagenOptions {
        let f = try ParsedFlags(a, valued: ["bootstrap-server", "topic", "kind", "rate", "count", "seed", "producer-property"], switches: [])
        let kindName = try f.required("kind")
        guard let kind = DatagenOptions.Kind(rawValue: kindName) else { throw CLIError("--kind must be orders or pageviews") }
        var o = DatagenOptions(bootstrap: try f.bootstrap(), topic: try f.required("topic"), kind: kind)
        if let r = try f.double("rate"), r > 0 { o.rate = r } else if let r = try f.double("rate"), r != -1 {
            throw CLIError("--rate must be positive (or -1 for unthrottled), got \(r)")
        }
        if let c = try f.int("count") {
            guard c > 0 || c == -1 else { throw CLIError("--count must be positive (or -1 for no limit)") }
            o.count = c > 0 ? c : nil
        } else {
            o.count = 100
        }
        if let s = f.string("seed") {
            guard let v = UInt64(s) else { throw CLIError("--seed wants a non-negative integer") }
            o.seed = v
        }
        o.properties = try f.properties(["producer-property"])
        return o
    }

    static func parsePerfProducer(_ a: ArraySlice<String>) throws -> PerfProducerOptions {
        let f = try ParsedFlags(a, valued: ["bootstrap-server", "topic", "num-records", "record-size", "throughput", "acks",
                                            "producer-props", "producer-property"], switches: ["print-metrics"])
        guard let n = try f.int("num-records"), n > 0 else { throw CLIError("--num-records must be a positive integer") }
        guard let size = try f.int("record-size"), size >= 0, size <= 100 << 20 else { throw CLIError("--record-size must be 0...104857600") }
        guard let tp = try f.double("throughput"), tp > 0 || tp == -1 else { throw CLIError("--throughput must be positive or -1") }
        let props = try f.properties(["producer-props", "producer-property"])
        var bs = f.string("bootstrap-server") ?? props["bootstrap.servers"] ?? "localhost:9092"
        if bs.isEmpty { bs = "localhost:9092" }
        var o = PerfProducerOptions(bootstrap: try bootstrapList(bs), topic: try f.required("topic"), numRecords: n,
                                    recordSize: size, throughput: tp)
        o.properties = props
        if let acks = f.string("acks") ?? props["acks"] { o.acks = try parseAcks(acks) }
        return o
    }

    static func parsePerfConsumer(_ a: ArraySlice<String>) throws -> PerfConsumerOptions {
        let f = try ParsedFlags(a, valued: ["bootstrap-server", "broker-list", "topic", "messages", "group", "timeout",
                                            "consumer-props", "consumer-property", "fetch-size"],
                                switches: ["show-detailed-stats", "print-metrics"])
        guard let n = try f.int("messages"), n > 0 else { throw CLIError("--messages must be a positive integer") }
        var o = PerfConsumerOptions(bootstrap: try bootstrapList(f.string("bootstrap-server") ?? f.string("broker-list") ?? "localhost:9092"),
                                    topic: try f.required("topic"), messages: n)
        o.group = f.string("group")
        if let t = try f.int("timeout") {
            guard t > 0 else { throw CLIError("--timeout must be positive") }
            o.timeoutMs = t
        }
        o.properties = try f.properties(["consumer-props", "consumer-property"])
        if let fs = try f.int("fetch-size") { o.properties["max.partition.fetch.bytes"] = String(fs) }
        return o
    }
}
