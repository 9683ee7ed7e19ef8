import Foundation

/// The order service's database: orders, the outbox, and where the relay's recovery scan starts.
public final class OrderStore {
    public let db: SQLiteDB

    public init(path: String) throws {
        db = try SQLiteDB(path: path)
        try db.execute("""
            CREATE TABLE IF NOT EXISTS orders(
                id INTEGER PRIMARY KEY AUTOINCREMENT, customer TEXT NOT NULL,
                amount_cents INTEGER NOT NULL, created_ms INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS outbox(
                id INTEGER PRIMARY KEY AUTOINCREMENT, aggregate_id INTEGER NOT NULL,
                type TEXT NOT NULL, payload TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS relay_position(
                partition INTEGER PRIMARY KEY, next_offset INTEGER NOT NULL);
            """)
    }

    /// The business write and its event in ONE SQLite transaction: both are stored or neither.
    @discardableResult
    public func placeOrder(customer: String, amountCents: Int64) throws -> (orderId: Int64, outboxId: Int64) {
        try db.transaction {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            try db.query("INSERT INTO orders(customer, amount_cents, created_ms) VALUES(?, ?, ?)",
                         [.text(customer), .int(amountCents), .int(now)])
            guard let orderId = try db.scalar("SELECT last_insert_rowid()") else {
                throw SQLiteError(code: -1, message: "no order id")
            }
            let payload = #"{"orderId":\#(orderId),"customer":"\#(Self.jsonEscaped(customer))","amountCents":\#(amountCents),"createdMs":\#(now)}"#
            try db.query("INSERT INTO outbox(aggregate_id, type, payload) VALUES(?, 'OrderPlaced', ?)", [.int(orderId), .text(payload)])
            guard let outboxId = try db.scalar("SELECT last_insert_rowid()") else {
                throw SQLiteError(code: -1, message: "no outbox id")
            }
            return (orderId, outboxId)
        }
    }

    static func jsonEscaped(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Outbox rows after `id`, oldest first.
    public func events(after id: Int64, limit: Int) throws -> [OutboxEvent] {
        try db.query("SELECT id, aggregate_id, type, payload FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
                     [.int(id), .int(Int64(limit))]).compactMap { row in
            guard row.count == 4, let id = row[0].int, let agg = row[1].int, let t = row[2].text, let p = row[3].text else { return nil }
            return OutboxEvent(id: id, orderId: agg, type: t, payload: p)
        }
    }

    /// Marks every row up to `id` sent and stores the relay's log positions, in one transaction.
    public func markSent(through id: Int64, positions: [Int32: Int64]) throws {
        try db.transaction {
            try db.query("UPDATE outbox SET sent = 1 WHERE id <= ? AND sent = 0", [.int(id)])
            for (p, o) in positions {
                try db.query("""
                    INSERT INTO relay_position(partition, next_offset) VALUES(?, ?)
                    ON CONFLICT(partition) DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)
                    """, [.int(Int64(p)), .int(o)])
            }
        }
    }

    public func markedThrough() throws -> Int64 { try db.scalar("SELECT max(id) FROM outbox WHERE sent = 1") ?? 0 }

    public func positions() throws -> [Int32: Int64] {
        var out: [Int32: Int64] = [:]
        for row in try db.query("SELECT partition, next_offset FROM relay_position") {
            if let p = row.first?.int, let o = row.last?.int, let p32 = Int32(exactly: p) { out[p32] = o }
        }
        return out
    }

    public func counts() throws -> (orders: Int64, outbox: Int64, sent: Int64) {
        (try db.scalar("SELECT count(*) FROM orders") ?? 0, try db.scalar("SELECT count(*) FROM outbox") ?? 0,
         try db.scalar("SELECT count(*) FROM outbox WHERE sent = 1") ?? 0)
    }

    public func orderIds() throws -> [Int64] { try db.query("SELECT id FROM orders ORDER BY id").compactMap { $0.first?.int } }
}
