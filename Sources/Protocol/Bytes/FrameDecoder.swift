/// Splits a byte stream into 4-byte big-endian length-prefixed frames (the framing shared by
/// Jute and Kafka). Accepts partial input; never trusts a length above `maxFrameBytes`.
public struct FrameDecoder: Sendable {
    public enum Result: Equatable, Sendable {
        case frame([UInt8])
        case needMoreData
        case tooLarge(Int)
        case negativeLength(Int)
    }

    public let maxFrameBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    public var bufferedBytes: Int { buffer.count - start }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The bytes buffered but not yet consumed (e.g. a 4-letter word that is not a frame).
    public var pendingBytes: ArraySlice<UInt8> { buffer[start...] }

    public mutating func next() -> Result {
        guard buffer.count - start >= 4 else { return .needMoreData }
        let len = Int(Int32(bitPattern: UInt32(buffer[start]) << 24 | UInt32(buffer[start + 1]) << 16
            | UInt32(buffer[start + 2]) << 8 | UInt32(buffer[start + 3])))
        if len < 0 { return .negativeLength(len) }
        if len > maxFrameBytes { return .tooLarge(len) }
        guard buffer.count - start - 4 >= len else { return .needMoreData }
        let frame = Array(buffer[(start + 4)..<(start + 4 + len)])
        start += 4 + len
        if start > 65536 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return .frame(frame)
    }
}
