import Foundation
import KafkaClient
import Protocol
import Testing
@testable import Outbox

/// The outbox sample's SQLite parts and its pure relay bookkeeping, without Kafka.
struct OutboxStoreTests {
    func tempPath(_ name: String) -> (String, () -> Void) {
        let dir = NSTemporaryDirectory() + "outbox-unit-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return (dir + "/" + name, { try? FileManager.default.removeItem(atPath: dir) })
    }

    @Test func orderAndOutboxRowAreOneTransaction() throws {
        let (path, cleanup) = tempPath("orders.db")
        defer { cleanup() }
        let store = try OrderStore(path: path)
        let (o1, e1) = try store.placeOrder(customer: "a \"quoted\" name", amountCents: 250)
        let (o2, e2) = try store.placeOrder(customer: "b", amountCents: 300)
        #expect(o2 == o1 + 1 && e2 == e1 + 1)
        // A failing statement inside the transaction leaves neither row behind.
        #expect(throws: SQLiteError.self) {
            try store.db.transaction {
                try store.db.query("INSERT INTO orders(customer, amount_cents, created_ms) VALUES('c', 1, 1)")
                try store.db.query("INSERT INTO outbox(aggregate_id, type, payload) VALUES(NULL, 'x', 'y')")   // NOT NULL
            }
        }
        let c = try store.counts()
        #expect(c.orders == 2 && c.outbox == 2 && c.sent == 0)
        let events = try store.events(after: 0, limit: 10)
        #expect(events.map(\.id) == [e1, e2])
        #expect(events[0].payload.contains(#""customer":"a \"quoted\" name""#))
        try store.markSent(through: e1, positions: [0: 5, 2: 1])
        try store.markSent(through: e1, positions: [0: 3])   // positions never move back
        #expect(try store.markedThrough() == e1)
        #expect(try store.positions() == [0: 5, 2: 1])
        #expect(try store.events(after: e1, limit: 10).map(\.id) == [e2])
        // Reopened: everything is on disk.
        let again = try OrderStore(path: path)
        #expect(try again.counts().sent == 1)
    }

    @Test func eventRoundTripsThroughARecord() throws {
        let e = OutboxEvent(id: 42, orderId: 7, type: "OrderPlaced", payload: "{}")
        let pr = e.record(topic: "orders")
        let cr = ConsumerRecord(topic: "orders", partition: 1, offset: 9, key: pr.key, value: pr.value, headers: pr.headers)
        #expect(OutboxEvent(record: cr) == e)
        var bad = cr
        bad.headers = []
        #expect(OutboxEvent(record: bad) == nil)
        bad = cr
        bad.key = Array("order-x".utf8)
        #expect(OutboxEvent(record: bad) == nil)
    }

    @Test func appliesEachEventOnceAndCountsDuplicates() throws {
        let (path, cleanup) = tempPath("applied.db")
        defer { cleanup() }
        let a = try Applier(path: path, bootstrapServers: ["127.0.0.1:1"], topic: "orders")
        func rec(_ id: Int64, _ offset: Int64) -> ConsumerRecord {
            let pr = OutboxEvent(id: id, orderId: id + 100, type: "OrderPlaced", payload: "p\(id)").record(topic: "orders")
            return ConsumerRecord(topic: "orders", partition: 0, offset: offset, key: pr.key, value: pr.value, headers: pr.headers)
        }
        #expect(try a.apply([rec(1, 0), rec(2, 1)]) == 2)
        #expect(try a.apply([rec(2, 2), rec(3, 3)]) == 1)   // id 2 published twice
        #expect(try a.appliedCount() == 3)
        #expect(try a.duplicatesSkipped() == 1)
        #expect(try a.appliedOrderIds() == [101, 102, 103])
    }

    @Test func progressIsTheHighestCommittedId() {
        #expect(RelayProgress.publishedThrough(marked: 10, committedInLog: []) == 10)
        #expect(RelayProgress.publishedThrough(marked: 10, committedInLog: [11, 14, 12]) == 14)
        #expect(RelayProgress.publishedThrough(marked: 10, committedInLog: [3]) == 10)
        #expect(RelayProgress.advance([0: 5], partition: 0, offset: 2) == [0: 5])
        #expect(RelayProgress.advance([0: 5], partition: 1, offset: 2) == [0: 5, 1: 3])
    }
}
