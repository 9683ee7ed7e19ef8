import CoordCore
import Protocol

/// What survives a crash: saved epochs, the last snapshot and the log after it.
struct SimDisk {
    var epochs = QuorumEpochs()
    var snapshotZxid = Zxid.zero
    var snapshotData: [UInt8] = SimApp.encode([])
    var log: [QuorumTxn] = []
    /// A "last applied" mark, saved lazily: a lower bound of what was applied (hence committed).
    var appliedMark = Zxid.zero
    /// The newest committed configuration saved (StorageOp.saveMembership).
    var membership: (QuorumMembership, Zxid)?

    var lastZxid: Zxid { log.last?.zxid ?? snapshotZxid }
}

/// The replicated "application": the ordered list of applied transactions. Its snapshot is that
/// list serialized, so an installed snapshot can be checked against the committed history.
struct SimApp {
    var applied: [QuorumTxn] = []

    var lastZxid: Zxid { applied.last?.zxid ?? .zero }

    static func encode(_ txns: [QuorumTxn]) -> [UInt8] {
        var w = ByteWriter()
        w.writeUInt32(UInt32(txns.count))
        for t in txns {
            w.writeUInt64(t.zxid.raw)
            w.writeUInt32(UInt32(t.data.count))
            w.writeBytes(t.data)
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> [QuorumTxn] {
        var r = ByteReader(bytes)
        let n = Int(try r.readUInt32())
        var out: [QuorumTxn] = []
        for _ in 0..<n {
            let z = Zxid(raw: try r.readUInt64())
            let len = Int(try r.readUInt32())
            out.append(QuorumTxn(zxid: z, data: try r.readBytes(len)))
        }
        return out
    }
}

extension SimApp {
    /// The configuration of the newest reconfig in an applied history, if any.
    static func membership(of applied: [QuorumTxn]) -> (QuorumMembership, Zxid)? {
        for t in applied.reversed() {
            if let m = QuorumMembership.decode(txnData: t.data)?.membership { return (m, t.zxid) }
        }
        return nil
    }
}

/// One simulated server: its disk always, its process (pipeline + app) only while up.
final class SimReplica {
    let id: UInt64
    var disk = SimDisk()
    var pipeline: QuorumPipeline?
    var app = SimApp()
    /// Bumped on every restart; messages from or to an older incarnation are lost (broken TCP).
    var incarnation = 0
    /// Crash in the middle of handling the next input: part of its writes land, nothing is sent.
    var crashMidStep = false
    var truncations = 0
    var snapshotsInstalled = 0

    /// Storage jobs the pipeline handed out, completing in order (lost in a crash).
    var jobs: [(id: UInt64, ops: [StorageOp], done: Bool)] = []
    var pumping = false
    /// Client writes this process took and has not answered (the runtime's pending replies): a
    /// txn applied here answers its client only while it is waiting, so never after a restart.
    var waiting: Set<RequestOrigin> = []
    /// Holds this server's storage jobs until `releaseDisk` or a crash (a stalled fsync).
    var diskHeld = false

    func resetPipeline() {
        jobs = []
        pumping = false
        diskHeld = false
        waiting = []
    }

    init(id: UInt64) { self.id = id }

    var peer: QuorumPeer? { pipeline?.peer }
    var isUp: Bool { pipeline != nil }
}
