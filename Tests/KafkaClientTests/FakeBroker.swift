import Dispatch
import Protocol
import Synchronization
import Transport
@testable import KafkaClient

/// A tiny in-memory Kafka broker on loopback (one node, one loop thread) for client tests:
/// ApiVersions, Metadata, InitProducerId, Produce (appends batches), Fetch, ListOffsets.
/// `inject` lets a test answer a request itself (errors, silence, garbage).
final class FakeBroker: @unchecked Sendable {
    enum Action {
        case normal
        case silent
        case raw([UInt8])
        case produceError(ErrorCode)
        /// InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit answer this code.
        case txnError(ErrorCode)
    }

    let loop = EventLoop(name: "fake-broker")
    private(set) var port = 0
    let partitions: Int32
    /// Loop-confined state.
    private var logs: [TopicPartition: [UInt8]] = [:]
    private var nextOffset: [TopicPartition: Int64] = [:]
    private var listener: Listener?
    let seen = Mutex<[(api: KafkaAPI, version: Int16)]>([])
    let sequences = Mutex<[TopicPartition: [Int32]]>([:])
    let inject = Mutex<(KafkaAPI, Int) -> Action>({ _, _ in .normal })
    private var counts: [KafkaAPI: Int] = [:]
    // One consumer group, enough for a single member: join, sync, commit, fetch offsets, leave.
    private var generation: Int32 = 0
    private var members: [String: [UInt8]] = [:]
    private var assignments: [String: [UInt8]] = [:]
    let committed = Mutex<[TopicPartition: Int64]>([:])
    /// Transactions: what the client asked for (request by request).
    let txnLog = Mutex<[String]>([])
    /// Each InitProducerId answers a higher epoch, as a coordinator does.
    private var epoch: Int16 = -1

    init(partitions: Int32 = 2) throws {
        self.partitions = partitions
        loop.startThread()
        let ready = DispatchSemaphore(value: 0)
        let err = Mutex<Error?>(nil)
        loop.execute { [self] in
            do {
                let l = try Listener(host: "127.0.0.1", port: 0, loop: loop)
                l.onAccept = { [self] c in accept(c) }
                l.start()
                listener = l
                port = l.port
            } catch {
                err.withLock { $0 = error }
            }
            ready.signal()
        }
        ready.wait()
        if let e = err.withLock({ $0 }) { throw e }
    }

    var bootstrap: String { "127.0.0.1:\(port)" }

    func stop() {
        let done = DispatchSemaphore(value: 0)
        loop.execute { [self] in listener?.close(); done.signal() }
        done.wait()
        loop.stop()
    }

    private func accept(_ c: Connection) {
        var dec = FrameDecoder(maxFrameBytes: 64 << 20)
        c.onRead = { [self] conn, bytes in
            dec.append(bytes)
            while case .frame(let f) = dec.next() { handle(f, conn) }
        }
        c.start()
    }

