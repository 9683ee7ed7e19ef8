import BrokerCore
import Foundation
import Protocol

/// Consumer offsets sent inside a transaction (TxnOffsetCommit), held on the group coordinator
/// until the transaction's marker reaches the group's offsets partition: a commit marker applies
/// them as an ordinary commit of that member, an abort drops them. Held in memory only: a
/// coordinator restart before the marker loses them (the consumer re-reads from the last commit).
final class TxnOffsetsBuffer: @unchecked Sendable {
    struct Pending {
        var request: BrokerCore.OffsetCommitRequest
        var offsetsPartition: Int32
    }

    /// Bounds against a flood of producers or partitions.
    static let maxProducers = 10_000
    static let maxOffsetsPerProducer = 100_000

    private let lock = NSLock()
    private var pending: [Int64: [String: Pending]] = [:]

    /// False when the bounds are reached.
    func add(producerId: Int64, _ req: BrokerCore.OffsetCommitRequest, offsetsPartition: Int32) -> Bool {
        lock.withLock {
            guard pending[producerId] != nil || pending.count < Self.maxProducers else { return false }
            var byGroup = pending[producerId] ?? [:]
            var p = byGroup[req.groupId] ?? Pending(request: req, offsetsPartition: offsetsPartition)
            p.request.generationId = req.generationId
            p.request.memberId = req.memberId
            p.request.groupInstanceId = req.groupInstanceId
            p.request.offsets.merge(req.offsets) { _, new in new }
            guard p.request.offsets.count <= Self.maxOffsetsPerProducer else { return false }
            byGroup[req.groupId] = p
            pending[producerId] = byGroup
            return true
        }
    }

    /// Partitions of `groupId` with offsets waiting for a transaction marker (OffsetFetch requireStable).
    func pendingPartitions(groupId: String) -> Set<TopicPartition> {
        lock.withLock {
            var out: Set<TopicPartition> = []
            for byGroup in pending.values { if let p = byGroup[groupId] { out.formUnion(p.request.offsets.keys) } }
            return out
        }
    }

    /// The producer's offsets for groups on `offsetsPartition`, removed.
    func take(producerId: Int64, offsetsPartition: Int32) -> [BrokerCore.OffsetCommitRequest] {
        lock.withLock {
            guard var byGroup = pending[producerId] else { return [] }
            let mine = byGroup.filter { $0.value.offsetsPartition == offsetsPartition }
            for g in mine.keys { byGroup[g] = nil }
            pending[producerId] = byGroup.isEmpty ? nil : byGroup
            return mine.values.map(\.request)
        }
    }
}

extension RequestHandler {
    func handleTxnOffsetCommit(_ ctx: RequestContext, _ r: TxnOffsetCommitRequest) {
        var offsets: [TopicPartition: OffsetCommitPartition] = [:]
        var codes: [TopicPartition: ErrorCode] = [:]
        let groupOK = ctx.access.allows(.group, r.groupId)
        for t in r.topics {
            let topicOK = ctx.access.allows(.topic, t.name)
            for p in t.partitions {
                let tp = TopicPartition(t.name, p.partitionIndex)
                if !groupOK { codes[tp] = .groupAuthorizationFailed; continue }
                if !topicOK { codes[tp] = .topicAuthorizationFailed; continue }
                if metadata.partition(tp) == nil { codes[tp] = .unknownTopicOrPartition; continue }
                offsets[tp] = OffsetCommitPartition(offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata)
            }
        }
        // Only the group's coordinator holds them (the marker lands on its offsets partition).
        let status = groups.read { _, status, _ in status(r.groupId) }
        let stored: ErrorCode
        if r.groupId.isEmpty {
            stored = .invalidGroupId
        } else if let status {
            stored = status
        } else if r.producerId < 0 || r.producerEpoch < 0 {
            stored = .invalidProducerIdMapping
        } else {
            let req = BrokerCore.OffsetCommitRequest(groupId: r.groupId, generationId: r.generationId, memberId: r.memberId,
                                                     groupInstanceId: r.groupInstanceId, offsets: offsets)
            stored = offsets.isEmpty || txnOffsets.add(producerId: r.producerId, req, offsetsPartition: groups.partitionFor(r.groupId))
                ? .none : .offsetMetadataTooLarge
        }
        for tp in offsets.keys { codes[tp] = stored }
        ctx.reply(TxnOffsetCommitResponse(throttleTimeMs: 0, topics: r.topics.map { t in
            .init(name: t.name, partitions: t.partitions.map { p in
                .init(partitionIndex: p.partitionIndex, errorCode: codes[TopicPartition(t.name, p.partitionIndex)] ?? .unknownServerError)
            })
        }))
    }

    /// The transaction's marker is on the offsets partition: commit applies the held offsets.
    func completeTxnOffsets(_ offsetsPartition: Int32, producerId: Int64, commit: Bool) {
        let reqs = txnOffsets.take(producerId: producerId, offsetsPartition: offsetsPartition)
        guard commit else { return }
        for req in reqs {
            let log = logger
            groups.call(groupId: req.groupId, reply: { resp, err in
                if let err { log.info("transactional offsets of \(req.groupId) not applied: \(err)") }
                if case .offsetCommit(let m)? = resp, let bad = m.values.first(where: { $0 != .noError }) {
                    log.info("transactional offsets of \(req.groupId) not applied: \(bad)")
                }
            }) { c, id, now in c.commitOffsets(req, requestId: id, nowMs: now) }
        }
    }
}
