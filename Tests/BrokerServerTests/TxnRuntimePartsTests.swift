@testable import BrokerServer
import BrokerCore
import Foundation
import Protocol
import Synchronization
import Testing

@Suite struct TxnOffsetsBufferTests {
    @Test func heldPerProducerAndGroupPartitionUntilTaken() {
        let b = TxnOffsetsBuffer()
        let tp = TopicPartition("t", 0)
        let req = BrokerCore.OffsetCommitRequest(groupId: "g", generationId: 3, memberId: "m", offsets: [tp: .init(offset: 5)])
        #expect(b.add(producerId: 1, req, offsetsPartition: 2))
        var later = req
        later.offsets = [tp: .init(offset: 9), TopicPartition("t", 1): .init(offset: 1)]
        #expect(b.add(producerId: 1, later, offsetsPartition: 2))
        // Another offsets partition, or another producer, takes nothing.
        #expect(b.take(producerId: 1, offsetsPartition: 0).isEmpty)
        #expect(b.take(producerId: 7, offsetsPartition: 2).isEmpty)
        let taken = b.take(producerId: 1, offsetsPartition: 2)
        #expect(taken.count == 1 && taken.first?.offsets[tp]?.offset == 9 && taken.first?.offsets.count == 2)
        #expect(taken.first?.generationId == 3 && taken.first?.memberId == "m")
        #expect(b.take(producerId: 1, offsetsPartition: 2).isEmpty)
    }
}

@Suite struct TxnMarkerWriterTests {
    @Test func retriesUntilEveryPartitionHasItsMarker() {
        let a = TopicPartition("a", 0), b = TopicPartition("b", 0), gone = TopicPartition("gone", 0)
        let attempts = Mutex<[TopicPartition: Int]>([:])
        let routes = TxnMarkerWriter.Routes()
        routes.install(leaderOf: { tp in tp == b ? 2 : 1 },
                       writeLocal: { tp, _ in
                           let n = attempts.withLock { $0[tp, default: 0] += 1; return $0[tp] ?? 0 }
                           if tp == gone { return .unknownTopicOrPartition }
                           return n < 3 ? .notEnoughReplicas : .none  // fails twice, then succeeds
                       },
                       writeRemote: { broker, tps, m in
                           attempts.withLock { for tp in tps { $0[tp, default: 0] += 1 } }
                           #expect(broker == 2 && m.commit)
                           return Dictionary(uniqueKeysWithValues: tps.map { ($0, .none) })
                       })
        let w = TxnMarkerWriter(brokerId: 1, routes: routes, logger: Logger(prefix: "test"))
        let done = DispatchSemaphore(value: 0)
        w.write(TxnMarkers(transactionalId: "t", producerId: 1, producerEpoch: 0, commit: true, partitions: [a, b, gone]),
                stillOwned: { true }) { done.signal() }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(attempts.withLock { $0 } == [a: 3, b: 1, gone: 1])
    }

    @Test func stopsWhenNoLongerCoordinator() {
        let routes = TxnMarkerWriter.Routes()
        routes.install(leaderOf: { _ in 1 }, writeLocal: { _, _ in .notLeaderOrFollower }, writeRemote: { _, _, _ in [:] })
        let w = TxnMarkerWriter(brokerId: 1, routes: routes, logger: Logger(prefix: "test"))
        let owned = Mutex(true)
        let finished = Mutex(false)
        let gaveUp = DispatchSemaphore(value: 0)
        w.write(TxnMarkers(transactionalId: "t", producerId: 1, producerEpoch: 0, commit: false, partitions: [TopicPartition("a", 0)]),
                stillOwned: {
                    let o = owned.withLock { $0 }
                    if !o { gaveUp.signal() }
                    return o
                }) { finished.withLock { $0 = true } }
        usleep(200_000)
        owned.withLock { $0 = false }
        #expect(gaveUp.wait(timeout: .now() + 10) == .success)
        usleep(100_000)
        #expect(!finished.withLock { $0 })
    }
}
