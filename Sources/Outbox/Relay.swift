import Foundation
import KafkaClient
import Synchronization

public struct RelayConfig: Sendable {
    public var bootstrapServers: [String]
    public var topic = "orders"
    /// The same id for every relay instance: a new one fences the old and ends its open transaction.
    public var transactionalId = "outbox-relay"
    public var batchSize = 50
    /// Stop when nothing is left to publish (else poll the outbox for ever).
    public var exitWhenEmpty = false
    public var pollIntervalMs = 100
    public var log: @Sendable (String) -> Void = { print($0) }
    /// Fault point for tests: after this many Kafka commits, die by SIGKILL before the SQLite mark
    /// (OUTBOX_RELAY_CRASH_AFTER_COMMITS in outbox-sample), the one window recovery exists for.
    public var crashAfterCommits: Int?
    /// Pause between the sends of a transaction (0: none), to watch the relay or kill it mid-transaction.
    public var paceMs = 0
    public init(bootstrapServers: [String]) { self.bootstrapServers = bootstrapServers }
}

/// Publishes outbox rows with the transactional producer. Per batch: begin, send the rows in id
/// order, commit, THEN mark them sent in SQLite. A kill -9 anywhere loses nothing (unmarked rows are
/// sent again) and duplicates nothing: before publishing, the relay ends the previous instance's
/// transaction (initTransactions) and reads, read_committed, the log past its last mark, so rows
/// whose Kafka commit happened but whose SQLite mark did not are marked instead of re-sent.
public final class Relay {
    public let store: OrderStore
    public let config: RelayConfig
    public private(set) var published = 0
    public private(set) var recovered = 0
    private var commits = 0

    public init(store: OrderStore, config: RelayConfig) {
        self.store = store
        self.config = config
    }

    /// Runs until the outbox is empty (with `exitWhenEmpty`) or an error no retry fixes.
    public func run() throws {
        var attempt = 0
        while true {
            do {
                try session()
                return
            } catch let e as KafkaError where e.isFatalForRelay {
                throw e
            } catch {
                // Anything else (a broker down, a timeout, an aborted transaction): start over with a
                // fresh producer, whose initTransactions aborts whatever this one left open.
                attempt += 1
                config.log("relay: \(error); restarting the producer (attempt \(attempt))")
                usleep(UInt32(min(2000, 200 * attempt)) * 1000)
            }
        }
    }

    private func session() throws {
        var pc = ProducerConfig(bootstrapServers: config.bootstrapServers)
        pc.transactionalId = config.transactionalId
        pc.lingerMs = 2
        pc.maxBlockMs = 20_000
        pc.deliveryTimeoutMs = 30_000
        pc.transactionTimeoutMs = 30_000
        let producer = try Producer(config: pc)
        defer { producer.close(timeoutMs: 2000) }
        try producer.initTransactions()
        var through = try recover(producer.cluster)
        while true {
            let events = try store.events(after: through, limit: config.batchSize)
            guard let last = events.last else {
                if config.exitWhenEmpty { return }
                usleep(UInt32(config.pollIntervalMs) * 1000)
                continue
            }
            let positions = Mutex<[Int32: Int64]>([:])
            let failure = Mutex<KafkaError?>(nil)
            try producer.beginTransaction()
            for e in events {
                try producer.send(e.record(topic: config.topic)) { r in
                    switch r {
                    case .success(let md): positions.withLock { $0 = RelayProgress.advance($0, partition: md.partition, offset: md.offset) }
                    case .failure(let err): failure.withLock { if $0 == nil { $0 = err } }
                    }
                }
                if config.paceMs > 0 { usleep(UInt32(config.paceMs) * 1000) }
            }
            try producer.commitTransaction()
            if let err = failure.withLock({ $0 }) { throw err }
            commits += 1
            if let n = config.crashAfterCommits, commits >= n {
                config.log("relay: crashing after commit \(commits) of ids \(events[0].id)...\(last.id), before marking them")
                kill(getpid(), SIGKILL)
            }
            // Only now: a kill before this line leaves rows unmarked, and recovery finds them in the log.
            try store.markSent(through: last.id, positions: positions.withLock { $0 })
            published += events.count
            config.log("relay: committed outbox ids \(events[0].id)...\(last.id) (\(events.count) events)")
            through = last.id
        }
    }

    /// Reads the log, read_committed, from the last marked positions to the end; marks whatever the
    /// previous instance committed but did not mark. Answers the highest published outbox id.
    func recover(_ cluster: KafkaCluster) throws -> Int64 {
        let marked = try store.markedThrough()
        let md = try cluster.refreshMetadata(topics: [config.topic], allowAutoCreate: false)
        guard let info = md.topics[config.topic], info.partitionCount > 0 else { throw KafkaError.unknownTopic(config.topic) }
        var cc = ConsumerConfig(bootstrapServers: config.bootstrapServers)
        cc.readCommitted = true
        cc.autoOffsetReset = .earliest
        let consumer = try Consumer(config: cc)
        defer { consumer.close() }
        let tps = (0..<info.partitionCount).map { TopicPartition(config.topic, Int32($0)) }
        consumer.assign(tps)
        var positions = try store.positions()
        for tp in tps {
            if let o = positions[tp.partition] { try consumer.seek(tp, offset: o) } else { try consumer.seekToBeginning([tp]) }
        }
        let ends = try consumer.listOffsets(tps, timestamp: -1)
        var seen: [Int64] = []
        let deadline = Date().addingTimeInterval(60)
        while try tps.contains(where: { try consumer.position($0) < (ends[$0] ?? 0) }) {
            guard Date() < deadline else { throw KafkaError.timeout("relay recovery scan") }
            for r in try consumer.poll(timeoutMs: 200) {
                if let e = OutboxEvent(record: r) { seen.append(e.id) }
                positions = RelayProgress.advance(positions, partition: r.partition, offset: r.offset)
            }
        }
        let through = RelayProgress.publishedThrough(marked: marked, committedInLog: seen)
        if through > marked {
            try store.markSent(through: through, positions: positions)
            recovered += Int(through - marked)
            config.log("relay: recovered outbox ids \(marked + 1)...\(through): committed in Kafka before the last run could mark them")
        }
        config.log("relay: published through outbox id \(through)")
        return through
    }
}

extension KafkaError {
    /// Fenced: another relay took over, so this one must stop instead of retrying.
    var isFatalForRelay: Bool {
        if case .broker(let c, _) = self { return c == .producerFenced || c == .invalidProducerEpoch || c == .transactionalIdAuthorizationFailed }
        return false
    }
}
