/// `acls`, shaped like Kafka's kafka-acls.sh:
///   acls --add|--remove|--list [--allow-principal P]… [--deny-principal P]… [--allow-host H]… [--deny-host H]…
///        [--operation OP]… [--topic T]… [--group G]… [--cluster] [--transactional-id T]…
///        [--resource-pattern-type literal|prefixed|match|any] [--principal P]
public struct AclsCommand: Equatable, Sendable {
    public enum Action: Equatable, Sendable {
        /// Bindings to create.
        case add([AclSpec])
        /// Filters whose matches are deleted.
        case remove([AclSpec])
        /// Filters to list.
        case list([AclSpec])
    }
    public var bootstrap: [String]
    public var action: Action
}

extension KafkaCtlCommand {
    static func parseAcls(_ a: ArraySlice<String>) throws -> AclsCommand {
        let f = try ParsedFlags(a, valued: ["bootstrap-server", "allow-principal", "deny-principal", "allow-host", "deny-host", "operation",
                                            "topic", "group", "transactional-id", "resource-pattern-type", "principal"],
                                switches: ["add", "remove", "list", "cluster", "force"])
        let actions = ["add", "remove", "list"].filter { f.switches.contains($0) }
        guard actions.count == 1, let action = actions.first else { throw CLIError("acls needs exactly one of --add, --remove, --list") }
        let vals = { (n: String) in f.values[n] ?? [] }
        var resources: [(Int8, String)] = vals("topic").map { (2, $0) } + vals("group").map { (3, $0) } + vals("transactional-id").map { (5, $0) }
        if f.switches.contains("cluster") { resources.append((4, "kafka-cluster")) }
        let patternName = f.string("resource-pattern-type") ?? (action == "list" && resources.isEmpty ? "any" : "literal")
        guard let pattern = AclSpec.code(patternName, in: AclSpec.patternTypes) else {
            throw CLIError("--resource-pattern-type must be literal, prefixed, match or any, got '\(patternName)'")
        }
        var ops: [Int8] = []
        for o in vals("operation") {
            guard let c = AclSpec.code(o, in: AclSpec.operations), c != 1 else { throw CLIError("unknown --operation '\(o)'") }
            ops.append(c)
        }
        let allowHosts = vals("allow-host").isEmpty ? ["*"] : vals("allow-host")
        let denyHosts = vals("deny-host").isEmpty ? ["*"] : vals("deny-host")
        var entries: [(String, String, Int8)] = []  // principal, host, permission
        for p in vals("allow-principal") { for h in allowHosts { entries.append((p, h, 3)) } }
        for p in vals("deny-principal") { for h in denyHosts { entries.append((p, h, 2)) } }
        for (p, _, _) in entries where !p.contains(":") { throw CLIError("principal '\(p)' must be of the form User:<name>") }
        let bs = try f.bootstrap()
        switch action {
        case "add":
            guard !resources.isEmpty else { throw CLIError("--add needs a resource: --topic, --group, --cluster or --transactional-id") }
            guard !entries.isEmpty else { throw CLIError("--add needs --allow-principal or --deny-principal") }
            guard pattern == 3 || pattern == 4 else { throw CLIError("--add needs --resource-pattern-type literal or prefixed") }
            let operations = ops.isEmpty ? [Int8(2)] : ops
            var out: [AclSpec] = []
            for (t, n) in resources {
                for (p, h, perm) in entries {
                    for o in operations {
                        out.append(AclSpec(resourceType: t, resourceName: n, patternType: pattern, principal: p, host: h, operation: o, permission: perm))
                    }
                }
            }
            return AclsCommand(bootstrap: bs, action: .add(out))
        case "remove":
            guard !resources.isEmpty else { throw CLIError("--remove needs a resource: --topic, --group, --cluster or --transactional-id") }
            var out: [AclSpec] = []
            for (t, n) in resources {
                if entries.isEmpty {
                    // No principal: every ACL of the resource, as kafka-acls.sh.
                    out.append(AclSpec(resourceType: t, resourceName: n, patternType: pattern, principal: nil, host: nil,
                                       operation: ops.count == 1 ? ops[0] : 1, permission: 1))
                } else {
                    for (p, h, perm) in entries {
                        for o in ops.isEmpty ? [Int8(1)] : ops {
                            out.append(AclSpec(resourceType: t, resourceName: n, patternType: pattern, principal: p, host: h, operation: o, permission: perm))
                        }
                    }
                }
            }
            return AclsCommand(bootstrap: bs, action: .remove(out))
        default:
            let principal = f.string("principal")
            if resources.isEmpty {
                return AclsCommand(bootstrap: bs, action: .list([AclSpec(resourceType: 1, resourceName: nil, patternType: pattern, principal: principal,
                                                                         host: nil, operation: 1, permission: 1)]))
            }
            return AclsCommand(bootstrap: bs, action: .list(resources.map {
                AclSpec(resourceType: $0.0, resourceName: $0.1, patternType: pattern, principal: principal, host: nil, operation: 1, permission: 1)
            }))
        }
    }
}
