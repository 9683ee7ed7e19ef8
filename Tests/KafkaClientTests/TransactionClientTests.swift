import Protocol
import Testing
@testable import KafkaClient

/// The transactional producer's state machine and the read_committed decoder, without a broker.
struct TransactionManagerTests {
    let tp = TopicPartition("t", 0)

    @Test func happyPathAddsEachPartitionOnce() throws {
        var m = TransactionManager(transactionalId: "tx")
        #expect(throws: KafkaError.self) { try m.begin() }          // before initTransactions
        try m.checkInit()
        m.initialized()
        #expect(throws: KafkaError.self) { try m.checkInit() }      // only once
        #expect(throws: KafkaError.self) { _ = try m.checkSend(tp) } // outside a transaction
        try m.begin()
        #expect(try m.checkSend(tp))
        m.added([tp])
        #expect(try !m.checkSend(tp))
        #expect(try m.checkSend(TopicPartition("t", 1)))
        #expect(try m.checkSendOffsets(group: "g"))
        m.addedGroup("g")
        #expect(try !m.checkSendOffsets(group: "g"))
        try m.beginCommit()
        m.ended()
        #expect(m.state == .ready && m.partitions.isEmpty && m.groups.isEmpty)
        try m.begin()
        #expect(try m.checkSend(tp), "a new transaction adds its partitions again")
    }

    @Test func abortableErrorAllowsOnlyAbort() throws {
        var m = TransactionManager(transactionalId: "tx")
        m.initialized()
        try m.begin()
        m.fail(.broker(.topicAuthorizationFailed, "t-0"))
        #expect(m.pendingError != nil)
        #expect(throws: KafkaError.self) { try m.beginCommit() }
        #expect(throws: KafkaError.self) { _ = try m.checkSend(tp) }
        try m.beginAbort()
        m.ended()
        #expect(m.state == .ready)
    }

    @Test func fencingIsFatalAndSticks() throws {
        for code in [ErrorCode.producerFenced, .invalidProducerEpoch, .transactionalIdAuthorizationFailed] {
            var m = TransactionManager(transactionalId: "tx")
            m.initialized()
            try m.begin()
            m.fail(.broker(code, ""))
            #expect(m.fatalError == .broker(code, ""))
            #expect(throws: KafkaError.broker(code, "")) { try m.beginAbort() }
            m.fail(.broker(.topicAuthorizationFailed, ""))
            m.ended()
            #expect(m.fatalError == .broker(code, ""), "a fatal error is never replaced or cleared")
        }
    }

    @Test func classifiesRetriesAsKIP98Says() {
        #expect(TransactionManager.classify(.concurrentTransactions) == .retry)
        #expect(TransactionManager.classify(.coordinatorLoadInProgress) == .retry)
        #expect(TransactionManager.classify(.notCoordinator) == .refindCoordinator)
        #expect(TransactionManager.classify(.coordinatorNotAvailable) == .refindCoordinator)
        #expect(TransactionManager.classify(.producerFenced) == .fatal)
        #expect(TransactionManager.classify(.invalidProducerEpoch) == .fatal)
        #expect(TransactionManager.classify(.groupAuthorizationFailed) == .abortable)
    }

    @Test func producerRefusesTransactionsWithoutIdempotence() {
        var pc = ProducerConfig(bootstrapServers: ["127.0.0.1:1"])
        pc.transactionalId = "tx"
        pc.acks = 1
        #expect(throws: KafkaError.self) { _ = try Producer(config: pc) }
        pc.acks = -1
        pc.transactionalId = ""
        #expect(throws: KafkaError.self) { _ = try Producer(config: pc) }
    }
}

struct ReadCommittedDecoderTests {
    static let pidA: Int64 = 7, pidB: Int64 = 8

    func batch(base: Int64, _ values: [String], pid: Int64 = -1, control: Bool = false, commit: Bool = false) throws -> [UInt8] {
        var o = RecordBatchOptions(baseOffset: base)
        o.isControl = control
        o.isTransactional = pid >= 0
        o.producerId = pid
        o.producerEpoch = 0
        let recs: [Record] = control
            ? [Record(offset: base, timestamp: 100, key: [0, 0, 0, commit ? 1 : 0], value: [0, 0, 0, 0, 0, 0])]
            : values.enumerated().map { Record(offset: base + Int64($0.offset), timestamp: 100, key: nil, value: Array($0.element.utf8)) }
        return try RecordBatch.build(recs, options: o)
    }

    func values(_ r: [ConsumerRecord]) -> [String] { r.map { String(decoding: $0.value ?? [], as: UTF8.self) } }

    /// A's aborted transaction interleaves with B's committed one and plain records; then A commits one.
    var log: [UInt8] {
        get throws {
            try batch(base: 0, ["plain0"])
                + batch(base: 1, ["a1", "a2"], pid: Self.pidA)
                + batch(base: 3, ["b3"], pid: Self.pidB)
                + batch(base: 4, ["a4"], pid: Self.pidA)
                + batch(base: 5, [], pid: Self.pidA, control: true)              // abort A
                + batch(base: 6, [], pid: Self.pidB, control: true, commit: true) // commit B
                + batch(base: 7, ["a7"], pid: Self.pidA)
                + batch(base: 8, [], pid: Self.pidA, control: true, commit: true) // commit A
                + batch(base: 9, ["plain9"])
        }
    }

    @Test func dropsOnlyTheAbortedTransaction() throws {
        let (recs, next) = try FetchDecoder.decode(log, topic: "t", partition: 0, from: 0,
                                                   abortedTransactions: [(Self.pidA, 1)])
        #expect(values(recs) == ["plain0", "b3", "a7", "plain9"])
        #expect(next == 10)
    }

    @Test func withoutTheListEverythingButMarkersIsReturned() throws {
        let (recs, _) = try FetchDecoder.decode(log, topic: "t", partition: 0, from: 0)
        #expect(values(recs) == ["plain0", "a1", "a2", "b3", "a4", "a7", "plain9"])
    }

    @Test func abortedTransactionBegunBeforeTheFetchPosition() throws {
        // Fetching from 3: the broker still lists A's transaction (first offset 1) as it reaches into the range.
        let (recs, _) = try FetchDecoder.decode(log, topic: "t", partition: 0, from: 3,
                                                abortedTransactions: [(Self.pidA, 1)])
        #expect(values(recs) == ["b3", "a7", "plain9"])
    }

    @Test func listedTransactionOnlyStartsAtItsFirstOffset() throws {
        // An abort listed at offset 7 must not drop A's earlier committed records.
        let (recs, _) = try FetchDecoder.decode(log, topic: "t", partition: 0, from: 0,
                                                abortedTransactions: [(Self.pidA, 7)])
        #expect(values(recs) == ["plain0", "a1", "a2", "b3", "a4", "plain9"])
    }
}
