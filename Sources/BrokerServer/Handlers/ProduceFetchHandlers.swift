import BrokerCore
import Foundation
import Protocol
import Storage
import Transport

extension RequestHandler {
    // MARK: - Produce

    func handleProduce(_ ctx: RequestContext, _ r: ProduceRequest) {
        let acks = r.acks
        var results: [TopicPartition: ProduceResponse.PartitionProduceResponse] = [:]
        var waiting: [TopicPartition: Int64] = [:]
        var order: [(String, [Int32])] = []
        for t in r.topicData {
            order.append((t.name, t.partitionData.map(\.index)))
            let validName = ReplicaAssignment.validateTopicName(t.name)
            let known = metadata.partitions(of: t.name) != nil
            let authorized = ctx.access.allows(.topic, t.name)
            for p in t.partitionData {
                let tp = TopicPartition(t.name, p.index)
                var resp = ProduceResponse.PartitionProduceResponse(index: p.index, errorCode: .none, baseOffset: -1)
                if !authorized {
                    resp.errorCode = .topicAuthorizationFailed
                } else if !validName {
                    resp.errorCode = .invalidTopicException
                } else if acks != 0 && acks != 1 && acks != -1 {
                    resp.errorCode = .invalidRequiredAcks
                } else if let records = p.records, !records.isEmpty {
                    guard let batch = v2Records(records, version: ctx.version, into: &resp) else {
                        results[tp] = resp
                        continue
                    }
                    let a = appendIdempotent(tp, records: batch, acks: acks, knownTopic: known)
                    resp.errorCode = a.error
                    resp.baseOffset = a.baseOffset
                    resp.logStartOffset = a.logStartOffset
                    resp.logAppendTimeMs = a.logAppendTime
                    resp.errorMessage = a.message
                    resp.recordErrors = a.recordErrors
                    if a.error == .none && acks == -1 { waiting[tp] = a.requiredOffset }
                } else {
                    resp.errorCode = .corruptMessage
                }
                results[tp] = resp
            }
        }
        if acks == 0 {
            // No response to carry an error: like Kafka, close the connection so the producer
            // notices, refreshes its metadata and finds the leader (or the right topic) again.
            let failed = results.values.first { $0.errorCode != .none }
            if let failed {
                logger.info("closing connection: acks=0 produce failed with \(failed.errorCode)")
                ctx.respond([.close])
            } else {
                ctx.respond(nil)
            }
            return
        }
        let topicOrder = order
        let finish: @Sendable ([TopicPartition: ProduceResponse.PartitionProduceResponse]) -> Void = { results in
            let topics = topicOrder.map { (name, parts) in
                ProduceResponse.TopicProduceResponse(name: name, partitionResponses: parts.compactMap { results[TopicPartition(name, $0)] })
            }
            ctx.reply(ProduceResponse(responses: topics, throttleTimeMs: 0))
        }
        // acks=all: done now where the HW already covers the append, else parked until it does.
        for (tp, off) in waiting {
            if case .done(let e) = replicas.ackStatus(tp, requiredOffset: off) {
                results[tp]?.errorCode = ErrorCode(e.rawValue)
                waiting[tp] = nil
            }
        }
        if waiting.isEmpty {
            finish(results)
            return
        }
        let snapshot = results
        let deadline = MonotonicClock.millis() + UInt64(max(0, Int(r.timeoutMs)))
        replicas.delayed.addProduce(.init(deadline: deadline, waiting: waiting, results: [:]) { codes in
            var out = snapshot
            for (tp, c) in codes { out[tp]?.errorCode = c }
            finish(out)
        })
        // The HW may have moved between the check and the park.
        for tp in waiting.keys { replicas.delayed.checkProduces(tp) { self.replicas.ackStatus($0, requiredOffset: $1) } }
    }

    /// Produce v0–v2 may carry pre-0.11 message sets (magic 0/1): up-converted to one v2 batch, as
    /// Kafka does with format v2 on disk. v3+ must be v2 (Kafka answers INVALID_RECORD).
    /// The request's batch bytes as they are (a slice of the frame); a legacy set is up-converted.
    private func v2Records(_ records: ArraySlice<UInt8>, version: Int16, into resp: inout ProduceResponse.PartitionProduceResponse) -> ArraySlice<UInt8>? {
        guard let magic = LegacyMessageSet.magic(of: records), magic < 2 else { return records }
        guard version < 3 else {
            resp.errorCode = .invalidRecord
            resp.errorMessage = "Produce v\(version) requires record batches with magic 2"
            return nil
        }
        do {
            return try LegacyMessageSet.upConvert(Array(records))[...]
        } catch {
            resp.errorCode = .corruptMessage
            resp.errorMessage = "bad message set (magic \(magic)): \(error)"
            return nil
        }
    }

