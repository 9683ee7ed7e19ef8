import Glibc
import Protocol
@testable import Storage

/// A fresh directory under /tmp, removed when `body` returns or throws.
func withTempDir<T>(_ body: (String) throws -> T) throws -> T {
    var template = Array("/tmp/storage-test-XXXXXX".utf8CString)
    let dir: String = template.withUnsafeMutableBufferPointer { buf in
        guard let p = mkdtemp(buf.baseAddress!) else { return "" }
        return String(cString: p)
    }
    precondition(!dir.isEmpty, "mkdtemp failed")
    defer { try? posixFS.removeTree(dir) }
    return try body(dir)
}

/// A batch of `count` records with keys "k<i>" and values of `valueSize` bytes.
func makeBatch(count: Int = 3, valueSize: Int = 20, timestamp: Int64 = 1000, keys: [String]? = nil,
               compression: CompressionType = .none, values: [[UInt8]?]? = nil) throws -> [UInt8] {
    var recs: [Record] = []
    for i in 0..<count {
        let key = keys.map { Array($0[i].utf8) } ?? Array("k\(i)".utf8)
        let value: [UInt8]? = values.map { $0[i] } ?? [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: valueSize)
        recs.append(Record(offset: Int64(i), timestamp: timestamp + Int64(i), key: key, value: value))
    }
    return try RecordBatch.build(recs, options: RecordBatchOptions(compression: compression))
}

func fileSize(_ path: String) -> Int {
    var st = stat()
    return stat(path, &st) == 0 ? Int(st.st_size) : -1
}

/// The real file system the tests under /tmp use.
let posixFS = PosixFileSystem()

func readFile(_ path: String) throws -> [UInt8] { try posixFS.read(path) }

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try posixFS.create(path).write(bytes, at: 0)
}

func truncateFile(_ path: String, to size: Int) {
    _ = Glibc.truncate(path, off_t(size))
}

/// All records readable from `from` to the end, following batches across segments.
func readAllRecords(_ log: PartitionLog, from: Int64? = nil, maxOffset: Int64? = nil) throws -> [Record] {
    var out: [Record] = []
    var next = from ?? log.logStartOffset
    while next < (maxOffset ?? log.logEndOffset) {
        let bytes = try log.readBytes(from: next, maxBytes: 1 << 20, maxOffset: maxOffset)
        if bytes.isEmpty { break }
        let (batches, _) = try RecordBatch.split(bytes)
        for b in batches {
            let recs = try RecordBatch.records(of: Array(bytes[b.range])).records
            out += recs.filter { $0.offset >= next }
            next = b.header.nextOffset
        }
    }
    return out
}
