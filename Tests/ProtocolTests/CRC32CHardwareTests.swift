import Foundation
import Protocol
import Testing

/// The crc32-instruction path against the Swift tables, over lengths that cross every branch of the C code
/// (unaligned heads, the 8-byte loop, rounds of three 2 KiB stripes from 6 KiB) and chained updates.
@Suite struct CRC32CHardwareTests {
    static func bytes(_ n: Int, seed: UInt64) -> [UInt8] {
        var x = seed | 1
        return (0..<n).map { _ in
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            return UInt8(truncatingIfNeeded: x)
        }
    }

    @Test(arguments: [0, 1, 7, 8, 9, 31, 32, 33, 1023, 6143, 6144, 6145, 12_288, 12_300, 50_000, 1 << 20])
    func hardwareMatchesTheTables(length: Int) {
        let data = Self.bytes(length + 3, seed: UInt64(length) + 11)
        for offset in 0..<3 {  // unaligned starts
            data.withUnsafeBytes { all in
                let buf = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                #expect(CRC32C.update(0, buf) == CRC32C.softwareUpdate(0, buf))
                #expect(CRC32C.update(0x1234_5678, buf) == CRC32C.softwareUpdate(0x1234_5678, buf))
            }
        }
    }

    @Test func knownVectorAndPieces() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        let data = Self.bytes(40_000, seed: 5)
        let whole = CRC32C.checksum(data)
        let pieces = data.withUnsafeBytes { b in
            CRC32C.update(CRC32C.update(0, UnsafeRawBufferPointer(rebasing: b[..<17_000])),
                          UnsafeRawBufferPointer(rebasing: b[17_000...]))
        }
        #expect(pieces == whole)
    }

    /// This machine class (x86-64 CI) has SSE4.2; if the instruction were not used, the tests above would
    /// only compare the tables with themselves.
    @Test func theInstructionIsUsedWhereTheCPUHasIt() throws {
        #if arch(x86_64)
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if cpuinfo.contains(" sse4_2") { #expect(CRC32C.hardware) }
        #endif
    }
}
