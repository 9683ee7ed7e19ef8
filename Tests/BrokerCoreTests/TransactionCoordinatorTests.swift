import BrokerCore
import Protocol
import Testing

/// Drives a coordinator like the runtime would: log and marker writes can be completed on demand.
struct TxnHarness {
    var c: TransactionCoordinator
    var now: Int64 = 1_000
    var nextRequest: TxnRequestID = 1
    var nextPid: Int64 = 100
    var replies: [TxnRequestID: TxnReply] = [:]
    var logWrites: [(TxnMetadata, UInt64)] = []
    var markerWrites: [(TxnMarkers, UInt64)] = []
    /// Complete every write as soon as it is asked for.
    var autoComplete = true

    init(config: TxnCoordinatorConfig = TxnCoordinatorConfig()) {
        var cfg = config
        cfg.stateTopicPartitions = 1
        c = TransactionCoordinator(config: cfg)
        _ = c.loadCompleted(partition: 0, nowMs: now)
    }

    mutating func run(_ effects: [TxnEffect]) {
        var queue = effects
        while !queue.isEmpty {
            let e = queue.removeFirst()
            switch e {
            case .reply(let id, let r): replies[id] = r
            case .writeLog(let m, _, let token):
                logWrites.append((m, token))
                if autoComplete { queue += c.logWritten(transactionalId: m.transactionalId, token: token, error: nil) }
            case .writeMarkers(let m, let token):
                markerWrites.append((m, token))
                if autoComplete { queue += c.markersWritten(transactionalId: m.transactionalId, token: token, nowMs: now) }
            }
        }
    }

    mutating func request(_ body: (inout TransactionCoordinator, TxnRequestID, Int64) -> [TxnEffect]) -> TxnReply? {
        let id = nextRequest
        nextRequest += 1
        let effects = body(&c, id, now)
        run(effects)
        return replies[id]
    }

    mutating func initPid(_ txn: String, timeoutMs: Int32 = 60_000, expected: (Int64, Int16)? = nil) -> TxnReply? {
        nextPid += 1
        let pid = nextPid
        return request { c, id, now in
            c.initProducerId(transactionalId: txn, timeoutMs: timeoutMs, freshProducerId: pid,
                             expected: expected.map { (producerId: $0.0, epoch: $0.1) }, requestId: id, nowMs: now)
        }
    }

    mutating func add(_ txn: String, _ pid: Int64, _ epoch: Int16, _ parts: [TopicPartition]) -> TxnReply? {
        request { c, id, now in c.addPartitions(transactionalId: txn, producerId: pid, producerEpoch: epoch, partitions: Set(parts), requestId: id, nowMs: now) }
    }

    mutating func end(_ txn: String, _ pid: Int64, _ epoch: Int16, commit: Bool) -> TxnReply? {
        request { c, id, now in c.endTxn(transactionalId: txn, producerId: pid, producerEpoch: epoch, commit: commit, requestId: id, nowMs: now) }
    }
}

func addErrors(_ r: TxnReply?) -> Set<ErrorCode> {
    guard case .addPartitions(let m) = r else { return [] }
    return Set(m.values)
}

@Suite struct TransactionCoordinatorTests {
    let a0 = TopicPartition("a", 0), a1 = TopicPartition("a", 1)

    @Test func commitGoesThroughPrepareAndComplete() {
        var h = TxnHarness()
        #expect(h.initPid("t") == .initProducerId(.none, producerId: 101, producerEpoch: 0))
        #expect(addErrors(h.add("t", 101, 0, [a0, a1])) == [.none])
        #expect(h.c.metadata("t")?.state == .ongoing)
        #expect(h.c.metadata("t")?.partitions == [a0, a1])
        #expect(h.end("t", 101, 0, commit: true) == .endTxn(.none))
        // Logged: Empty, Ongoing, PrepareCommit, CompleteCommit; markers (commit) for both partitions.
        #expect(h.logWrites.map(\.0.state) == [.empty, .ongoing, .prepareCommit, .completeCommit])
        #expect(h.markerWrites.count == 1)
        #expect(h.markerWrites[0].0 == TxnMarkers(transactionalId: "t", producerId: 101, producerEpoch: 0, commit: true, partitions: [a0, a1]))
        #expect(h.c.metadata("t")?.state == .completeCommit)
        #expect(h.c.metadata("t")?.partitions == [])
        // A retried commit succeeds; an abort of the committed transaction is an invalid transition.
        #expect(h.end("t", 101, 0, commit: true) == .endTxn(.none))
        #expect(h.end("t", 101, 0, commit: false) == .endTxn(.invalidTxnState))
        // The next transaction starts from CompleteCommit.
        #expect(addErrors(h.add("t", 101, 0, [a1])) == [.none])
        #expect(h.end("t", 101, 0, commit: false) == .endTxn(.none))
        #expect(h.markerWrites.last?.0.commit == false)
        #expect(h.c.metadata("t")?.state == .completeAbort)
    }

