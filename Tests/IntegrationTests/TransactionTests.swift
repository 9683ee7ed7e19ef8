import Foundation
import Protocol
import Testing
import Transport

/// Transactions (KIP-98) against real brokerd processes: the raw protocol (coordinator lookup,
/// fencing, timeout abort, LSO and aborted transactions in read_committed fetches, recovery of
/// `__transaction_state` after kill -9) and real transactional clients.
@Suite(.serialized, .ownThreads) struct TransactionTests {
    static let config = """
        group.initial.rebalance.delay.ms=0
        offsets.topic.num.partitions=3
        transaction.state.log.num.partitions=3
        transaction.abort.timed.out.transaction.cleanup.interval.ms=200
        """

    /// Waits for the transaction coordinator of `id` (the first lookup creates `__transaction_state`).
    static func coordinator(_ cluster: BrokerCluster, _ id: String, via broker: Int32 = 1) -> Int32? {
        var found: Int32?
        ProcessHarness.waitUntil(timeout: 40, interval: 0.2) {
            guard let raw = try? RawKafka(port: cluster.port(broker)),
                  let r = try? raw.call(FindCoordinatorRequest(key: id, keyType: 1), version: 2), r.errorCode == .none else { return false }
            found = r.nodeId
            return true
        }
        return found
    }

    /// InitProducerId, retried while the coordinator loads or finishes an earlier transaction.
    static func initProducer(_ raw: RawKafka, _ id: String, timeoutMs: Int32 = 60_000) -> InitProducerIdResponse? {
        var out: InitProducerIdResponse?
        ProcessHarness.waitUntil(timeout: 30, interval: 0.1) {
            out = try? raw.call(InitProducerIdRequest(transactionalId: id, transactionTimeoutMs: timeoutMs), version: 1)
            return out?.errorCode == ErrorCode.none
        }
        return out
    }

    static func txnBatch(_ pid: Int64, _ epoch: Int16, seq: Int32, _ values: [String]) throws -> [UInt8] {
        var o = RecordBatchOptions()
        o.producerId = pid
        o.producerEpoch = epoch
        o.baseSequence = seq
        o.isTransactional = true
        return try RecordBatch.build(values.enumerated().map { Record(offset: Int64($0.offset), key: nil, value: Array($0.element.utf8)) }, options: o)
    }

