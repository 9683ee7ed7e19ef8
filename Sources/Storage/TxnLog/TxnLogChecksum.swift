/// CRC-32C (Castagnoli), slicing-by-8, for log records and snapshots.
public enum TxnLogChecksum {
    static let tables: [[UInt32]] = {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[0][i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xff)] }
        }
        return t
    }()

    public static func crc32c<C: Collection>(_ bytes: C, seed: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        if let r = bytes.withContiguousStorageIfAvailable({ update(~seed, UnsafeRawBufferPointer($0)) }) { return ~r }
        let a = Array(bytes)
        return ~a.withUnsafeBytes { update(~seed, $0) }
    }

    static func update(_ crc: UInt32, _ buf: UnsafeRawBufferPointer) -> UInt32 {
        var c = crc
        var i = 0
        let n = buf.count
        tables.withUnsafeBufferPointer { t in
            let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7]
            while n - i >= 8 {
                let lo = c ^ (UInt32(buf[i]) | UInt32(buf[i + 1]) << 8 | UInt32(buf[i + 2]) << 16 | UInt32(buf[i + 3]) << 24)
                c = t7[Int(lo & 0xff)] ^ t6[Int((lo >> 8) & 0xff)] ^ t5[Int((lo >> 16) & 0xff)] ^ t4[Int(lo >> 24)]
                    ^ t3[Int(buf[i + 4])] ^ t2[Int(buf[i + 5])] ^ t1[Int(buf[i + 6])] ^ t0[Int(buf[i + 7])]
                i += 8
            }
            while i < n {
                c = t0[Int((c ^ UInt32(buf[i])) & 0xff)] ^ (c >> 8)
                i += 1
            }
        }
        return c
    }
}
