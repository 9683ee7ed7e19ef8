/// `delete-records --offset-json-file F`, shaped like Kafka's kafka-delete-records.sh; the file is
/// `{"partitions":[{"topic":"t","partition":0,"offset":40}],"version":1}` (offset -1: up to the HW).
public struct DeleteRecordsCommand: Equatable, Sendable {
    public var bootstrap: [String]
    public var offsetJsonFile: String
}

/// One partition's deletion point, from the offset JSON file.
public struct DeleteRecordsTarget: Equatable, Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

extension KafkaCtlCommand {
    static func parseDeleteRecords(_ a: ArraySlice<String>) throws -> DeleteRecordsCommand {
        let f = try ParsedFlags(a, valued: ["bootstrap-server", "offset-json-file"], switches: [])
        return DeleteRecordsCommand(bootstrap: try f.bootstrap(), offsetJsonFile: try f.required("offset-json-file"))
    }
}

/// `log-dirs --describe [--topic-list a,b]`, shaped like Kafka's kafka-log-dirs.sh.
public struct LogDirsCommand: Equatable, Sendable {
    public var bootstrap: [String]
    public var topics: [String]?
}

extension KafkaCtlCommand {
    static func parseLogDirs(_ a: ArraySlice<String>) throws -> LogDirsCommand {
        let f = try ParsedFlags(a, valued: ["bootstrap-server", "topic-list"], switches: ["describe"])
        guard f.switches.contains("describe") else { throw CLIError("log-dirs needs --describe") }
        let topics = f.string("topic-list").map { $0.split(separator: ",").map(String.init).filter { !$0.isEmpty } }
        return LogDirsCommand(bootstrap: try f.bootstrap(), topics: topics)
    }
}
