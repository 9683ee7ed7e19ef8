import Protocol

/// One ACL binding or filter as the wire carries it (Kafka's codes). Filters use nil strings and
/// the ANY codes (resource type 1, pattern 1, operation 1, permission 1) as wildcards.
public struct AclSpec: Sendable, Equatable, Hashable {
    public var resourceType: Int8
    public var resourceName: String?
    public var patternType: Int8
    public var principal: String?
    public var host: String?
    public var operation: Int8
    public var permission: Int8

    public init(resourceType: Int8, resourceName: String?, patternType: Int8, principal: String?, host: String?, operation: Int8, permission: Int8) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    public static let resourceTypes: [(Int8, String)] = [(1, "Any"), (2, "Topic"), (3, "Group"), (4, "Cluster"), (5, "TransactionalId"), (6, "DelegationToken")]
    public static let patternTypes: [(Int8, String)] = [(1, "ANY"), (2, "MATCH"), (3, "LITERAL"), (4, "PREFIXED")]
    public static let operations: [(Int8, String)] = [(1, "Any"), (2, "All"), (3, "Read"), (4, "Write"), (5, "Create"), (6, "Delete"), (7, "Alter"),
                                                      (8, "Describe"), (9, "ClusterAction"), (10, "DescribeConfigs"), (11, "AlterConfigs"),
                                                      (12, "IdempotentWrite"), (13, "CreateTokens"), (14, "DescribeTokens")]
    public static let permissions: [(Int8, String)] = [(1, "Any"), (2, "Deny"), (3, "Allow")]

    /// A code by name, case- and underscore-insensitive ("describe_configs", "DescribeConfigs").
    public static func code(_ name: String, in table: [(Int8, String)]) -> Int8? {
        let n = name.lowercased().filter { $0 != "_" && $0 != "-" }
        return table.first { $0.1.lowercased() == n }?.0
    }

    public static func name(_ code: Int8, in table: [(Int8, String)]) -> String { table.first { $0.0 == code }?.1 ?? "Unknown(\(code))" }

    /// kafka-acls.sh's rendering of the entry.
    public var entryDescription: String {
        "(principal=\(principal ?? "*"), host=\(host ?? "*"), operation=\(Self.name(operation, in: Self.operations).uppercased()), "
            + "permissionType=\(Self.name(permission, in: Self.permissions).uppercased()))"
    }

    public var resourceDescription: String {
        "ResourcePattern(resourceType=\(Self.name(resourceType, in: Self.resourceTypes).uppercased()), name=\(resourceName ?? "*"), "
            + "patternType=\(Self.name(patternType, in: Self.patternTypes)))"
    }
}

extension Admin {
    /// CreateAcls; throws the first refusal.
    public func createAcls(_ bindings: [AclSpec]) throws {
        let req = CreateAclsRequest(creations: bindings.map {
            .init(resourceType: $0.resourceType, resourceName: $0.resourceName ?? "", resourcePatternType: $0.patternType,
                  principal: $0.principal ?? "", host: $0.host ?? "*", operation: $0.operation, permissionType: $0.permission)
        })
        let r = try cluster.call(req, to: .any)
        if let e = r.results.first(where: { $0.errorCode != .none }) {
            throw KafkaError.broker(e.errorCode, e.errorMessage ?? "CreateAcls")
        }
    }

    /// DescribeAcls: every binding the filter matches.
    public func describeAcls(_ f: AclSpec) throws -> [AclSpec] {
        let r = try cluster.call(DescribeAclsRequest(resourceTypeFilter: f.resourceType, resourceNameFilter: f.resourceName, patternTypeFilter: f.patternType,
                                                     principalFilter: f.principal, hostFilter: f.host, operation: f.operation, permissionType: f.permission), to: .any)
        if r.errorCode != .none { throw KafkaError.broker(r.errorCode, r.errorMessage ?? "DescribeAcls") }
        return r.resources.flatMap { res in
            res.acls.map { AclSpec(resourceType: res.resourceType, resourceName: res.resourceName, patternType: res.patternType,
                                   principal: $0.principal, host: $0.host, operation: $0.operation, permission: $0.permissionType) }
        }
    }

    /// DeleteAcls: the bindings removed.
    public func deleteAcls(_ filters: [AclSpec]) throws -> [AclSpec] {
        let r = try cluster.call(DeleteAclsRequest(filters: filters.map {
            .init(resourceTypeFilter: $0.resourceType, resourceNameFilter: $0.resourceName, patternTypeFilter: $0.patternType,
                  principalFilter: $0.principal, hostFilter: $0.host, operation: $0.operation, permissionType: $0.permission)
        }), to: .any)
        var out: [AclSpec] = []
        for fr in r.filterResults {
            if fr.errorCode != .none { throw KafkaError.broker(fr.errorCode, fr.errorMessage ?? "DeleteAcls") }
            out += fr.matchingAcls.map { AclSpec(resourceType: $0.resourceType, resourceName: $0.resourceName, patternType: $0.patternType,
                                                 principal: $0.principal, host: $0.host, operation: $0.operation, permission: $0.permissionType) }
        }
        return out
    }
}
