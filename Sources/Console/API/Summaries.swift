import Foundation
import KafkaClient

/// The console's judgements about cluster state, kept I/O-free so tests can feed them any metadata.
enum Summaries {
    /// Under-replicated: fewer in-sync replicas than replicas. Offline: no leader.
    static func partitionRow(_ p: PartitionInfo, start: Int64?, hw: Int64?) -> PartitionRow {
        PartitionRow(partition: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: p.isr,
                     offlineReplicas: p.offlineReplicas, underReplicated: p.isr.count < p.replicas.count, startOffset: start,
                     highWatermark: hw, error: p.error == .none || p.error == .replicaNotAvailable ? nil : "\(p.error)")
    }

    static func topicRow(_ t: TopicInfo) -> TopicRow {
        TopicRow(name: t.name, internal: t.isInternal, partitions: t.partitions.count, replicationFactor: t.replicationFactor,
                 underReplicated: t.partitions.filter { $0.isr.count < $0.replicas.count }.count,
                 offline: t.partitions.filter { $0.leader < 0 }.count)
    }

    /// Registered brokers plus the ones replicas still name (those are down), with leader counts.
    static func brokers(_ md: ClusterMetadata) -> [BrokerRow] {
        var leaders: [Int32: Int] = [:]
        var named: Set<Int32> = []
        for t in md.topics.values {
            for p in t.partitions {
                if p.leader >= 0 { leaders[p.leader, default: 0] += 1 }
                named.formUnion(p.replicas)
            }
        }
        var rows = md.brokers.values.map {
            BrokerRow(id: $0.nodeId, host: $0.host, port: $0.port, rack: $0.rack, online: true,
                      isController: $0.nodeId == md.controllerId, leaderOf: leaders[$0.nodeId] ?? 0)
        }
        for id in named where md.brokers[id] == nil {
            rows.append(BrokerRow(id: id, host: "", port: 0, rack: nil, online: false, isController: false, leaderOf: 0))
        }
        return rows.sorted { $0.id < $1.id }
    }

    static func overview(_ md: ClusterMetadata, coord: [CoordServerRow]) -> Overview {
        let topics = md.topics.values.map(topicRow)
        return Overview(clusterId: md.clusterId, controller: md.controllerId, brokers: brokers(md), topics: topics.count,
                        partitions: topics.reduce(0) { $0 + $1.partitions },
                        underReplicated: topics.reduce(0) { $0 + $1.underReplicated },
                        offline: topics.reduce(0) { $0 + $1.offline }, coordServers: coord)
    }

    static func lagRows(_ rows: [PartitionLag]) -> [LagRow] {
        rows.map {
            LagRow(topic: $0.tp.topic, partition: $0.tp.partition, currentOffset: $0.currentOffset, logEndOffset: $0.logEndOffset,
                   lag: $0.lag, consumerId: $0.consumerId, host: $0.host, clientId: $0.clientId)
        }
    }

    static func message(_ r: ConsumerRecord) -> MessageRow {
        let k = r.key.map { String(decoding: $0, as: UTF8.self) }
        let v = r.value.map { String(decoding: $0, as: UTF8.self) }
        let textual = (k.map { Array($0.utf8) == r.key! } ?? true) && (v.map { Array($0.utf8) == r.value! } ?? true)
        let enc: ([UInt8]?) -> String? = { b in b.map { Data($0).base64EncodedString() } }
        return MessageRow(partition: r.partition, offset: r.offset, timestamp: r.timestamp,
                          key: textual ? k : enc(r.key), value: textual ? v : enc(r.value), encoding: textual ? "text" : "base64",
                          headers: r.headers.map { [$0.key, $0.value.map { String(decoding: $0, as: UTF8.self) } ?? ""] })
    }

    /// A record matches when the needle is in its key, value or a header value (bytes, case-sensitive).
    static func matches(_ r: ConsumerRecord, _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        return contains(r.key, needle) || contains(r.value, needle) || r.headers.contains { contains($0.value, needle) || contains(Array($0.key.utf8), needle) }
    }

    static func contains(_ hay: [UInt8]?, _ needle: [UInt8]) -> Bool {
        guard let hay, hay.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        let last = hay.count - needle.count
        while i <= last {
            if hay[i] == first && hay[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// ZooKeeper's perms bits (READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16) in zkCli's order, "cdrwa".
    static func perms(_ p: Int32) -> String {
        zip(["c", "d", "r", "w", "a"], [4, 8, 1, 2, 16]).compactMap { p & Int32($0.1) != 0 ? $0.0 : nil }.joined()
    }

    static func hex(_ v: Int64) -> String { "0x" + String(UInt64(bitPattern: v), radix: 16) }

    /// `srvr` / `mntr` text to a row (tolerates either; unknown lines are ignored).
    static func coordRow(address: String, srvr: String?, mntr: String?, error: String?) -> CoordServerRow {
        var row = CoordServerRow(address: address, error: error)
        for line in (srvr ?? "").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimming(" \t") }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "Mode": row.mode = parts[1]
            case "Zxid":
                row.zxid = parts[1]
                if let z = UInt64(parts[1].hasPrefix("0x") ? String(parts[1].dropFirst(2)) : parts[1], radix: 16) { row.epoch = Int64(z >> 32) }
            case "Connections": row.connections = Int(parts[1])
            case "Node count": row.znodes = Int(parts[1])
            default: break
            }
        }
        for line in (mntr ?? "").split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "zk_server_state": row.mode = row.mode ?? parts[1]
            case "zk_num_alive_connections": row.connections = row.connections ?? Int(parts[1])
            case "zk_znode_count": row.znodes = row.znodes ?? Int(parts[1])
            default: break
            }
        }
        if row.mode == nil, row.error == nil, let s = srvr, s.contains("not currently serving") { row.mode = "not serving" }
        return row
    }
}
