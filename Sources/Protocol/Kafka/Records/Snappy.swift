/// Snappy raw blocks (format_description.txt of google/snappy) and the xerial stream framing that
/// the Java client writes: magic "\u{82}SNAPPY\0", version and compatible-version int32s, then
/// repeated (int32 big-endian compressed length, raw block).
enum Snappy {
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]

    /// Accepts both framings: clients differ in which one they send.
    static func decompressKafka(_ data: [UInt8], maxBytes: Int) throws -> [UInt8] {
        guard data.count >= 16, Array(data[0..<8]) == xerialMagic else {
            return try decompressBlock(data[...], maxBytes: maxBytes)
        }
        var out: [UInt8] = []
        var p = 16
        while p < data.count {
            guard data.count - p >= 4 else { throw RecordBatchError.corruptCompressedData("snappy: truncated block length") }
            let n = Int(UInt32(data[p]) << 24 | UInt32(data[p + 1]) << 16 | UInt32(data[p + 2]) << 8 | UInt32(data[p + 3]))
            p += 4
            guard n <= data.count - p else { throw RecordBatchError.corruptCompressedData("snappy: block length \(n)") }
            out += try decompressBlock(data[p..<p + n], maxBytes: maxBytes - out.count)
            p += n
        }
        return out
    }

    static func decompressBlock(_ src: ArraySlice<UInt8>, maxBytes: Int) throws -> [UInt8] {
        var i = src.startIndex
        let end = src.endIndex
        // Preamble: uncompressed length as a little-endian base-128 varint.
        var expected = 0
        var shift = 0
        while true {
            guard i < end, shift <= 28 else { throw RecordBatchError.corruptCompressedData("snappy: bad preamble") }
            let b = src[i]
            i += 1
            expected |= Int(b & 0x7f) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        guard expected <= maxBytes else { throw RecordBatchError.tooLarge(expected) }
        var out: [UInt8] = []
        out.reserveCapacity(expected)
        func bad(_ why: String) -> RecordBatchError { .corruptCompressedData("snappy: \(why)") }
        while i < end {
            let tag = src[i]
            i += 1
            var length: Int
            var offset: Int
            switch tag & 3 {
            case 0:
                length = Int(tag >> 2)
                if length >= 60 {
                    let extra = length - 59
                    guard end - i >= extra else { throw bad("truncated literal length") }
                    length = 0
                    for k in 0..<extra { length |= Int(src[i + k]) << (8 * k) }
                    i += extra
                }
                length += 1
                guard end - i >= length, out.count + length <= expected else { throw bad("literal overruns") }
                out.append(contentsOf: src[i..<i + length])
                i += length
                continue
            case 1:
                guard end - i >= 1 else { throw bad("truncated copy") }
                length = 4 + Int((tag >> 2) & 7)
                offset = Int(tag >> 5) << 8 | Int(src[i])
                i += 1
            case 2:
                guard end - i >= 2 else { throw bad("truncated copy") }
                length = 1 + Int(tag >> 2)
                offset = Int(src[i]) | Int(src[i + 1]) << 8
                i += 2
            default:
                guard end - i >= 4 else { throw bad("truncated copy") }
                length = 1 + Int(tag >> 2)
                offset = Int(src[i]) | Int(src[i + 1]) << 8 | Int(src[i + 2]) << 16 | Int(src[i + 3]) << 24
                i += 4
            }
            guard offset > 0, offset <= out.count, out.count + length <= expected else { throw bad("bad copy") }
            // Byte by byte: a copy may overlap its own output (run-length).
            var from = out.count - offset
            for _ in 0..<length {
                out.append(out[from])
                from += 1
            }
        }
        guard out.count == expected else { throw bad("length \(out.count) != \(expected)") }
        return out
    }

    /// Greedy compressor with a 4-byte hash table; output is a valid raw snappy block.
    static func compressBlock(_ src: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(src.count / 2 + 16)
        var n = src.count
        while n >= 0x80 { out.append(UInt8(n & 0x7f) | 0x80); n >>= 7 }
        out.append(UInt8(n))
        func emitLiteral(_ from: Int, _ to: Int) {
            var start = from
            while start < to {
                let len = min(to - start, 65536)
                let l = len - 1
                if l < 60 {
                    out.append(UInt8(l << 2))
                } else if l < 256 {
                    out.append(60 << 2); out.append(UInt8(l))
                } else {
                    out.append(61 << 2); out.append(UInt8(l & 0xff)); out.append(UInt8(l >> 8))
                }
                out.append(contentsOf: src[start..<start + len])
                start += len
            }
        }
        func emitCopy(_ offset: Int, _ length: Int) {
            var left = length
            while left > 0 {
                let len = min(left, 64)
                // Tag 2: 1-64 bytes, 2-byte offset (offsets stay below 65536 here).
                out.append(UInt8((len - 1) << 2) | 2)
                out.append(UInt8(offset & 0xff)); out.append(UInt8(offset >> 8))
                left -= len
            }
        }
        guard src.count >= 8 else { emitLiteral(0, src.count); return out }
        var table = [Int](repeating: -1, count: 1 << 14)
        var i = 0
        var literalStart = 0
        while i + 4 <= src.count {
            let v = UInt32(src[i]) | UInt32(src[i + 1]) << 8 | UInt32(src[i + 2]) << 16 | UInt32(src[i + 3]) << 24
            let h = Int((v &* 0x1E35_A7BD) >> 18)
            let cand = table[h]
            table[h] = i
            if cand >= 0, i - cand < 65536, src[cand] == src[i], src[cand + 1] == src[i + 1],
               src[cand + 2] == src[i + 2], src[cand + 3] == src[i + 3] {
                emitLiteral(literalStart, i)
                var len = 4
                while i + len < src.count, src[cand + len] == src[i + len] { len += 1 }
                emitCopy(i - cand, len)
                i += len
                literalStart = i
            } else {
                i += 1
            }
        }
        emitLiteral(literalStart, src.count)
        return out
    }

    static func compressXerial(_ data: [UInt8]) -> [UInt8] {
        var out = xerialMagic
        out += [0, 0, 0, 1, 0, 0, 0, 1]
        var p = 0
        repeat {
            let end = min(data.count, p + 32 * 1024)
            let block = compressBlock(Array(data[p..<end]))
            let n = UInt32(block.count)
            out += [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)]
            out += block
            p = end
        } while p < data.count
        return out
    }
}