    // MARK: - Fetch

    func handleFetch(_ ctx: RequestContext, _ r: FetchRequest) {
        let deadline = MonotonicClock.millis() + UInt64(max(0, Int(r.maxWaitMs)))
        // Followers need CLUSTER_ACTION; consumers READ on each topic. Refused topics are not read.
        let follower = r.replicaId >= 0
        let clusterOK = follower && ctx.access.allowsCluster(.follower)
        var denied: Set<String> = []
        for t in r.topics where !denied.contains(t.topic) {
            if follower ? !clusterOK : !ctx.access.allows(.topic, t.topic) { denied.insert(t.topic) }
        }
        let refused = denied
        let attempt: @Sendable (Bool) -> Bool = { [self] final in
            let (resp, bytes, hasError, owners) = readFetch(r, denied: refused)
            guard final || hasError || bytes >= Int(r.minBytes) || bytes > 0 && bytes >= Int(r.maxBytes) else { return false }
            sendFetch(ctx, resp, owners)
            return true
        }
        if r.maxWaitMs <= 0 || attempt(false) { if r.maxWaitMs <= 0 { _ = attempt(true) }; return }
        let tps = r.topics.filter { !refused.contains($0.topic) }.flatMap { t in t.partitions.map { TopicPartition(t.topic, $0.partition) } }
        replicas.delayed.addFetch(.init(deadline: deadline, partitions: tps, attempt: attempt))
        // Data may have arrived before we parked.
        for tp in tps { replicas.delayed.wakeFetches(tp) }
    }

    /// Reads every requested partition; returns the response (records as splice placeholders), the
    /// byte total, whether any partition errored, and the file regions to splice, keyed by position.
    private func readFetch(_ r: FetchRequest, denied: Set<String>) -> (FetchResponse, Int, Bool, [FetchRecordsRef: FileRegion]) {
        var total = 0
        var hasError = false
        var regions: [FetchRecordsRef: FileRegion] = [:]
        var topics: [FetchResponse.FetchableTopicResponse] = []
        for (ti, t) in r.topics.enumerated() {
            var parts: [FetchResponse.PartitionData] = []
            for (pi, p) in t.partitions.enumerated() {
                let tp = TopicPartition(t.topic, p.partition)
                let budget = max(0, min(Int(p.partitionMaxBytes), Int(r.maxBytes) - total))
                var d = FetchResponse.PartitionData(partitionIndex: p.partition, errorCode: .none, highWatermark: -1,
                                                    lastStableOffset: -1, logStartOffset: -1, abortedTransactions: nil,
                                                    preferredReadReplica: -1, records: [])
                if denied.contains(t.topic) {
                    d.errorCode = .topicAuthorizationFailed
                    hasError = true
                    parts.append(d)
                    continue
                }
                let maxBytes = total > 0 ? budget : max(budget, 1)
                var read = PartitionRead()
                if r.isolationLevel == 1 && r.replicaId < 0 {
                    // read_committed: up to the last stable offset, with the aborted transactions in range.
                    if let (committed, index) = producerStates.readCommitted(tp, { cap in
                        replicas.read(tp, offset: p.fetchOffset, maxBytes: maxBytes, replicaId: r.replicaId,
                                      currentLeaderEpoch: p.currentLeaderEpoch, cap: cap)
                    }) {
                        read = committed
                        if read.error == .none {
                            d.abortedTransactions = index.abortedTransactions(from: p.fetchOffset, upTo: read.lastStableOffset).map {
                                .init(producerId: $0.producerId, firstOffset: $0.firstOffset)
                            }
                        }
                    } else {
                        read.error = .notLeaderOrFollower
                    }
                } else {
                    read = replicas.read(tp, offset: p.fetchOffset, maxBytes: maxBytes, replicaId: r.replicaId,
                                         currentLeaderEpoch: p.currentLeaderEpoch)
                }
                d.errorCode = read.error
                d.highWatermark = read.highWatermark
                d.lastStableOffset = r.isolationLevel == 1 ? read.lastStableOffset : read.highWatermark
                d.logStartOffset = read.logStartOffset
                if read.error != .none {
                    hasError = true
                    // Kafka answers UNKNOWN_TOPIC_OR_PARTITION for partitions it does not host at all.
                    if read.error == .unknownTopicOrPartition, metadata.partition(tp) != nil { d.errorCode = .notLeaderOrFollower }
                } else if let region = read.region, region.length > 0 {
                    d.records = nil
                    d.spliceLength = region.length
                    regions[FetchRecordsRef(topicIndex: ti, partitionIndex: pi, topic: t.topic, partition: p.partition)] = region
                    total += read.count
                }
                parts.append(d)
            }
            topics.append(.init(topic: t.topic, partitions: parts))
        }
        return (FetchResponse(throttleTimeMs: 0, errorCode: .none, sessionId: 0, responses: topics), total, hasError, regions)
    }

