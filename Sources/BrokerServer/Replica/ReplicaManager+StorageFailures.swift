import Foundation
import Storage
import Synchronization
import Transport

extension ReplicaManager {
    /// How often one partition's disk-full refusals are logged.
    static let spaceWarningIntervalMs: Int64 = 5000

    /// Logs a storage failure. A full disk (`LogError.isOutOfSpace`) leaves the log online: the
    /// write is refused with KAFKA_STORAGE_ERROR (a follower falls behind and leaves the ISR) and
    /// the next one is tried afresh, so the partition recovers in place once space returns; that
    /// is logged at most every `spaceWarningIntervalMs`. Other storage failures take the log offline.
    func noteFailure(_ p: Partition, _ what: String, _ error: Error) {
        if closed.load(ordering: .relaxed) { return }
        if let e = error as? LogError, e.isOutOfSpace {
            let now = Int64(MonotonicClock.millis())
            let last = p.lastSpaceWarningMs.load(ordering: .relaxed)
            guard last == Int64.min || now - last >= Self.spaceWarningIntervalMs else { return }
            p.lastSpaceWarningMs.store(now, ordering: .relaxed)
            logger.error("\(p.tp) \(what) refused, disk full: \(error); the log stays online and later writes are retried")
        } else if ReplicaManager.errorCode(error) == .kafkaStorageError {
            logger.error("\(p.tp) \(what) failed; partition offline until restart: \(error)")
        } else {
            logger.info("\(p.tp) \(what): \(error)")
        }
    }
}
