/// LZ4 frame format (lz4_Frame_format.md) as Kafka uses it for magic v2, and the LZ4 block format.
enum LZ4 {
    static let frameMagic: UInt32 = 0x184D_2204

    private static func bad(_ why: String) -> RecordBatchError { .corruptCompressedData("lz4: \(why)") }

    @inline(__always) private static func le32(_ d: [UInt8], _ p: Int) -> UInt32 {
        UInt32(d[p]) | UInt32(d[p + 1]) << 8 | UInt32(d[p + 2]) << 16 | UInt32(d[p + 3]) << 24
    }

    /// Decodes one or more concatenated frames (skippable frames are skipped).
    static func decompressFrames(_ d: [UInt8], maxBytes: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var p = 0
        while p < d.count {
            guard d.count - p >= 4 else { throw bad("truncated magic") }
            let magic = le32(d, p)
            p += 4
            if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                guard d.count - p >= 4 else { throw bad("truncated skippable frame") }
                let n = Int(le32(d, p))
                p += 4
                guard n <= d.count - p else { throw bad("skippable frame length") }
                p += n
                continue
            }
            guard magic == frameMagic else { throw bad("bad magic") }
            guard d.count - p >= 3 else { throw bad("truncated descriptor") }
            let flg = d[p], bd = d[p + 1]
            guard flg >> 6 == 1 else { throw bad("unsupported version") }
            let blockChecksum = flg & 0x10 != 0
            let hasContentSize = flg & 0x08 != 0
            let contentChecksum = flg & 0x04 != 0
            let hasDictID = flg & 0x01 != 0
            let blockMax = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20][Int((bd >> 4) & 7)]
            guard blockMax > 0 else { throw bad("bad block size") }
            let descLen = 2 + (hasContentSize ? 8 : 0) + (hasDictID ? 4 : 0)
            guard d.count - p >= descLen + 1 else { throw bad("truncated descriptor") }
            let hc = UInt8((XXH32.hash(d[p..<p + descLen]) >> 8) & 0xff)
            guard hc == d[p + descLen] else { throw bad("descriptor checksum") }
            p += descLen + 1
            let frameStart = out.count
            while true {
                guard d.count - p >= 4 else { throw bad("truncated block size") }
                let raw = le32(d, p)
                p += 4
                if raw == 0 { break }
                let size = Int(raw & 0x7FFF_FFFF)
                guard size <= blockMax, size <= d.count - p else { throw bad("block size \(size)") }
                if raw & 0x8000_0000 != 0 {
                    guard out.count + size <= maxBytes else { throw RecordBatchError.tooLarge(out.count + size) }
                    out.append(contentsOf: d[p..<p + size])
                } else {
                    try decompressBlock(d[p..<p + size], into: &out, maxBytes: min(maxBytes, out.count + blockMax))
                }
                p += size
                if blockChecksum {
                    guard d.count - p >= 4 else { throw bad("truncated block checksum") }
                    p += 4
                }
            }
            if contentChecksum {
                guard d.count - p >= 4 else { throw bad("truncated content checksum") }
                guard XXH32.hash(out[frameStart...]) == le32(d, p) else { throw bad("content checksum") }
                p += 4
            }
        }
        return out
    }

    /// Appends the decoded block to `out`; matches may reach back into earlier blocks' output.
    static func decompressBlock(_ src: ArraySlice<UInt8>, into out: inout [UInt8], maxBytes: Int) throws {
        var i = src.startIndex
        let end = src.endIndex
        while i < end {
            let token = src[i]
            i += 1
            var lit = Int(token >> 4)
            if lit == 15 {
                while true {
                    guard i < end else { throw bad("truncated literal length") }
                    let b = src[i]
                    i += 1
                    lit += Int(b)
                    guard lit <= maxBytes else { throw RecordBatchError.tooLarge(lit) }
                    if b != 255 { break }
                }
            }
            guard end - i >= lit, out.count + lit <= maxBytes else { throw bad("literals overrun") }
            out.append(contentsOf: src[i..<i + lit])
            i += lit
            if i == end { return }  // the last sequence has literals only
            guard end - i >= 2 else { throw bad("truncated offset") }
            let offset = Int(src[i]) | Int(src[i + 1]) << 8
            i += 2
            var mlen = Int(token & 15) + 4
            if token & 15 == 15 {
                while true {
                    guard i < end else { throw bad("truncated match length") }
                    let b = src[i]
                    i += 1
                    mlen += Int(b)
                    guard mlen <= maxBytes else { throw RecordBatchError.tooLarge(mlen) }
                    if b != 255 { break }
                }
            }
            guard offset > 0, offset <= out.count, out.count + mlen <= maxBytes else { throw bad("bad match") }
            var from = out.count - offset
            for _ in 0..<mlen {
                out.append(out[from])
                from += 1
            }
        }
    }

    /// A frame of independent 64 KiB blocks, each LZ4-compressed (or stored when that is smaller).
    static func compressFrame(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x04, 0x22, 0x4D, 0x18]
        let desc: [UInt8] = [0x60, 0x40]  // version 01, independent blocks; 64 KiB blocks
        out += desc
        out.append(UInt8((XXH32.hash(desc[...]) >> 8) & 0xff))
        var p = 0
        while p < data.count {
            let n = min(64 << 10, data.count - p)
            let block = compressBlock(data[p..<p + n])
            let stored = block.count >= n
            let raw = UInt32(stored ? n : block.count) | (stored ? 0x8000_0000 : 0)
            out += [UInt8(raw & 0xff), UInt8((raw >> 8) & 0xff), UInt8((raw >> 16) & 0xff), UInt8(raw >> 24)]
            if stored { out += data[p..<p + n] } else { out += block }
            p += n
        }
        out += [0, 0, 0, 0]
        return out
    }

    /// Greedy single-pass LZ4 block compressor. Format rules kept: matches of at least 4 bytes,
    /// the last 5 bytes are literals, and no match starts within the last 12 bytes.
    static func compressBlock(_ src: ArraySlice<UInt8>) -> [UInt8] {
        let base = src.startIndex
        let n = src.count
        var out: [UInt8] = []
        out.reserveCapacity(n / 2 + 16)
        func length(_ v: Int) {
            var v = v
            while v >= 255 { out.append(255); v -= 255 }
            out.append(UInt8(v))
        }
        func sequence(literalsFrom a: Int, to b: Int, offset: Int, match: Int) {
            let lit = b - a
            let m = match - 4
            out.append(UInt8(min(lit, 15) << 4) | UInt8(match > 0 ? min(m, 15) : 0))
            if lit >= 15 { length(lit - 15) }
            out.append(contentsOf: src[(base + a)..<(base + b)])
            guard match > 0 else { return }
            out.append(UInt8(offset & 0xff)); out.append(UInt8(offset >> 8))
            if m >= 15 { length(m - 15) }
        }
        @inline(__always) func word(_ i: Int) -> UInt32 {
            UInt32(src[base + i]) | UInt32(src[base + i + 1]) << 8 | UInt32(src[base + i + 2]) << 16 | UInt32(src[base + i + 3]) << 24
        }
        var anchor = 0
        if n > 12 {
            var table = [Int](repeating: -1, count: 1 << 12)
            var i = 0
            while i < n - 12 {
                let v = word(i)
                let h = Int((v &* 2_654_435_761) >> 20)
                let cand = table[h]
                table[h] = i
                if cand >= 0, i - cand <= 65535, word(cand) == v {
                    var len = 4
                    while i + len < n - 5, src[base + cand + len] == src[base + i + len] { len += 1 }
                    sequence(literalsFrom: anchor, to: i, offset: i - cand, match: len)
                    i += len
                    anchor = i
                } else {
                    i += 1
                }
            }
        }
        sequence(literalsFrom: anchor, to: n, offset: 0, match: 0)
        return out
    }
}