    @Test func replyWaitsForTheLogWrite() {
        var h = TxnHarness()
        h.autoComplete = false
        #expect(h.initPid("t") == nil)
        #expect(h.logWrites.count == 1)
        // While the first record is in flight the id is busy.
        #expect(h.initPid("t") == .initProducerId(.concurrentTransactions, producerId: -1, producerEpoch: -1))
        let (m, token) = h.logWrites[0]
        // A stale token is ignored; the right one applies the transition and answers.
        h.run(h.c.logWritten(transactionalId: "t", token: token + 99, error: nil))
        #expect(h.replies[1] == nil)
        h.run(h.c.logWritten(transactionalId: m.transactionalId, token: token, error: nil))
        #expect(h.replies[1] == .initProducerId(.none, producerId: 101, producerEpoch: 0))
    }

    @Test func failedFirstWriteForgetsTheId() {
        var h = TxnHarness()
        h.autoComplete = false
        _ = h.initPid("t")
        let token = h.logWrites[0].1
        h.run(h.c.logWritten(transactionalId: "t", token: token, error: .notCoordinator))
        #expect(h.replies[1] == .initProducerId(.notCoordinator, producerId: -1, producerEpoch: -1))
        #expect(h.c.metadata("t") == nil)
    }

    @Test func initProducerIdFencesTheOldEpoch() {
        var h = TxnHarness()
        _ = h.initPid("t")
        #expect(h.initPid("t") == .initProducerId(.none, producerId: 101, producerEpoch: 1))
        // The old producer (epoch 0) is fenced everywhere.
        #expect(addErrors(h.add("t", 101, 0, [a0])) == [.producerFenced])
        #expect(h.end("t", 101, 0, commit: true) == .endTxn(.producerFenced))
        // A wrong producer id for the transactional id.
        #expect(addErrors(h.add("t", 999, 1, [a0])) == [.invalidProducerIdMapping])
        #expect(addErrors(h.add("unknown", 101, 1, [a0])) == [.invalidProducerIdMapping])
        #expect(addErrors(h.add("t", 101, 1, [a0])) == [.none])
    }

    @Test func initProducerIdAbortsAnOngoingTransaction() {
        var h = TxnHarness()
        _ = h.initPid("t")
        _ = h.add("t", 101, 0, [a0])
        // The new producer is told to retry while the old transaction is aborted with a bumped epoch.
        #expect(h.initPid("t") == .initProducerId(.concurrentTransactions, producerId: -1, producerEpoch: -1))
        #expect(h.markerWrites.last?.0 == TxnMarkers(transactionalId: "t", producerId: 101, producerEpoch: 1, commit: false, partitions: [a0]))
        #expect(h.c.metadata("t")?.state == .completeAbort)
        #expect(h.end("t", 101, 0, commit: true) == .endTxn(.producerFenced))
        #expect(h.initPid("t") == .initProducerId(.none, producerId: 101, producerEpoch: 2))
    }

