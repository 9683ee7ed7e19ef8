@testable import Protocol
import Testing

/// Encodes at `version`, decodes, and checks: re-encoding gives the same bytes, every strict prefix
/// fails to decode (truncation throws, never traps), and, at `exactAt`, the decoded value equals `m`.
func checkRoundTrip<M: KafkaMessage>(_ m: M, versions: [Int16], exactAt: Int16? = nil,
                                     sourceLocation: SourceLocation = #_sourceLocation) throws {
    for v in versions {
        let bytes = try m.encoded(version: v)
        let decoded = try M.decode(bytes, version: v)
        #expect(try decoded.encoded(version: v) == bytes, "re-encode differs at v\(v)", sourceLocation: sourceLocation)
        if v == exactAt {
            #expect(decoded == m, "decode(encode) != value at v\(v)", sourceLocation: sourceLocation)
        }
        for cut in 0..<bytes.count {
            #expect(throws: (any Error).self, "prefix \(cut)/\(bytes.count) decoded at v\(v)",
                    sourceLocation: sourceLocation) {
                _ = try M.decode(Array(bytes[0..<cut]), version: v)
            }
        }
    }
    // The codecs cover the schema's full range, wider than what the broker advertises.
    let range = M.api.validVersions
    for bad in [range.lowerBound - 1, range.upperBound + 1] {
        #expect(throws: KafkaEncodeError.unsupportedVersion(apiKey: M.api.rawValue, version: bad),
                sourceLocation: sourceLocation) { _ = try m.encoded(version: bad) }
        #expect(throws: DecodeError.unsupportedVersion(apiKey: M.api.rawValue, version: bad),
                sourceLocation: sourceLocation) { _ = try M.decode([UInt8](repeating: 0, count: 64), version: bad) }
    }
}

/// Lowest, a middle and the highest supported version.
func spread(_ api: KafkaAPI) -> [Int16] {
    let r = api.supportedVersions
    return Array(Set([r.lowerBound, (r.lowerBound + r.upperBound) / 2, r.upperBound])).sorted()
}

/// Deterministic pseudo-random bytes (xorshift) so fuzz failures reproduce.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E3779B97F4A7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// Hex helper for golden vectors: "00 12 ab" -> bytes.
func hex(_ s: String) -> [UInt8] {
    let digits = s.filter { !$0.isWhitespace }
    var out: [UInt8] = []
    var i = digits.startIndex
    while i < digits.endIndex {
        let j = digits.index(i, offsetBy: 2)
        out.append(UInt8(digits[i..<j], radix: 16)!)
        i = j
    }
    return out
}

func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }
