import BrokerCore
import Protocol

/// Maps the coordinator's `GroupRecord`s to and from Kafka's `__consumer_offsets` record bytes.
enum OffsetsTopicRecords {
    static let topic = "__consumer_offsets"

    /// One record batch holding `records` (a nil value is a tombstone).
    static func batch(_ records: [GroupRecord], timestampMs: Int64) throws -> [UInt8] {
        var out: [Record] = []
        for (i, r) in records.enumerated() {
            let (k, v) = try keyValue(r)
            out.append(Record(offset: Int64(i), timestamp: timestampMs, key: k, value: v))
        }
        return try RecordBatch.build(out)
    }

    static func keyValue(_ r: GroupRecord) throws -> ([UInt8], [UInt8]?) {
        switch r {
        case .offsetCommit(let key, let value):
            let k = try ConsumerOffsetsKey.offsetCommit(group: key.groupId, topic: key.topicPartition.topic,
                                                        partition: key.topicPartition.partition).encode()
            guard let value else { return (k, nil) }
            // v1 is the only layout with an explicit expiry; v3 otherwise (it carries the leader epoch).
            let wire = Protocol.OffsetCommitValue(
                version: value.expireTimestampMs == nil ? 3 : 1, offset: value.offset, leaderEpoch: value.leaderEpoch,
                metadata: value.metadata, commitTimestamp: value.commitTimestampMs, expireTimestamp: value.expireTimestampMs ?? -1)
            return (k, try wire.encode())
        case .groupMetadata(let groupId, let value):
            let k = try ConsumerOffsetsKey.groupMetadata(group: groupId).encode()
            guard let value else { return (k, nil) }
            let wire = Protocol.GroupMetadataValue(
                version: 3, protocolType: value.protocolType, generation: value.generation, protocolName: value.protocolName,
                leader: value.leader, currentStateTimestamp: value.currentStateTimestampMs, members: value.members.map {
                    .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId, clientHost: $0.clientHost,
                          rebalanceTimeout: $0.rebalanceTimeoutMs, sessionTimeout: $0.sessionTimeoutMs,
                          subscription: $0.subscription, assignment: $0.assignment)
                })
            return (k, try wire.encode())
        }
    }

    /// Decodes one record of the offsets topic; throws on anything malformed.
    static func groupRecord(key: [UInt8]?, value: [UInt8]?) throws -> GroupRecord {
        guard let key else { throw DecodeError.invalidValue("__consumer_offsets record without a key") }
        switch try ConsumerOffsetsKey.decode(key) {
        case let .offsetCommit(group, topic, partition):
            let k = OffsetCommitKey(groupId: group, topicPartition: TopicPartition(topic, partition))
            guard let value else { return .offsetCommit(k, nil) }
            let v = try Protocol.OffsetCommitValue.decode(value)
            return .offsetCommit(k, BrokerCore.OffsetCommitValue(
                offset: v.offset, leaderEpoch: v.leaderEpoch, metadata: v.metadata, commitTimestampMs: v.commitTimestamp,
                expireTimestampMs: v.version == 1 && v.expireTimestamp >= 0 ? v.expireTimestamp : nil))
        case let .groupMetadata(group):
            guard let value else { return .groupMetadata(groupId: group, nil) }
            let v = try Protocol.GroupMetadataValue.decode(value)
            return .groupMetadata(groupId: group, BrokerCore.GroupMetadataValue(
                protocolType: v.protocolType, generation: v.generation, protocolName: v.protocolName, leader: v.leader,
                currentStateTimestampMs: v.currentStateTimestamp, members: v.members.map {
                    GroupMemberRecord(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId,
                                      clientHost: $0.clientHost, rebalanceTimeoutMs: $0.rebalanceTimeout,
                                      sessionTimeoutMs: $0.sessionTimeout, subscription: $0.subscription, assignment: $0.assignment)
                }))
        }
    }

    /// The group records in one batch (control batches carry none), and how many records were unreadable.
    static func groupRecords(inBatch bytes: [UInt8]) -> (records: [GroupRecord], skipped: Int) {
        guard let (header, records) = try? RecordBatch.records(of: bytes) else { return ([], 1) }
        if header.isControl { return ([], 0) }
        var out: [GroupRecord] = []
        var skipped = 0
        for r in records {
            if let g = try? groupRecord(key: r.key, value: r.value) { out.append(g) } else { skipped += 1 }
        }
        return (out, skipped)
    }
}
