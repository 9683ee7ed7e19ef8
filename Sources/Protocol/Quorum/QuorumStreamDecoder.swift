/// Reads one inbound peer connection: a `PeerHandshake` frame first, then quorum messages.
/// Any error means the connection is unusable: close it (and report `connectionLost`).
public struct QuorumStreamDecoder: Sendable {
    public enum StreamError: Error, Equatable, Sendable {
        case badFrameLength(Int)
    }

    /// The sender, known once its handshake has arrived.
    public private(set) var peer: UInt64?
    private var frames: FrameDecoder

    public init(maxFrameBytes: Int = QuorumCodec.maxFrameBytes) {
        frames = FrameDecoder(maxFrameBytes: maxFrameBytes)
    }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        frames.append(bytes)
    }

    /// The next complete message, or nil when more bytes are needed.
    public mutating func next() throws -> QuorumMessage? {
        while true {
            switch frames.next() {
            case .needMoreData:
                return nil
            case .tooLarge(let n), .negativeLength(let n):
                throw StreamError.badFrameLength(n)
            case .frame(let body):
                if peer == nil {
                    peer = try PeerHandshake.decode(body).serverId
                    continue
                }
                return try QuorumCodec.decode(body)
            }
        }
    }
}