/// xxHash32 (seed 0), used by LZ4 frames for descriptor and content checksums.
enum XXH32 {
    static let p1: UInt32 = 2_654_435_761, p2: UInt32 = 2_246_822_519, p3: UInt32 = 3_266_489_917
    static let p4: UInt32 = 668_265_263, p5: UInt32 = 374_761_393

    @inline(__always) static func rotl(_ x: UInt32, _ r: UInt32) -> UInt32 { (x << r) | (x >> (32 - r)) }

    static func hash(_ d: ArraySlice<UInt8>, seed: UInt32 = 0) -> UInt32 {
        var i = d.startIndex
        let end = d.endIndex
        @inline(__always) func lane(_ p: Int) -> UInt32 {
            UInt32(d[p]) | UInt32(d[p + 1]) << 8 | UInt32(d[p + 2]) << 16 | UInt32(d[p + 3]) << 24
        }
        var h: UInt32
        if d.count >= 16 {
            var v1 = seed &+ p1 &+ p2, v2 = seed &+ p2, v3 = seed, v4 = seed &- p1
            while end - i >= 16 {
                v1 = rotl(v1 &+ lane(i) &* p2, 13) &* p1
                v2 = rotl(v2 &+ lane(i + 4) &* p2, 13) &* p1
                v3 = rotl(v3 &+ lane(i + 8) &* p2, 13) &* p1
                v4 = rotl(v4 &+ lane(i + 12) &* p2, 13) &* p1
                i += 16
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
        } else {
            h = seed &+ p5
        }
        h = h &+ UInt32(truncatingIfNeeded: d.count)
        while end - i >= 4 {
            h = rotl(h &+ lane(i) &* p3, 17) &* p4
            i += 4
        }
        while i < end {
            h = rotl(h &+ UInt32(d[i]) &* p5, 11) &* p1
            i += 1
        }
        h ^= h >> 15
        h = h &* p2
        h ^= h >> 13
        h = h &* p3
        h ^= h >> 16
        return h
    }
}
