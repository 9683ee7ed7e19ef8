import CoordCore
import Protocol
import Sasl
import Transport

/// A reply slot in a connection's FIFO: replies leave strictly in request order, so a read queued
/// behind a write waits for that write to commit (and sees it).
final class PendingReply {
    enum State {
        /// Answer from the tree when it reaches the head of the queue.
        case read(ZKRequest)
        case awaitingCommit
        case done(err: Int32, zxid: Int64?, response: ZKResponse)
        case connectAwaitingCommit(ZKConnectResponse)
        case connectDone(ZKConnectResponse)
    }
    let xid: Int32
    let op: Int32
    let startedNanos: UInt64
    var state: State
    /// Close the connection once this reply is out (closeSession, unknown op, refused session, failed auth).
    var closeAfter = false
    /// Reads: the connection's identities when the request arrived (checked when it is answered).
    var access = Access.anonymous

    init(xid: Int32, op: Int32, state: State, now: UInt64) {
        self.xid = xid
        self.op = op
        self.state = state
        self.startedNanos = now
    }
}

/// An error answer held until the txns prepped before it commit.
struct HeldFailure {
    let cnx: ClientCnx
    let reply: PendingReply
    let err: Int32
    let response: ZKResponse
}

/// Per-connection state of the client protocol. Loop-thread only.
final class ClientCnx {
    enum Phase {
        /// Nothing read yet: the first 4 bytes may be a four-letter word instead of a frame length.
        case awaitingFirst
        case connected
        case closing
    }

    let id: UInt64
    let conn: Connection
    let host: String
    /// The client's address without brackets or port: its `ip` identity.
    let address: String
    var decoder: FrameDecoder
    var phase = Phase.awaitingFirst
    var sessionId: Int64 = 0
    /// Taken in read-only mode: reads only, closed when the quorum is back.
    var readOnly = false
    /// The `clients` delay fault: a hold is scheduled; then this one pass is let through.
    var faultDelayed = false
    var faultPass = false
    var timeout: Int32 = 0
    var received: UInt64 = 0
    var sent: UInt64 = 0
    var lastZxid: Int64 = 0
    /// Identities: `ip:<address>` from the start, then those auth packets add.
    var access: Access
    /// The SASL exchange under way, and how many SASL packets this connection sent.
    var saslServer: DigestMD5Server?
    var saslRounds = 0
    private var queue = Fifo<PendingReply>(compactAfter: 256)

    /// Back-pressure: a connection is not read while this many requests await their replies
    /// (ZooKeeper's outstanding limit) or this many reply bytes wait for the client to read them.
    static let maxOutstanding = 1000
    static let outboundHighWater = 2 << 20
    /// Past this, a client that still does not read is closed: watch events are the only bytes
    /// that grow once reading stopped. Room for the soft bound plus a jute.maxbuffer-sized reply.
    let outboundHardCap: Int
    var resumeScheduled = false

    var overBounds: Bool { queue.count >= Self.maxOutstanding || conn.pendingWriteBytes >= Self.outboundHighWater }

    init(id: UInt64, conn: Connection, maxFrame: Int, auth: AuthPolicy) {
        self.id = id
        self.conn = conn
        self.decoder = FrameDecoder(maxFrameBytes: maxFrame)
        self.outboundHardCap = (8 << 20) + 2 * maxFrame
        let peer = conn.peer
        if let colon = peer.lastIndex(of: ":") { host = String(peer[..<colon]) } else { host = peer }
        address = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        access = Access(ids: [ZKId(scheme: "ip", id: address)], policy: auth)
    }

    var queued: Int { queue.count }
    var first: PendingReply? { queue.first }

    func enqueue(_ p: PendingReply) { queue.append(p) }

    func popFirst() { queue.popFirst() }

    func clearQueue() { queue.removeAll() }

    func send(_ frame: [UInt8]) {
        conn.write(frame)
        sent += 1
    }
}
