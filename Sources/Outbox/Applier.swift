import Foundation
import KafkaClient

/// The consuming service: applies order events into its own SQLite database, read_committed, exactly
/// once. Each poll's records and the partition positions are stored in ONE SQLite transaction, and an
/// event whose outbox id is already applied is skipped (counted as a duplicate), so neither a crash
/// of this process nor a re-published event applies anything twice.
public final class Applier {
    public let db: SQLiteDB
    public let topic: String
    public let bootstrapServers: [String]
    public var log: @Sendable (String) -> Void = { print($0) }

    public init(path: String, bootstrapServers: [String], topic: String) throws {
        db = try SQLiteDB(path: path)
        self.topic = topic
        self.bootstrapServers = bootstrapServers
        try db.execute("""
            CREATE TABLE IF NOT EXISTS applied_orders(
                outbox_id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, payload TEXT NOT NULL,
                partition INTEGER NOT NULL, offset INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS consumer_position(partition INTEGER PRIMARY KEY, next_offset INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS consumer_stats(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            """)
    }

    public func appliedCount() throws -> Int64 { try db.scalar("SELECT count(*) FROM applied_orders") ?? 0 }
    public func duplicatesSkipped() throws -> Int64 { try db.scalar("SELECT value FROM consumer_stats WHERE name = 'duplicates'") ?? 0 }
    public func appliedOrderIds() throws -> [Int64] {
        try db.query("SELECT order_id FROM applied_orders ORDER BY order_id").compactMap { $0.first?.int }
    }

    /// Applies records; answers how many were new.
    @discardableResult
    public func apply(_ records: [ConsumerRecord]) throws -> Int {
        try db.transaction {
            var fresh = 0, dups = 0, malformed = 0
            for r in records {
                guard let e = OutboxEvent(record: r) else { malformed += 1; continue }
                try db.query("INSERT OR IGNORE INTO applied_orders(outbox_id, order_id, payload, partition, offset) VALUES(?, ?, ?, ?, ?)",
                             [.int(e.id), .int(e.orderId), .text(e.payload), .int(Int64(r.partition)), .int(r.offset)])
                if db.changes == 1 { fresh += 1 } else { dups += 1 }
            }
            for (name, n) in [("duplicates", dups), ("malformed", malformed)] where n > 0 {
                try db.query("""
                    INSERT INTO consumer_stats(name, value) VALUES(?, ?)
                    ON CONFLICT(name) DO UPDATE SET value = value + excluded.value
                    """, [.text(name), .int(Int64(n))])
            }
            var next: [Int32: Int64] = [:]
            for r in records { next = RelayProgress.advance(next, partition: r.partition, offset: r.offset) }
            for (p, o) in next {
                try db.query("""
                    INSERT INTO consumer_position(partition, next_offset) VALUES(?, ?)
                    ON CONFLICT(partition) DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)
                    """, [.int(Int64(p)), .int(o)])
            }
            return fresh
        }
    }

    /// Consumes until `expect` events are applied (or, with `idleExitMs`, nothing arrived for that
    /// long; with neither, for ever).
    public func run(expect: Int64? = nil, idleExitMs: Int? = nil, timeoutMs: Int? = nil) throws {
        var cc = ConsumerConfig(bootstrapServers: bootstrapServers)
        cc.readCommitted = true
        cc.autoOffsetReset = .earliest
        let consumer = try Consumer(config: cc)
        defer { consumer.close() }
        let md = try consumer.cluster.refreshMetadata(topics: [topic])
        guard let info = md.topics[topic], info.partitionCount > 0 else { throw KafkaError.unknownTopic(topic) }
        let tps = (0..<info.partitionCount).map { TopicPartition(topic, Int32($0)) }
        consumer.assign(tps)
        var stored: [Int32: Int64] = [:]
        for row in try db.query("SELECT partition, next_offset FROM consumer_position") {
            if let p = row.first?.int.flatMap({ Int32(exactly: $0) }), let o = row.last?.int { stored[p] = o }
        }
        for tp in tps {
            if let o = stored[tp.partition] { try consumer.seek(tp, offset: o) } else { try consumer.seekToBeginning([tp]) }
        }
        let start = Date()
        var lastRecord = Date()
        while true {
            if let expect, try appliedCount() >= expect { return }
            if let idleExitMs, Date().timeIntervalSince(lastRecord) * 1000 > Double(idleExitMs) { return }
            if let timeoutMs, Date().timeIntervalSince(start) * 1000 > Double(timeoutMs) {
                throw KafkaError.timeout("consume: \(try appliedCount()) of \(expect.map(String.init) ?? "?") applied")
            }
            let records = try consumer.poll(timeoutMs: 300)
            guard !records.isEmpty else { continue }
            lastRecord = Date()
            let fresh = try apply(records)
            log("consume: applied \(fresh) new of \(records.count) events (total \(try appliedCount()))")
        }
    }
}
