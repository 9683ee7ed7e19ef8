@testable import Protocol
import Testing

@Suite struct KafkaPrimitivesTests {
    @Test func stringsAndBytes() throws {
        var w = ByteWriter()
        try w.writeKafkaString("ab")
        try w.writeKafkaNullableString(nil)
        try w.writeKafkaString("", flexible: true)
        try w.writeKafkaNullableString(nil, flexible: true)
        try w.writeKafkaNullableBytes([7])
        try w.writeKafkaNullableBytes(nil)
        try w.writeKafkaBytes([8, 9], flexible: true)
        #expect(w.bytes == hex("0002 6162 ffff 01 00 00000001 07 ffffffff 03 0809"))
        var r = ByteReader(w.bytes)
        #expect(try r.readKafkaString() == "ab")
        #expect(try r.readKafkaNullableString() == nil)
        #expect(try r.readKafkaString(flexible: true) == "")
        #expect(try r.readKafkaNullableString(flexible: true) == nil)
        #expect(try r.readKafkaNullableBytes() == [7])
        #expect(try r.readKafkaNullableBytes() == nil)
        #expect(try r.readKafkaBytes(flexible: true) == [8, 9])
        #expect(r.isAtEnd)
    }

    @Test func nullWhereNotAllowedThrows() {
        var r = ByteReader(hex("ffff"))
        #expect(throws: DecodeError.self) { _ = try r.readKafkaString() }
        var r2 = ByteReader(hex("ffffffff"))
        #expect(throws: DecodeError.self) { _ = try r2.readKafkaArray { try $0.readInt8() } }
    }

    @Test func hostileLengthsAreRefusedWithoutAllocating() {
        for bad in [hex("fffe"), hex("8000"), hex("7fff 00")] {
            var r = ByteReader(bad)
            #expect(throws: DecodeError.self) { _ = try r.readKafkaNullableString() }
        }
        for bad in [hex("7fffffff 00"), hex("fffffffe"), hex("80000000")] {
            var r = ByteReader(bad)
            #expect(throws: DecodeError.self) { _ = try r.readKafkaNullableArray { try $0.readInt32() } }
            var b = ByteReader(bad)
            #expect(throws: DecodeError.self) { _ = try b.readKafkaNullableBytes() }
        }
        // Compact lengths: huge uvarint, overlong uvarint.
        for bad in [hex("ffffffff0f"), hex("ffffffffffffffffffff01")] {
            var r = ByteReader(bad)
            #expect(throws: DecodeError.self) { _ = try r.readKafkaNullableString(flexible: true) }
        }
        var t = ByteReader(hex("ffffffff0f"))
        #expect(throws: DecodeError.self) { try t.readKafkaTaggedFields() }
    }

    @Test func arraysAndUUID() throws {
        var w = ByteWriter()
        try w.writeKafkaInt32Array([1, -1])
        try w.writeKafkaStringArray(["x"], flexible: true)
        try w.writeKafkaNullableArray(nil as [Int32]?, flexible: true) { $0.writeInt32($1) }
        let id = KafkaUUID(high: 0x0123_4567_89ab_cdef, low: 42)
        w.writeKafkaUUID(id)
        #expect(w.bytes == hex("00000002 00000001 ffffffff 02 02 78 00") + hex("0123456789abcdef 000000000000002a"))
        var r = ByteReader(w.bytes)
        #expect(try r.readKafkaInt32Array() == [1, -1])
        #expect(try r.readKafkaStringArray(flexible: true) == ["x"])
        #expect(try r.readKafkaNullableArray(flexible: true) { try $0.readInt32() } == nil)
        #expect(try r.readKafkaUUID() == id)
        #expect(id.description == "0123456789abcdef000000000000002a")
    }

    @Test func taggedFieldsRoundTripSortedAndUnknownKept() throws {
        var w = ByteWriter()
        w.writeKafkaTaggedFields([.init(tag: 300, data: [1]), .init(tag: 2, data: [])])
        #expect(w.bytes == hex("02 02 00 ac02 01 01"))
        var r = ByteReader(w.bytes)
        var seen: [UInt32] = []
        let unknown = try r.readKafkaTaggedFields { tag, sub in
            seen.append(tag)
            return tag == 2
        }
        #expect(seen == [2, 300])
        #expect(unknown == [.init(tag: 300, data: [1])])
        #expect(r.isAtEnd)
    }

