import Foundation
import Glibc
import Protocol
import Storage
import Transport

/// Segment-log throughput against the raw disk limits measured in the same run:
/// appends vs a plain write() loop of the same bytes (both end with fsync), and sequential reads
/// (sendfile of the regions the log returns) vs sendfile of the same file, into /dev/null and
/// into a socket pair drained by another thread. Reads come from the page cache, as in Kafka.
enum StorageBench {
    struct Row {
        var name: String
        var seconds: Double
        var bytes: Int
        var records: Int
        var rawSeconds: Double
        /// Median over rounds of (raw time / log time), each pair measured back to back: robust
        /// against other load on the machine, unlike a ratio of two bests.
        var medianRatio: Double
    }

    static func row(_ name: String, _ pairs: [(raw: Double, log: Double)], bytes: Int, records: Int) -> Row {
        Row(name: name, seconds: pairs.map(\.log).min() ?? 1, bytes: bytes, records: records,
            rawSeconds: pairs.map(\.raw).min() ?? 1, medianRatio: median(pairs.map { $0.raw / $0.log }))
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.isEmpty ? 0 : s[s.count / 2]
    }

    static func run(_ args: [String]) {
        let mib = args.first.flatMap { Int($0) } ?? 256
        let rounds = args.dropFirst().first.flatMap { Int($0) } ?? 3
        let total = mib << 20
        var template = Array("/tmp/storage-bench-XXXXXX".utf8CString)
        let root: String = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        defer { try? FileManager.default.removeItem(atPath: root) }
        var rows: [Row] = []
        do {
            for recordSize in [100, 1024] {
                rows += try runCase(root: "\(root)/r\(recordSize)", recordSize: recordSize, total: total, rounds: rounds)
            }
        } catch {
            print("storage bench failed: \(error)")
            return
        }
        let crcData = [UInt8](repeating: 7, count: 16 << 20)
        var crc: UInt32 = 0
        let crcTime = (0..<5).map { _ in seconds { crc = CRC32C.checksum(crcData) } }.min() ?? 1
        let softTime = (0..<5).map { _ in seconds { crc ^= crcData.withUnsafeBytes { CRC32C.softwareUpdate(0, $0) } } }.min() ?? 1
        print("\n### Storage (\(mib) MiB per case, 16 KiB batches, best of \(rounds))\n")
        print("CRC-32C: \(CRC32C.hardware ? "crc32 instruction" : "software") \(fmt(Double(crcData.count) / crcTime / 1e6)) MB/s; "
            + "software (slicing-by-16, 2 interleaved streams) \(fmt(Double(crcData.count) / softTime / 1e6)) MB/s (crc \(crc & 1))\n")
        print("| case | MB/s (best) | records/s | raw MB/s (best) | % of raw (median of paired rounds) |")
        print("|---|---:|---:|---:|---:|")
        for r in rows {
            let mbs = Double(r.bytes) / r.seconds / 1e6
            let raw = Double(r.bytes) / r.rawSeconds / 1e6
            print("| \(r.name) | \(fmt(mbs)) | \(fmt(Double(r.records) / r.seconds)) | \(fmt(raw)) | \(fmt(100 * r.medianRatio)) |")
        }
    }

    static func fmt(_ v: Double) -> String {
        v >= 100 ? String(Int(v.rounded())) : String(format: "%.1f", v)
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = MonotonicClock.nanos()
        try body()
        return Double(MonotonicClock.nanos() - t0) / 1e9
    }

