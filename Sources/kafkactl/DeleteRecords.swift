import Foundation
import KafkaClient

/// `kafkactl delete-records --offset-json-file F`, printed as kafka-delete-records.sh does.
func runDeleteRecords(_ c: DeleteRecordsCommand) throws {
    guard let data = FileManager.default.contents(atPath: c.offsetJsonFile), data.count <= 16 << 20 else {
        throw KafkaError.invalidArgument("cannot read --offset-json-file \(c.offsetJsonFile)")
    }
    guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let parts = root["partitions"] as? [[String: Any]] else {
        throw KafkaError.invalidArgument("\(c.offsetJsonFile): expected {\"partitions\":[{\"topic\":…,\"partition\":…,\"offset\":…}],\"version\":1}")
    }
    let targets = try parts.map { p -> DeleteRecordsTarget in
        guard let t = p["topic"] as? String, let n = (p["partition"] as? NSNumber)?.int32Value, let o = (p["offset"] as? NSNumber)?.int64Value else {
            throw KafkaError.invalidArgument("\(c.offsetJsonFile): each partition needs topic, partition and offset")
        }
        return DeleteRecordsTarget(topic: t, partition: n, offset: o)
    }
    let admin = try Admin(config: clientConfig(c.bootstrap))
    defer { admin.close() }
    print("Executing records delete operation")
    let results = try admin.deleteRecords(targets)
    print("Records delete operation completed:")
    var failed = false
    for (t, r) in results {
        switch r {
        case .success(let low): print("partition: \(t.topic)-\(t.partition)\tlow_watermark: \(low)")
        case .failure(let e):
            failed = true
            print("partition: \(t.topic)-\(t.partition)\terror: \(e)")
        }
    }
    if failed { exit(1) }
}

/// `kafkactl log-dirs --describe`: kafka-log-dirs.sh's JSON (brokers → logDirs → partitions).
func runLogDirs(_ c: LogDirsCommand) throws {
    let admin = try Admin(config: clientConfig(c.bootstrap))
    defer { admin.close() }
    let answers = try admin.describeLogDirs(topics: c.topics)
    let brokers: [[String: Any]] = answers.keys.sorted().map { id in
        ["broker": Int(id), "logDirs": (answers[id]?.results ?? []).map { d -> [String: Any] in
            ["logDir": d.logDir, "error": d.errorCode == .none ? NSNull() : "\(d.errorCode)" as Any,
             "partitions": d.topics.flatMap { t in t.partitions.map { p -> [String: Any] in
                 ["partition": "\(t.name)-\(p.partitionIndex)", "size": p.partitionSize, "offsetLag": p.offsetLag, "isFuture": p.isFutureKey]
             } }]
        }]
    }
    print("Querying brokers for log directories information")
    print("Received log directory information from brokers \(answers.keys.sorted().map(String.init).joined(separator: ","))")
    let data = try JSONSerialization.data(withJSONObject: ["version": 1, "brokers": brokers], options: [.sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}
