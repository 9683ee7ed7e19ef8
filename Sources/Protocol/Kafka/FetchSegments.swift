/// A piece of a Fetch response frame on the broker's zero-copy path.
public enum FetchResponseSegment: Equatable, Sendable {
    case bytes([UInt8])
    /// `length` record bytes of this partition go here; the int32 length prefix is already in the
    /// preceding `.bytes` segment.
    case records(FetchRecordsRef, length: Int)
}

/// Which partition a spliced records segment belongs to: indices into `responses` and `partitions`.
public struct FetchRecordsRef: Hashable, Sendable {
    public var topicIndex: Int
    public var partitionIndex: Int
    public var topic: String
    public var partition: Int32
    public init(topicIndex: Int, partitionIndex: Int, topic: String, partition: Int32) {
        self.topicIndex = topicIndex; self.partitionIndex = partitionIndex
        self.topic = topic; self.partition = partition
    }
}

extension FetchResponse {
    /// The whole response frame — 4-byte length, response header, body — as byte segments and
    /// placeholders for partitions with `spliceLength` set. The frame length counts the spliced bytes.
    public func encodeFrameSegments(version: Int16, correlationId: Int32) throws -> [FetchResponseSegment] {
        try kafkaCheckEncode(Self.api, version)
        var w = ByteWriter()
        let lengthAt = w.reserveInt32()
        KafkaResponseHeader(correlationId: correlationId)
            .encode(into: &w, headerVersion: Self.api.responseHeaderVersion(version))
        var splices: [Int]? = []
        try encode(into: &w, version: version, splices: &splices)
        // The generated encoder recorded, in traversal order, where each spliced partition's bytes go.
        var refs: [(FetchRecordsRef, Int)] = []
        for (ti, topic) in responses.enumerated() {
            for (pi, p) in topic.partitions.enumerated() {
                guard let n = p.spliceLength else { continue }
                refs.append((FetchRecordsRef(topicIndex: ti, partitionIndex: pi, topic: topic.topic,
                                             partition: p.partitionIndex), n))
            }
        }
        let offsets = splices ?? []
        guard offsets.count == refs.count else { throw KafkaEncodeError.splicedRecords }
        let frameLength = w.count - 4 + refs.reduce(0) { $0 + $1.1 }
        guard frameLength <= Int(Int32.max) else { throw KafkaEncodeError.tooLong("fetch response", frameLength) }
        w.patchInt32(Int32(frameLength), at: lengthAt)
        var segments: [FetchResponseSegment] = []
        var start = 0
        for (at, (ref, n)) in zip(offsets, refs) {
            segments.append(.bytes(Array(w.bytes[start..<at])))
            segments.append(.records(ref, length: n))
            start = at
        }
        if start < w.count { segments.append(.bytes(Array(w.bytes[start...]))) }
        return segments
    }
}