    static func fetch(_ raw: RawKafka, _ topic: String, isolation: Int8) throws -> FetchResponse.PartitionData? {
        try raw.call(FetchRequest(maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: isolation,
                                  topics: [.init(topic: topic, partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])]),
                     version: 11).responses.first?.partitions.first
    }

    /// Values of the data records in a fetched record set (control batches skipped).
    static func values(_ records: [UInt8]?) -> [String] {
        guard let records, let split = try? RecordBatch.split(records, validateCRC: true) else { return [] }
        return split.batches.flatMap { b -> [String] in
            guard !b.header.isControl, let (_, rs) = try? RecordBatch.records(of: Array(records[b.range])) else { return [] }
            return rs.map { String(decoding: $0.value ?? [], as: UTF8.self) }
        }
    }

    @Test(.timeLimit(.minutes(4))) func rawProtocolLastStableOffsetFencingTimeoutAndRecovery() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.config)
        defer { cluster.cleanup() }
        try GroupSupport.createTopic(cluster, "tx", partitions: 1, rf: 1)
        #expect(Self.coordinator(cluster, "t1") == 1, "\(cluster.logs)")
        var raw = try RawKafka(port: cluster.port(1))
        guard let ip = Self.initProducer(raw, "t1") else { Issue.record("no producer id\n\(cluster.logs)"); return }
        #expect(ip.producerEpoch == 0)
        let pid = ip.producerId
        let tp = AddPartitionsToTxnRequest.AddPartitionsToTxnTopic(name: "tx", partitions: [0])
        let add = try raw.call(AddPartitionsToTxnRequest(transactionalId: "t1", producerId: pid, producerEpoch: 0, topics: [tp]), version: 1)
        #expect(add.resultsByTopic.first?.resultsByPartition.first?.partitionErrorCode == ErrorCode.none)
        let p1 = try GroupSupport.produce(raw, ProduceRequest(transactionalId: "t1", acks: -1, timeoutMs: 5000, topicData: [
            .init(name: "tx", partitionData: [.init(index: 0, records: try Self.txnBatch(pid, 0, seq: 0, ["c0", "c1"]))]),
        ]))
        #expect(p1?.errorCode == ErrorCode.none)
        // Open transaction: read_committed stops at its first offset, read_uncommitted sees it.
        let open = try Self.fetch(raw, "tx", isolation: 1)
        #expect(open?.highWatermark == 2 && open?.lastStableOffset == 0 && Self.values(open?.records).isEmpty)
        #expect(Self.values(try Self.fetch(raw, "tx", isolation: 0)?.records) == ["c0", "c1"])
        let listing = raw
        let latest = { (isolation: Int8) -> Int64? in
            let req = ListOffsetsRequest(replicaId: -1, isolationLevel: isolation, topics: [.init(name: "tx", partitions: [.init(partitionIndex: 0, timestamp: -1)])])
            return (try? listing.call(req, version: 2))?.topics.first?.partitions.first?.offset
        }
        #expect(latest(1) == 0 && latest(0) == 2)
        #expect(try raw.call(EndTxnRequest(transactionalId: "t1", producerId: pid, producerEpoch: 0, committed: true), version: 1).errorCode == .none)
        var committed: FetchResponse.PartitionData?
        ProcessHarness.waitUntil(timeout: 10, interval: 0.1) {
            committed = try? Self.fetch(raw, "tx", isolation: 1)
            return committed?.lastStableOffset == 3
        }
        #expect(committed?.highWatermark == 3 && Self.values(committed?.records) == ["c0", "c1"], "\(String(describing: committed))")

        // A read_committed fetch parked for data is woken by an append on the appending thread:
        // the producer's answer and the fetch's must both come (no lock cycle between them).
        final class Box: @unchecked Sendable {
            let raw: RawKafka
            var values: [String]?
            init(_ raw: RawKafka) { self.raw = raw }
        }
        let box = Box(try RawKafka(port: cluster.port(1)))
        let fetcher = Thread {
            let req = FetchRequest(maxWaitMs: 8000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 1,
                                   topics: [.init(topic: "tx", partitions: [.init(partition: 0, fetchOffset: 3, partitionMaxBytes: 1 << 20)])])
            box.values = (try? box.raw.call(req, version: 11)).map { Self.values($0.responses.first?.partitions.first?.records) }
        }
        fetcher.start()
        usleep(300_000)
        // An idempotent batch: its append runs under the producer state's lock.
        let idem = try raw.call(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 1000), version: 1)
        var io = RecordBatchOptions()
        io.producerId = idem.producerId
        io.producerEpoch = idem.producerEpoch
        io.baseSequence = 0
        let plain = try GroupSupport.produce(raw, ProduceRequest(acks: -1, timeoutMs: 5000, topicData: [
            .init(name: "tx", partitionData: [.init(index: 0, records: try RecordBatch.build([Record(key: nil, value: Array("p".utf8))], options: io))]),
        ]))
        #expect(plain?.errorCode == ErrorCode.none && plain?.baseOffset == 3)
        #expect(ProcessHarness.waitUntil(timeout: 10, interval: 0.05) { box.values != nil })
        #expect(box.values == ["p"])

        // A second transaction outlives its 1 s timeout: the coordinator aborts it and fences epoch 0.
        let ip2 = Self.initProducer(raw, "t2", timeoutMs: 1000)
        let pid2 = ip2?.producerId ?? -1
        _ = try raw.call(AddPartitionsToTxnRequest(transactionalId: "t2", producerId: pid2, producerEpoch: 0, topics: [tp]), version: 2)
        _ = try GroupSupport.produce(raw, ProduceRequest(transactionalId: "t2", acks: -1, timeoutMs: 5000, topicData: [
            .init(name: "tx", partitionData: [.init(index: 0, records: try Self.txnBatch(pid2, 0, seq: 0, ["a0"]))]),
        ]))
        var aborted: FetchResponse.PartitionData?
        ProcessHarness.waitUntil(timeout: 20, interval: 0.2) {
            aborted = try? Self.fetch(raw, "tx", isolation: 1)
            return aborted?.lastStableOffset == 6
        }
        #expect(aborted?.abortedTransactions == [.init(producerId: pid2, firstOffset: 4)], "\(String(describing: aborted))\n\(cluster.logs)")
        #expect(try raw.call(EndTxnRequest(transactionalId: "t2", producerId: pid2, producerEpoch: 0, committed: true), version: 2).errorCode == .producerFenced)
        #expect(try raw.call(EndTxnRequest(transactionalId: "t2", producerId: pid2, producerEpoch: 0, committed: true), version: 1).errorCode == .invalidProducerEpoch)
        // The fenced epoch cannot write to the partition either.
        let zombie = try GroupSupport.produce(raw, ProduceRequest(transactionalId: "t2", acks: -1, timeoutMs: 5000, topicData: [
            .init(name: "tx", partitionData: [.init(index: 0, records: try Self.txnBatch(pid2, 0, seq: 1, ["z"]))]),
        ]))
        #expect(zombie?.errorCode == .invalidProducerEpoch)
        // Ending nothing, and a producer id that is not the transactional id's.
        #expect(try raw.call(EndTxnRequest(transactionalId: "t1", producerId: pid, producerEpoch: 0, committed: false), version: 2).errorCode == .invalidTxnState)
        #expect(try raw.call(EndTxnRequest(transactionalId: "t1", producerId: pid + 1000, producerEpoch: 0, committed: true), version: 2).errorCode == .invalidProducerIdMapping)

        // Hostile shapes: an empty transactional id, a partition listed twice for an unknown id.
        #expect(try raw.call(InitProducerIdRequest(transactionalId: "", transactionTimeoutMs: 1000), version: 1).errorCode == .invalidRequest)
        let twice = try raw.call(AddPartitionsToTxnRequest(transactionalId: "nobody", producerId: 5, producerEpoch: 0,
                                                           topics: [.init(name: "tx", partitions: [0, 0]), .init(name: "tx", partitions: [0])]), version: 1)
        #expect(twice.resultsByTopic.flatMap(\.resultsByPartition).map(\.partitionErrorCode).allSatisfy { $0 == .invalidProducerIdMapping || $0 == .notCoordinator })

        // kill -9 and restart: the state comes back from __transaction_state, the index from the log.
        cluster.kill9(1)
        try cluster.startBroker(1)
        var described: DescribeTransactionsResponse.TransactionState?
        ProcessHarness.waitUntil(timeout: 40, interval: 0.3) {
            guard let fresh = try? RawKafka(port: cluster.port(1)),
                  let d = try? fresh.call(DescribeTransactionsRequest(transactionalIds: ["t2"]), version: 0).transactionStates.first,
                  d.errorCode == .none else { return false }
            raw = fresh
            described = d
            return true
        }
        #expect(described?.transactionState == "CompleteAbort" && described?.producerId == pid2 && described?.producerEpoch == 1,
                "\(String(describing: described))\n\(cluster.logs)")
        let listed = try raw.call(ListTransactionsRequest(stateFilters: ["CompleteCommit"]), version: 0)
        #expect(listed.transactionStates.map(\.transactionalId) == ["t1"])
        #expect(Self.initProducer(raw, "t1")?.producerEpoch == 1)
        var after: FetchResponse.PartitionData?
        ProcessHarness.waitUntil(timeout: 20, interval: 0.2) {
            after = try? Self.fetch(raw, "tx", isolation: 1)
            return after?.errorCode == ErrorCode.none
        }
        #expect(after?.lastStableOffset == 6 && after?.abortedTransactions == [.init(producerId: pid2, firstOffset: 4)], "\(String(describing: after))")
    }

    @Test(.timeLimit(.minutes(4))) func confluentKafkaTransactionalProducer() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.config)
        defer { cluster.cleanup() }
        try GroupSupport.createTopic(cluster, "txc", partitions: 1, rf: 1)
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", GroupSupport.compatDir + "/txn_clients.py", cluster.bootstrap, "txc"], timeout: 150)
        #expect(r.status == 0 && r.stdout.contains("OK"), "\(r.stdout)\n\(r.stderr)\n\(cluster.logs)")
    }

    @Test(.timeLimit(.minutes(4))) func kafkaPythonTransactionalProducer() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.config)
        defer { cluster.cleanup() }
        try GroupSupport.createTopic(cluster, "txk", partitions: 1, rf: 1)
        // Only kafka-python versions with a transactional producer (2.1+) can take part.
        let probe = try ProcessHarness.run("/usr/bin/env", ["python3", "-c", "from kafka import KafkaProducer; assert hasattr(KafkaProducer, 'init_transactions')"], timeout: 30)
        guard probe.status == 0 else { return }
        let r = try ProcessHarness.run("/usr/bin/env", ["python3", GroupSupport.compatDir + "/txn_clients.py", cluster.bootstrap, "txk", "kafka-python"], timeout: 150)
        #expect(r.status == 0 && r.stdout.contains("OK"), "\(r.stdout)\n\(r.stderr)\n\(cluster.logs)")
    }

    /// Three leaders: the coordinator writes markers to the partitions it leads itself and sends
    /// WriteTxnMarkers to the others; after the coordinator is killed, its state partition's new
    /// leader loads the transactional id and the producer carries on.
    @Test(.timeLimit(.minutes(5))) func markersAcrossBrokersAndCoordinatorFailover() throws {
        let cluster = try BrokerCluster(brokers: 3, extraConfig: Self.config + "\nreplica.lag.time.max.ms=3000")
        defer { cluster.cleanup() }
        try GroupSupport.createTopic(cluster, "tm", partitions: 3, rf: 2, assignment: [[1, 2], [2, 3], [3, 1]])
        guard let coord = Self.coordinator(cluster, "txn-multi") else { Issue.record("no coordinator\n\(cluster.logs)"); return }
        let script = GroupSupport.compatDir + "/txn_clients.py"
        let r1 = try ProcessHarness.run("/usr/bin/env", ["python3", script, cluster.bootstrap, "tm", "multi1"], timeout: 150)
        #expect(r1.status == 0 && r1.stdout.contains("OK"), "\(r1.stdout)\n\(r1.stderr)\n\(cluster.logs)")
        cluster.kill9(coord)
        var moved: Int32?
        let survivor: Int32 = coord == 1 ? 2 : 1
        ProcessHarness.waitUntil(timeout: 60, interval: 0.3) {
            moved = Self.coordinator(cluster, "txn-multi", via: survivor)
            return moved != nil && moved != coord
        }
        #expect(moved != nil && moved != coord, "\(cluster.logs)")
        let r2 = try ProcessHarness.run("/usr/bin/env", ["python3", script, cluster.bootstrap, "tm", "multi2"], timeout: 150)
        #expect(r2.status == 0 && r2.stdout.contains("OK"), "\(r2.stdout)\n\(r2.stderr)\n\(cluster.logs)")
    }

    /// With an authorizer, a principal without WRITE on the transactional id is refused with
    /// TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53) by every coordinator API, and WriteTxnMarkers
    /// needs CLUSTER_ACTION.
    @Test(.timeLimit(.minutes(3))) func transactionalIdAuthorization() throws {
        let rawPort = try ProcessHarness.freePort()
        let cluster = try BrokerCluster(brokers: 1, extraConfig: AclTests.config, brokerConfig: { _, port in
            "listeners=PLAINTEXT://127.0.0.1:\(port),RAW://127.0.0.1:\(rawPort)"
        })
        defer { cluster.cleanup() }
        var anon: RawKafka?
        ProcessHarness.waitUntil(timeout: 20, interval: 0.2) {
            anon = try? RawKafka(port: rawPort)
            return anon != nil
        }
        guard let anon else { Issue.record("no RAW listener\n\(cluster.logs)"); return }
        #expect(try anon.call(FindCoordinatorRequest(key: "t", keyType: 1), version: 2).errorCode == .transactionalIdAuthorizationFailed)
        #expect(try anon.call(InitProducerIdRequest(transactionalId: "t", transactionTimeoutMs: 1000), version: 1).errorCode == .transactionalIdAuthorizationFailed)
        let add = try anon.call(AddPartitionsToTxnRequest(transactionalId: "t", producerId: 1, producerEpoch: 0, topics: [.init(name: "x", partitions: [0])]), version: 3)
        #expect(add.resultsByTopic.first?.resultsByPartition.first?.partitionErrorCode == .transactionalIdAuthorizationFailed)
        #expect(try anon.call(AddOffsetsToTxnRequest(transactionalId: "t", producerId: 1, producerEpoch: 0, groupId: "g"), version: 3).errorCode == .transactionalIdAuthorizationFailed)
        #expect(try anon.call(EndTxnRequest(transactionalId: "t", producerId: 1, producerEpoch: 0, committed: true), version: 3).errorCode == .transactionalIdAuthorizationFailed)
        let commit = try anon.call(TxnOffsetCommitRequest(transactionalId: "t", groupId: "g", producerId: 1, producerEpoch: 0,
                                                          topics: [.init(name: "x", partitions: [.init(partitionIndex: 0, committedOffset: 1)])]), version: 3)
        #expect(commit.topics.first?.partitions.first?.errorCode == .transactionalIdAuthorizationFailed)
        let markers = try anon.call(WriteTxnMarkersRequest(markers: [.init(producerId: 1, producerEpoch: 0, transactionResult: true,
                                                                          topics: [.init(name: "x", partitionIndexes: [0])], coordinatorEpoch: 0)]), version: 1)
        #expect(markers.markers.first?.topics.first?.partitions.first?.errorCode == .clusterAuthorizationFailed)
        let described = try anon.call(DescribeTransactionsRequest(transactionalIds: ["t"]), version: 0)
        #expect(described.transactionStates.first?.errorCode == .transactionalIdAuthorizationFailed)
    }

    /// A client that writes transactional batches without a transaction (no coordinator knows them)
    /// holds the last stable offset back only until the leader aborts the hanging transaction
    /// (after twice transaction.max.timeout.ms).
    @Test(.timeLimit(.minutes(3))) func hangingTransactionIsAbortedByTheLeader() throws {
        let cluster = try BrokerCluster(brokers: 1, extraConfig: Self.config + "\ntransaction.max.timeout.ms=1500")
        defer { cluster.cleanup() }
        try GroupSupport.createTopic(cluster, "th", partitions: 1, rf: 1)
        let raw = try RawKafka(port: cluster.port(1))
        let idem = try raw.call(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 1000), version: 1)
        var produced: ProduceResponse.PartitionProduceResponse?
        ProcessHarness.waitUntil(timeout: 20, interval: 0.1) {
            produced = try? GroupSupport.produce(raw, ProduceRequest(acks: -1, timeoutMs: 5000, topicData: [
                .init(name: "th", partitionData: [.init(index: 0, records: (try? Self.txnBatch(idem.producerId, idem.producerEpoch, seq: 0, ["h"])) ?? [])]),
            ]))
            return produced?.errorCode == ErrorCode.none
        }
        #expect(try Self.fetch(raw, "th", isolation: 1)?.lastStableOffset == 0)
        var after: FetchResponse.PartitionData?
        ProcessHarness.waitUntil(timeout: 30, interval: 0.2) {
            after = try? Self.fetch(raw, "th", isolation: 1)
            return after?.lastStableOffset == 2
        }
        #expect(after?.lastStableOffset == 2 && after?.abortedTransactions == [.init(producerId: idem.producerId, firstOffset: 0)],
                "\(String(describing: after))\n\(cluster.logs)")
        #expect(Self.values(after?.records) == ["h"], "the aborted record is still in the log for read_uncommitted readers")
    }
}
