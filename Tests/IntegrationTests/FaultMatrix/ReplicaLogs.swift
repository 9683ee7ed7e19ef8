import Foundation
import Protocol

/// Reads a partition's replica straight from a broker's log dir, record by record, to compare
/// replicas (offsets, leader epochs, payloads) and their bytes.
enum ReplicaLogs {
    struct Entry: Equatable, CustomStringConvertible {
        var offset: Int64
        var epoch: Int32
        var value: String
        var description: String { "\(offset)@e\(epoch)=\(value)" }
    }

    static func partitionDir(_ cluster: BrokerCluster, _ broker: Int32, _ topic: String, _ partition: Int32 = 0) -> String {
        "\(cluster.dir)/logs-\(broker)/\(topic)-\(partition)"
    }

    /// The segment files in base-offset order.
    static func segments(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".log") }.sorted().map { "\(dir)/\($0)" }
    }

    /// Every segment's bytes, concatenated in order (nil when the directory is missing).
    static func bytes(_ dir: String) -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: dir) else { return nil }
        return segments(dir).flatMap { FileManager.default.contents(atPath: $0).map { [UInt8]($0) } ?? [] }
    }

    /// Every record of every complete batch; a batch that does not parse (a torn tail) ends the read.
    static func entries(_ dir: String) -> [Entry] {
        var out: [Entry] = []
        for seg in segments(dir) {
            guard let d = FileManager.default.contents(atPath: seg) else { continue }
            let b = [UInt8](d)
            var pos = 0
            while pos + 12 <= b.count {
                let len = b[pos + 8..<pos + 12].reduce(0) { $0 << 8 | Int($1) }
                guard len > 0, pos + 12 + len <= b.count,
                      let (h, records) = try? RecordBatch.records(of: Array(b[pos..<pos + 12 + len])) else { break }
                for r in records {
                    out.append(Entry(offset: r.offset, epoch: h.partitionLeaderEpoch, value: r.value.map { String(decoding: $0, as: UTF8.self) } ?? "<nil>"))
                }
                pos += 12 + len
            }
        }
        return out
    }

    /// Segments whose bytes do not end on a whole, valid batch: "file: N bytes at P" each.
    static func tornBytes(_ dir: String) -> [String] {
        segments(dir).compactMap { seg in
            guard let d = FileManager.default.contents(atPath: seg) else { return nil }
            let b = [UInt8](d)
            var pos = 0
            while pos + 12 <= b.count {
                let len = b[pos + 8..<pos + 12].reduce(0) { $0 << 8 | Int($1) }
                guard len > 0, pos + 12 + len <= b.count, (try? RecordBatch.records(of: Array(b[pos..<pos + 12 + len]))) != nil else { break }
                pos += 12 + len
            }
            return pos == b.count ? nil : "\((seg as NSString).lastPathComponent): \(b.count - pos) bytes at \(pos)"
        }
    }

    /// The byte offset where the last `records` records of the active segment start (to cut them off).
    static func tailCut(_ dir: String, batches: Int) -> (file: String, offset: Int)? {
        guard let seg = segments(dir).last, let d = FileManager.default.contents(atPath: seg) else { return nil }
        let b = [UInt8](d)
        var starts: [Int] = []
        var pos = 0
        while pos + 12 <= b.count {
            let len = b[pos + 8..<pos + 12].reduce(0) { $0 << 8 | Int($1) }
            guard len > 0, pos + 12 + len <= b.count else { break }
            starts.append(pos)
            pos += 12 + len
        }
        guard starts.count > batches else { return nil }
        return (seg, starts[starts.count - batches])
    }

    /// Describes how the replicas differ, or nil when every one holds the same records and bytes.
    static func difference(_ cluster: BrokerCluster, _ topic: String, brokers: [Int32]) -> String? {
        let logs = brokers.map { entries(partitionDir(cluster, $0, topic)) }
        for (i, l) in logs.enumerated().dropFirst() where l != logs[0] {
            let at = zip(l, logs[0]).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(l.count, logs[0].count)
            return "broker \(brokers[i]) (\(l.count) records) differs from broker \(brokers[0]) (\(logs[0].count)) at record \(at): "
                + "\(Array(l.dropFirst(at).prefix(3))) vs \(Array(logs[0].dropFirst(at).prefix(3)))"
        }
        let raw = brokers.map { bytes(partitionDir(cluster, $0, topic)) }
        for (i, r) in raw.enumerated().dropFirst() where r != raw[0] {
            return "broker \(brokers[i])'s segment bytes (\(r?.count ?? -1)) differ from broker \(brokers[0])'s (\(raw[0]?.count ?? -1))"
        }
        return nil
    }

    /// Offsets are dense and leader epochs never go down along the log (no divergence left behind).
    static func wellFormed(_ l: [Entry]) -> String? {
        for (a, b) in zip(l, l.dropFirst()) {
            if b.offset != a.offset + 1 { return "offset gap or repeat: \(a) then \(b)" }
            if b.epoch < a.epoch { return "leader epoch goes down: \(a) then \(b)" }
        }
        return nil
    }
}
