import Foundation
import KafkaClient
import Protocol
import Synchronization
import Transport

/// kafka-producer-perf-test: fixed-size random payloads, optional throttle, a report every 5 s and
/// a final summary with latency percentiles (send → acknowledgement).
func runPerfProducer(_ o: PerfProducerOptions) throws {
    var pc = ProducerConfig(client: clientConfig(o.bootstrap, o.properties))
    try applyProducerProps(&pc, o.properties)
    pc.acks = o.acks
    let producer = try Producer(config: pc)
    var rng = SplitMix64(seed: 42)
    let payload = (0..<o.recordSize).map { _ in UInt8(65 + rng.next() % 26) }
    let stats = Mutex(PerfStats())
    let window = Mutex(PerfStats())
    let failures = Atomic<Int>(0)
    let start = MonotonicClock.nanos()
    var windowStart = start
    for i in 0..<o.numRecords {
        if o.throughput > 0 {
            let due = start + UInt64(Double(i) / o.throughput * 1e9)
            let now = MonotonicClock.nanos()
            if due > now { usleep(UInt32(min((due - now) / 1000, 1_000_000))) }
        }
        let sentAt = MonotonicClock.nanos()
        let size = payload.count
        try producer.send(ProducerRecord(topic: o.topic, value: payload)) { r in
            let lat = Double(MonotonicClock.nanos() - sentAt) / 1e6
            switch r {
            case .success:
                stats.withLock { $0.record(latencyMs: lat, bytes: size) }
                window.withLock { $0.record(latencyMs: lat, bytes: size) }
            case .failure(let e):
                if failures.add(1, ordering: .relaxed).newValue <= 5 { eprint("kafkactl: delivery failed: \(e)") }
            }
        }
        let now = MonotonicClock.nanos()
        if now - windowStart >= 5_000_000_000 {
            let w = window.withLock { s -> PerfStats in let c = s; s = PerfStats(); return c }
            let secs = Double(now - windowStart) / 1e9
            print("\(w.count) records sent, \(fmt(Double(w.count) / secs, 1)) records/sec (\(fmt(Double(w.bytes) / secs / 1048576, 2)) MB/sec), "
                  + "\(fmt(w.averageLatencyMs, 1)) ms avg latency, \(fmt(w.maxLatencyMs, 1)) ms max latency.")
            windowStart = now
        }
    }
    try producer.flush()
    let elapsedMs = Double(MonotonicClock.nanos() - start) / 1e6
    producer.close()
    print(stats.withLock { $0 }.producerSummary(elapsedMs: elapsedMs))
    let f = failures.load(ordering: .relaxed)
    if f > 0 { throw CLIError("\(f) record(s) failed") }
}

/// kafka-consumer-perf-test: consume N messages and print Kafka's CSV summary, plus end-to-end
/// latency (now − record timestamp) percentiles.
func runPerfConsumer(_ o: PerfConsumerOptions) throws {
    var cc = ConsumerConfig(client: clientConfig(o.bootstrap, o.properties), groupId: o.group)
    cc.autoOffsetReset = .earliest
    cc.enableAutoCommit = o.group != nil
    cc.maxPollRecords = 5000
    try applyConsumerProps(&cc, o.properties)
    let consumer = try Consumer(config: cc)
    defer { consumer.close() }
    let startWall = WallClock.millis()
    let start = MonotonicClock.nanos()
    var rebalanceMs = 0.0
    if o.group != nil {
        try consumer.subscribe([o.topic])
    } else {
        let md = try consumer.cluster.refreshMetadata(topics: [o.topic])
        guard let t = md.topics[o.topic] else { throw KafkaError.unknownTopic(o.topic) }
        consumer.assign(t.partitions.map { TopicPartition(o.topic, $0.partition) })
    }
    var stats = PerfStats()
    var lastRecord = MonotonicClock.millis()
    var firstRecordAt: UInt64?
    while stats.count < o.messages {
        let recs = try consumer.poll(timeoutMs: 100)
        let nowMs = MonotonicClock.millis()
        if recs.isEmpty {
            if nowMs - lastRecord > UInt64(o.timeoutMs) {
                eprint("WARNING: Exiting before consuming the expected number of messages: timeout (\(o.timeoutMs) ms) exceeded.")
                break
            }
            continue
        }
        if firstRecordAt == nil {
            firstRecordAt = MonotonicClock.nanos()
            rebalanceMs = Double(firstRecordAt! - start) / 1e6
        }
        lastRecord = nowMs
        let wall = WallClock.millis()
        for r in recs {
            stats.record(latencyMs: Double(max(0, wall - r.timestamp)), bytes: (r.value?.count ?? 0) + (r.key?.count ?? 0))
        }
    }
    let end = MonotonicClock.nanos()
    let totalSecs = max(Double(end - start) / 1e9, 0.001)
    let fetchSecs = max(Double(end - (firstRecordAt ?? start)) / 1e9, 0.001)
    let mb = Double(stats.bytes) / 1048576
    print("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
    print([timestampString(startWall), timestampString(WallClock.millis()), fmt(mb, 4), fmt(mb / totalSecs, 4), String(stats.count),
           fmt(Double(stats.count) / totalSecs, 4), String(Int(rebalanceMs)), String(Int(fetchSecs * 1000)), fmt(mb / fetchSecs, 4),
           fmt(Double(stats.count) / fetchSecs, 4)].joined(separator: ", "))
    print("end-to-end latency: \(fmt(stats.averageLatencyMs, 2)) ms avg, \(Int(stats.percentile(0.5))) ms 50th, "
          + "\(Int(stats.percentile(0.99))) ms 99th, \(fmt(stats.maxLatencyMs, 0)) ms max")
}
