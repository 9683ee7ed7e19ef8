/// `configs`, shaped like Kafka's kafka-configs.sh:
///   configs --describe --entity-type topics --entity-name T
///   configs --alter --entity-type topics --entity-name T [--add-config k=v,k2=[a,b]] [--delete-config k,k2]
public struct ConfigsCommand: Equatable, Sendable {
    public enum Action: Equatable, Sendable {
        case describe
        case alter(set: [String: String], delete: [String])
    }
    public var bootstrap: [String]
    public var entityType: String
    public var entityName: String
    public var action: Action
}

extension KafkaCtlCommand {
    static func parseConfigs(_ a: ArraySlice<String>) throws -> ConfigsCommand {
        let f = try ParsedFlags(a, valued: ["bootstrap-server", "entity-type", "entity-name", "topic", "add-config", "delete-config"],
                                switches: ["describe", "alter"])
        let actions = ["describe", "alter"].filter { f.switches.contains($0) }
        guard actions.count == 1 else { throw CLIError("configs needs exactly one of --describe, --alter") }
        // kafka-configs.sh also takes --topic T for --entity-type topics --entity-name T.
        let type = f.string("entity-type") ?? (f.has("topic") ? "topics" : "")
        guard type == "topics" else { throw CLIError("--entity-type must be topics (the only entity type this broker alters)") }
        guard let name = f.string("entity-name") ?? f.string("topic"), !name.isEmpty else { throw CLIError("missing required option --entity-name") }
        let bs = try f.bootstrap()
        if actions == ["describe"] { return ConfigsCommand(bootstrap: bs, entityType: type, entityName: name, action: .describe) }
        var set: [String: String] = [:]
        for v in f.values["add-config"] ?? [] {
            for item in splitConfigList(v) {
                guard let eq = item.firstIndex(of: "="), eq != item.startIndex else { throw CLIError("--add-config wants k=v, got '\(item)'") }
                var value = String(item[item.index(after: eq)...])
                // kafka-configs.sh writes list values in brackets: cleanup.policy=[compact,delete].
                if value.hasPrefix("["), value.hasSuffix("]") { value = String(value.dropFirst().dropLast()) }
                set[String(item[..<eq])] = value
            }
        }
        let delete = (f.values["delete-config"] ?? []).flatMap { splitConfigList($0) }
        guard !set.isEmpty || !delete.isEmpty else { throw CLIError("--alter needs --add-config or --delete-config") }
        if let both = delete.first(where: { set[$0] != nil }) { throw CLIError("\(both) is both added and deleted") }
        return ConfigsCommand(bootstrap: bs, entityType: type, entityName: name, action: .alter(set: set, delete: delete))
    }

    /// Splits at commas outside brackets.
    static func splitConfigList(_ s: String) -> [String] {
        var out: [String] = [], cur = "", depth = 0
        for ch in s {
            if ch == "[" { depth += 1 } else if ch == "]" { depth = max(0, depth - 1) }
            if ch == ",", depth == 0 {
                if !cur.isEmpty { out.append(cur) }
                cur = ""
            } else {
                cur.append(ch)
            }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }
}
