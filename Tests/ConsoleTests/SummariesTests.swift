@testable import Console
import KafkaClient
import Protocol
import Testing

@Suite struct SummariesTests {
    func metadata() -> ClusterMetadata {
        var md = ClusterMetadata()
        md.brokers = [1: BrokerInfo(nodeId: 1, host: "h", port: 1), 2: BrokerInfo(nodeId: 2, host: "h", port: 2)]
        md.controllerId = 2
        md.topics["t"] = TopicInfo(name: "t", partitions: [
            PartitionInfo(partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2]),  // 3 is down: under-replicated
            PartitionInfo(partition: 1, leader: 2, replicas: [2, 1], isr: [2, 1]),
            PartitionInfo(partition: 2, leader: -1, replicas: [3], isr: [3]),  // offline
        ])
        return md
    }

    @Test func overviewCountsUnderReplicatedOfflineAndDownBrokers() {
        let o = Summaries.overview(metadata(), coord: [])
        #expect(o.partitions == 3 && o.underReplicated == 1 && o.offline == 1 && o.controller == 2)
        #expect(o.brokers.map(\.id) == [1, 2, 3])
        #expect(o.brokers.map(\.online) == [true, true, false])
        #expect(o.brokers.map(\.isController) == [false, true, false])
        #expect(o.brokers.map(\.leaderOf) == [1, 1, 0])
    }

    @Test func partitionRowFlagsShrunkISR() {
        let md = metadata()
        let rows = md.topics["t"]!.partitions.map { Summaries.partitionRow($0, start: 0, hw: 5) }
        #expect(rows.map(\.underReplicated) == [true, false, false])
    }

    @Test func searchMatchesKeyValueAndHeaders() {
        let r = ConsumerRecord(topic: "t", partition: 0, offset: 3, key: Array("user-17".utf8), value: Array("{\"a\":1}".utf8),
                               headers: [RecordHeader(key: "trace", value: Array("abc-999".utf8))])
        #expect(Summaries.matches(r, Array("r-1".utf8)))
        #expect(Summaries.matches(r, Array("\"a\"".utf8)))
        #expect(Summaries.matches(r, Array("c-99".utf8)))
        #expect(Summaries.matches(r, Array("trace".utf8)))
        #expect(Summaries.matches(r, []))
        #expect(!Summaries.matches(r, Array("user-18".utf8)))
        #expect(!Summaries.matches(ConsumerRecord(topic: "t", partition: 0, offset: 0, key: nil, value: nil), Array("x".utf8)))
    }

    @Test func binaryRecordsAreBase64() {
        let m = Summaries.message(ConsumerRecord(topic: "t", partition: 0, offset: 0, key: [0xff, 0x00], value: Array("ok".utf8)))
        #expect(m.encoding == "base64" && m.key == "/wA=" && m.value == "b2s=")
        let t = Summaries.message(ConsumerRecord(topic: "t", partition: 0, offset: 0, key: nil, value: Array("ok".utf8)))
        #expect(t.encoding == "text" && t.key == nil && t.value == "ok")
    }

    @Test func permsInZkCliOrder() {
        #expect(Summaries.perms(31) == "cdrwa")
        #expect(Summaries.perms(1) == "r")
        #expect(Summaries.perms(1 | 2 | 16) == "rwa")
    }

    @Test func fourLetterWordsToRow() {
        let srvr = "Zookeeper version: 3.8\nLatency min/avg/max: 0/0.1/3\nReceived: 10\nConnections: 4\nMode: leader\nNode count: 42\nZxid: 0x300000007\n"
        let row = Summaries.coordRow(address: "a:1", srvr: srvr, mntr: "zk_server_state\tleader\nzk_num_alive_connections\t5\n", error: nil)
        #expect(row.mode == "leader" && row.epoch == 3 && row.zxid == "0x300000007" && row.connections == 4 && row.znodes == 42)
        let idle = Summaries.coordRow(address: "a:1", srvr: "This ZooKeeper instance is not currently serving requests\n", mntr: nil, error: nil)
        #expect(idle.mode == "not serving")
        let dead = Summaries.coordRow(address: "a:1", srvr: nil, mntr: nil, error: "connect refused")
        #expect(dead.mode == nil && dead.error == "connect refused")
    }
}
