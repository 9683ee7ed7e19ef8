import KafkaClient
import Testing

@Suite struct ConfigsCLITests {
    func parse(_ s: String) throws -> ConfigsCommand {
        guard case .configs(let c) = try KafkaCtlCommand.parse(["configs"] + s.split(separator: " ").map(String.init)) else {
            throw CLIError("not configs")
        }
        return c
    }

    @Test func alterLikeKafkaConfigsSh() throws {
        let c = try parse("--alter --entity-type topics --entity-name t --add-config retention.ms=5,cleanup.policy=[compact,delete] --delete-config segment.ms,flush.ms")
        #expect(c.entityName == "t")
        #expect(c.action == .alter(set: ["retention.ms": "5", "cleanup.policy": "compact,delete"], delete: ["segment.ms", "flush.ms"]))
        #expect(try parse("--describe --entity-type topics --entity-name t").action == .describe)
    }

    @Test func brokerEntitiesLikeKafkaConfigsSh() throws {
        var c = try parse("--alter --entity-type brokers --entity-name 1 --add-config log.retention.ms=5 --delete-config message.max.bytes")
        #expect(c.entityType == "brokers" && c.entityName == "1")
        #expect(c.action == .alter(set: ["log.retention.ms": "5"], delete: ["message.max.bytes"]))
        c = try parse("--alter --entity-type brokers --entity-default --add-config message.max.bytes=2000")
        #expect(c.entityType == "brokers" && c.entityName == "")
        c = try parse("--describe --broker-defaults")
        #expect(c.entityType == "brokers" && c.entityName == "" && c.action == .describe)
        c = try parse("--describe --all --broker 2")
        #expect(c.entityType == "brokers" && c.entityName == "2" && c.all)
    }

    @Test func badUsage() {
        #expect(throws: CLIError.self) { try parse("--alter --entity-type topics --entity-name t") }
        #expect(throws: CLIError.self) { try parse("--alter --entity-type users --entity-name 1 --add-config a=b") }
        #expect(throws: CLIError.self) { try parse("--alter --entity-type brokers --entity-name one --add-config a=b") }
        #expect(throws: CLIError.self) { try parse("--alter --entity-type brokers --entity-name 1 --entity-default --add-config a=b") }
        #expect(throws: CLIError.self) { try parse("--describe --entity-type brokers") }
        #expect(throws: CLIError.self) { try parse("--describe --alter --entity-type topics --entity-name t") }
        #expect(throws: CLIError.self) { try parse("--alter --entity-type topics --entity-name t --add-config a=1 --delete-config a") }
    }
}
