import Protocol
import Testing
@testable import BrokerCore

@Suite struct JSONTests {
    @Test func roundTripsNestedValues() throws {
        let text = #"{"a":[1,-2,3.5,"x\"y\\z",true,false,null],"b":{"c":{}},"d":[]}"#
        let v = try JSON.parse(text)
        #expect(v.encoded() == text)
        #expect(v["a"]?.arrayValue?.count == 7)
    }

    @Test func parsesEscapesAndWhitespace() throws {
        let v = try JSON.parse(" { \"k\" : \"\\u0041\\n\\ud83d\\ude00\" } ")
        #expect(v["k"]?.stringValue == "A\n😀")
        #expect(JSON.string("\u{01}").encoded() == "\"\\u0001\"")
    }

    @Test func rejectsMalformedInput() {
        for bad in ["", "{", "[1,", "{\"a\"}", "tru", "\"abc", "01x", "{\"a\":1}}", "-", "\"\\u12\""] {
            #expect(throws: JSONError.self) { try JSON.parse(bad) }
        }
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        #expect(throws: JSONError.tooDeep) { try JSON.parse(deep) }
    }
}

@Suite struct ZnodePayloadTests {
    @Test func brokerRegistrationMatchesKafkaFieldNames() throws {
        let r = BrokerRegistration(id: 1, endpoints: [BrokerEndpoint(host: "h1", port: 9092)], rack: nil, timestampMs: 1234)
        let text = String(decoding: r.encoded(), as: UTF8.self)
        #expect(text == #"{"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://h1:9092"],"jmx_port":-1,"host":"h1","timestamp":"1234","port":9092,"version":5,"rack":null}"#)
        #expect(try BrokerRegistration.decode(id: 1, r.encoded()) == r)
        var racked = r
        racked.rack = "r1"
        #expect(try BrokerRegistration.decode(id: 1, racked.encoded()).rack == "r1")
        let v6 = BrokerRegistration(id: 2, endpoints: [BrokerEndpoint(host: "::1", port: 1)], timestampMs: 0)
        #expect(try BrokerRegistration.decode(id: 2, v6.encoded()).host == "::1")
    }

