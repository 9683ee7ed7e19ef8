/// Reads one inbound peer connection: a `PeerHandshake` frame first, with authentication on a
/// `PeerProof` frame next, then quorum messages.
/// Any error means the connection is unusable: close it (and report `connectionLost`).
public struct QuorumStreamDecoder: Sendable {
    public enum StreamError: Error, Equatable, Sendable {
        case badFrameLength(Int)
    }

    /// The sender, known once its handshake has arrived.
    public private(set) var peer: UInt64?
    /// The sender's nonce from its handshake (empty without authentication).
    public private(set) var peerNonce: [UInt8] = []
    /// The sender's proof, once it arrived (authentication on only).
    public private(set) var proof: PeerProof?
    private let expectProof: Bool
    private var frames: FrameDecoder

    public init(maxFrameBytes: Int = QuorumCodec.maxFrameBytes, expectProof: Bool = false) {
        frames = FrameDecoder(maxFrameBytes: maxFrameBytes)
        self.expectProof = expectProof
    }

    /// Until then the sender is unauthenticated and gets only handshake-sized frames.
    var awaitingHello: Bool { peer == nil || (expectProof && proof == nil) }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        frames.append(bytes)
    }

    /// The handshake is a few bytes: an unauthenticated sender may not make us buffer more.
    public static let maxHandshakeBytes = 256

    /// The next complete message, or nil when more bytes are needed. Empty frames after the
    /// handshake are link keepalives and are skipped.
    public mutating func next() throws -> QuorumMessage? {
        while true {
            if awaitingHello, frames.bufferedBytes >= 4 {
                let b = Array(frames.pendingBytes.prefix(4))
                let len = Int(Int32(bitPattern: UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])))
                if len < 0 || len > Self.maxHandshakeBytes { throw StreamError.badFrameLength(len) }
            }
            switch frames.next() {
            case .needMoreData:
                return nil
            case .tooLarge(let n), .negativeLength(let n):
                throw StreamError.badFrameLength(n)
            case .frame(let body):
                if peer == nil {
                    let h = try PeerHandshake.decode(body)
                    if expectProof != !h.nonce.isEmpty {
                        throw DecodeError.invalidValue(expectProof ? "peer sent no authentication nonce (quorum.auth.secretFile not set there?)"
                                                                   : "peer wants quorum authentication, which is off here")
                    }
                    peer = h.serverId
                    peerNonce = h.nonce
                    continue
                }
                if expectProof && proof == nil {
                    proof = try PeerProof.decode(body)
                    continue
                }
                if body.isEmpty { continue }
                return try QuorumCodec.decode(body)
            }
        }
    }
}
