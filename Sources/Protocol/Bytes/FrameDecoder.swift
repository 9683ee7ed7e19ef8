/// Splits a byte stream into 4-byte big-endian length-prefixed frames (the framing shared by
/// Jute and Kafka). Accepts partial input; never trusts a length above `maxFrameBytes`.
///
/// Two ways to feed it: `append` + `next()` copies everything it is given, while `next(_ input:)`
/// reads a borrowed chunk (the event loop's read buffer) in place: every frame is copied once from
/// the chunks into the array handed out. A frame wholly inside the chunk is copied straight into it;
/// a frame spanning reads goes, once its length is known, into an array reserved at that length
/// (as Kafka allocates a receive at its size) that is returned as the frame itself. A large
/// reservation is mapped lazily by malloc, so what a connection holds in memory is what has arrived.
public struct FrameDecoder: Sendable {
    public enum Result: Equatable, Sendable {
        case frame([UInt8])
        case needMoreData
        case tooLarge(Int)
        case negativeLength(Int)
    }

    /// Bytes of one read, valid only while its read callback runs; `next(_:)` advances through it.
    public struct Input {
        let bytes: UnsafeRawBufferPointer
        var offset = 0
        public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
        public static var empty: Input { Input(UnsafeRawBufferPointer(start: nil, count: 0)) }
        public var remaining: Int { bytes.count - offset }
    }

    /// A var so a connection can raise it once authenticated (SASL bounds tokens before).
    public var maxFrameBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// The body of a frame spanning reads, once its length (`partialLength`, -1: none) is known.
    private var partial: [UInt8] = []
    private var partialLength = -1
    /// A drained buffer keeps its allocation only up to this size: a burst must not pin memory.
    static let retainedCapacity = 4096

    public init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    public var bufferedBytes: Int { buffer.count - start + (partialLength >= 0 ? 4 + partial.count : 0) }
    /// The allocation kept for buffered bytes (for tests of the memory bound).
    public var bufferCapacity: Int { buffer.capacity + partial.capacity }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start == buffer.count { resetBuffer() }
        buffer.append(contentsOf: bytes)
    }

    /// The bytes buffered but not yet consumed (e.g. a 4-letter word that is not a frame).
    public var pendingBytes: ArraySlice<UInt8> { partialLength >= 0 ? (lengthPrefix + partial + buffer[start...])[...] : buffer[start...] }

    private var lengthPrefix: [UInt8] {
        let u = UInt32(truncatingIfNeeded: partialLength)
        return [UInt8(u >> 24), UInt8(truncatingIfNeeded: u >> 16), UInt8(truncatingIfNeeded: u >> 8), UInt8(truncatingIfNeeded: u)]
    }

    /// The first `n` bytes of what is buffered followed by `input`, consuming nothing.
    public func peek(_ n: Int, _ input: Input) -> [UInt8] {
        let pending = pendingBytes
        var out = Array(pending.prefix(n))
        let more = min(n - out.count, input.remaining)
        if more > 0 { out.append(contentsOf: input.bytes[input.offset..<(input.offset + more)]) }
        return out
    }

    /// Keeps the unread rest of `input` for later (call when stopping before `.needMoreData`, e.g.
    /// for back-pressure); the bytes are copied, since `input` dies with its read callback.
    public mutating func keep(_ input: inout Input) {
        guard input.remaining > 0 else { return }
        if start > 0 && start == buffer.count { resetBuffer() }
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.bytes[input.offset...]))
        input.offset = input.bytes.count
    }

    public mutating func next() -> Result {
        var none = Input.empty
        return next(&none)
    }

    /// The next frame from the buffered bytes, then from `input`. On `.needMoreData` every byte of
    /// `input` has been consumed (a partial frame is kept); on an error the stream is unusable.
    public mutating func next(_ input: inout Input) -> Result {
        if partialLength >= 0 { return nextPartial(&input) }
        if start < buffer.count { return nextBuffered(&input) }
        guard input.remaining >= 4 else {
            keep(&input)
            return .needMoreData
        }
        let p = input.bytes
        let o = input.offset
        let len = Self.length(p[o], p[o + 1], p[o + 2], p[o + 3])
        if len < 0 { return .negativeLength(len) }
        if len > maxFrameBytes { return .tooLarge(len) }
        input.offset += 4
        guard input.remaining >= len else { return startPartial(len, &input) }
        input.offset += len
        return .frame(Self.copy(UnsafeRawBufferPointer(rebasing: p[(o + 4)..<(o + 4 + len)])))
    }

    /// A frame of `len` bytes whose first bytes are in `input`: they go to the frame's own array.
    private mutating func startPartial(_ len: Int, _ input: inout Input) -> Result {
        partialLength = len
        partial = []
        partial.reserveCapacity(len)
        return nextPartial(&input)
    }

    /// Adds what the spanning frame lacks, from the buffered bytes (`append`) and then `input`.
    private mutating func nextPartial(_ input: inout Input) -> Result {
        if start < buffer.count {
            let k = min(partialLength - partial.count, buffer.count - start)
            partial.append(contentsOf: buffer[start..<(start + k)])
            start += k
            if start == buffer.count { resetBuffer() }
        }
        let k = min(partialLength - partial.count, input.remaining)
        if k > 0 {
            partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.bytes[input.offset..<(input.offset + k)]))
            input.offset += k
        }
        guard partial.count == partialLength else { return .needMoreData }
        let frame = partial
        partial = []
        partialLength = -1
        return .frame(frame)
    }

    /// The frame that starts in the buffer: whole there (`append`), or completed as a spanning frame.
    private mutating func nextBuffered(_ input: inout Input) -> Result {
        if buffer.count - start < 4 { take(4 - (buffer.count - start), from: &input) }
        guard buffer.count - start >= 4 else { return .needMoreData }
        let len = Self.length(buffer[start], buffer[start + 1], buffer[start + 2], buffer[start + 3])
        if len < 0 { return .negativeLength(len) }
        if len > maxFrameBytes { return .tooLarge(len) }
        let missing = 4 + len - (buffer.count - start)
        if missing > 0 {
            // The frame's body goes to its own array (nothing after it is buffered while it lacks bytes).
            start += 4
            return startPartial(len, &input)
        }
        let frame = Array(buffer[(start + 4)..<(start + 4 + len)])
        start += 4 + len
        if start == buffer.count {
            resetBuffer()
        } else if start > 65536 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return .frame(frame)
    }

    private mutating func take(_ n: Int, from input: inout Input) {
        let k = min(n, input.remaining)
        guard k > 0 else { return }
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.bytes[input.offset..<(input.offset + k)]))
        input.offset += k
    }

    private mutating func resetBuffer() {
        if buffer.capacity > Self.retainedCapacity { buffer = [] } else { buffer.removeAll(keepingCapacity: true) }
        start = 0
    }

    private static func copy(_ src: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: src.count) { dst, n in
            if let from = src.baseAddress, let to = dst.baseAddress { UnsafeMutableRawPointer(to).copyMemory(from: from, byteCount: src.count) }
            n = src.count
        }
    }

    private static func length(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> Int {
        Int(Int32(bitPattern: UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)))
    }
}