    private func handle(_ frame: [UInt8], _ c: Connection) {
        guard let req = try? KafkaRequestFrame.parse(frame) else { return c.close() }
        let v = req.header.apiVersion, corr = req.header.correlationId
        seen.withLock { $0.append((req.api, v)) }
        let n = counts[req.api, default: 0]
        counts[req.api] = n + 1
        let action = inject.withLock { $0 }(req.api, n)
        switch action {
        case .silent: return
        case .raw(let bytes): return c.write(bytes)
        default: break
        }
        func send<M: KafkaMessage>(_ m: M) { c.write(try! KafkaResponseFrame.encode(m, version: v, correlationId: corr)) }
        switch req.api {
        case .apiVersions:
            send(ApiVersionsResponse.supported(includeInterBroker: false))
        case .metadata:
            let m = try! req.decodeBody(MetadataRequest.self)
            let names = m.topics?.map(\.name) ?? ["t"]
            send(MetadataResponse(brokers: [.init(nodeId: 1, host: "127.0.0.1", port: Int32(port))], clusterId: "fake", controllerId: 1,
                                  topics: names.map { n in
                                      n == "t" ? .init(name: n, partitions: (0..<partitions).map {
                                          .init(partitionIndex: $0, leaderId: 1, replicaNodes: [1], isrNodes: [1])
                                      }) : .init(errorCode: .unknownTopicOrPartition, name: n)
                                  }))
        case .initProducerId:
            let r = try! req.decodeBody(InitProducerIdRequest.self)
            if case .txnError(let code) = action { return send(InitProducerIdResponse(errorCode: code)) }
            epoch += 1
            txnLog.withLock { $0.append("init \(r.transactionalId ?? "-") epoch \(epoch)") }
            send(InitProducerIdResponse(producerId: 1000, producerEpoch: r.transactionalId == nil ? 0 : epoch))
        case .addPartitionsToTxn:
            let r = try! req.decodeBody(AddPartitionsToTxnRequest.self)
            var code = ErrorCode.none
            if case .txnError(let c) = action { code = c } else {
                txnLog.withLock { $0.append("add " + r.topics.flatMap { t in t.partitions.map { "\(t.name)-\($0)" } }.joined(separator: ",")) }
            }
            send(AddPartitionsToTxnResponse(resultsByTopic: r.topics.map { t in
                .init(name: t.name, resultsByPartition: t.partitions.map { .init(partitionIndex: $0, partitionErrorCode: code) })
            }))
        case .addOffsetsToTxn:
            let r = try! req.decodeBody(AddOffsetsToTxnRequest.self)
            if case .txnError(let c) = action { return send(AddOffsetsToTxnResponse(errorCode: c)) }
            txnLog.withLock { $0.append("add-offsets \(r.groupId)") }
            send(AddOffsetsToTxnResponse())
        case .txnOffsetCommit:
            let r = try! req.decodeBody(TxnOffsetCommitRequest.self)
            var code = ErrorCode.none
            if case .txnError(let c) = action { code = c } else {
                txnLog.withLock { $0.append("txn-offsets " + r.topics.flatMap { t in t.partitions.map { "\(t.name)-\($0.partitionIndex)@\($0.committedOffset)" } }.joined(separator: ",")) }
            }
            send(TxnOffsetCommitResponse(topics: r.topics.map { t in
                .init(name: t.name, partitions: t.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code) })
            }))
        case .endTxn:
            let r = try! req.decodeBody(EndTxnRequest.self)
            if case .txnError(let c) = action { return send(EndTxnResponse(errorCode: c)) }
            txnLog.withLock { $0.append(r.committed ? "commit epoch \(r.producerEpoch)" : "abort epoch \(r.producerEpoch)") }
            send(EndTxnResponse())
        case .produce:
            let p = try! req.decodeBody(ProduceRequest.self)
            var out: [ProduceResponse.TopicProduceResponse] = []
            for t in p.topicData {
                var parts: [ProduceResponse.PartitionProduceResponse] = []
                for d in t.partitionData {
                    let tp = TopicPartition(t.name, d.index)
                    if case .produceError(let code) = action {
                        parts.append(.init(index: d.index, errorCode: code, baseOffset: -1))
                        continue
                    }
                    var batch = Array(d.records ?? [])
                    guard let h = try? RecordBatch.validate(batch) else {
                        parts.append(.init(index: d.index, errorCode: .corruptMessage, baseOffset: -1))
                        continue
                    }
                    sequences.withLock { $0[tp, default: []].append(h.baseSequence) }
                    if h.isTransactional { txnLog.withLock { $0.append("produce \(tp) txn \(p.transactionalId ?? "nil") seq \(h.baseSequence)") } }
                    let base = nextOffset[tp, default: 0]
                    batch.withUnsafeMutableBytes { RecordBatch.setBaseOffset(base, in: $0) }
                    logs[tp, default: []] += batch
                    nextOffset[tp] = base + Int64(h.recordsCount)
                    parts.append(.init(index: d.index, errorCode: .none, baseOffset: base))
                }
                out.append(.init(name: t.name, partitionResponses: parts))
            }
            if p.acks != 0 { send(ProduceResponse(responses: out)) }
        case .fetch:
            let f = try! req.decodeBody(FetchRequest.self)
            var any = false
            let resp = FetchResponse(responses: f.topics.map { t in
                .init(topic: t.topic, partitions: t.partitions.map { p in
                    let tp = TopicPartition(t.topic, p.partition)
                    let hw = nextOffset[tp, default: 0]
                    if p.fetchOffset > hw { return .init(partitionIndex: p.partition, errorCode: .offsetOutOfRange) }
                    let data = batches(logs[tp] ?? [], from: p.fetchOffset)
                    if !data.isEmpty { any = true }
                    return .init(partitionIndex: p.partition, highWatermark: hw, lastStableOffset: hw, logStartOffset: 0, records: data)
                })
            })
            if any { send(resp) } else { loop.schedule(afterMillis: 20) { send(resp) } }
        case .listOffsets:
            let l = try! req.decodeBody(ListOffsetsRequest.self)
            send(ListOffsetsResponse(topics: l.topics.map { t in
                .init(name: t.name, partitions: t.partitions.map { p in
                    .init(partitionIndex: p.partitionIndex, offset: p.timestamp == -2 ? 0 : nextOffset[TopicPartition(t.name, p.partitionIndex), default: 0])
                })
            }))
        case .findCoordinator:
            let f = try! req.decodeBody(FindCoordinatorRequest.self)
            send(FindCoordinatorResponse(nodeId: 1, host: "127.0.0.1", port: Int32(port), coordinators: f.coordinatorKeys.map {
                .init(key: $0, nodeId: 1, host: "127.0.0.1", port: Int32(port))
            }))
        case .joinGroup:
            let j = try! req.decodeBody(JoinGroupRequest.self)
            if j.memberId.isEmpty {
                return send(JoinGroupResponse(errorCode: .memberIdRequired, memberId: "member-\(members.count + 1)"))
            }
            members[j.memberId] = j.protocols.first?.metadata ?? []
            generation += 1
            let leader = members.keys.sorted().first ?? j.memberId
            send(JoinGroupResponse(generationId: generation, protocolName: j.protocols.first?.name ?? "", leader: leader,
                                   memberId: j.memberId,
                                   members: j.memberId == leader ? members.sorted { $0.key < $1.key }.map { .init(memberId: $0.key, metadata: $0.value) } : []))
        case .syncGroup:
            let sg = try! req.decodeBody(SyncGroupRequest.self)
            for a in sg.assignments { assignments[a.memberId] = a.assignment }
            send(SyncGroupResponse(errorCode: sg.generationId == generation ? .none : .illegalGeneration, assignment: assignments[sg.memberId] ?? []))
        case .heartbeat:
            send(HeartbeatResponse())
        case .leaveGroup:
            let lg = try! req.decodeBody(LeaveGroupRequest.self)
            members[lg.memberId] = nil
            for m in lg.members { members[m.memberId] = nil }
            send(LeaveGroupResponse())
        case .offsetCommit:
            let oc = try! req.decodeBody(OffsetCommitRequest.self)
            committed.withLock { m in
                for t in oc.topics { for p in t.partitions { m[TopicPartition(t.name, p.partitionIndex)] = p.committedOffset } }
            }
            send(OffsetCommitResponse(topics: oc.topics.map { .init(name: $0.name, partitions: $0.partitions.map { .init(partitionIndex: $0.partitionIndex) }) }))
        case .offsetFetch:
            let of = try! req.decodeBody(OffsetFetchRequest.self)
            let m = committed.withLock { $0 }
            // v0–7 name one group, v8+ a batch: both shapes are filled, the codec writes its version's.
            send(OffsetFetchResponse(topics: (of.topics ?? []).map { t in
                .init(name: t.name, partitions: t.partitionIndexes.map { .init(partitionIndex: $0, committedOffset: m[TopicPartition(t.name, $0)] ?? -1) })
            }, groups: of.groups.map { g in
                .init(groupId: g.groupId, topics: (g.topics ?? []).map { t in
                    .init(name: t.name, partitions: t.partitionIndexes.map { .init(partitionIndex: $0, committedOffset: m[TopicPartition(t.name, $0)] ?? -1) })
                })
            }))
        default:
            c.close()
        }
    }

    private func batches(_ log: [UInt8], from: Int64) -> [UInt8] {
        var it = BatchIterator(log, validateCRC: false)
        var out: [UInt8] = []
        while let (h, r) = try? it.next() { if h.nextOffset > from { out += log[r] } }
        return out
    }
}