    static func runCase(root: String, recordSize: Int, total: Int, rounds: Int) throws -> [Row] {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // 32 distinct ~16 KiB batches, cycled.
        let perBatch = max(1, 16_384 / (recordSize + 12))
        var batches: [[UInt8]] = []
        var seed: UInt64 = 42
        for b in 0..<32 {
            var recs: [Record] = []
            for i in 0..<perBatch {
                var value = [UInt8](repeating: 0, count: recordSize)
                for j in stride(from: 0, to: recordSize, by: 8) {
                    seed = seed &* 6_364_136_223_846_793_005 &+ 1
                    value[j] = UInt8(truncatingIfNeeded: seed >> 40)
                }
                recs.append(Record(offset: Int64(i), timestamp: 1_700_000_000_000 + Int64(b), key: nil, value: value))
            }
            batches.append(try RecordBatch.build(recs))
        }
        let batchBytes = batches[0].count
        let count = total / batchBytes
        let bytes = count * batchBytes
        let records = count * perBatch

        // Raw: write() the same bytes, then fsync. Log: append (validate + CRC + offset rewrite +
        // write), then flush. Fresh file/log each time; the order alternates between rounds.
        let rawPath = "\(root)/raw.bin"
        let now = WallClock.millis()
        func rawWriteOnce() throws -> Double {
            defer { unlink(rawPath) }
            return try seconds {
                let fd = open(rawPath, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
                guard fd >= 0 else { throw POSIXError(.EIO) }
                for i in 0..<count {
                    let b = batches[i & 31]
                    let n = b.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    guard n == b.count else { throw POSIXError(.EIO) }
                }
                fsync(fd)
                close(fd)
            }
        }
        var log: PartitionLog?
        func appendOnce(_ round: Int) throws -> Double {
            try log?.delete()
            let l = try PartitionLog.open(dir: "\(root)/bench-\(round)", now: now)
            log = l
            return try seconds {
                // The array entry point, as the broker calls it (borrowed bytes, no copy).
                for i in 0..<count {
                    _ = try l.append(batches[i & 31], leaderEpoch: 0, now: now)
                }
                try l.flush()
            }
        }
        var writes: [(raw: Double, log: Double)] = []
        for round in 0..<rounds {
            if round % 2 == 0 {
                let r = try rawWriteOnce()
                writes.append((r, try appendOnce(round)))
            } else {
                let a = try appendOnce(round)
                writes.append((try rawWriteOnce(), a))
            }
        }
        guard let log else { return [] }
        if ProcessInfo.processInfo.environment["BENCH_BREAKDOWN"] != nil {
            var sink: UInt32 = 0
            let crcOnly = (0..<rounds).map { _ in seconds { for i in 0..<count { sink ^= CRC32C.checksum(batches[i & 31]) } } }.min() ?? 0
            print("breakdown \(recordSize): raw \(writes.map(\.raw).min()!)s append \(writes.map(\.log).min()!)s crc-only \(crcOnly)s (\(sink & 1))")
        }
        var rows = [row("append \(recordSize) B records", writes, bytes: bytes, records: records)]

        // Reads: 1 MiB fetches, each a file region sent with sendfile; `passes` full passes per
        // measurement so a page-cache read lasts long enough to time.
        let passes = 4
        let segPath = "\(log.dir)/00000000000000000000.log"
        for sinkName in ["/dev/null", "socketpair"] {
            let sink = try Sink(sinkName)
            func rawReadOnce() throws -> Double {
                try seconds {
                    let fd = open(segPath, O_RDONLY)
                    defer { close(fd) }
                    for _ in 0..<passes {
                        var off = 0
                        while off < bytes {
                            var o = off_t(off)
                            let n = sendfile(sink.fd, fd, &o, min(1 << 20, bytes - off))
                            guard n > 0 else { throw POSIXError(.EIO) }
                            off += n
                        }
                    }
                }
            }
            func logReadOnce() throws -> Double {
                try seconds {
                    for _ in 0..<passes {
                        var next: Int64 = 0
                        while next < log.logEndOffset {
                            let r = try log.read(from: next, maxBytes: 1 << 20)
                            guard let region = r.region, let fd = region.fd, let first = r.firstBatchOffset else { break }
                            var o = off_t(region.position)
                            var left = region.length
                            while left > 0 {
                                let n = sendfile(sink.fd, fd, &o, left)
                                guard n > 0 else { throw POSIXError(.EIO) }
                                left -= n
                            }
                            // A consumer parses the response; here all batches have the same size.
                            next = first + Int64(max(1, region.length / batchBytes) * perBatch)
                        }
                    }
                }
            }
            var reads: [(raw: Double, log: Double)] = []
            for round in 0..<rounds {
                if round % 2 == 0 {
                    let r = try rawReadOnce()
                    reads.append((r, try logReadOnce()))
                } else {
                    let l = try logReadOnce()
                    reads.append((try rawReadOnce(), l))
                }
            }
            sink.finish()
            rows.append(row("read \(recordSize) B records → \(sinkName)", reads, bytes: bytes * passes, records: records * passes))
        }
        try log.delete()
        return rows
    }

    /// Where reads go: /dev/null, or one end of a Unix socket pair drained by a thread.
    final class Sink {
        let fd: Int32
        private let other: Int32
        private let done = DispatchSemaphore(value: 0)

        init(_ kind: String) throws {
            if kind == "/dev/null" {
                fd = open("/dev/null", O_WRONLY)
                other = -1
                return
            }
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw POSIXError(.EIO) }
            fd = fds[0]
            other = fds[1]
            var sz: Int32 = 4 << 20
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, socklen_t(4))
            setsockopt(other, SOL_SOCKET, SO_RCVBUF, &sz, socklen_t(4))
            let reader = other
            let sem = done
            Thread {
                var buf = [UInt8](repeating: 0, count: 1 << 20)
                while buf.withUnsafeMutableBytes({ read(reader, $0.baseAddress, $0.count) }) > 0 {}
                sem.signal()
            }.start()
        }

        func finish() {
            close(fd)
            if other >= 0 {
                done.wait()
                close(other)
            }
        }
    }
}