    /// KIP-360 (InitProducerId v3+): a producer that names the id and epoch it holds keeps its id
    /// and gets the next epoch; a lost answer's retry gets the same epoch again; anyone else is fenced.
    @Test func initProducerIdWithTheEpochTheProducerHolds() {
        var h = TxnHarness()
        #expect(h.initPid("t") == .initProducerId(.none, producerId: 101, producerEpoch: 0))
        #expect(h.initPid("t", expected: (101, 0)) == .initProducerId(.none, producerId: 101, producerEpoch: 1))
        // The answer was lost and the producer asks again with epoch 0: same epoch, no second bump.
        #expect(h.initPid("t", expected: (101, 0)) == .initProducerId(.none, producerId: 101, producerEpoch: 1))
        #expect(h.initPid("t", expected: (101, 1)) == .initProducerId(.none, producerId: 101, producerEpoch: 2))
        // Now epoch 0 is two bumps old, and another producer id is not this one's.
        #expect(h.initPid("t", expected: (101, 0)) == .initProducerId(.producerFenced, producerId: -1, producerEpoch: -1))
        #expect(h.initPid("t", expected: (555, 2)) == .initProducerId(.producerFenced, producerId: -1, producerEpoch: -1))
        // A stale epoch cannot abort the current producer's transaction; the current one can.
        _ = h.add("t", 101, 2, [a0])
        #expect(h.initPid("t", expected: (101, 1)) == .initProducerId(.producerFenced, producerId: -1, producerEpoch: -1))
        #expect(h.c.metadata("t")?.state == .ongoing)
        #expect(h.initPid("t", expected: (101, 2)) == .initProducerId(.concurrentTransactions, producerId: -1, producerEpoch: -1))
        #expect(h.c.metadata("t")?.state == .completeAbort)
        // Without an expectation (v0-2, or -1/-1) the old rule holds: bump whatever the epoch is.
        #expect(h.initPid("t") == .initProducerId(.none, producerId: 101, producerEpoch: 4))
    }

    @Test func concurrentTransactionsWhileEnding() {
        var h = TxnHarness()
        _ = h.initPid("t")
        _ = h.add("t", 101, 0, [a0])
        h.autoComplete = false
        #expect(h.end("t", 101, 0, commit: true) == nil)
        let prepare = h.logWrites.last!
        #expect(prepare.0.state == .prepareCommit)
        #expect(addErrors(h.add("t", 101, 0, [a1])) == [.concurrentTransactions])
        #expect(h.end("t", 101, 0, commit: true) == .endTxn(.concurrentTransactions))
        h.run(h.c.logWritten(transactionalId: "t", token: prepare.1, error: nil))
        // Prepared: the client has its answer, markers are being written; still busy until they are.
        #expect(h.replies[3] == .endTxn(.none))
        #expect(h.c.metadata("t")?.state == .prepareCommit)
        #expect(addErrors(h.add("t", 101, 0, [a1])) == [.concurrentTransactions])
        #expect(h.initPid("t") == .initProducerId(.concurrentTransactions, producerId: -1, producerEpoch: -1))
        let markers = h.markerWrites.last!
        h.run(h.c.markersWritten(transactionalId: "t", token: markers.1, nowMs: h.now))
        let complete = h.logWrites.last!
        #expect(complete.0.state == .completeCommit)
        h.run(h.c.logWritten(transactionalId: "t", token: complete.1, error: nil))
        h.autoComplete = true
        #expect(addErrors(h.add("t", 101, 0, [a1])) == [.none])
    }

    @Test func invalidTransitionsAreRefused() {
        var h = TxnHarness()
        _ = h.initPid("t")
        // Nothing to end in Empty.
        #expect(h.end("t", 101, 0, commit: true) == .endTxn(.invalidTxnState))
        #expect(h.end("t", 101, 0, commit: false) == .endTxn(.invalidTxnState))
        #expect(h.c.checkTxnOffsetCommit(transactionalId: "t", producerId: 101, producerEpoch: 0) == .invalidTxnState)
        _ = h.add("t", 101, 0, [a0])
        #expect(h.c.checkTxnOffsetCommit(transactionalId: "t", producerId: 101, producerEpoch: 0) == .none)
        _ = h.end("t", 101, 0, commit: false)
        #expect(h.end("t", 101, 0, commit: true) == .endTxn(.invalidTxnState))
        #expect(!TxnState.prepareCommit.successors.contains(.ongoing))
        #expect(!TxnState.empty.successors.contains(.prepareCommit))
        #expect(TxnState.dead.successors.isEmpty)
    }

    @Test func timeoutAbortsAndFences() {
        var h = TxnHarness()
        _ = h.initPid("t", timeoutMs: 5_000)
        _ = h.add("t", 101, 0, [a0])
        h.now += 4_000
        h.run(h.c.tick(nowMs: h.now))
        #expect(h.c.metadata("t")?.state == .ongoing)
        // Adding more partitions does not restart the clock.
        _ = h.add("t", 101, 0, [a1])
        h.now += 2_000
        h.run(h.c.tick(nowMs: h.now))
        #expect(h.c.metadata("t")?.state == .completeAbort)
        #expect(h.c.metadata("t")?.producerEpoch == 1)
        #expect(h.markerWrites.last?.0 == TxnMarkers(transactionalId: "t", producerId: 101, producerEpoch: 1, commit: false, partitions: [a0, a1]))
        #expect(h.end("t", 101, 0, commit: true) == .endTxn(.producerFenced))
    }

