import BrokerCore
import Foundation
import Protocol
import Transport

/// Writes a transaction's commit or abort markers to every partition it touched: locally for
/// partitions this broker leads, with WriteTxnMarkers to the leader of the others. Failed
/// partitions are retried (leaders move, ISRs shrink) until all are written or this broker stops
/// coordinating the transaction; only then is the transaction completed.
final class TxnMarkerWriter: @unchecked Sendable {
    /// Where markers go; installed by the request handler once it exists (it owns the paths).
    final class Routes: @unchecked Sendable {
        typealias LeaderOf = @Sendable (TopicPartition) -> Int32?
        typealias Local = @Sendable (TopicPartition, TxnMarkers) -> ErrorCode
        typealias Remote = @Sendable (_ broker: Int32, [TopicPartition], TxnMarkers) -> [TopicPartition: ErrorCode]
        private let lock = NSLock()
        private var paths: (LeaderOf, Local, Remote)?

        /// `leaderOf`: the partition's leader now; `writeLocal` appends here and waits for replication;
        /// `writeRemote` sends WriteTxnMarkers to a leader and returns each partition's error.
        func install(leaderOf: @escaping LeaderOf, writeLocal: @escaping Local, writeRemote: @escaping Remote) {
            lock.withLock { paths = (leaderOf, writeLocal, writeRemote) }
        }

        func leader(of tp: TopicPartition) -> Int32? {
            guard let f = lock.withLock({ paths?.0 }) else { return nil }
            return f(tp)
        }

        func writeLocal(_ tp: TopicPartition, _ m: TxnMarkers) -> ErrorCode {
            guard let f = lock.withLock({ paths?.1 }) else { return .brokerNotAvailable }
            return f(tp, m)
        }

        func writeRemote(_ broker: Int32, _ tps: [TopicPartition], _ m: TxnMarkers) -> [TopicPartition: ErrorCode] {
            guard let f = lock.withLock({ paths?.2 }) else { return Dictionary(tps.map { ($0, .brokerNotAvailable) }, uniquingKeysWith: { a, _ in a }) }
            return f(broker, tps, m)
        }
    }

    let brokerId: Int32
    private let routes: Routes
    private let logger: Logger
    private let queue = DispatchQueue(label: "txn-markers", attributes: .concurrent)
    private let lock = NSLock()
    private var stopped = false

    init(brokerId: Int32, routes: Routes, logger: Logger) {
        self.brokerId = brokerId
        self.routes = routes
        self.logger = logger
    }

    func stop() { lock.withLock { stopped = true } }
    private var isStopped: Bool { lock.withLock { stopped } }

    /// Writes in the background; `done` runs once every partition has its marker.
    func write(_ m: TxnMarkers, stillOwned: @escaping @Sendable () -> Bool, done: @escaping @Sendable () -> Void) {
        queue.async { [self] in
            var left = m.partitions
            var backoffMs: UInt32 = 50
            var lastLog: Int64 = 0
            while !left.isEmpty {
                guard !isStopped, stillOwned() else { return }
                var byLeader: [Int32: [TopicPartition]] = [:]
                for tp in left.sorted() {
                    if let l = routes.leader(of: tp), l >= 0 { byLeader[l, default: []].append(tp) }
                }
                var errors: [TopicPartition: ErrorCode] = [:]
                for (leader, tps) in byLeader {
                    if leader == brokerId {
                        for tp in tps { errors[tp] = routes.writeLocal(tp, m) }
                    } else {
                        for (tp, e) in routes.writeRemote(leader, tps, m) { errors[tp] = e }
                    }
                }
                // A deleted partition can never take its marker: nothing to abort or commit there.
                left = left.filter { tp in
                    guard let e = errors[tp] else { return true }
                    return e != .none && e != .unknownTopicOrPartition
                }
                guard !left.isEmpty else { break }
                let now = WallClock.millis()
                if now - lastLog > 5000 {
                    lastLog = now
                    logger.info("transaction \(m.transactionalId): markers pending on \(left.sorted().map(\.description).joined(separator: ",")) (\(errors.values.filter { $0 != .none }.first.map { "\($0)" } ?? "no leader"))")
                }
                usleep(backoffMs * 1000)
                backoffMs = min(backoffMs * 2, 1000)
            }
            done()
        }
    }
}
