import Protocol

/// OffsetFetch names one group as top-level fields up to v7 and as a one-element batch from v8:
/// the client fills both, the codec writes the ones of the negotiated version.
extension OffsetFetchRequest {
    static func oneGroup(_ groupId: String, topics: [Topic]?, requireStable: Bool = false) -> OffsetFetchRequest {
        OffsetFetchRequest(groupId: groupId, topics: topics,
                           groups: [.init(groupId: groupId, memberId: nil, memberEpoch: -1,
                                          topics: topics.map { $0.map { .init(name: $0.name, partitionIndexes: $0.partitionIndexes) } })],
                           requireStable: requireStable)
    }
}

extension OffsetFetchResponse {
    /// The answer for `groupId` in the v0–7 shape, whichever version carried it.
    func oneGroup(_ groupId: String) -> (errorCode: ErrorCode, topics: [Topic]) {
        guard !groups.isEmpty else { return (errorCode, topics) }
        guard let g = groups.first(where: { $0.groupId == groupId }) else { return (.unknownServerError, []) }
        return (g.errorCode, g.topics.map { t in
            Topic(name: t.name, partitions: t.partitions.map {
                .init(partitionIndex: $0.partitionIndex, committedOffset: $0.committedOffset, committedLeaderEpoch: $0.committedLeaderEpoch,
                      metadata: $0.metadata, errorCode: $0.errorCode)
            })
        })
    }
}
