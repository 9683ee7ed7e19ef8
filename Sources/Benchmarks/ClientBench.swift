import Foundation
import Spawn
import KafkaClient
import Synchronization
import Transport

/// The Swift Kafka client vs librdkafka (confluent-kafka) on the same broker and workload:
/// produce N fixed-size records (acks=all), then consume them back. Prints a markdown table.
/// `swift run -c release Benchmarks client --bootstrap H:P [--records N] [--size B] [--partitions P] [--idempotence]`
enum ClientBench {
    struct Row {
        var client: String
        var produceRps = 0.0, produceMBps = 0.0, latAvg = 0.0, latP50 = 0.0, latP99 = 0.0
        var consumeRps = 0.0, consumeMBps = 0.0
        var note = ""
    }

    static func run(_ args: [String]) {
        var bootstrap = "127.0.0.1:9092", records = 500_000, size = 100, partitions = 3, idempotence = false
        var i = 0
        while i < args.count {
            let a = args[i], v = i + 1 < args.count ? args[i + 1] : ""
            switch a {
            case "--bootstrap": bootstrap = v; i += 1
            case "--records": records = Int(v) ?? records; i += 1
            case "--size": size = Int(v) ?? size; i += 1
            case "--partitions": partitions = Int(v) ?? partitions; i += 1
            case "--idempotence": idempotence = true
            default: print("client bench: unknown argument \(a)"); return
            }
            i += 1
        }
        let stamp = WallClock.millis()
        var rows: [Row] = []
        do {
            let admin = try Admin(config: ClientConfig(bootstrapServers: [bootstrap]))
            defer { admin.close() }
            for (label, batch) in [("swift (batch.size 16 KiB, Kafka default)", 16384), ("swift (batch.size 1 MB, librdkafka default)", 1_000_000)] {
                let topic = "bench-swift-\(batch)-\(stamp)"
                try admin.createTopics([NewTopic(name: topic, partitions: Int32(partitions), replicationFactor: 1)])
                rows.append(try swiftRun(label, bootstrap: bootstrap, topic: topic, records: records, size: size,
                                         partitions: partitions, batchSize: batch, idempotence: idempotence))
            }
            let rdTopic = "bench-rdkafka-\(stamp)"
            try admin.createTopics([NewTopic(name: rdTopic, partitions: Int32(partitions), replicationFactor: 1)])
            rows.append(rdkafkaRun(bootstrap: bootstrap, topic: rdTopic, records: records, size: size, partitions: partitions,
                                   idempotence: idempotence))
        } catch {
            print("client bench: \(error)")
        }
        print("\n## Swift client vs librdkafka (\(records) records of \(size) B, \(partitions) partitions, acks=all, "
              + "idempotence \(idempotence ? "on" : "off"), broker \(bootstrap))\n")
        print("| client | produce rec/s | produce MB/s | ack latency avg / p50 / p99 ms | consume rec/s | consume MB/s |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in rows {
            print("| \(r.client) | \(fmt(r.produceRps, 0)) | \(fmt(r.produceMBps, 1)) | \(fmt(r.latAvg, 1)) / \(fmt(r.latP50, 1)) / \(fmt(r.latP99, 1)) "
                  + "| \(fmt(r.consumeRps, 0)) | \(fmt(r.consumeMBps, 1)) |" + (r.note.isEmpty ? "" : " \(r.note)"))
        }
        if let rd = rows.last, rd.produceRps > 0 {
            for r in rows.dropLast() {
                print("\n\(r.client): produce throughput = \(fmt(100 * r.produceRps / rd.produceRps, 0))% of librdkafka, "
                      + "consume = \(fmt(100 * r.consumeRps / max(rd.consumeRps, 1), 0))%")
            }
        }
    }

