import Protocol

/// Static ensemble settings. All durations are in ticks of the runtime's timer.
public struct QuorumConfig: Sendable, Equatable {
    public var serverId: UInt64
    /// Every voting member, including `serverId`.
    public var voters: [UInt64]
    /// Non-voting members (ZooKeeper's observers): they learn committed transactions and serve
    /// clients, but never vote and never count toward a quorum.
    public var observers: [UInt64] = []
    /// Ticks a new leader and its followers get to finish discovery and sync.
    public var initLimit: Int = 20
    /// Ticks without hearing the leader (or a quorum of followers) before giving up on it.
    public var syncLimit: Int = 5
    /// Ticks an election waits, once a quorum agrees, for a better vote to show up.
    public var settleTicks: Int = 2
    /// Ticks between leader pings.
    public var pingInterval: Int = 1
    /// Ticks between re-sending election notifications (they may be lost).
    public var electionResend: Int = 2
    /// A follower lagging more entries than this gets a snapshot instead of a diff.
    public var maxDiffEntries: Int = 10_000

    public init(serverId: UInt64, voters: [UInt64], observers: [UInt64] = []) {
        self.serverId = serverId
        self.voters = voters
        self.observers = observers
    }

    /// A majority of the voters; observers never count.
    public var quorumSize: Int { voters.count / 2 + 1 }
    public var isObserver: Bool { observers.contains(serverId) }
    public func isObserver(_ id: UInt64) -> Bool { observers.contains(id) }

    /// `allowingRemoved`: a restarting server may have been removed by a committed reconfig.
    public func validate(allowingRemoved: Bool = false) throws {
        guard Set(voters).count == voters.count else { throw QuorumError.invalidConfig("duplicate voter ids") }
        guard Set(observers).count == observers.count, Set(voters).isDisjoint(with: observers) else {
            throw QuorumError.invalidConfig("a server is listed twice (as voter and observer, or as observer twice)")
        }
        guard !voters.isEmpty else { throw QuorumError.invalidConfig("no voters") }
        guard allowingRemoved || voters.contains(serverId) || observers.contains(serverId) else {
            throw QuorumError.invalidConfig("server \(serverId) is neither a voter nor an observer")
        }
        guard initLimit >= 1, syncLimit >= 1, settleTicks >= 0, pingInterval >= 1, electionResend >= 1,
              maxDiffEntries >= 0 else { throw QuorumError.invalidConfig("limits must be positive") }
    }
}

public enum QuorumError: Error, Equatable, Sendable {
    case invalidConfig(String)
    case invalidRestore(String)
}

/// The epochs a server must keep on disk; `saveEpochs` must be durable before later messages go out.
public struct QuorumEpochs: Hashable, Sendable {
    /// The newest epoch this server promised to a leader (LEADERINFO).
    public var acceptedEpoch: UInt32
    /// Which leader it promised `acceptedEpoch` to: one leader per epoch.
    public var acceptedLeader: UInt64
    /// The epoch of the last NEWLEADER this server acknowledged.
    public var currentEpoch: UInt32

    public init(acceptedEpoch: UInt32 = 0, acceptedLeader: UInt64 = 0, currentEpoch: UInt32 = 0) {
        self.acceptedEpoch = acceptedEpoch
        self.acceptedLeader = acceptedLeader
        self.currentEpoch = currentEpoch
    }
}

/// What a restarting server hands the quorum: its saved epochs, its snapshot's zxid, the durable
/// log entries after that, and how far it replayed that log into the application state.
public struct QuorumRestore: Sendable, Equatable {
    public var epochs: QuorumEpochs
    public var snapshotZxid: Zxid
    public var log: [QuorumTxn]
    /// The application state was rebuilt up to here (snapshot plus replayed log entries). Only
    /// entries known to be committed may be replayed, e.g. up to a saved "last applied" mark;
    /// nil means the state is exactly the snapshot.
    public var appliedZxid: Zxid?
    /// The configuration the application state holds (a committed reconfig's), if any: it
    /// replaces the static voters and observers. Reconfigs in the log after `appliedZxid` are
    /// still pending and count as such.
    public var membership: QuorumMembership?
    /// The zxid of the reconfig that made `membership`.
    public var membershipZxid: Zxid

    public init(epochs: QuorumEpochs = QuorumEpochs(), snapshotZxid: Zxid = .zero, log: [QuorumTxn] = [],
                appliedZxid: Zxid? = nil, membership: QuorumMembership? = nil, membershipZxid: Zxid = .zero) {
        self.epochs = epochs
        self.snapshotZxid = snapshotZxid
        self.log = log
        self.appliedZxid = appliedZxid
        self.membership = membership
        self.membershipZxid = membershipZxid
    }
}
