import Foundation
import Glibc
import Protocol
import Storage

/// The broker's produce path without the network and the locks: a stream of Produce request
/// frames, as the socket delivers it, is cut into read-buffer chunks, framed by `FrameDecoder`,
/// parsed and decoded, and each partition's records appended to a `PartitionLog`: up to the page
/// cache, as the broker acknowledges (the fsync after the timed part is not counted).
/// It measures the copies and parses between the socket read and the page cache (docs/benchmarks.md,
/// "Produce path copies"). The source compiles against older trees too, for before/after runs.
enum ProducePathBench {
    static func run(_ args: [String]) {
        let mib = args.first.flatMap { Int($0) } ?? 256
        let rounds = max(1, args.dropFirst().first.flatMap { Int($0) } ?? 5)
        var template = Array("/tmp/produce-bench-XXXXXX".utf8CString)
        let root: String = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        defer { try? FileManager.default.removeItem(atPath: root) }
        print("\n### Produce path (\(mib) MiB per case, 100 B records, \(rounds) rounds)\n")
        print("| case | MB/s (median) | MB/s (best) | records/s (median) |")
        print("|---|---:|---:|---:|")
        for (name, batchBytes) in [("16 KiB batch per request", 16 << 10), ("900 KiB batch per request (spans reads)", 900 << 10)] {
            do {
                let (stream, records) = try makeStream(totalBytes: mib << 20, batchBytes: batchBytes)
                var times: [Double] = []
                for round in 0..<rounds { times.append(try once(stream, dir: "\(root)/\(batchBytes)-\(round)")) }
                let sorted = times.sorted()
                let mbs = { (t: Double) in Double(stream.count) / t / 1e6 }
                print(String(format: "| %@ | %.0f | %.0f | %.0f |", name, mbs(sorted[sorted.count / 2]), mbs(sorted[0]),
                             Double(records) / sorted[sorted.count / 2]))
            } catch {
                print("produce bench failed: \(error)")
                return
            }
        }
    }

    /// Length-prefixed Produce v7 frames, one batch of 100 B records each, and the record count.
    static func makeStream(totalBytes: Int, batchBytes: Int) throws -> ([UInt8], Int) {
        let perBatch = max(1, batchBytes / 110)
        let value = [UInt8](repeating: 0x61, count: 100)
        var recs: [Record] = []
        for i in 0..<perBatch { recs.append(Record(offset: Int64(i), timestamp: 1_700_000_000_000, key: nil, value: value)) }
        let batch = try RecordBatch.build(recs)
        let req = ProduceRequest(acks: 1, timeoutMs: 30_000, topicData: [.init(name: "bench", partitionData: [.init(index: 0, records: batch)])])
        let frame = try KafkaRequestFrame.encode(req, version: 7, correlationId: 1, clientId: "bench")
        let count = max(1, totalBytes / frame.count)
        var stream: [UInt8] = []
        stream.reserveCapacity(count * frame.count)
        for _ in 0..<count { stream += frame }
        return (stream, count * perBatch)
    }

    /// One pass over the stream into a fresh log; seconds.
    static func once(_ stream: [UInt8], dir: String) throws -> Double {
        let log = try PartitionLog.open(dir: dir, now: 0)
        defer { try? log.delete() }
        let chunk = 256 * 1024  // the event loop's read buffer
        let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { readBuffer.deallocate() }
        var decoder = FrameDecoder(maxFrameBytes: 100 << 20)
        let start = DispatchTime.now().uptimeNanoseconds
        var pos = 0
        while pos < stream.count {
            let n = min(chunk, stream.count - pos)
            // The socket read: kernel bytes land in the read buffer.
            stream.withUnsafeBytes { readBuffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[pos..<pos + n])) }
            pos += n
            var input = FrameDecoder.Input(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
            while case .frame(let f) = decoder.next(&input) {
                let req = try KafkaRequestFrame.parse(f).decodeBody(ProduceRequest.self)
                for t in req.topicData {
                    for p in t.partitionData {
                        if let records = p.records { _ = try log.append(records, leaderEpoch: 0, now: 0) }
                    }
                }
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        try log.flush()
        return elapsed
    }
}