    @Test func oldBrokerRegistrationUsesHostAndPort() throws {
        let r = try BrokerRegistration.decode(id: 3, Array(#"{"version":1,"host":"a","port":9,"jmx_port":-1}"#.utf8))
        #expect(r.endpoints == [BrokerEndpoint(host: "a", port: 9)])
        #expect(throws: (any Error).self) { try BrokerRegistration.decode(id: 3, Array(#"{"endpoints":["nohost"]}"#.utf8)) }
    }

    @Test func controllerAndEpoch() throws {
        let c = ControllerRegistration(brokerId: 2, timestampMs: 99)
        #expect(String(decoding: c.encoded(), as: UTF8.self) == #"{"version":1,"brokerid":2,"timestamp":"99"}"#)
        #expect(try ControllerRegistration.decode(c.encoded()) == c)
        #expect(ControllerEpochPayload.encode(7) == Array("7".utf8))
        #expect(try ControllerEpochPayload.decode(Array("12\n".utf8)) == 12)
        #expect(throws: (any Error).self) { try ControllerEpochPayload.decode(Array("x".utf8)) }
    }

    @Test func topicAssignment() throws {
        let t = TopicAssignment(partitions: [1: [2, 3, 1], 0: [1, 2, 3]])
        #expect(String(decoding: t.encoded(), as: UTF8.self) ==
            #"{"version":2,"partitions":{"0":[1,2,3],"1":[2,3,1]},"adding_replicas":{},"removing_replicas":{}}"#)
        #expect(try TopicAssignment.decode(t.encoded()) == t)
        // Kafka 1.x wrote version 1 without the reassignment maps.
        let old = try TopicAssignment.decode(Array(#"{"version":1,"partitions":{"0":[5]}}"#.utf8))
        #expect(old.partitions == [0: [5]])
        #expect(throws: (any Error).self) { try TopicAssignment.decode(Array(#"{"partitions":{"x":[1]}}"#.utf8)) }
        #expect(throws: (any Error).self) { try TopicAssignment.decode(Array(#"{"partitions":{"0":[1e99]}}"#.utf8)) }
    }

    /// Kafka 2.8+ writes version 3 with the topic id in Kafka's 22-character text form.
    @Test func topicAssignmentWithTopicId() throws {
        let kafkaWritten = #"{"partitions":{"0":[1]},"topic_id":"AAAAAAAAAAAAAAAAAAAAAQ","adding_replicas":{},"removing_replicas":{},"version":3}"#
        let a = try TopicAssignment.decode(Array(kafkaWritten.utf8))
        #expect(a.topicId == KafkaUUID(high: 0, low: 1) && a.partitions == [0: [1]])
        let ours = TopicAssignment(partitions: [0: [1]], topicId: KafkaUUID(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210))
        let text = String(decoding: ours.encoded(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"version":3,"#) && text.contains(#""topic_id":"ASNFZ4mrze_-3LqYdlQyEA""#), "\(text)")
        #expect(try TopicAssignment.decode(ours.encoded()) == ours)
        for bad in [#""x""#, "7", #""AAAAAAAAAAAAAAAAAAAAAR""#, #""AAAAAAAAAAAAAAAAAAAA+Q""#] {
            #expect(throws: (any Error).self) { try TopicAssignment.decode(Array(#"{"partitions":{"0":[1]},"topic_id":\#(bad)}"#.utf8)) }
        }
    }

    @Test func partitionState() throws {
        let s = LeaderAndIsr(leader: 1, leaderEpoch: 4, isr: [1, 2, 3], controllerEpoch: 2)
        #expect(String(decoding: s.encoded(), as: UTF8.self) ==
            #"{"controller_epoch":2,"leader":1,"version":1,"leader_epoch":4,"isr":[1,2,3]}"#)
        #expect(try LeaderAndIsr.decode(s.encoded()) == s)
        #expect(throws: (any Error).self) { try LeaderAndIsr.decode(Array(#"{"leader":99999999999}"#.utf8)) }
        #expect(ZkPaths.partitionState(TopicPartition("t", 3)) == "/brokers/topics/t/partitions/3/state")
        #expect(ZkPaths.parsePartitionStatePath("/brokers/topics/t/partitions/3/state") == TopicPartition("t", 3))
        #expect(ZkPaths.parsePartitionStatePath("/brokers/topics/t/partitions/x/state") == nil)
    }

    @Test func configsNotificationsClusterIdAndProducerBlocks() throws {
        let c = TopicConfigPayload(config: ["retention.ms": "100", "cleanup.policy": "compact"])
        #expect(String(decoding: c.encoded(), as: UTF8.self) ==
            #"{"version":1,"config":{"cleanup.policy":"compact","retention.ms":"100"}}"#)
        #expect(try TopicConfigPayload.decode(c.encoded()) == c)
        #expect(try ConfigChangePayload.decode(ConfigChangePayload.encode(entityPath: "topics/t")) == "topics/t")
        let tps = [TopicPartition("a", 0), TopicPartition("b", 2)]
        #expect(String(decoding: IsrChangePayload.encode(tps), as: UTF8.self) ==
            #"{"version":1,"partitions":[{"topic":"a","partition":0},{"topic":"b","partition":2}]}"#)
        #expect(try IsrChangePayload.decode(IsrChangePayload.encode(tps)) == tps)
        let id = ClusterIdPayload(uuidBytes: Array(0..<16))
        #expect(id.id.count == 22)
        #expect(id.id == "AAECAwQFBgcICQoLDA0ODw")
        #expect(String(decoding: id.encoded(), as: UTF8.self) == #"{"version":"1","id":"AAECAwQFBgcICQoLDA0ODw"}"#)
        #expect(try ClusterIdPayload.decode(id.encoded()) == id)
        let b1 = ProducerIdBlock.next(after: nil, brokerId: 1)
        #expect(b1 == ProducerIdBlock(brokerId: 1, firstId: 0, lastId: 999))
        let b2 = ProducerIdBlock.next(after: b1, brokerId: 2)
        #expect(String(decoding: b2.encoded(), as: UTF8.self) == #"{"version":1,"broker":2,"block_start":"1000","block_end":"1999"}"#)
        #expect(try ProducerIdBlock.decode(b2.encoded()) == b2)
    }
}

@Suite struct PartitionerTests {
    // Vectors from Kafka's UtilsTest.testMurmur2.
    @Test func murmur2MatchesJavaClient() {
        let cases: [(String, Int32)] = [
            ("21", -973_932_308), ("foobar", -790_332_482), ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971), ("abc", 479_470_107),
        ]
        for (key, want) in cases {
            #expect(Murmur2.hash(Array(key.utf8)) == want, "\(key)")
        }
    }

    @Test func partitionIsPositiveAndInRange() {
        #expect(Murmur2.toPositive(Int32.min) == 0)
        #expect(Murmur2.toPositive(-1) == Int32.max)
        #expect(Murmur2.partition(key: Array("21".utf8), numPartitions: 10) == (-973_932_308 & 0x7fff_ffff) % 10)
        for i in 0..<200 {
            let p = Murmur2.partition(key: Array("k\(i)".utf8), numPartitions: 7)
            #expect(p >= 0 && p < 7)
        }
    }

    @Test func javaHashCode() {
        #expect(javaStringHashCode("") == 0)
        #expect(javaStringHashCode("a") == 97)
        #expect(javaStringHashCode("hello") == 99_162_322)
        // Overflows and wraps like Java's int arithmetic.
        #expect(javaStringHashCode("polygenelubricants") == Int32.min)
        // Non-BMP characters count as two UTF-16 units, as in Java.
        #expect(javaStringHashCode("😀") == Int32(0xD83D) &* 31 &+ Int32(0xDE00))
    }
}
