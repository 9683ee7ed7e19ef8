/// Zstandard decoder (RFC 8878 / zstd_compression_format.md), for batches compressed by clients.
/// Frames without dictionaries; the optional content checksum is skipped, not verified (the batch
/// CRC already covers the compressed bytes). No encoder: the broker never needs to write zstd.
enum Zstd {
    static let magic: UInt32 = 0xFD2F_B528
    static let maxBlock = 128 << 10

    static func bad(_ why: String) -> RecordBatchError { .corruptCompressedData("zstd: \(why)") }

    // Code tables of the format (section "The codes for literals lengths, match lengths, and offsets").
    static let llBase: [Int] = Array(0...15) + [16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096,
                                                 8192, 16384, 32768, 65536]
    static let llBits: [Int] = [Int](repeating: 0, count: 16) + [1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    static let mlBase: [Int] = Array(3...34) + [35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051,
                                                4099, 8195, 16387, 32771, 65539]
    static let mlBits: [Int] = [Int](repeating: 0, count: 32) + [1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    // Predefined distributions.
    static let llDefault: [Int] = [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1,
                                   -1, -1, -1, -1]
    static let mlDefault: [Int] = [1, 4, 3, 2, 2, 2, 2, 2, 2] + [Int](repeating: 1, count: 37) + [Int](repeating: -1, count: 7)
    static let ofDefault: [Int] = [1, 1, 1, 1, 1, 1, 2, 2, 2] + [Int](repeating: 1, count: 15) + [Int](repeating: -1, count: 5)

    /// Decodes concatenated frames (skippable frames are skipped).
    static func decompress(_ src: [UInt8], maxBytes: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var p = 0
        while p < src.count {
            guard src.count - p >= 4 else { throw bad("truncated magic") }
            let m = le(src, p, 4)
            p += 4
            if m & 0xFFFF_FFF0 == 0x184D_2A50 {
                guard src.count - p >= 4 else { throw bad("truncated skippable frame") }
                let n = Int(le(src, p, 4))
                p += 4
                guard n <= src.count - p else { throw bad("skippable frame length") }
                p += n
                continue
            }
            guard m == UInt64(magic) else { throw bad("bad magic") }
            try decodeFrame(src, &p, into: &out, maxBytes: maxBytes)
        }
        return out
    }

    @inline(__always) static func le(_ b: [UInt8], _ p: Int, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in stride(from: n - 1, through: 0, by: -1) { v = v << 8 | UInt64(b[p + i]) }
        return v
    }

    /// Tables and offsets that carry from block to block inside a frame.
    struct FrameState {
        var reps = [1, 4, 8]
        var huffman: HuffmanTable?
        var ll: FSETable?
        var of: FSETable?
        var ml: FSETable?
    }

    static func decodeFrame(_ src: [UInt8], _ p: inout Int, into out: inout [UInt8], maxBytes: Int) throws {
        guard p < src.count else { throw bad("truncated frame header") }
        let fhd = src[p]
        p += 1
        guard fhd & 0x08 == 0 else { throw bad("reserved bit set") }
        let single = fhd & 0x20 != 0
        if !single {
            guard p < src.count else { throw bad("truncated window descriptor") }
            guard 10 + Int(src[p] >> 3) <= 31 else { throw RecordBatchError.tooLarge(1 << 31) }
            p += 1
        }
        let didSize = [0, 1, 2, 4][Int(fhd & 3)]
        let fcsSize = [single ? 1 : 0, 2, 4, 8][Int(fhd >> 6)]
        guard src.count - p >= didSize + fcsSize else { throw bad("truncated frame header") }
        if didSize > 0 && le(src, p, didSize) != 0 { throw bad("dictionaries are not supported") }
        p += didSize
        var contentSize: UInt64?
        if fcsSize > 0 {
            contentSize = le(src, p, fcsSize) + (fcsSize == 2 ? 256 : 0)
            p += fcsSize
            if let cs = contentSize, cs > UInt64(maxBytes - out.count) { throw RecordBatchError.tooLarge(Int(clamping: cs)) }
        }
        let frameStart = out.count
        var state = FrameState()
        while true {
            guard src.count - p >= 3 else { throw bad("truncated block header") }
            let h = Int(le(src, p, 3))
            p += 3
            let size = h >> 3
            guard size <= maxBlock else { throw bad("block size \(size)") }
            switch (h >> 1) & 3 {
            case 0:
                guard src.count - p >= size else { throw bad("truncated raw block") }
                guard out.count + size <= maxBytes else { throw RecordBatchError.tooLarge(out.count + size) }
                out.append(contentsOf: src[p..<p + size])
                p += size
            case 1:
                guard p < src.count else { throw bad("truncated RLE block") }
                guard out.count + size <= maxBytes else { throw RecordBatchError.tooLarge(out.count + size) }
                out.append(contentsOf: repeatElement(src[p], count: size))
                p += 1
            case 2:
                guard src.count - p >= size else { throw bad("truncated compressed block") }
                try decodeBlock(src, p, p + size, frameStart: frameStart, state: &state, into: &out, maxBytes: maxBytes)
                p += size
            default:
                throw bad("reserved block type")
            }
            if h & 1 != 0 { break }
        }
        if fhd & 0x04 != 0 {
            guard src.count - p >= 4 else { throw bad("truncated checksum") }
            p += 4
        }
        if let cs = contentSize, UInt64(out.count - frameStart) != cs { throw bad("content size mismatch") }
    }

    // MARK: blocks

    static func decodeBlock(_ src: [UInt8], _ start: Int, _ end: Int, frameStart: Int, state: inout FrameState,
                            into out: inout [UInt8], maxBytes: Int) throws {
        var p = start
        let literals = try decodeLiterals(src, &p, end, state: &state)
        guard p < end else { throw bad("missing sequences header") }
        let b0 = Int(src[p])
        var nbSeq: Int
        if b0 < 128 {
            nbSeq = b0
            p += 1
        } else if b0 < 255 {
            guard end - p >= 2 else { throw bad("truncated sequence count") }
            nbSeq = ((b0 - 128) << 8) + Int(src[p + 1])
            p += 2
        } else {
            guard end - p >= 3 else { throw bad("truncated sequence count") }
            nbSeq = Int(src[p + 1]) + (Int(src[p + 2]) << 8) + 0x7F00
            p += 3
        }
        var litPos = 0
        if nbSeq > 0 {
            guard p < end else { throw bad("missing compression modes") }
            let modes = src[p]
            p += 1
            guard modes & 3 == 0 else { throw bad("reserved mode bits") }
            state.ll = try table(mode: Int(modes >> 6), src, &p, end, previous: state.ll, defaults: llDefault, defaultLog: 6, maxLog: 9, maxSymbol: 35)
            state.of = try table(mode: Int((modes >> 4) & 3), src, &p, end, previous: state.of, defaults: ofDefault, defaultLog: 5, maxLog: 8, maxSymbol: 31)
            state.ml = try table(mode: Int((modes >> 2) & 3), src, &p, end, previous: state.ml, defaults: mlDefault, defaultLog: 6, maxLog: 9, maxSymbol: 52)
            guard let ll = state.ll, let of = state.of, let ml = state.ml else { throw bad("missing tables") }
            var bits = try BackwardBits(src, p, end)
            var llState = Int(bits.read(ll.log)), ofState = Int(bits.read(of.log)), mlState = Int(bits.read(ml.log))
            for i in 0..<nbSeq {
                let ofCode = Int(of.symbol[ofState]), llCode = Int(ll.symbol[llState]), mlCode = Int(ml.symbol[mlState])
                guard ofCode <= 31, llCode < llBase.count, mlCode < mlBase.count else { throw bad("bad code") }
                let offsetValue = (1 << ofCode) + Int(bits.read(ofCode))
                let matchLength = mlBase[mlCode] + Int(bits.read(mlBits[mlCode]))
                let literalLength = llBase[llCode] + Int(bits.read(llBits[llCode]))
                if i != nbSeq - 1 {
                    llState = Int(ll.baseline[llState]) + Int(bits.read(Int(ll.nbBits[llState])))
                    mlState = Int(ml.baseline[mlState]) + Int(bits.read(Int(ml.nbBits[mlState])))
                    ofState = Int(of.baseline[ofState]) + Int(bits.read(Int(of.nbBits[ofState])))
                }
                // Repeat offsets: values 1-3 name recent offsets, shifted by one when no literals precede.
                var offset: Int
                if offsetValue > 3 {
                    offset = offsetValue - 3
                    state.reps = [offset, state.reps[0], state.reps[1]]
                } else {
                    let idx = offsetValue - 1 + (literalLength == 0 ? 1 : 0)
                    switch idx {
                    case 0: offset = state.reps[0]
                    case 1: offset = state.reps[1]; state.reps = [offset, state.reps[0], state.reps[2]]
                    case 2: offset = state.reps[2]; state.reps = [offset, state.reps[0], state.reps[1]]
                    default: offset = state.reps[0] - 1; state.reps = [offset, state.reps[0], state.reps[1]]
                    }
                }
                guard literalLength <= literals.count - litPos else { throw bad("literals overrun") }
                guard out.count + literalLength + matchLength <= maxBytes else {
                    throw RecordBatchError.tooLarge(out.count + literalLength + matchLength)
                }
                out.append(contentsOf: literals[litPos..<litPos + literalLength])
                litPos += literalLength
                guard offset > 0, offset <= out.count - frameStart else { throw bad("offset \(offset) before frame start") }
                var from = out.count - offset
                for _ in 0..<matchLength {
                    out.append(out[from])
                    from += 1
                }
            }
            guard bits.position == 0 else { throw bad("sequence bitstream not fully consumed") }
        } else {
            guard p == end else { throw bad("trailing bytes after empty sequence section") }
        }
        let rest = literals.count - litPos
        guard out.count + rest <= maxBytes else { throw RecordBatchError.tooLarge(out.count + rest) }
        out.append(contentsOf: literals[litPos...])
    }

    static func table(mode: Int, _ src: [UInt8], _ p: inout Int, _ end: Int, previous: FSETable?, defaults: [Int],
                      defaultLog: Int, maxLog: Int, maxSymbol: Int) throws -> FSETable {
        switch mode {
        case 0:
            return try FSETable(counts: defaults, log: defaultLog)
        case 1:
            guard p < end else { throw bad("truncated RLE symbol") }
            let s = src[p]
            p += 1
            guard Int(s) <= maxSymbol else { throw bad("RLE symbol \(s)") }
            return FSETable(rle: s)
        case 2:
            let (t, used) = try FSETable.read(src, p, end, maxLog: maxLog, maxSymbol: maxSymbol)
            p += used
            return t
        default:
            guard let previous else { throw bad("repeat mode without a previous table") }
            return previous
        }
    }

    // MARK: literals

    static func decodeLiterals(_ src: [UInt8], _ p: inout Int, _ end: Int, state: inout FrameState) throws -> [UInt8] {
        guard p < end else { throw bad("missing literals header") }
        let b0 = Int(src[p])
        let type = b0 & 3, sf = (b0 >> 2) & 3
        if type < 2 {
            var regen: Int, hl: Int
            switch sf {
            case 0, 2: regen = b0 >> 3; hl = 1
            case 1:
                guard end - p >= 2 else { throw bad("truncated literals header") }
                regen = (b0 >> 4) + (Int(src[p + 1]) << 4); hl = 2
            default:
                guard end - p >= 3 else { throw bad("truncated literals header") }
                regen = (b0 >> 4) + (Int(src[p + 1]) << 4) + (Int(src[p + 2]) << 12); hl = 3
            }
            guard regen <= maxBlock else { throw bad("literals size") }
            p += hl
            if type == 0 {
                guard end - p >= regen else { throw bad("truncated raw literals") }
                defer { p += regen }
                return Array(src[p..<p + regen])
            }
            guard p < end else { throw bad("truncated RLE literals") }
            defer { p += 1 }
            return [UInt8](repeating: src[p], count: regen)
        }
        let (streams, hl, bitsEach) = [(1, 3, 10), (4, 3, 10), (4, 4, 14), (4, 5, 18)][sf]
        guard end - p >= hl else { throw bad("truncated literals header") }
        let h = Int(le(src, p, hl))
        let mask = (1 << bitsEach) - 1
        let regen = (h >> 4) & mask, comp = (h >> (4 + bitsEach)) & mask
        guard regen <= maxBlock, end - p - hl >= comp else { throw bad("literals sizes") }
        var q = p + hl
        let litEnd = q + comp
        p = litEnd
        if type == 2 {
            let (t, used) = try HuffmanTable.read(src, q, litEnd)
            state.huffman = t
            q += used
        }
        guard let huff = state.huffman else { throw bad("treeless literals without a table") }
        var out: [UInt8] = []
        out.reserveCapacity(regen)
        if streams == 1 {
            try huff.decode(src, q, litEnd, count: regen, into: &out)
        } else {
            guard litEnd - q >= 10 else { throw bad("jump table") }
            let s1 = Int(le(src, q, 2)), s2 = Int(le(src, q + 2, 2)), s3 = Int(le(src, q + 4, 2))
            q += 6
            guard s1 + s2 + s3 < litEnd - q else { throw bad("jump table sizes") }
            let per = (regen + 3) / 4
            guard regen - 3 * per >= 0 else { throw bad("literals split") }
            let bounds = [q, q + s1, q + s1 + s2, q + s1 + s2 + s3, litEnd]
            for i in 0..<4 {
                try huff.decode(src, bounds[i], bounds[i + 1], count: i < 3 ? per : regen - 3 * per, into: &out)
            }
        }
        return out
    }
}

/// Reads a zstd bitstream backwards: it ends with a 1 bit above the last useful bit; bits past the
/// start read as zeros (callers check `position` to detect over-reads).
struct BackwardBits {
    let data: [UInt8]
    let start: Int
    private(set) var position: Int

    init(_ data: [UInt8], _ start: Int, _ end: Int) throws {
        guard end > start, end <= data.count, data[end - 1] != 0 else { throw Zstd.bad("bad bitstream end") }
        self.data = data
        self.start = start
        position = (end - start - 1) * 8 + (7 - data[end - 1].leadingZeroBitCount)
    }

    /// The `n` bits (n <= 32) just below the position, without consuming them.
    func peek(_ n: Int) -> UInt64 {
        guard n > 0 else { return 0 }
        let lo = max(position - n, 0)
        var v: UInt64 = 0
        if position > lo {
            var i = (position - 1) >> 3
            while i >= lo >> 3 {
                v = v << 8 | UInt64(data[start + i])
                i -= 1
            }
            v = (v >> UInt64(lo & 7)) & ((1 << UInt64(position - lo)) - 1)
        }
        return v << UInt64(lo - (position - n))
    }

    mutating func read(_ n: Int) -> UInt64 {
        let v = peek(n)
        position -= n
        return v
    }

    mutating func consume(_ n: Int) { position -= n }
}

/// An FSE decoding table (section "From normalized distribution to decoding tables").
struct FSETable {
    var symbol: [UInt8]
    var nbBits: [UInt8]
    var baseline: [UInt16]
    var log: Int

    init(rle s: UInt8) {
        symbol = [s]
        nbBits = [0]
        baseline = [0]
        log = 0
    }

    init(counts: [Int], log: Int) throws {
        let size = 1 << log
        guard counts.reduce(0, { $0 + ($1 == -1 ? 1 : $1) }) == size, counts.allSatisfy({ $0 >= -1 }) else {
            throw Zstd.bad("distribution does not fill the table")
        }
        symbol = [UInt8](repeating: 0, count: size)
        nbBits = [UInt8](repeating: 0, count: size)
        baseline = [UInt16](repeating: 0, count: size)
        self.log = log
        var high = size - 1
        var next = [Int](repeating: 0, count: counts.count)
        for (s, c) in counts.enumerated() {
            if c == -1 {
                symbol[high] = UInt8(s)
                high -= 1
                next[s] = 1
            } else {
                next[s] = c
            }
        }
        var pos = 0
        let step = (size >> 1) + (size >> 3) + 3
        for (s, c) in counts.enumerated() where c > 0 {
            for _ in 0..<c {
                symbol[pos] = UInt8(s)
                repeat { pos = (pos + step) & (size - 1) } while pos > high
            }
        }
        guard pos == 0 else { throw Zstd.bad("bad distribution") }
        for i in 0..<size {
            let s = Int(symbol[i])
            let x = next[s]
            next[s] += 1
            let nb = log - (Int.bitWidth - 1 - x.leadingZeroBitCount)
            nbBits[i] = UInt8(nb)
            baseline[i] = UInt16((x << nb) - size)
        }
    }

    /// Reads a table description (forward, little-endian bits) at `start`; returns the bytes used.
    static func read(_ src: [UInt8], _ start: Int, _ end: Int, maxLog: Int, maxSymbol: Int) throws -> (FSETable, Int) {
        var bitPos = 0
        func peek(_ n: Int) -> Int {
            var v = 0
            for i in 0..<n {
                let b = bitPos + i
                let byte = start + b >> 3
                if byte < end, src[byte] >> UInt8(b & 7) & 1 != 0 { v |= 1 << i }
            }
            return v
        }
        let log = peek(4) + 5
        bitPos = 4
        guard log <= maxLog else { throw Zstd.bad("accuracy log \(log)") }
        var remaining = 1 << log
        var counts: [Int] = []
        while remaining > 0 {
            guard counts.count <= maxSymbol else { throw Zstd.bad("too many symbols") }
            let r = remaining + 1
            let nb = Int.bitWidth - r.leadingZeroBitCount
            let lowCount = (1 << nb) - 1 - r
            var value = peek(nb - 1)
            if value < lowCount {
                bitPos += nb - 1
            } else {
                value = peek(nb)
                if value >= 1 << (nb - 1) { value -= lowCount }
                bitPos += nb
            }
            let proba = value - 1
            remaining -= proba == -1 ? 1 : proba
            guard remaining >= 0 else { throw Zstd.bad("distribution overflows") }
            counts.append(proba)
            if proba == 0 {
                while true {
                    let rep = peek(2)
                    bitPos += 2
                    counts += [Int](repeating: 0, count: rep)
                    guard counts.count <= maxSymbol + 1 else { throw Zstd.bad("too many symbols") }
                    if rep != 3 { break }
                }
            }
        }
        let used = (bitPos + 7) >> 3
        guard used <= end - start else { throw Zstd.bad("truncated table description") }
        return (try FSETable(counts: counts, log: log), used)
    }
}

/// Huffman decoding table for literals: indexed by the next `maxBits` bits of the stream.
struct HuffmanTable {
    var maxBits: Int
    var symbols: [UInt8]
    var lengths: [UInt8]

    static func read(_ src: [UInt8], _ start: Int, _ end: Int) throws -> (HuffmanTable, Int) {
        guard start < end else { throw Zstd.bad("missing Huffman header") }
        let header = Int(src[start])
        var weights: [Int] = []
        var used: Int
        if header >= 128 {
            let n = header - 127
            used = 1 + (n + 1) / 2
            guard end - start >= used else { throw Zstd.bad("truncated Huffman weights") }
            for i in 0..<n {
                let b = src[start + 1 + i / 2]
                weights.append(Int(i % 2 == 0 ? b >> 4 : b & 0xf))
            }
        } else {
            used = 1 + header
            guard end - start >= used, header > 0 else { throw Zstd.bad("truncated Huffman weights") }
            let (t, tUsed) = try FSETable.read(src, start + 1, start + used, maxLog: 6, maxSymbol: 255)
            var bits = try BackwardBits(src, start + 1 + tUsed, start + used)
            var s1 = Int(bits.read(t.log)), s2 = Int(bits.read(t.log))
            // Two states take turns; once an update reads past the start, the other state's symbol ends it.
            while true {
                guard weights.count < 255 else { throw Zstd.bad("too many Huffman weights") }
                weights.append(Int(t.symbol[s1]))
                s1 = Int(t.baseline[s1]) + Int(bits.read(Int(t.nbBits[s1])))
                if bits.position < 0 { weights.append(Int(t.symbol[s2])); break }
                weights.append(Int(t.symbol[s2]))
                s2 = Int(t.baseline[s2]) + Int(bits.read(Int(t.nbBits[s2])))
                if bits.position < 0 { weights.append(Int(t.symbol[s1])); break }
            }
            guard weights.count <= 255, s1 < t.symbol.count, s2 < t.symbol.count else { throw Zstd.bad("Huffman weights") }
        }
        guard weights.allSatisfy({ $0 <= 11 }) else { throw Zstd.bad("Huffman weight too large") }
        let sum = weights.reduce(0) { $0 + ($1 > 0 ? 1 << ($1 - 1) : 0) }
        guard sum > 0 else { throw Zstd.bad("empty Huffman tree") }
        let maxBits = Int.bitWidth - sum.leadingZeroBitCount
        guard maxBits <= 11 else { throw Zstd.bad("Huffman tree too deep") }
        let rest = (1 << maxBits) - sum
        guard rest > 0, rest & (rest - 1) == 0 else { throw Zstd.bad("Huffman weights do not complete a tree") }
        weights.append(Int.bitWidth - rest.leadingZeroBitCount)  // log2(rest) + 1
        var t = HuffmanTable(maxBits: maxBits, symbols: [UInt8](repeating: 0, count: 1 << maxBits),
                             lengths: [UInt8](repeating: 0, count: 1 << maxBits))
        // Lowest weight (longest code) first, symbols in natural order within a weight.
        var idx = 0
        for w in 1...maxBits {
            for (s, sw) in weights.enumerated() where sw == w {
                let n = 1 << (w - 1)
                guard idx + n <= t.symbols.count, s < 256 else { throw Zstd.bad("Huffman table overflow") }
                for k in idx..<idx + n {
                    t.symbols[k] = UInt8(s)
                    t.lengths[k] = UInt8(maxBits + 1 - w)
                }
                idx += n
            }
        }
        guard idx == t.symbols.count else { throw Zstd.bad("Huffman table incomplete") }
        return (t, used)
    }

    func decode(_ src: [UInt8], _ start: Int, _ end: Int, count: Int, into out: inout [UInt8]) throws {
        var bits = try BackwardBits(src, start, end)
        for _ in 0..<count {
            let v = Int(bits.peek(maxBits))
            out.append(symbols[v])
            bits.consume(Int(lengths[v]))
        }
        guard bits.position == 0 else { throw Zstd.bad("Huffman stream not fully consumed") }
    }
}
