import KafkaClient
import Protocol

/// One outbox row as it travels: key `order-<id>` (so an order's events keep their order in one
/// partition), the JSON payload as value, and the outbox row id in a header for dedupe and recovery.
public struct OutboxEvent: Equatable, Sendable {
    public static let idHeader = "outbox-id"
    public static let typeHeader = "event-type"

    public var id: Int64
    public var orderId: Int64
    public var type: String
    public var payload: String

    public init(id: Int64, orderId: Int64, type: String, payload: String) {
        self.id = id; self.orderId = orderId; self.type = type; self.payload = payload
    }

    public func record(topic: String) -> ProducerRecord {
        ProducerRecord(topic: topic, key: "order-\(orderId)", value: payload,
                       headers: [RecordHeader(key: Self.idHeader, value: Array(String(id).utf8)),
                                 RecordHeader(key: Self.typeHeader, value: Array(type.utf8))])
    }

    /// Back from a consumed record; nil when the headers or key are not an outbox event's.
    public init?(record r: ConsumerRecord) {
        func header(_ k: String) -> String? {
            r.headers.last { $0.key == k }?.value.map { String(decoding: $0, as: UTF8.self) }
        }
        guard let idText = header(Self.idHeader), let id = Int64(idText), id > 0,
              let key = r.key.map({ String(decoding: $0, as: UTF8.self) }), key.hasPrefix("order-"),
              let orderId = Int64(key.dropFirst(6)) else { return nil }
        self.init(id: id, orderId: orderId, type: header(Self.typeHeader) ?? "", payload: String(decoding: r.value ?? [], as: UTF8.self))
    }
}

/// The relay's bookkeeping, I/O-free. The relay publishes outbox rows strictly in id order, one
/// Kafka transaction per batch, one relay at a time (a shared transactional.id fences any other),
/// so the committed outbox ids always form a prefix 1…n of the table: the highest committed id says
/// everything about what was published.
public enum RelayProgress {
    /// What is published: the highest id marked sent in SQLite, or higher if the log holds committed
    /// events past it (the relay died after the Kafka commit, before the SQLite mark).
    public static func publishedThrough(marked: Int64, committedInLog ids: [Int64]) -> Int64 {
        max(marked, ids.max() ?? marked)
    }

    /// Per partition, the offset after the last record the relay saw (where the next recovery scan starts).
    public static func advance(_ positions: [Int32: Int64], partition: Int32, offset: Int64) -> [Int32: Int64] {
        var p = positions
        p[partition] = max(p[partition] ?? 0, offset + 1)
        return p
    }
}
