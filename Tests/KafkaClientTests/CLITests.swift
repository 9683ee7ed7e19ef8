import Testing
@testable import KafkaClient

struct CLITests {
    func parse(_ s: String) throws -> KafkaCtlCommand { try KafkaCtlCommand.parse(s.split(separator: " ").map(String.init)) }

    @Test func topicsCreate() throws {
        let c = try parse("topics --bootstrap-server h1:9092,h2:9093 --create --topic orders --partitions 6 --replication-factor 3 --config retention.ms=1000")
        #expect(c == .topics(TopicsCommand(bootstrap: ["h1:9092", "h2:9093"],
                                           action: .create(topic: "orders", partitions: 6, replicationFactor: 3,
                                                           configs: ["retention.ms": "1000"], ifNotExists: false))))
    }

    @Test func topicsOtherActions() throws {
        #expect(try parse("topics --describe") == .topics(TopicsCommand(bootstrap: ["localhost:9092"], action: .describe(topic: nil))))
        #expect(try parse("topics --bootstrap-server=b:1 --list") == .topics(TopicsCommand(bootstrap: ["b:1"], action: .list)))
        #expect(try parse("topics --delete --topic x") == .topics(TopicsCommand(bootstrap: ["localhost:9092"], action: .delete(topic: "x"))))
        #expect(try parse("topics --alter --topic x --partitions 4") == .topics(TopicsCommand(bootstrap: ["localhost:9092"], action: .alter(topic: "x", partitions: 4))))
    }

    @Test(arguments: [
        "topics",
        "topics --list --describe",
        "topics --create",
        "topics --create --topic t --partitions 0",
        "topics --create --topic t --partitions x",
        "topics --alter --topic t",
        "topics --list --bootstrap-server nohostport",
        "topics --list --bootstrap-server",
        "topics --list extra",
        "topics --list --wat",
        "console-producer",
        "console-producer --topic t --property parse.key=maybe",
        "console-producer --topic t --acks 2",
        "console-consumer --topic t --max-messages 0",
        "console-consumer --topic t --offset 5",
        "consumer-groups --reset-offsets --group g --topic t",
        "consumer-groups --reset-offsets --group g --topic t --to-earliest --to-latest",
        "consumer-groups --describe",
        "datagen --topic t --kind tweets",
        "perf-producer --topic t --num-records 10 --record-size 10",
        "perf-producer --topic t --num-records -1 --record-size 10 --throughput -1",
        "perf-consumer --topic t",
        "frobnicate",
        "",
    ])
    func badArgumentsAreRejected(line: String) {
        #expect(throws: CLIError.self) { try parse(line) }
    }

    @Test func consoleProducerProperties() throws {
        let c = try parse("console-producer --bootstrap-server b:1 --topic t --property parse.key=true --property key.separator=: --acks 1")
        guard case .consoleProducer(let o) = c else { Issue.record("wrong command"); return }
        #expect(o.parseKey && o.keySeparator == ":" && o.acks == 1 && o.topic == "t")
    }

    @Test func consoleConsumerOptions() throws {
        let c = try parse("console-consumer --topic t --group g --from-beginning --max-messages 10 --timeout-ms 500 --property print.key=true")
        guard case .consoleConsumer(let o) = c else { Issue.record("wrong command"); return }
        #expect(o.group == "g" && o.fromBeginning && o.maxMessages == 10 && o.timeoutMs == 500 && o.printKey)
    }

    @Test func consumerGroupsActions() throws {
        #expect(try parse("consumer-groups --list") == .consumerGroups(.init(bootstrap: ["localhost:9092"], action: .list)))
        #expect(try parse("consumer-groups --describe --group g") == .consumerGroups(.init(bootstrap: ["localhost:9092"], action: .describe(group: "g"))))
        #expect(try parse("consumer-groups --reset-offsets --group g --topic t --to-latest --execute")
                == .consumerGroups(.init(bootstrap: ["localhost:9092"], action: .resetOffsets(group: "g", topic: "t", toEarliest: false, execute: true))))
    }

    @Test func perfToolsAndDatagen() throws {
        guard case .perfProducer(let p) = try parse("perf-producer --topic t --num-records 1000 --record-size 100 --throughput -1 --acks all --producer-props linger.ms=10 batch.size=65536")
        else { Issue.record("wrong command"); return }
        #expect(p.numRecords == 1000 && p.recordSize == 100 && p.throughput == -1 && p.acks == -1)
        #expect(p.properties == ["linger.ms": "10", "batch.size": "65536"])
        guard case .perfConsumer(let c) = try parse("perf-consumer --topic t --messages 50 --timeout 2000") else { Issue.record("wrong"); return }
        #expect(c.messages == 50 && c.timeoutMs == 2000)
        guard case .datagen(let d) = try parse("datagen --topic o --kind orders --rate 5 --count 20") else { Issue.record("wrong"); return }
        #expect(d.kind == .orders && d.rate == 5 && d.count == 20)
    }

    @Test func helpIsRecognised() throws {
        #expect(try parse("topics --help") == .help("topics"))
        #expect(try parse("help") == .help(nil))
    }
}
