/// What a server reports about itself during leader election.
public enum PeerState: UInt8, Hashable, Sendable {
    case looking = 0
    case following = 1
    case leading = 2
}

/// A vote for a leader candidate, carrying the candidate's credentials.
public struct Vote: Hashable, Sendable {
    public var leader: UInt64
    /// The candidate's last logged zxid.
    public var zxid: Zxid
    /// The candidate's current (acknowledged) epoch.
    public var epoch: UInt32

    public init(leader: UInt64, zxid: Zxid, epoch: UInt32) {
        self.leader = leader
        self.zxid = zxid
        self.epoch = epoch
    }

    /// Election order: newer epoch, then longer history, then the higher server id.
    public func isBetter(than other: Vote) -> Bool {
        if epoch != other.epoch { return epoch > other.epoch }
        if zxid != other.zxid { return zxid > other.zxid }
        return leader > other.leader
    }
}

/// An election message. `round` is the sender's election round; a follower or leader reports the
/// vote it settled on so that late servers can join it.
public struct ElectionNotification: Hashable, Sendable {
    public var round: UInt64
    public var state: PeerState
    public var vote: Vote
    /// The sender's committed configuration once a reconfig changed it (nil: the static one), so
    /// a server that missed the change learns who votes now.
    public var config: ElectionConfig?

    public init(round: UInt64, state: PeerState, vote: Vote, config: ElectionConfig? = nil) {
        self.round = round
        self.state = state
        self.vote = vote
        self.config = config
    }
}

/// A committed voting configuration and the zxid of the reconfig that made it.
public struct ElectionConfig: Hashable, Sendable {
    public var zxid: Zxid
    public var voters: [UInt64]
    public var observers: [UInt64]
    /// Bounds what a hostile peer can make us allocate.
    public static let maxMembers = 255

    public init(zxid: Zxid, voters: [UInt64], observers: [UInt64]) {
        self.zxid = zxid
        self.voters = voters
        self.observers = observers
    }
}

/// Where a client write came from, so that the origin server can answer its client after commit.
public struct RequestOrigin: Hashable, Sendable {
    public var server: UInt64
    public var session: Int64
    public var xid: Int32

    public init(server: UInt64, session: Int64, xid: Int32) {
        self.server = server
        self.session = session
        self.xid = xid
    }
}

/// A client write not yet turned into a transaction (only the leader does that).
public struct ClientRequest: Hashable, Sendable {
    public var origin: RequestOrigin
    public var data: [UInt8]

    public init(origin: RequestOrigin, data: [UInt8]) {
        self.origin = origin
        self.data = data
    }
}

/// A transaction as the quorum sees it: opaque bytes ordered by zxid.
public struct QuorumTxn: Hashable, Sendable {
    public var zxid: Zxid
    public var data: [UInt8]
    /// Set when the transaction came from a client request; not needed for recovery.
    public var origin: RequestOrigin?

    public init(zxid: Zxid, data: [UInt8], origin: RequestOrigin? = nil) {
        self.zxid = zxid
        self.data = data
        self.origin = origin
    }
}

/// A follower's log shape, enough for the leader to find where the two histories diverge.
public struct LogSummary: Hashable, Sendable {
    /// Everything at or below `base` is committed and compacted into the snapshot.
    public var base: Zxid
    public var lastZxid: Zxid
    /// The last zxid of every epoch present in the log above `base`, ascending.
    public var epochEnds: [Zxid]

    public init(base: Zxid, lastZxid: Zxid, epochEnds: [Zxid]) {
        self.base = base
        self.lastZxid = lastZxid
        self.epochEnds = epochEnds
    }
}

/// Messages exchanged inside one follower-leader session.
public enum SessionMessage: Hashable, Sendable {
    // follower -> leader
    case followerInfo(acceptedEpoch: UInt32, acceptedLeader: UInt64, lastZxid: Zxid)
    case ackEpoch(currentEpoch: UInt32, log: LogSummary)
    case ackNewLeader(epoch: UInt32, lastZxid: Zxid)
    case ack(Zxid)
    case pong(lastZxid: Zxid)
    case request(ClientRequest)
    case sync(RequestOrigin)
    // leader -> follower
    case leaderInfo(epoch: UInt32)
    case truncate(Zxid)
    case snapshot(zxid: Zxid, data: [UInt8])
    case proposal(prev: Zxid, txn: QuorumTxn)
    case newLeader(epoch: UInt32)
    case upToDate(commit: Zxid)
    case commit(Zxid)
    case ping(commit: Zxid)
    case syncDone(RequestOrigin, zxid: Zxid)
    /// To an observer: a transaction already committed (ZooKeeper's INFORM, proposal and commit in one).
    case inform(prev: Zxid, txn: QuorumTxn)
}

/// Everything one quorum server sends another.
public enum QuorumMessage: Hashable, Sendable {
    case election(ElectionNotification)
    /// `id` names the follower's session (it picks it); `seq` counts each direction from 0, so a
    /// lost or reordered message is detected instead of being applied out of order.
    case session(id: UInt64, seq: UInt64, SessionMessage)
}
