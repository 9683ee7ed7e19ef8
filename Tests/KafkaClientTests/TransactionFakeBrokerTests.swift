import Foundation
import Protocol
import Synchronization
import Testing
@testable import KafkaClient

/// The transactional producer against the in-memory fake broker: the request sequence, the KIP-98
/// retries, and fencing.
struct TransactionFakeBrokerTests {
    func producer(_ b: FakeBroker, maxBlockMs: Int = 10_000) throws -> Producer {
        var pc = ProducerConfig(client: ClientConfig(bootstrapServers: [b.bootstrap], requestTimeoutMs: 3000, retryBackoffMs: 20))
        pc.transactionalId = "tx-1"
        pc.lingerMs = 0
        pc.maxBlockMs = maxBlockMs
        pc.deliveryTimeoutMs = 5000
        return try Producer(config: pc)
    }

    func count(_ b: FakeBroker, _ api: KafkaAPI) -> Int { b.seen.withLock { $0 }.filter { $0.api == api }.count }

    @Test func transactionSendsTheKIP98SequenceAndRetries() throws {
        let b = try FakeBroker()
        defer { b.stop() }
        // The coordinator is busy twice, then loading, then moved: every one is retried.
        b.inject.withLock {
            $0 = { api, n in
                switch (api, n) {
                case (.initProducerId, 0), (.initProducerId, 1): .txnError(.concurrentTransactions)
                case (.addPartitionsToTxn, 0): .txnError(.notCoordinator)
                case (.endTxn, 0): .txnError(.coordinatorLoadInProgress)
                case (.txnOffsetCommit, 0): .txnError(.concurrentTransactions)
                default: .normal
                }
            }
        }
        let p = try producer(b)
        defer { p.close() }
        try p.initTransactions()
        try p.beginTransaction()
        try p.send(ProducerRecord(topic: "t", partition: 0, key: nil, value: "a"))
        try p.send(ProducerRecord(topic: "t", partition: 0, key: nil, value: "b"))
        try p.send(ProducerRecord(topic: "t", partition: 1, key: nil, value: "c"))
        try p.sendOffsetsToTransaction([TopicPartition("in", 0): 42], groupMetadata: ConsumerGroupMetadata(groupId: "g", generationId: 3, memberId: "m"))
        try p.commitTransaction()
        #expect(p.transactionState == .ready)
        let log = b.txnLog.withLock { $0 }
        // Each partition added once, before its first record; records carry the transactional id.
        #expect(log.filter { $0.hasPrefix("add ") } == ["add t-0", "add t-1"])
        let firstAdd0 = log.firstIndex(of: "add t-0") ?? Int.max
        let firstProduce0 = log.firstIndex { $0.hasPrefix("produce t-0") } ?? -1
        #expect(firstAdd0 < firstProduce0, "\(log)")
        #expect(log.contains { $0.hasPrefix("produce t-0 txn tx-1") })
        #expect(log.contains("add-offsets g") && log.contains("txn-offsets in-0@42"))
        #expect(log.last == "commit epoch 0", "\(log)")
        #expect(count(b, .initProducerId) == 3 && count(b, .endTxn) == 2 && count(b, .txnOffsetCommit) == 2)
        // NOT_COORDINATOR made it look the coordinator up again.
        #expect(count(b, .findCoordinator) >= 3, "\(b.seen.withLock { $0 }.map(\.api))")
    }

    @Test func fencedProduceIsFatal() throws {
        let b = try FakeBroker()
        defer { b.stop() }
        b.inject.withLock { $0 = { api, _ in api == .produce ? .produceError(.producerFenced) : .normal } }
        let p = try producer(b)
        defer { p.close(timeoutMs: 100) }
        try p.initTransactions()
        try p.beginTransaction()
        let box = Mutex<Result<RecordMetadata, KafkaError>?>(nil)
        try p.send(ProducerRecord(topic: "t", partition: 0, key: nil, value: "x")) { r in box.withLock { $0 = r } }
        #expect(throws: KafkaError.broker(.producerFenced, "t-0")) { try p.commitTransaction() }
        if case .failure(.broker(.producerFenced, _))? = box.withLock({ $0 }) {} else { Issue.record("callback: \(String(describing: box.withLock { $0 }))") }
        if case .fatalError? = p.transactionState {} else { Issue.record("state \(String(describing: p.transactionState))") }
        #expect(throws: KafkaError.self) { try p.abortTransaction() }
        #expect(throws: KafkaError.self) { try p.beginTransaction() }
        #expect(throws: KafkaError.self) { try p.send(ProducerRecord(topic: "t", partition: 0, key: nil, value: "y")) }
        // Never a new producer id behind the application's back (that would un-fence a zombie).
        #expect(count(b, .initProducerId) == 1)
        #expect(count(b, .endTxn) == 0)
    }

    @Test func failedSendNeedsAbortAndTheAbortTakesANewEpoch() throws {
        let b = try FakeBroker()
        defer { b.stop() }
        b.inject.withLock { $0 = { api, n in api == .produce && n == 0 ? .produceError(.topicAuthorizationFailed) : .normal } }
        let p = try producer(b)
        defer { p.close() }
        try p.initTransactions()
        try p.beginTransaction()
        try p.send(ProducerRecord(topic: "t", partition: 0, key: nil, value: "refused"))
        #expect(throws: KafkaError.self) { try p.commitTransaction() }
        if case .abortableError? = p.transactionState {} else { Issue.record("state \(String(describing: p.transactionState))") }
        #expect(throws: KafkaError.self) { try p.send(ProducerRecord(topic: "t", partition: 0, key: nil, value: "no")) }
        try p.abortTransaction()
        // The refused batch used sequence 0: a new epoch restarts the sequences.
        #expect(count(b, .initProducerId) == 2)
        try p.beginTransaction()
        try p.send(ProducerRecord(topic: "t", partition: 0, key: nil, value: "ok"))
        try p.commitTransaction()
        let log = b.txnLog.withLock { $0 }
        #expect(log.suffix(4) == ["init tx-1 epoch 1", "add t-0", "produce t-0 txn tx-1 seq 0", "commit epoch 1"], "\(log)")
        #expect(log.contains("abort epoch 0"))
    }
}
