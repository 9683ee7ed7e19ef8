import Foundation
import KafkaClient

// kafkactl: Kafka's command-line tools (kafka-topics, kafka-console-*, kafka-consumer-groups,
// kafka-*-perf-test) over the Swift client. Exit status 0 on success, 1 on failure, 2 on bad usage.

signal(SIGPIPE, SIG_IGN)

// The admin-plane command lives here, apart from the Kafka tools' parser.
if CommandLine.arguments.dropFirst().first == "timeline" {
    do {
        try TimelineCommand.parse(Array(CommandLine.arguments.dropFirst(2))).run()
        exit(0)
    } catch let u as CLIUsage {
        FileHandle.standardError.write(Data("kafkactl: \(u)\n".utf8))
        exit(2)
    } catch {
        FileHandle.standardError.write(Data("kafkactl: error: \(error)\n".utf8))
        exit(1)
    }
}

let command: KafkaCtlCommand
do {
    command = try KafkaCtlCommand.parse(argumentsWithoutCommandConfig(Array(CommandLine.arguments.dropFirst())))
} catch {
    FileHandle.standardError.write(Data("kafkactl: \(error)\n".utf8))
    exit(2)
}

do {
    switch command {
    case .help:
        print(KafkaCtlCommand.usage)
    case .topics(let c):
        try runTopics(c)
    case .consoleProducer(let o):
        try runConsoleProducer(o)
    case .consoleConsumer(let o):
        try runConsoleConsumer(o)
    case .consumerGroups(let c):
        try runConsumerGroups(c)
    case .datagen(let o):
        try runDatagen(o)
    case .perfProducer(let o):
        try runPerfProducer(o)
    case .perfConsumer(let o):
        try runPerfConsumer(o)
    case .userScram(let c):
        guard let m = SaslMechanism(name: c.mechanism), m.isScram else { throw KafkaError.invalidArgument("--mechanism \(c.mechanism) is not SCRAM-SHA-256/512") }
        let admin = try Admin(config: clientConfig(c.bootstrap))
        defer { admin.close() }
        try admin.upsertScramUser(c.user, password: c.password, mechanism: m, iterations: c.iterations)
        print("SCRAM credential \(m.rawValue) (\(c.iterations) iterations) set for \(c.user)")
    case .acls(let c):
        try runAcls(c)
    case .configs(let c):
        try runConfigs(c)
    case .deleteRecords(let c):
        try runDeleteRecords(c)
    case .logDirs(let c):
        try runLogDirs(c)
    }
    exit(0)
} catch {
    FileHandle.standardError.write(Data("kafkactl: error: \(error)\n".utf8))
    exit(1)
}
