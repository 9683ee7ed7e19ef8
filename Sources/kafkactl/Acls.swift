import KafkaClient

/// `kafkactl acls`: CreateAcls / DeleteAcls / DescribeAcls, printed as kafka-acls.sh does.
func runAcls(_ c: AclsCommand) throws {
    let admin = try Admin(config: clientConfig(c.bootstrap))
    defer { admin.close() }
    func printGrouped(_ header: String, _ acls: [AclSpec]) {
        var order: [String] = []
        var by: [String: [AclSpec]] = [:]
        for a in acls {
            let k = a.resourceDescription
            if by[k] == nil { order.append(k) }
            by[k, default: []].append(a)
        }
        for k in order {
            print("\(header) `\(k)`:")
            for a in by[k] ?? [] { print("\t\(a.entryDescription)") }
            print("")
        }
    }
    switch c.action {
    case .add(let bindings):
        try admin.createAcls(bindings)
        printGrouped("Adding ACLs for resource", bindings)
    case .remove(let filters):
        let removed = try admin.deleteAcls(filters)
        if removed.isEmpty { print("No ACLs matched") } else { printGrouped("Removed ACLs for resource", removed) }
    case .list(let filters):
        var all: [AclSpec] = []
        for f in filters { all += try admin.describeAcls(f) }
        printGrouped("Current ACLs for resource", all)
    }
}
