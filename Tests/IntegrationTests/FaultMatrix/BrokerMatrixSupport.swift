import CoordClient
import FaultProxy
import Foundation
import KafkaClient
import Protocol
import Testing

/// Puts a fault proxy in front of chosen brokers by advertising the proxy's port: everything that
/// finds the broker through its registration (follower fetchers, clients after metadata) goes
/// through the proxy, while a test can still reach the real port directly.
final class AdvertisedProxies: @unchecked Sendable {
    let ids: Set<Int32>
    private let box = SyncBox<[Int32: FaultProxy]>([:])

    init(_ ids: Set<Int32>) { self.ids = ids }

    /// The `brokerConfig` hook for `BrokerCluster`; a restart on the same port keeps its proxy.
    func config(_ id: Int32, _ port: Int) throws -> String {
        guard ids.contains(id) else { return "" }
        if let p = box.get()[id], p.targetPort == port { return "advertised.listeners=PLAINTEXT://127.0.0.1:\(p.port)" }
        let p = try FaultProxy(targetPort: port)
        box.update { $0[id]?.stop(); $0[id] = p }
        return "advertised.listeners=PLAINTEXT://127.0.0.1:\(p.port)"
    }

    subscript(_ id: Int32) -> FaultProxy? { box.get()[id] }

    func stop() { box.get().values.forEach { $0.stop() } }
}

/// A producer of raw Produce requests (acks=all unless told) to one broker's real port, one value
/// per batch, never retried, so every value is sent once: duplicates in the log are a broker bug.
final class RawLedgerProducer: @unchecked Sendable {
    struct Outcome {
        let value: String
        let at: Date
        let error: ErrorCode?
        let offset: Int64
    }

    let topic: String
    let port: Int
    let acks: Int16
    let outcomes = SyncBox<[Outcome]>([])
    private let stopFlag = SyncBox<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(cluster: BrokerCluster, broker: Int32, topic: String, acks: Int16 = -1) {
        self.topic = topic
        self.acks = acks
        port = cluster.port(broker)
    }

    func start(pauseMs: Int = 20) {
        Thread { [self] in
            defer { finished.signal() }
            var raw = try? RawKafka(port: port)
            var i = 0
            while !stopFlag.get() {
                let value = "v\(i)"
                i += 1
                guard let conn = raw, let batch = try? RecordBatch.build([Record(offset: 0, key: nil, value: Array(value.utf8))], options: RecordBatchOptions()) else {
                    outcomes.update { $0.append(Outcome(value: value, at: Date(), error: .networkException, offset: -1)) }
                    usleep(200_000)
                    raw = try? RawKafka(port: port)
                    continue
                }
                let req = ProduceRequest(acks: acks, timeoutMs: 2000, topicData: [.init(name: topic, partitionData: [.init(index: 0, records: batch)])])
                do {
                    let r = try conn.call(req, version: 7).responses.first?.partitionResponses.first
                    let code = r?.errorCode ?? .unknownServerError
                    outcomes.update { $0.append(Outcome(value: value, at: Date(), error: code == .none ? nil : code, offset: r?.baseOffset ?? -1)) }
                } catch {
                    outcomes.update { $0.append(Outcome(value: value, at: Date(), error: .networkException, offset: -1)) }
                    raw = try? RawKafka(port: port)
                }
                usleep(UInt32(pauseMs * 1000))
            }
        }.start()
    }

    func stop() {
        stopFlag.update { $0 = true }
        _ = finished.wait(timeout: .now() + 20)
    }

    var acked: [Outcome] { outcomes.get().filter { $0.error == nil } }

    func ackedBetween(_ a: Date, _ b: Date) -> [Outcome] { acked.filter { $0.at > a && $0.at < b } }

    /// Longest time without an acknowledgement between `a` and `b`.
    func longestGap(_ a: Date, _ b: Date) -> Double {
        let t = [a] + acked.map(\.at).filter { $0 > a && $0 < b } + [b]
        return zip(t, t.dropFirst()).map { $1.timeIntervalSince($0) }.max() ?? 0
    }

    /// Checks the partition's records read back: every acknowledged value at its offset, none twice.
    func check(_ got: [ConsumerRecord]) -> [String] {
        let values = got.map { SwiftClientTests.text($0.value) }
        let counts = Dictionary(values.map { ($0, 1) }, uniquingKeysWith: +)
        var problems: [String] = []
        let dups = counts.filter { $0.value > 1 }.keys.sorted()
        if !dups.isEmpty { problems.append("duplicated \(dups.prefix(10)) (\(dups.count))") }
        let at = Dictionary(got.map { (SwiftClientTests.text($0.value), $0.offset) }, uniquingKeysWith: { a, _ in a })
        let lost = acked.filter { at[$0.value] == nil }
        if !lost.isEmpty { problems.append("acknowledged but missing \(lost.prefix(10).map(\.value)) (\(lost.count))") }
        let moved = acked.filter { a in at[a.value].map { $0 != a.offset } ?? false }
        if !moved.isEmpty { problems.append("not at the acknowledged offset: \(moved.prefix(5).map { "\($0.value)@\($0.offset)" })") }
        return problems
    }
}

extension BrokerCluster {
    /// The partition state znode: (leader, leader epoch, ISR).
    func partitionState(_ topic: String, _ partition: Int32 = 0, via c: CoordClient) -> (leader: Int, epoch: Int, isr: [Int])? {
        guard let j = znodeJSON(c, "\(chroot)/brokers/topics/\(topic)/partitions/\(partition)/state"),
              let leader = j["leader"] as? Int, let epoch = j["leader_epoch"] as? Int, let isr = j["isr"] as? [Int] else { return nil }
        return (leader, epoch, isr.sorted())
    }

    /// Registered broker ids (ephemeral znodes).
    func registered(via c: CoordClient) -> [Int] {
        ((try? c.getChildren("\(chroot)/brokers/ids")) ?? []).compactMap { Int($0) }.sorted()
    }

    /// Records of `topic`-0 read through `brokers` (their real ports): at least `count` (or until
    /// the timeout), then on until a second passes with nothing new.
    func readPartition(_ topic: String, brokers: [Int32], count: Int, timeout: Double = 30, partitions: [Int32] = [0]) throws -> [ConsumerRecord] {
        var cc = ConsumerConfig(bootstrapServers: brokers.map { "127.0.0.1:\(port($0))" })
        cc.autoOffsetReset = .earliest
        let c = try Consumer(config: cc)
        defer { c.close() }
        c.assign(partitions.map { TopicPartition(topic, $0) })
        var got: [ConsumerRecord] = []
        let deadline = Date().addingTimeInterval(timeout)
        var quietSince = Date()
        while Date() < deadline && (got.count < count || Date().timeIntervalSince(quietSince) < 1) {
            let batch = try c.poll(timeoutMs: 200)
            if !batch.isEmpty { quietSince = Date() }
            got += batch
        }
        return got
    }
}