    @Test func idleIdsExpireAsTombstones() {
        var cfg = TxnCoordinatorConfig()
        cfg.idExpirationMs = 10_000
        var h = TxnHarness(config: cfg)
        _ = h.initPid("idle")
        _ = h.initPid("busy")
        _ = h.add("busy", 102, 0, [a0])
        h.now += 10_001
        h.run(h.c.tick(nowMs: h.now))
        // The idle id is written Dead (the runtime's tombstone) and forgotten; an open transaction keeps
        // its id (it is aborted by its own timeout instead).
        #expect(h.logWrites.contains { $0.0.transactionalId == "idle" && $0.0.state == .dead })
        #expect(h.c.metadata("idle") == nil)
        #expect(h.c.metadata("busy") != nil)
        #expect(addErrors(h.add("idle", 101, 0, [a0])) == [.invalidProducerIdMapping])
        #expect(h.initPid("idle") == .initProducerId(.none, producerId: 103, producerEpoch: 0))
    }

    @Test func timeoutLimits() {
        var h = TxnHarness()
        #expect(h.initPid("t", timeoutMs: 0) == .initProducerId(.invalidTransactionTimeout, producerId: -1, producerEpoch: -1))
        #expect(h.initPid("t", timeoutMs: 900_001) == .initProducerId(.invalidTransactionTimeout, producerId: -1, producerEpoch: -1))
        #expect(h.c.metadata("t") == nil)
    }

    @Test func exhaustedEpochTakesANewProducerId() {
        var h = TxnHarness()
        _ = h.initPid("t")
        var m = h.c.metadata("t")!
        m.producerEpoch = Int16.max - 1
        h.c.replay("t", m)
        #expect(h.initPid("t") == .initProducerId(.none, producerId: 102, producerEpoch: 0))
    }

    @Test func loadFinishesPreparedTransactionsAndUnloadAnswersParked() {
        var c = TransactionCoordinator()
        let id = "x"
        let p = c.partitionFor(id)
        let m = TxnMetadata(transactionalId: id, producerId: 5, producerEpoch: 3, timeoutMs: 1000, state: .prepareAbort,
                            partitions: [a0], txnStartMs: 10, lastUpdateMs: 20)
        c.replay(id, m)
        let effects = c.loadCompleted(partition: p, nowMs: 30)
        guard case .writeMarkers(let mk, _) = effects.first else { Issue.record("no markers: \(effects)"); return }
        #expect(mk == TxnMarkers(transactionalId: id, producerId: 5, producerEpoch: 3, commit: false, partitions: [a0]))
        // A request parked on a log write is answered NOT_COORDINATOR when the partition moves away.
        c.replay("y", TxnMetadata(transactionalId: "y", producerId: 6, producerEpoch: 0, timeoutMs: 1000, state: .empty, lastUpdateMs: 0))
        let py = c.partitionFor("y")
        _ = c.loadCompleted(partition: py, nowMs: 30)
        _ = c.addPartitions(transactionalId: "y", producerId: 6, producerEpoch: 0, partitions: [a1], requestId: 9, nowMs: 40)
        let out = c.unload(partition: py)
        #expect(out.contains(.reply(9, .addPartitions([a1: .notCoordinator]))))
        #expect(c.metadata("y") == nil)
        #expect(c.addPartitions(transactionalId: "y", producerId: 6, producerEpoch: 0, partitions: [a1], requestId: 10, nowMs: 50)
                    == [.reply(10, .addPartitions([a1: .notCoordinator]))])
    }

    @Test func boundedTransactionalIds() {
        var cfg = TxnCoordinatorConfig()
        cfg.maxTransactionalIds = 2
        var h = TxnHarness(config: cfg)
        _ = h.initPid("a")
        _ = h.initPid("b")
        #expect(h.initPid("c") == .initProducerId(.coordinatorNotAvailable, producerId: -1, producerEpoch: -1))
    }
}