    @Test func errorCodesMatchKafka() {
        let expected: [(ErrorCode, Int16, String)] = [
            (.none, 0, "NONE"), (.offsetOutOfRange, 1, "OFFSET_OUT_OF_RANGE"), (.corruptMessage, 2, "CORRUPT_MESSAGE"),
            (.unknownTopicOrPartition, 3, "UNKNOWN_TOPIC_OR_PARTITION"), (.notLeaderOrFollower, 6, "NOT_LEADER_OR_FOLLOWER"),
            (.requestTimedOut, 7, "REQUEST_TIMED_OUT"), (.messageTooLarge, 10, "MESSAGE_TOO_LARGE"),
            (.staleControllerEpoch, 11, "STALE_CONTROLLER_EPOCH"), (.coordinatorNotAvailable, 15, "COORDINATOR_NOT_AVAILABLE"),
            (.notCoordinator, 16, "NOT_COORDINATOR"), (.invalidTopicException, 17, "INVALID_TOPIC_EXCEPTION"),
            (.notEnoughReplicas, 19, "NOT_ENOUGH_REPLICAS"), (.notEnoughReplicasAfterAppend, 20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND"),
            (.illegalGeneration, 22, "ILLEGAL_GENERATION"), (.inconsistentGroupProtocol, 23, "INCONSISTENT_GROUP_PROTOCOL"),
            (.unknownMemberId, 25, "UNKNOWN_MEMBER_ID"), (.invalidSessionTimeout, 26, "INVALID_SESSION_TIMEOUT"),
            (.rebalanceInProgress, 27, "REBALANCE_IN_PROGRESS"), (.unsupportedVersion, 35, "UNSUPPORTED_VERSION"),
            (.topicAlreadyExists, 36, "TOPIC_ALREADY_EXISTS"), (.invalidPartitions, 37, "INVALID_PARTITIONS"),
            (.invalidReplicationFactor, 38, "INVALID_REPLICATION_FACTOR"), (.invalidRequest, 42, "INVALID_REQUEST"),
            (.outOfOrderSequenceNumber, 45, "OUT_OF_ORDER_SEQUENCE_NUMBER"), (.duplicateSequenceNumber, 46, "DUPLICATE_SEQUENCE_NUMBER"),
            (.invalidProducerEpoch, 47, "INVALID_PRODUCER_EPOCH"), (.kafkaStorageError, 56, "KAFKA_STORAGE_ERROR"),
            (.unknownProducerId, 59, "UNKNOWN_PRODUCER_ID"), (.nonEmptyGroup, 68, "NON_EMPTY_GROUP"),
            (.groupIdNotFound, 69, "GROUP_ID_NOT_FOUND"), (.fencedLeaderEpoch, 74, "FENCED_LEADER_EPOCH"),
            (.unknownLeaderEpoch, 75, "UNKNOWN_LEADER_EPOCH"), (.unsupportedCompressionType, 76, "UNSUPPORTED_COMPRESSION_TYPE"),
            (.memberIdRequired, 79, "MEMBER_ID_REQUIRED"), (.groupSubscribedToTopic, 86, "GROUP_SUBSCRIBED_TO_TOPIC"),
            (.unknownServerError, -1, "UNKNOWN_SERVER_ERROR"),
        ]
        for (code, raw, name) in expected {
            #expect(code.rawValue == raw)
            #expect(code.name == name)
        }
        #expect(ErrorCode(1234).name == "UNKNOWN_CODE_1234")
        #expect(!ErrorCode.none.isError && ErrorCode.invalidRequest.isError)
    }

    @Test func uuidTextIsKafkasUrlSafeBase64() {
        #expect(KafkaUUID(high: 0, low: 1).kafkaString == "AAAAAAAAAAAAAAAAAAAAAQ")
        #expect(KafkaUUID.zero.kafkaString == "AAAAAAAAAAAAAAAAAAAAAA")
        let id = KafkaUUID(high: 0xfbff_ffff_ffff_ffff, low: 0xffff_ffff_ffff_fffe)
        #expect(id.kafkaString == "-____________________g")
        #expect(KafkaUUID(kafkaString: id.kafkaString) == id)
        for _ in 0..<1000 {
            let r = KafkaUUID.random()
            #expect(r != .zero && r != .metadataTopicId && !r.kafkaString.hasPrefix("-"))
            #expect(KafkaUUID(kafkaString: r.kafkaString) == r)
        }
        #expect(KafkaUUID(kafkaString: "AAAAAAAAAAAAAAAAAAAAA") == nil)
        #expect(KafkaUUID(kafkaString: "AAAAAAAAAAAAAAAAAAAAAB") == nil)  // stray low bits: not canonical
        #expect(KafkaUUID(kafkaString: "AAAAAAAAAAAAAAAAAAAA=A") == nil)
    }
}
