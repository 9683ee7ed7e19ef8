import Protocol

/// Turns a Fetch partition's record bytes into consumer records (I/O-free).
public enum FetchDecoder {
    /// Records at or after `from`, and the offset to fetch next. Control batches (transaction
    /// markers) are skipped; a partial batch at the end is left for the next fetch.
    ///
    /// `abortedTransactions` is the Fetch answer's list for read_committed (producer id, first offset):
    /// from a transaction's first offset on, that producer's transactional batches are dropped until
    /// its next control batch (the abort marker).
    public static func decode(_ bytes: [UInt8], topic: String, partition: Int32, from: Int64,
                              abortedTransactions: [(producerId: Int64, firstOffset: Int64)] = []) throws
        -> (records: [ConsumerRecord], nextOffset: Int64)
    {
        var it = BatchIterator(bytes)
        var out: [ConsumerRecord] = []
        var next = from
        let pending = abortedTransactions.sorted { $0.firstOffset < $1.firstOffset }
        var cursor = 0
        var abortedProducers: Set<Int64> = []
        while let (h, range) = try it.next() {
            // Transactions that began at or before this batch's end are live from here on.
            while cursor < pending.count, pending[cursor].firstOffset <= h.lastOffset {
                abortedProducers.insert(pending[cursor].producerId)
                cursor += 1
            }
            if h.isControl {
                // The marker ends that producer's transaction, committed or aborted.
                abortedProducers.remove(h.producerId)
            }
            if h.nextOffset <= from { continue }
            next = max(next, h.nextOffset)
            if h.isControl { continue }
            if h.isTransactional && abortedProducers.contains(h.producerId) { continue }
            let (_, recs) = try RecordBatch.records(of: Array(bytes[range]))
            for r in recs where r.offset >= from {
                out.append(ConsumerRecord(topic: topic, partition: partition, offset: r.offset,
                                          timestamp: h.timestampType == .logAppendTime ? h.maxTimestamp : r.timestamp,
                                          timestampType: h.timestampType, key: r.key, value: r.value, headers: r.headers))
            }
        }
        return (out, next)
    }
}