    static func swiftRun(_ label: String, bootstrap: String, topic: String, records: Int, size: Int, partitions: Int,
                         batchSize: Int, idempotence: Bool) throws -> Row {
        var pc = ProducerConfig(bootstrapServers: [bootstrap])
        pc.acks = -1
        pc.enableIdempotence = idempotence
        pc.batchSize = batchSize
        pc.bufferMemory = max(pc.bufferMemory, batchSize * 64)
        pc.maxRequestSize = max(pc.maxRequestSize, batchSize * 2)
        let producer = try Producer(config: pc)
        let payload = [UInt8](repeating: 0x78, count: size)
        let stats = Mutex(PerfStats())
        let start = MonotonicClock.nanos()
        for _ in 0..<records {
            let t0 = MonotonicClock.nanos()
            try producer.send(ProducerRecord(topic: topic, value: payload)) { r in
                if case .success = r {
                    let ms = Double(MonotonicClock.nanos() - t0) / 1e6
                    stats.withLock { $0.record(latencyMs: ms, bytes: size) }
                }
            }
        }
        try producer.flush()
        let secs = Double(MonotonicClock.nanos() - start) / 1e9
        producer.close()
        let s = stats.withLock { $0 }
        var row = Row(client: label)
        row.produceRps = Double(s.count) / secs
        row.produceMBps = Double(s.bytes) / secs / 1_048_576
        row.latAvg = s.averageLatencyMs
        row.latP50 = s.percentile(0.5)
        row.latP99 = s.percentile(0.99)
        if s.count != records { row.note = "(\(records - s.count) failed)" }

        var cc = ConsumerConfig(bootstrapServers: [bootstrap])
        cc.autoOffsetReset = .earliest
        cc.maxPollRecords = 10000
        let consumer = try Consumer(config: cc)
        defer { consumer.close() }
        consumer.assign((0..<partitions).map { TopicPartition(topic, Int32($0)) })
        var got = 0, bytes = 0
        let cstart = MonotonicClock.nanos()
        var last = MonotonicClock.millis()
        while got < records, MonotonicClock.millis() - last < 15_000 {
            let recs = try consumer.poll(timeoutMs: 500)
            if !recs.isEmpty { last = MonotonicClock.millis() }
            got += recs.count
            for r in recs { bytes += r.value?.count ?? 0 }
        }
        let csecs = Double(MonotonicClock.nanos() - cstart) / 1e9
        row.consumeRps = Double(got) / csecs
        row.consumeMBps = Double(bytes) / csecs / 1_048_576
        if got != records { row.note += " (consumed \(got))" }
        return row
    }

    static func rdkafkaRun(bootstrap: String, topic: String, records: Int, size: Int, partitions: Int, idempotence: Bool) -> Row {
        var row = Row(client: "librdkafka (confluent-kafka)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("scripts/rdkafka_bench.py").path
        let out = NSTemporaryDirectory() + "rdkafka-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
        defer { try? FileManager.default.removeItem(atPath: out) }
        do {
            let p = try ChildProcess("/usr/bin/env", ["python3", script, "--bootstrap", bootstrap, "--topic", topic, "--records", String(records),
                                     "--size", String(size), "--partitions", String(partitions), "--idempotence", idempotence ? "true" : "false"],
                                     stdout: .file(out))
            p.waitUntilExit()
        } catch {
            row.note = "(could not run python3: \(error))"
            return row
        }
        let data = FileManager.default.contents(atPath: out) ?? Data()
        guard let line = String(data: data, encoding: .utf8)?.split(separator: "\n").last,
              let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            row.note = "(no result; is confluent-kafka installed? pip install confluent-kafka)"
            return row
        }
        func d(_ k: String) -> Double { (obj[k] as? NSNumber)?.doubleValue ?? 0 }
        row.client = "\(obj["client"] as? String ?? "librdkafka") (confluent-kafka)"
        row.produceRps = d("produce_rps")
        row.produceMBps = d("produce_mbps")
        row.latAvg = d("lat_avg")
        row.latP50 = d("lat_p50")
        row.latP99 = d("lat_p99")
        row.consumeRps = d("consume_rps")
        row.consumeMBps = d("consume_mbps")
        return row
    }
}
