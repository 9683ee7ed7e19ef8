/// A response on its way to the socket: encoded bytes, and file regions sent with `sendfile`
/// (fetch responses splice log segments between encoded headers without copying them).
public enum ResponsePart: @unchecked Sendable {
    case bytes([UInt8])
    /// `owner` keeps the descriptor open until the region is on the wire.
    case file(fd: Int32, offset: Int, count: Int, owner: AnyObject?)
    /// Close the connection after what was queued before (Kafka's answer to unparseable requests).
    case close

    public var count: Int {
        switch self {
        case .bytes(let b): return b.count
        case .file(_, _, let c, _): return c
        case .close: return 0
        }
    }
}
