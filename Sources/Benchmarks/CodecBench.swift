import Foundation
import Protocol

/// Kafka codec throughput on the broker's hot messages: `Benchmarks codec [iterations]`.
enum CodecBench {
    static func run(_ args: [String]) {
        let n = args.first.flatMap(Int.init) ?? 20_000
        let records = [UInt8](repeating: 0xab, count: 16 * 1024)
        let produce = ProduceRequest(acks: -1, timeoutMs: 30_000, topicData: [
            .init(name: "bench", partitionData: (0..<16).map { .init(index: Int32($0), records: records) }),
        ])
        let metadata = MetadataResponse(brokers: (0..<3).map { .init(nodeId: Int32($0), host: "127.0.0.1", port: 9092) },
                                        clusterId: "c", controllerId: 0, topics: (0..<50).map { t in
            .init(name: "topic-\(t)", partitions: (0..<10).map {
                .init(partitionIndex: Int32($0), leaderId: 0, leaderEpoch: 1, replicaNodes: [0, 1, 2], isrNodes: [0, 1, 2])
            })
        })
        let fetchReq = FetchRequest(maxWaitMs: 500, minBytes: 1, topics: [
            .init(topic: "bench", partitions: (0..<16).map { .init(partition: Int32($0), fetchOffset: 1000, partitionMaxBytes: 1 << 20) }),
        ])
        let fetchResp = FetchResponse(responses: [
            .init(topic: "bench", partitions: (0..<16).map {
                .init(partitionIndex: Int32($0), highWatermark: 2000, lastStableOffset: 2000, logStartOffset: 0,
                      records: nil, spliceLength: 16 * 1024)
            }),
        ])
        do {
            let pBytes = try produce.encoded(version: 8)
            try time("produce v8 encode (16 x 16 KiB)", n) { _ = try produce.encoded(version: 8) }
            try time("produce v8 decode (16 x 16 KiB)", n) { _ = try ProduceRequest.decode(pBytes, version: 8) }
            let mBytes = try metadata.encoded(version: 8)
            try time("metadata v8 response encode (50 x 10)", n / 10) { _ = try metadata.encoded(version: 8) }
            try time("metadata v8 response decode (50 x 10)", n / 10) { _ = try MetadataResponse.decode(mBytes, version: 8) }
            let fBytes = try fetchReq.encoded(version: 11)
            try time("fetch v11 request decode (16 partitions)", n) { _ = try FetchRequest.decode(fBytes, version: 11) }
            try time("fetch v11 response segments (16 spliced)", n) {
                _ = try fetchResp.encodeFrameSegments(version: 11, correlationId: 1)
            }
        } catch {
            print("codec bench failed: \(error)")
        }
    }

    static func time(_ name: String, _ n: Int, _ body: () throws -> Void) rethrows {
        for _ in 0..<max(1, n / 10) { try body() }  // warm up
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n { try body() }
        let ns = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(n)
        print(name.padding(toLength: 44, withPad: " ", startingAt: 0)
              + String(format: "%10.0f ops/s  %8.2f µs/op", 1e9 / ns, ns / 1000))
    }
}
