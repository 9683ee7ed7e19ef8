internal import CZlib

/// Compression of a batch's records section. gzip via zlib; snappy and lz4 both ways in Swift;
/// zstd decoded in Swift, never encoded (`unsupportedCompression`).
public enum RecordCompression {
    public static func compress(_ data: [UInt8], type: CompressionType) throws -> [UInt8] {
        switch type {
        case .none: return data
        case .gzip: return try Gzip.compress(data)
        case .snappy: return Snappy.compressXerial(data)
        case .lz4: return LZ4.compressFrame(data)
        case .zstd: throw RecordBatchError.unsupportedCompression(type.rawValue)
        }
    }

    /// `maxBytes` bounds the output so a small malicious batch cannot exhaust memory.
    public static func decompress(_ data: [UInt8], type: CompressionType, maxBytes: Int = 64 << 20) throws -> [UInt8] {
        switch type {
        case .none: return data
        case .gzip: return try Gzip.decompress(data, maxBytes: maxBytes)
        case .snappy: return try Snappy.decompressKafka(data, maxBytes: maxBytes)
        case .lz4: return try LZ4.decompressFrames(data, maxBytes: maxBytes)
        case .zstd: return try Zstd.decompress(data, maxBytes: maxBytes)
        }
    }
}

enum Gzip {
    static func compress(_ data: [UInt8]) throws -> [UInt8] {
        var s = z_stream()
        // windowBits 15 + 16 selects the gzip wrapper (what Kafka's GZIPOutputStream writes).
        var rc = deflateInit2_(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                               zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw RecordBatchError.corruptCompressedData("deflateInit2 \(rc)") }
        defer { deflateEnd(&s) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&s, uLong(data.count))) + 32)
        var input = data
        let produced: Int = input.withUnsafeMutableBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { outp in
                s.next_in = inp.baseAddress
                s.avail_in = uInt(inp.count)
                s.next_out = outp.baseAddress
                s.avail_out = uInt(outp.count)
                rc = deflate(&s, Z_FINISH)
                return outp.count - Int(s.avail_out)
            }
        }
        guard rc == Z_STREAM_END else { throw RecordBatchError.corruptCompressedData("deflate \(rc)") }
        out.removeSubrange(produced...)
        return out
    }

    static func decompress(_ data: [UInt8], maxBytes: Int) throws -> [UInt8] {
        var s = z_stream()
        // 15 + 32: accept gzip or zlib headers.
        var rc = inflateInit2_(&s, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw RecordBatchError.corruptCompressedData("inflateInit2 \(rc)") }
        defer { inflateEnd(&s) }
        var input = data
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(4096, min(maxBytes, data.count * 4)))
        try input.withUnsafeMutableBufferPointer { inp in
            s.next_in = inp.baseAddress
            s.avail_in = uInt(inp.count)
            while true {
                let n: Int = chunk.withUnsafeMutableBufferPointer { cp in
                    s.next_out = cp.baseAddress
                    s.avail_out = uInt(cp.count)
                    rc = inflate(&s, Z_NO_FLUSH)
                    return cp.count - Int(s.avail_out)
                }
                if rc != Z_OK && rc != Z_STREAM_END {
                    throw RecordBatchError.corruptCompressedData("inflate \(rc)")
                }
                if out.count + n > maxBytes { throw RecordBatchError.tooLarge(out.count + n) }
                out.append(contentsOf: chunk[0..<n])
                if rc == Z_STREAM_END {
                    // Concatenated gzip members are legal; continue if input remains.
                    if s.avail_in == 0 { return }
                    inflateReset(&s)
                    continue
                }
                if n == 0 && s.avail_in == 0 { throw RecordBatchError.corruptCompressedData("gzip stream truncated") }
            }
        }
        return out
    }
}
