import BrokerCore
import Foundation
import Storage
import Transport

/// Background log work, as Kafka's scheduler and log cleaner do it: retention every
/// `log.retention.check.interval.ms`, compaction of `cleanup.policy=compact` logs after a segment
/// rolled (`log.cleaner.backoff.ms` apart), and `flush.ms`. Each log is worked on under its
/// partition's lock, so only that partition waits while its log is compacted.
final class LogMaintenance: @unchecked Sendable {
    unowned let replicas: ReplicaManager
    let retentionIntervalMs: UInt64
    /// log.cleaner.backoff.ms, dynamic: read from the replica manager at each pass.
    var cleanerBackoffMs: UInt64 { replicas.cleanerBackoffMs.load(ordering: .relaxed) }
    let cleanerEnabled: Bool
    private let stateLock = NSLock()
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    init(replicas: ReplicaManager, config: BrokerConfig) {
        self.replicas = replicas
        retentionIntervalMs = UInt64(max(1, config.logRetentionCheckIntervalMs))
        cleanerEnabled = (config.raw["log.cleaner.enable"]?.trimmed ?? "true") != "false"
    }

    private var isStopped: Bool { stateLock.withLock { stopped } }

    func start() {
        let t = Thread { [self] in
            run()
            finished.signal()
        }
        t.name = "log-maintenance"
        t.start()
    }

    /// Waits (bounded) for a compaction in progress to finish.
    func stop() {
        let first = stateLock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { _ = finished.wait(timeout: .now() + 30) }
    }

    private func run() {
        let start = MonotonicClock.millis()
        var nextRetention = start + retentionIntervalMs
        var nextClean = start + cleanerBackoffMs
        var nextFlush = start + 1000
        while !isStopped {
            usleep(50_000)
            let now = MonotonicClock.millis()
            if now >= nextRetention {
                applyRetention()
                nextRetention = MonotonicClock.millis() + retentionIntervalMs
            }
            if cleanerEnabled && now >= nextClean {
                compactLogs()
                nextClean = MonotonicClock.millis() + cleanerBackoffMs
            }
            if now >= nextFlush {
                flushDue()
                nextFlush = MonotonicClock.millis() + 1000
            }
        }
    }

    /// Deletes segments past retention.ms / retention.bytes (cleanup.policy delete), never above
    /// the high watermark, and moves each log's start offset accordingly.
    func applyRetention() {
        for p in replicas.allPartitions {
            if isStopped { return }
            p.lock.withLock {
                guard !p.deleted, let log = p.onlineLog else { return }
                do {
                    let n = try log.deleteOldSegments(now: WallClock.millis(), maxOffset: p.highWatermark)
                    if n > 0 { replicas.logger.info("\(p.tp): retention deleted \(n) segment(s); log start offset now \(log.logStartOffset)") }
                } catch {
                    replicas.logger.error("\(p.tp) retention failed: \(error)")
                }
            }
        }
    }

    /// Compacts each compacted log whose active segment changed since its last compaction.
    func compactLogs() {
        for p in replicas.allPartitions {
            if isStopped { return }
            p.lock.withLock {
                guard !p.deleted, let log = p.onlineLog, log.config.cleanupCompact,
                      let active = log.segmentBaseOffsets.last, active != p.compactedAtSegment else { return }
                p.compactedAtSegment = active
                do {
                    let r = try log.compact(now: WallClock.millis())
                    if r.recordsRemoved > 0 {
                        replicas.logger.info("\(p.tp): compacted \(r.segmentsCleaned) segment(s), removed \(r.recordsRemoved) records, "
                                             + "\(r.bytesBefore) -> \(r.bytesAfter) bytes")
                    }
                } catch {
                    replicas.logger.error("\(p.tp) compaction failed: \(error)")
                }
            }
        }
    }

    /// flush.ms for logs that set it (the default never flushes on time).
    func flushDue() {
        let now = WallClock.millis()
        for p in replicas.allPartitions {
            p.lock.withLock {
                guard !p.deleted, let log = p.onlineLog, log.config.flushMs != Int64.max else { return }
                do { try log.maybeFlush(now: now) } catch { replicas.logger.error("\(p.tp) flush failed: \(error)") }
            }
        }
    }
}
