import CCRC32C

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka record batches v2.
/// On x86-64 with SSE4.2 the crc32 instruction does it (Sources/CCRC32C). Otherwise plain Swift:
/// slicing-by-16 tables, and for buffers of a few hundred bytes or more two halves run interleaved in
/// one loop, so the two dependency chains overlap, then the halves are joined with a multiplication by
/// x^(8·len) modulo the polynomial. The Swift code is also the oracle the hardware path is tested against.
public enum CRC32C {
    static let poly: UInt32 = 0x82F6_3B78

    /// Decided once per process; the CPU does not change under it.
    public static let hardware: Bool = ccrc32c_hw_available() != 0

    /// 16 tables of 256 entries, laid out contiguously; immutable after first use.
    static let table: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 16 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ poly : c >> 1 }
            t[i] = c
        }
        for k in 1..<16 {
            for i in 0..<256 {
                let prev = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (prev >> 8) ^ t[Int(prev & 0xff)]
            }
        }
        return t
    }()

    /// x^(2^k) mod P for k = 0..<64 (reflected: bit 31 is x^0).
    static let powers: [UInt32] = {
        var p = [UInt32](repeating: 0, count: 64)
        p[0] = 1 << 30  // x^1
        for k in 1..<64 { p[k] = multiply(p[k - 1], p[k - 1]) }
        return p
    }()

    /// a·b mod P in the reflected bit order.
    static func multiply(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var m: UInt32 = 1 << 31
        var b = b
        var product: UInt32 = 0
        while m != 0 {
            if a & m != 0 { product ^= b }
            m >>= 1
            b = b & 1 != 0 ? (b >> 1) ^ poly : b >> 1
        }
        return product
    }

    /// x^(8·bytes) mod P.
    static func shiftFactor(bytes: Int) -> UInt32 {
        var n = UInt64(bytes)
        var k = 3  // x^(2^3) = x^8: one byte
        var p: UInt32 = 1 << 31  // x^0
        while n != 0 {
            if n & 1 != 0 { p = multiply(powers[k & 63], p) }
            n >>= 1
            k += 1
        }
        return p
    }

    /// Continues a checksum: pass the previous result as `crc` to checksum data in pieces.
    public static func update(_ crc: UInt32, _ data: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = data.baseAddress, data.count > 0 else { return crc }
        if hardware { return ccrc32c_hw_update(crc, base, data.count) }
        return softwareUpdate(crc, data)
    }

    /// The table-driven path: the fallback without SSE4.2, and the test oracle for the instruction.
    public static func softwareUpdate(_ crc: UInt32, _ data: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = data.baseAddress, data.count > 0 else { return crc }
        return table.withUnsafeBufferPointer { tp -> UInt32 in
            let t = tp.baseAddress!  // 4096 entries, never empty
            let n = data.count
            guard n >= 512 else { return ~run(t, ~crc, base, n) }
            // Registers without pre/post inversion are affine in the data:
            // R(r, A‖B) = R(r, A)·x^(8|B|) ⊕ R(0, B).
            let half = (n / 32) * 16
            var a = ~crc, b: UInt32 = 0
            var pa = base, pb = base + half
            for _ in 0..<(half / 16) {
                a = step16(t, a, pa)
                b = step16(t, b, pb)
                pa += 16
                pb += 16
            }
            b = run(t, b, pb, n - 2 * half)
            return ~(multiply(a, shiftFactor(bytes: n - half)) ^ b)
        }
    }

    @inline(__always)
    static func step16(_ t: UnsafePointer<UInt32>, _ c: UInt32, _ p: UnsafeRawPointer) -> UInt32 {
        let w0 = UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) ^ c
        let w1 = UInt32(littleEndian: (p + 4).loadUnaligned(as: UInt32.self))
        let w2 = UInt32(littleEndian: (p + 8).loadUnaligned(as: UInt32.self))
        let w3 = UInt32(littleEndian: (p + 12).loadUnaligned(as: UInt32.self))
        let a = t[15 * 256 + Int(w0 & 0xff)] ^ t[14 * 256 + Int((w0 >> 8) & 0xff)]
            ^ t[13 * 256 + Int((w0 >> 16) & 0xff)] ^ t[12 * 256 + Int(w0 >> 24)]
        let b = t[11 * 256 + Int(w1 & 0xff)] ^ t[10 * 256 + Int((w1 >> 8) & 0xff)]
            ^ t[9 * 256 + Int((w1 >> 16) & 0xff)] ^ t[8 * 256 + Int(w1 >> 24)]
        let d = t[7 * 256 + Int(w2 & 0xff)] ^ t[6 * 256 + Int((w2 >> 8) & 0xff)]
            ^ t[5 * 256 + Int((w2 >> 16) & 0xff)] ^ t[4 * 256 + Int(w2 >> 24)]
        let e = t[3 * 256 + Int(w3 & 0xff)] ^ t[2 * 256 + Int((w3 >> 8) & 0xff)]
            ^ t[1 * 256 + Int((w3 >> 16) & 0xff)] ^ t[Int(w3 >> 24)]
        return a ^ b ^ d ^ e
    }

    /// The raw register after `count` bytes from `p`, starting from `c`.
    @inline(__always)
    static func run(_ t: UnsafePointer<UInt32>, _ c: UInt32, _ p: UnsafeRawPointer, _ count: Int) -> UInt32 {
        var c = c
        var p = p
        var n = count
        while n >= 16 {
            c = step16(t, c, p)
            p += 16
            n -= 16
        }
        while n > 0 {
            c = (c >> 8) ^ t[Int((c ^ UInt32(p.load(as: UInt8.self))) & 0xff)]
            p += 1
            n -= 1
        }
        return c
    }

    public static func checksum(_ data: UnsafeRawBufferPointer) -> UInt32 { update(0, data) }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0) }
    }

    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0) }
    }
}
