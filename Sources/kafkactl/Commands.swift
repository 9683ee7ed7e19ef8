import Foundation
import KafkaClient
import Protocol
import Synchronization
import Transport

func runTopics(_ c: TopicsCommand) throws {
    let admin = try Admin(config: clientConfig(c.bootstrap))
    defer { admin.close() }
    switch c.action {
    case .create(let topic, let partitions, let rf, let configs, let ifNotExists):
        do {
            try admin.createTopics([NewTopic(name: topic, partitions: partitions ?? -1, replicationFactor: rf ?? -1, configs: configs)])
            print("Created topic \(topic).")
        } catch KafkaError.broker(.topicAlreadyExists, _) where ifNotExists {
        }
    case .describe(let topic):
        let topics = try admin.describeTopics(topic.map { [$0] })
        for t in topics where topic != nil || !t.isInternal {
            print("Topic: \(t.name)\tPartitionCount: \(t.partitionCount)\tReplicationFactor: \(t.replicationFactor)\tConfigs: ")
            for p in t.partitions {
                let leader = p.leader >= 0 ? String(p.leader) : "none"
                print("\tTopic: \(t.name)\tPartition: \(p.partition)\tLeader: \(leader)\tReplicas: "
                      + p.replicas.map(String.init).joined(separator: ",") + "\tIsr: " + p.isr.map(String.init).joined(separator: ","))
            }
        }
    case .list:
        for t in try admin.listTopics() { print(t) }
    case .delete(let topic):
        try admin.deleteTopics([topic])
    case .alter(let topic, let partitions):
        try admin.createPartitions(topic: topic, totalCount: partitions)
    }
}

func runConsoleProducer(_ o: ConsoleProducerOptions) throws {
    var pc = ProducerConfig(client: clientConfig(o.bootstrap, o.properties))
    pc.acks = o.acks
    pc.compression = compressionType(o.compression)
    try applyProducerProps(&pc, o.properties)
    pc.acks = o.acks
    let producer = try Producer(config: pc)
    let failures = Atomic<Int>(0)
    let onDone: DeliveryCallback = { r in
        if case .failure(let e) = r {
            failures.add(1, ordering: .relaxed)
            eprint("kafkactl: delivery failed: \(e)")
        }
    }
    while let line = readLine(strippingNewline: true) {
        var key: String?
        var value = line
        if o.parseKey {
            guard let r = line.range(of: o.keySeparator) else {
                throw CLIError("no key separator '\(o.keySeparator)' in line: \(line)")
            }
            key = String(line[..<r.lowerBound])
            value = String(line[r.upperBound...])
        }
        try producer.send(ProducerRecord(topic: o.topic, key: key, value: value), callback: onDone)
    }
    try producer.flush(timeoutMs: pc.deliveryTimeoutMs + 5000)
    producer.close()
    let f = failures.load(ordering: .relaxed)
    if f > 0 { throw CLIError("\(f) record(s) failed") }
}

func runConsoleConsumer(_ o: ConsoleConsumerOptions) throws {
    let stop = StopFlag()
    var cc = ConsumerConfig(client: clientConfig(o.bootstrap, o.properties), groupId: o.group)
    cc.autoOffsetReset = o.fromBeginning ? .earliest : .latest
    try applyConsumerProps(&cc, o.properties)
    // With a group, commit only what was printed: auto-commit would also commit records fetched in
    // the last poll but never shown (--max-messages), and the group would skip them.
    if o.group != nil { cc.enableAutoCommit = false }
    let consumer = try Consumer(config: cc)
    defer { consumer.close() }
    if let p = o.partition {
        let tp = TopicPartition(o.topic, p)
        consumer.assign([tp])
        switch o.offset {
        case "earliest"?: try consumer.seekToBeginning([tp])
        case "latest"?, nil: if !o.fromBeginning { try consumer.seekToEnd([tp]) } else { try consumer.seekToBeginning([tp]) }
        case let n?: try consumer.seek(tp, offset: Int64(n) ?? 0)
        }
    } else if o.group != nil {
        try consumer.subscribe([o.topic])
    } else {
        // No group: read every partition, as kafka-console-consumer does with its throwaway group.
        let md = try consumer.cluster.refreshMetadata(topics: [o.topic], allowAutoCreate: false)
        guard let t = md.topics[o.topic] else { throw KafkaError.unknownTopic(o.topic) }
        consumer.assign(t.partitions.map { TopicPartition(o.topic, $0.partition) })
    }
    var count = 0
    var lastRecord = MonotonicClock.millis()
    var printed: [TopicPartition: Int64] = [:]
    var lastCommit = MonotonicClock.millis()
    func commitPrinted() {
        guard o.group != nil, !printed.isEmpty else { return }
        do { try consumer.commitSync(printed) } catch { eprint("kafkactl: commit failed: \(error)") }
        printed = [:]
        lastCommit = MonotonicClock.millis()
    }
    defer { commitPrinted() }
    outer: while !stop.isSet {
        if MonotonicClock.millis() - lastCommit >= UInt64(cc.autoCommitIntervalMs) { commitPrinted() }
        let recs = try consumer.poll(timeoutMs: 200)
        if recs.isEmpty, let t = o.timeoutMs, MonotonicClock.millis() - lastRecord >= UInt64(t) { break }
        if !recs.isEmpty { lastRecord = MonotonicClock.millis() }
        for r in recs {
            var parts: [String] = []
            if o.printPartition { parts.append("Partition:\(r.partition)") }
            if o.printOffset { parts.append("Offset:\(r.offset)") }
            if o.printKey { parts.append(r.key.map { String(decoding: $0, as: UTF8.self) } ?? "null") }
            parts.append(r.value.map { String(decoding: $0, as: UTF8.self) } ?? "null")
            out(parts.joined(separator: o.keySeparator))
            printed[r.topicPartition] = r.offset + 1
            count += 1
            if let m = o.maxMessages, count >= m { break outer }
        }
    }
    eprint("Processed a total of \(count) messages")
}

