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

    @Test func badUsage() {
        #expect(throws: CLIError.self) { try parse("--alter --entity-type topics --entity-name t") }
        #expect(throws: CLIError.self) { try parse("--alter --entity-type brokers --entity-name 1 --add-config a=b") }
        #expect(throws: CLIError.self) { try parse("--describe --alter --entity-type topics --entity-name t") }
        #expect(throws: CLIError.self) { try parse("--alter --entity-type topics --entity-name t --add-config a=1 --delete-config a") }
    }
}
