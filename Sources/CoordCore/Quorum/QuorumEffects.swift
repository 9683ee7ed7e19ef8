import Protocol

/// A change to durable state. Perform them in order and make them durable before sending anything
/// but messages marked `beforeStorage`.
public enum StorageOp: Hashable, Sendable {
    case saveEpochs(QuorumEpochs)
    /// Drop log entries with zxid greater than this (they were never committed).
    case truncateLog(after: Zxid)
    case appendLog([QuorumTxn])
    /// Replace the application state with this snapshot and drop the whole log.
    case installSnapshot(zxid: Zxid, data: [UInt8])
    /// Remember this committed configuration across restarts (`QuorumRestore.membership`).
    case saveMembership(QuorumMembership, zxid: Zxid)
}

public struct OutboundMessage: Hashable, Sendable {
    public var to: UInt64
    public var message: QuorumMessage
    /// May leave before this batch's `storage` is durable (still in FIFO order per peer). Only a
    /// leader's PROPOSAL of its own new entry: the leader counts its own ack only once told
    /// `localPersisted`, so an entry sent ahead of its local fsync is never committed on the
    /// strength of a copy that may vanish in a crash.
    public var beforeStorage: Bool

    public init(to: UInt64, message: QuorumMessage, beforeStorage: Bool = false) {
        self.to = to
        self.message = message
        self.beforeStorage = beforeStorage
    }
}

public enum QuorumRole: Hashable, Sendable {
    case looking
    case following(leader: UInt64)
    case leading
}

/// Everything one input asks the runtime to do, in this order: `storage` (durably), `messages`,
/// then apply `committed`, then hand out the rest. Messages marked `beforeStorage` may go first.
public struct QuorumEffects: Sendable, Equatable {
    public var storage: [StorageOp] = []
    public var messages: [OutboundMessage] = []
    /// Committed transactions, in zxid order, to apply to the application state.
    public var committed: [QuorumTxn] = []
    /// Leader only: client requests to turn into transaction bytes, then `propose`.
    public var toPrepare: [ClientRequest] = []
    /// Requests this server cannot take now (no serving leader); answer the client with an error.
    public var refused: [ClientRequest] = []
    /// `sync` calls whose linearization point has been applied locally: answer the client.
    public var syncsDone: [RequestOrigin] = []
    public var syncsRefused: [RequestOrigin] = []
    /// Leader only: call `snapshotTaken` with the serialized application state.
    public var snapshotWanted = false
    /// Set when role or serving status changed during this input (the final values).
    public var statusChanged: QuorumStatus?

    public init() {}

    /// Field by field: asked twice per input, a whole-struct comparison showed in profiles.
    public var isEmpty: Bool {
        storage.isEmpty && messages.isEmpty && committed.isEmpty && toPrepare.isEmpty && refused.isEmpty
            && syncsDone.isEmpty && syncsRefused.isEmpty && !snapshotWanted && statusChanged == nil
    }
}

public struct QuorumStatus: Hashable, Sendable {
    public var role: QuorumRole
    /// True once this server may take client writes: an established leader, or a follower that
    /// got UPTODATE. When it turns false, fail the clients' outstanding requests.
    public var serving: Bool
    public var epoch: UInt32

    public init(role: QuorumRole, serving: Bool, epoch: UInt32) {
        self.role = role
        self.serving = serving
        self.epoch = epoch
    }
}
