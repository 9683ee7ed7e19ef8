import Foundation
import Observability
import Synchronization

/// The places in brokerd's data path that the fault controls reach (`POST /faults/crash?at=`,
/// `POST /faults/disk`): named crash points and a slow disk. Off, each check is one atomic load.
final class BrokerFaultHooks: Sendable {
    enum Point: String, NamedCrashPoint {
        /// A partition leader appended a produce batch and dies before the high watermark moves or
        /// the producer hears back: the batch is in its log, acknowledged to nobody.
        case afterAppend = "after-append"
        /// A follower appended fetched records and dies before its next fetch reports them.
        case afterFollowerAppend = "after-follower-append"

        var help: String {
            switch self {
            case .afterAppend: return "a partition leader, after appending a batch (produce or offset commit), before the HW moves or the client is answered"
            case .afterFollowerAppend: return "a follower, after appending fetched records, before its next fetch reports them"
            }
        }
    }

    let crash = CrashArm()
    /// Extra milliseconds every log append of this broker takes (leader and follower): a slow disk.
    let diskDelayMs = Atomic<Int>(0)
    /// Counts `POST /faults/coord` changes, so a timed cut heals only if nothing changed it since.
    let coordCutGeneration = Atomic<Int>(0)
    /// Bumped by every `clients` fault: a timed heal lifts only the fault that scheduled it.
    let clientFaultGeneration = Atomic<Int>(0)
    private let log: @Sendable (String) -> Void

    init(log: @escaping @Sendable (String) -> Void) { self.log = log }

    func reached(_ p: Point) { crash.reached(p.rawValue, log: log) }

    /// Called before each log append.
    func beforeDiskWrite() {
        let ms = diskDelayMs.load(ordering: .relaxed)
        if ms > 0 { usleep(UInt32(ms) * 1000) }
    }

    func heal() {
        crash.arm(nil)
        diskDelayMs.store(0, ordering: .relaxed)
        coordCutGeneration.add(1, ordering: .relaxed)
    }
}
