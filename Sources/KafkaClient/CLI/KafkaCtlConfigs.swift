/// `configs`, shaped like Kafka's kafka-configs.sh:
///   configs --describe --entity-type topics --entity-name T
///   configs --alter --entity-type topics --entity-name T [--add-config k=v,k2=[a,b]] [--delete-config k,k2]
///   configs --describe [--all] --entity-type brokers (--entity-name ID | --entity-default)
///   configs --alter --entity-type brokers (--entity-name ID | --entity-default) --add-config k=v [--delete-config k]
/// (`--broker ID` and `--broker-defaults` are kafka-configs.sh's shorthands for the broker forms.)
public struct ConfigsCommand: Equatable, Sendable {
    public enum Action: Equatable, Sendable {
        case describe
        case alter(set: [String: String], delete: [String])
    }
    public var bootstrap: [String]
    /// "topics" or "brokers".
    public var entityType: String
    /// The topic, the broker id, or "" for the cluster-wide broker default.
    public var entityName: String
    public var action: Action
    /// --all: every config of the broker, not just the dynamic ones.
    public var all = false
}

extension KafkaCtlCommand {
    static func parseConfigs(_ a: ArraySlice<String>) throws -> ConfigsCommand {
        let f = try ParsedFlags(a, valued: ["bootstrap-server", "entity-type", "entity-name", "topic", "broker", "add-config", "delete-config"],
                                switches: ["describe", "alter", "entity-default", "broker-defaults", "all"])
        let actions = ["describe", "alter"].filter { f.switches.contains($0) }
        guard actions.count == 1 else { throw CLIError("configs needs exactly one of --describe, --alter") }
        // kafka-configs.sh also takes --topic T / --broker B / --broker-defaults for the entity.
        let isDefault = f.switches.contains("entity-default") || f.switches.contains("broker-defaults")
        let type = f.string("entity-type") ?? (f.has("topic") ? "topics" : (f.has("broker") || isDefault ? "brokers" : ""))
        guard type == "topics" || type == "brokers" else { throw CLIError("--entity-type must be topics or brokers") }
        let name: String
        if type == "brokers" {
            if isDefault {
                guard f.string("entity-name") == nil && f.string("broker") == nil else {
                    throw CLIError("--entity-name and --entity-default cannot both be given")
                }
                name = ""
            } else {
                guard let n = f.string("entity-name") ?? f.string("broker") else { throw CLIError("brokers need --entity-name ID or --entity-default") }
                guard Int32(n) != nil else { throw CLIError("The entity name for brokers must be a valid integer broker id, but it is: \(n)") }
                name = n
            }
        } else {
            guard !isDefault else { throw CLIError("--entity-default is for --entity-type brokers") }
            guard let n = f.string("entity-name") ?? f.string("topic"), !n.isEmpty else { throw CLIError("missing required option --entity-name") }
            name = n
        }
        let bs = try f.bootstrap()
        if actions == ["describe"] {
            return ConfigsCommand(bootstrap: bs, entityType: type, entityName: name, action: .describe, all: f.switches.contains("all"))
        }
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