    private func sendFetch(_ ctx: RequestContext, _ resp: FetchResponse, _ regions: [FetchRecordsRef: FileRegion]) {
        do {
            let segs = try resp.encodeFrameSegments(version: ctx.version, correlationId: ctx.correlationId)
            var parts: [ResponsePart] = []
            for s in segs {
                switch s {
                case .bytes(let b): parts.append(.bytes(b))
                case .records(let ref, let n):
                    guard let region = regions[ref] else { ctx.respond([.close]); return }
                    // The handle keeps the segment readable even if retention deletes it meanwhile.
                    if let fd = region.fd {
                        parts.append(.file(fd: fd, offset: region.position, count: n, owner: region.file))
                    } else {
                        // A file system without descriptors (in-memory): copy the bytes instead.
                        parts.append(.bytes(Array(try region.copyBytes().prefix(n))))
                    }
                }
            }
            ctx.respond(parts)
        } catch {
            logger.error("encoding fetch response: \(error)")
            ctx.respond([.close])
        }
    }

    // MARK: - Offsets

    func handleListOffsets(_ ctx: RequestContext, _ r: ListOffsetsRequest) {
        let topics = r.topics.map { t in
            let authorized = ctx.access.allows(.topic, t.name)
            return ListOffsetsResponse.ListOffsetsTopicResponse(name: t.name, partitions: t.partitions.map { p in
                if !authorized { return .init(partitionIndex: p.partitionIndex, errorCode: .topicAuthorizationFailed, timestamp: -1, offset: -1, leaderEpoch: -1) }
                switch replicas.listOffset(TopicPartition(t.name, p.partitionIndex), timestamp: p.timestamp,
                                           replicaId: r.replicaId, isolation: r.isolationLevel) {
                case .offset(var o, let ts, let epoch):
                    // read_committed: the latest offset is the last stable one.
                    if r.isolationLevel == 1 && p.timestamp == -1 && r.replicaId < 0,
                       let first = producerStates.firstUnstableOffset(TopicPartition(t.name, p.partitionIndex)) { o = min(o, first) }
                    return .init(partitionIndex: p.partitionIndex, errorCode: .none, timestamp: ts, offset: o, leaderEpoch: epoch)
                case .error(let e):
                    return .init(partitionIndex: p.partitionIndex, errorCode: e, timestamp: -1, offset: -1, leaderEpoch: -1)
                }
            })
        }
        ctx.reply(ListOffsetsResponse(throttleTimeMs: 0, topics: topics))
    }

    func handleOffsetForLeaderEpoch(_ ctx: RequestContext, _ r: OffsetForLeaderEpochRequest) {
        // As Kafka (KIP-320): CLUSTER_ACTION (brokers) covers every topic, else DESCRIBE per topic (consumers).
        let clusterOK = ctx.access.quietlyAllows(.cluster, ResourcePattern.clusterName, .follower)
        let topics = r.topics.map { t in
            let authorized = clusterOK || ctx.access.allows(.topic, t.topic)
            return OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult(topic: t.topic, partitions: t.partitions.map { p in
                if !authorized { return .init(errorCode: .topicAuthorizationFailed, partition: p.partition, leaderEpoch: -1, endOffset: -1) }
                let (e, epoch, off) = replicas.endOffset(TopicPartition(t.topic, p.partition), epoch: p.leaderEpoch,
                                                         currentLeaderEpoch: p.currentLeaderEpoch)
                return .init(errorCode: e, partition: p.partition, leaderEpoch: epoch, endOffset: off)
            })
        }
        ctx.reply(OffsetForLeaderEpochResponse(throttleTimeMs: 0, topics: topics))
    }
}
