import BrokerCore
import Foundation
import Protocol

/// Reading a partition's local log from the start, for state rebuilt from the log on becoming its
/// leader (group coordinator loading, producer state).
extension ReplicaManager {
    /// Whole batches of the local log from `offset` up to the log end (not the high watermark: a new
    /// leader's HW may lag what the ISR already acknowledged). Nil when the partition is not hosted.
    func readLocalBatches(_ tp: TopicPartition, from offset: Int64, maxBytes: Int) -> (bytes: [UInt8], logEnd: Int64)? {
        guard let p = lock.withLock({ partitions[tp] }) else { return nil }
        return p.lock.withLock {
            guard let log = p.onlineLog else { return nil }
            let start = max(offset, log.logStartOffset)
            guard let bytes = try? log.readBytes(from: start, maxBytes: maxBytes, maxOffset: log.logEndOffset) else { return nil }
            return (bytes, log.logEndOffset)
        }
    }

    /// Calls `body` with each valid batch (header and bytes) of the local log, oldest first, stopping
    /// at the first unreadable one. Chunked so a large log is not read into memory at once.
    func scanLocalLog(_ tp: TopicPartition, chunkBytes: Int = 1 << 20, _ body: (RecordBatchHeader, [UInt8]) -> Void) {
        var offset: Int64 = 0
        while let (bytes, end) = readLocalBatches(tp, from: offset, maxBytes: chunkBytes), offset < end, !bytes.isEmpty {
            guard let split = try? RecordBatch.split(bytes, validateCRC: true), !split.batches.isEmpty else { return }
            var next = offset
            for b in split.batches {
                body(b.header, Array(bytes[b.range]))
                next = max(next, b.header.nextOffset)
            }
            guard next > offset else { return }
            offset = next
        }
    }

    /// The local log's end offset (nil: no such partition or no log).
    func logEndOffset(_ tp: TopicPartition) -> Int64? {
        guard let p = partition(tp) else { return nil }
        return p.lock.withLock { p.log?.logEndOffset }
    }
}