@Suite struct TxnLogAndIndexTests {
    @Test func stateRecordRoundTrip() throws {
        let m = TxnMetadata(transactionalId: "t", producerId: 42, producerEpoch: 7, timeoutMs: 60_000, state: .ongoing,
                            partitions: [TopicPartition("a", 1), TopicPartition("b", 0), TopicPartition("a", 0)],
                            txnStartMs: 111, lastUpdateMs: 222)
        let v = try TxnLogRecords.value(m)
        #expect(try TxnLogRecords.metadata(transactionalId: "t", value: v) == m)
        #expect(try TxnLogRecords.transactionalId(key: TxnLogRecords.key("t")) == "t")
        // Kafka's v0 layout: version, pid, epoch, timeout, state byte, then the partitions array.
        #expect(Array(v[0..<17]) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 42, 0, 7, 0, 0, 0xea, 0x60, 1])
        #expect(throws: (any Error).self) { _ = try TxnLogRecords.metadata(transactionalId: "t", value: Array(v.prefix(20))) }
        var bad = v
        bad[16] = 9
        #expect(throws: (any Error).self) { _ = try TxnLogRecords.metadata(transactionalId: "t", value: bad) }
    }

    @Test func lastStableOffsetAndAbortedTransactions() {
        var ix = PartitionTxnIndex()
        ix.appended(producerId: 1, isTransactional: true, control: nil, baseOffset: 10, lastOffset: 12)
        ix.appended(producerId: 2, isTransactional: true, control: nil, baseOffset: 13, lastOffset: 13)
        ix.appended(producerId: 1, isTransactional: true, control: nil, baseOffset: 14, lastOffset: 15)
        ix.appended(producerId: 3, isTransactional: false, control: nil, baseOffset: 16, lastOffset: 16)
        #expect(ix.lastStableOffset(highWatermark: 17) == 10)
        #expect(ix.lastStableOffset(highWatermark: 5) == 5)
        ix.appended(producerId: 1, isTransactional: true, control: .abort, baseOffset: 17, lastOffset: 17)
        #expect(ix.lastStableOffset(highWatermark: 18) == 13)
        ix.appended(producerId: 2, isTransactional: true, control: .commit, baseOffset: 18, lastOffset: 18)
        #expect(ix.lastStableOffset(highWatermark: 19) == 19)
        #expect(ix.abortedTransactions(from: 0, upTo: 19) == [AbortedTxn(producerId: 1, firstOffset: 10, lastOffset: 17)])
        #expect(ix.abortedTransactions(from: 18, upTo: 19) == [])
        #expect(ix.abortedTransactions(from: 0, upTo: 10) == [])
        // A marker for a producer with nothing open changes nothing.
        ix.appended(producerId: 9, isTransactional: true, control: .abort, baseOffset: 19, lastOffset: 19)
        #expect(ix.aborted.count == 1)
        ix.logStartMoved(to: 18)
        #expect(ix.aborted.isEmpty)
    }

    @Test func provisionalBeginBoundsTheStableOffset() {
        var ix = PartitionTxnIndex()
        let opened = ix.begin(producerId: 4, at: 20)
        #expect(opened)
        #expect(ix.lastStableOffset(highWatermark: 25) == 20)
        // The batch landed at 22: the earlier bound stays (it is only ever lower).
        ix.appended(producerId: 4, isTransactional: true, control: nil, baseOffset: 22, lastOffset: 23)
        #expect(ix.firstUnstableOffset == 20)
        let again = ix.begin(producerId: 4, at: 30)
        #expect(!again)
        ix.forget(producerId: 4)
        #expect(ix.firstUnstableOffset == nil)
    }

    @Test func hangingTransactionsByAge() {
        var ix = PartitionTxnIndex()
        ix.appended(producerId: 1, isTransactional: true, control: nil, baseOffset: 0, lastOffset: 0, nowMs: 100)
        _ = ix.begin(producerId: 2, at: 1, nowMs: 500)
        #expect(ix.hanging(openedBefore: 400) == [1])
        #expect(ix.hanging(openedBefore: 600) == [1, 2])
        ix.appended(producerId: 1, isTransactional: true, control: .abort, baseOffset: 2, lastOffset: 2, nowMs: 700)
        #expect(ix.hanging(openedBefore: 600) == [2])
        ix.forget(producerId: 2)
        #expect(ix.hanging(openedBefore: 10_000).isEmpty)
    }

    @Test func controlRecordKeys() {
        #expect(ControlRecordType(key: ControlRecordType.commit.recordKey()) == .commit)
        #expect(ControlRecordType(key: ControlRecordType.abort.recordKey()) == .abort)
        #expect(ControlRecordType(key: [0, 0, 0, 7]) == nil)
        #expect(ControlRecordType(key: [0, 0]) == nil)
        #expect(ControlRecordType.recordValue(coordinatorEpoch: 5) == [0, 0, 0, 0, 0, 5])
    }
}
