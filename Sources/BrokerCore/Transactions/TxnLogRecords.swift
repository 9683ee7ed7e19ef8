import Protocol

/// Key and value of `__transaction_state` records, in the layout of Kafka's TransactionLogKey and
/// TransactionLogValue version 0 (int16 version first; classic strings and arrays).
public enum TxnLogRecords {
    public static let topic = "__transaction_state"

    public static func key(_ transactionalId: String) throws -> [UInt8] {
        var w = ByteWriter()
        w.writeInt16(0)
        try w.writeKafkaString(transactionalId)
        return w.bytes
    }

    public static func transactionalId(key: [UInt8]) throws -> String {
        var r = ByteReader(key)
        let v = try r.readInt16()
        guard v == 0 else { throw DecodeError.invalidValue("TransactionLogKey version \(v)") }
        return try r.readKafkaString()
    }

    public static func value(_ m: TxnMetadata) throws -> [UInt8] {
        var w = ByteWriter()
        w.writeInt16(0)
        w.writeInt64(m.producerId)
        w.writeInt16(m.producerEpoch)
        w.writeInt32(m.timeoutMs)
        w.writeInt8(m.state.rawValue)
        let byTopic = Dictionary(grouping: m.partitions, by: \.topic)
        try w.writeKafkaArray(byTopic.keys.sorted(), flexible: false) { w, topic in
            try w.writeKafkaString(topic)
            try w.writeKafkaArray((byTopic[topic] ?? []).map(\.partition).sorted(), flexible: false) { w, p in w.writeInt32(p) }
        }
        w.writeInt64(m.lastUpdateMs)
        w.writeInt64(m.txnStartMs)
        return w.bytes
    }

    public static func metadata(transactionalId: String, value: [UInt8]) throws -> TxnMetadata {
        var r = ByteReader(value)
        let v = try r.readInt16()
        guard v == 0 else { throw DecodeError.invalidValue("TransactionLogValue version \(v)") }
        let pid = try r.readInt64()
        let epoch = try r.readInt16()
        let timeout = try r.readInt32()
        let rawState = try r.readInt8()
        guard let state = TxnState(rawValue: rawState) else { throw DecodeError.invalidValue("transaction state \(rawState)") }
        let topics: [(String, [Int32])] = try r.readKafkaArray(flexible: false) { r in
            (try r.readKafkaString(), try r.readKafkaArray(flexible: false) { r in try r.readInt32() })
        }
        let lastUpdate = try r.readInt64()
        let start = try r.readInt64()
        var parts: Set<TopicPartition> = []
        for (t, ps) in topics { for p in ps { parts.insert(TopicPartition(t, p)) } }
        return TxnMetadata(transactionalId: transactionalId, producerId: pid, producerEpoch: epoch, timeoutMs: timeout,
                           state: state, partitions: parts, txnStartMs: start, lastUpdateMs: lastUpdate)
    }
}