func runConsumerGroups(_ c: ConsumerGroupsCommand) throws {
    let admin = try Admin(config: clientConfig(c.bootstrap))
    defer { admin.close() }
    switch c.action {
    case .list:
        for g in try admin.listGroups() { print(g.groupId) }
    case .describe(let group):
        let desc = try admin.describeGroups([group]).first
        if let d = desc, d.error == .groupIdNotFound || d.state == "Dead" {
            throw CLIError("Consumer group '\(group)' does not exist.")
        }
        let rows = try admin.describeGroupLag(group)
        if desc?.members.isEmpty ?? true {
            print("\nConsumer group '\(group)' has no active members.")
        }
        print("")
        printTable(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"],
                   rows.map { r in
                       [group, r.tp.topic, String(r.tp.partition), r.currentOffset.map(String.init) ?? "-",
                        r.logEndOffset >= 0 ? String(r.logEndOffset) : "-", r.lag.map(String.init) ?? "-",
                        r.consumerId ?? "-", r.host ?? "-", r.clientId ?? "-"]
                   })
    case .resetOffsets(let group, let topic, let toEarliest, let execute):
        let offsets = try admin.resetGroupOffsets(group, topic: topic, toEarliest: toEarliest, execute: execute)
        if !execute { eprint("WARN: No action will be performed as the --execute option is missing. Showing the new offsets.") }
        print("")
        printTable(["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"],
                   offsets.keys.sorted().map { [group, $0.topic, String($0.partition), String(offsets[$0] ?? -1)] })
    }
}

func runDatagen(_ o: DatagenOptions) throws {
    let stop = StopFlag()
    var pc = ProducerConfig(client: clientConfig(o.bootstrap, o.properties))
    try applyProducerProps(&pc, o.properties)
    let producer = try Producer(config: pc)
    var gen = DataGenerator(kind: o.kind, seed: o.seed ?? UInt64(WallClock.millis()))
    let failures = Atomic<Int>(0)
    let start = MonotonicClock.nanos()
    var sent = 0
    while !stop.isSet, o.count.map({ sent < $0 }) ?? true {
        if let rate = o.rate {
            let due = start + UInt64(Double(sent) / rate * 1e9)
            let now = MonotonicClock.nanos()
            if due > now { usleep(UInt32(min((due - now) / 1000, 1_000_000))) }
        }
        let (k, v) = gen.next(timestampMs: WallClock.millis())
        try producer.send(ProducerRecord(topic: o.topic, key: k, value: v)) { r in
            if case .failure(let e) = r {
                failures.add(1, ordering: .relaxed)
                eprint("kafkactl: delivery failed: \(e)")
            }
        }
        sent += 1
    }
    try producer.flush()
    producer.close()
    eprint("Produced \(sent) \(o.kind.rawValue) records to \(o.topic)")
    if failures.load(ordering: .relaxed) > 0 { throw CLIError("\(failures.load(ordering: .relaxed)) record(s) failed") }
}
