/// Kafka's ACL vocabulary with its wire codes (org.apache.kafka.common.resource / .acl): the same
/// numbers go over the wire in Create/Describe/DeleteAcls, the names into the ZK JSON.
public enum AclResourceType: Int8, Sendable, CaseIterable {
    case unknown = 0, any = 1, topic = 2, group = 3, cluster = 4, transactionalId = 5, delegationToken = 6, user = 7

    /// The ZK path segment and the name in change events (Kafka's resourceTypeName).
    public var zkName: String {
        switch self {
        case .unknown: return "Unknown"
        case .any: return "Any"
        case .topic: return "Topic"
        case .group: return "Group"
        case .cluster: return "Cluster"
        case .transactionalId: return "TransactionalId"
        case .delegationToken: return "DelegationToken"
        case .user: return "User"
        }
    }

    /// Parses Kafka's names case-insensitively ("Topic", "TOPIC", "transactional_id").
    public init?(name: String) {
        let n = String(name.lowercased().filter { $0 != "_" })
        guard let t = Self.allCases.first(where: { $0.zkName.lowercased() == n }) else { return nil }
        self = t
    }

    /// The resource types an ACL can be stored for (ZK mode: not USER, which is KRaft-only).
    public var isStorable: Bool { [.topic, .group, .cluster, .transactionalId, .delegationToken].contains(self) }
}

public enum AclPatternType: Int8, Sendable, CaseIterable {
    case unknown = 0, any = 1, match = 2, literal = 3, prefixed = 4

    public var name: String {
        switch self {
        case .unknown: return "UNKNOWN"
        case .any: return "ANY"
        case .match: return "MATCH"
        case .literal: return "LITERAL"
        case .prefixed: return "PREFIXED"
        }
    }

    public init?(name: String) {
        guard let p = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = p
    }

    /// LITERAL and PREFIXED name stored patterns; the others only filter.
    public var isSpecific: Bool { self == .literal || self == .prefixed }
}

public enum AclOperation: Int8, Sendable, CaseIterable {
    case unknown = 0, any = 1, all = 2, read = 3, write = 4, create = 5, delete = 6, alter = 7, describe = 8
    case clusterAction = 9, describeConfigs = 10, alterConfigs = 11, idempotentWrite = 12, createTokens = 13, describeTokens = 14

    /// The name in the ZK JSON ("Read", "IdempotentWrite").
    public var zkName: String {
        switch self {
        case .unknown: return "Unknown"
        case .any: return "Any"
        case .all: return "All"
        case .read: return "Read"
        case .write: return "Write"
        case .create: return "Create"
        case .delete: return "Delete"
        case .alter: return "Alter"
        case .describe: return "Describe"
        case .clusterAction: return "ClusterAction"
        case .describeConfigs: return "DescribeConfigs"
        case .alterConfigs: return "AlterConfigs"
        case .idempotentWrite: return "IdempotentWrite"
        case .createTokens: return "CreateTokens"
        case .describeTokens: return "DescribeTokens"
        }
    }

    /// Parses "Read", "READ", "describe_configs", "DescribeConfigs".
    public init?(name: String) {
        let n = String(name.lowercased().filter { $0 != "_" })
        guard let o = Self.allCases.first(where: { $0.zkName.lowercased() == n }) else { return nil }
        self = o
    }

    /// Operations an ACL may grant: everything but the filter-only UNKNOWN and ANY.
    public var isSpecific: Bool { self != .unknown && self != .any }
}

public enum AclPermission: Int8, Sendable, CaseIterable {
    case unknown = 0, any = 1, deny = 2, allow = 3

    public var zkName: String {
        switch self {
        case .unknown: return "Unknown"
        case .any: return "Any"
        case .deny: return "Deny"
        case .allow: return "Allow"
        }
    }

    public init?(name: String) {
        guard let p = Self.allCases.first(where: { $0.zkName.lowercased() == name.lowercased() }) else { return nil }
        self = p
    }
}

/// A stored resource pattern: type, name (or `*`, or a prefix) and LITERAL/PREFIXED.
public struct ResourcePattern: Hashable, Sendable, CustomStringConvertible {
    public var resourceType: AclResourceType
    public var name: String
    public var patternType: AclPatternType

    public static let wildcard = "*"
    /// The one name the CLUSTER resource has.
    public static let clusterName = "kafka-cluster"
    public static let cluster = ResourcePattern(.cluster, clusterName)

    public init(_ type: AclResourceType, _ name: String, _ pattern: AclPatternType = .literal) {
        resourceType = type
        self.name = name
        patternType = pattern
    }

    public var description: String { "\(resourceType.zkName):\(patternType.name):\(name)" }
}

/// One access control entry of a resource: who, from where, what, allow or deny.
public struct AclEntry: Hashable, Sendable {
    public var principal: String
    public var host: String
    public var operation: AclOperation
    public var permission: AclPermission

    public static let wildcardPrincipal = "User:*"
    public static let wildcardHost = "*"

    public init(principal: String, host: String = "*", operation: AclOperation, permission: AclPermission) {
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }
}

public struct AclBinding: Hashable, Sendable {
    public var pattern: ResourcePattern
    public var entry: AclEntry

    public init(_ pattern: ResourcePattern, _ entry: AclEntry) {
        self.pattern = pattern
        self.entry = entry
    }

    /// Why Kafka would refuse to create this binding, or nil when it is valid.
    public var problem: String? {
        guard pattern.resourceType.isStorable else { return "resource type \(pattern.resourceType.zkName) cannot carry ACLs here" }
        guard pattern.patternType.isSpecific else { return "pattern type must be LITERAL or PREFIXED, not \(pattern.patternType.name)" }
        guard !pattern.name.isEmpty else { return "resource name must not be empty" }
        if pattern.resourceType == .cluster && pattern.name != ResourcePattern.clusterName {
            return "The only valid name for the CLUSTER resource is \(ResourcePattern.clusterName)"
        }
        // The name becomes a znode name (ZK mode): no '/', not '.' or '..', bounded.
        if pattern.name.utf8.count > 4096 || pattern.name.contains("/") || pattern.name == "." || pattern.name == ".." {
            return "resource name '\(pattern.name)' cannot be stored"
        }
        guard entry.operation.isSpecific else { return "operation must be specific, not \(entry.operation.zkName)" }
        guard entry.permission == .allow || entry.permission == .deny else { return "permission type must be ALLOW or DENY" }
        guard let colon = entry.principal.firstIndex(of: ":"), colon != entry.principal.startIndex,
              entry.principal.index(after: colon) != entry.principal.endIndex else {
            return "principal '\(entry.principal)' is not of the form Type:name"
        }
        guard !entry.host.isEmpty, entry.principal.utf8.count <= 1024, entry.host.utf8.count <= 1024 else { return "principal or host is not valid" }
        return nil
    }
}

/// Kafka's AclBindingFilter: nil strings match anything, ANY matches every value, MATCH matches
/// the stored patterns that would apply to the named resource.
public struct AclBindingFilter: Sendable, Hashable {
    public var resourceType: AclResourceType
    public var name: String?
    public var patternType: AclPatternType
    public var principal: String?
    public var host: String?
    public var operation: AclOperation
    public var permission: AclPermission

    public init(resourceType: AclResourceType = .any, name: String? = nil, patternType: AclPatternType = .any,
                principal: String? = nil, host: String? = nil, operation: AclOperation = .any, permission: AclPermission = .any) {
        self.resourceType = resourceType
        self.name = name
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    public static let any = AclBindingFilter()

    /// A field that can never match (UNKNOWN), as Kafka's findIndefiniteField; nil when usable.
    public var problem: String? {
        if resourceType == .unknown { return "Resource type is UNKNOWN." }
        if patternType == .unknown { return "Resource pattern type is UNKNOWN." }
        if operation == .unknown { return "Operation is UNKNOWN." }
        if permission == .unknown { return "Permission type is UNKNOWN." }
        return nil
    }

    public func matches(_ p: ResourcePattern) -> Bool {
        if resourceType != .any && resourceType != p.resourceType { return false }
        if patternType != .any && patternType != .match && patternType != p.patternType { return false }
        guard let name else { return true }
        if patternType == .any || patternType == p.patternType { return name == p.name }
        // MATCH: the stored patterns that apply to a resource called `name`.
        switch p.patternType {
        case .literal: return name == p.name || p.name == ResourcePattern.wildcard
        case .prefixed: return name.hasPrefix(p.name)
        default: return false
        }
    }

    public func matches(_ e: AclEntry) -> Bool {
        if let principal, principal != e.principal { return false }
        if let host, host != e.host { return false }
        if operation != .any && operation != e.operation { return false }
        if permission != .any && permission != e.permission { return false }
        return true
    }

    public func matches(_ b: AclBinding) -> Bool { matches(b.pattern) && matches(b.entry) }
}

extension AclResourceType {
    /// The operations Kafka reports as "authorized operations" for a resource of this type
    /// (AclEntry.supportedOperations).
    public var supportedOperations: [AclOperation] {
        switch self {
        case .topic: return [.read, .write, .create, .describe, .delete, .alter, .describeConfigs, .alterConfigs]
        case .group: return [.read, .describe, .delete]
        case .cluster: return [.create, .clusterAction, .describeConfigs, .alterConfigs, .idempotentWrite, .alter, .describe]
        case .transactionalId: return [.describe, .write]
        case .delegationToken: return [.describe]
        case .user: return [.createTokens, .describeTokens]
        case .unknown, .any: return []
        }
    }
}

extension AclOperation {
    /// Kafka's 32-bit field of operation codes (bit n set for code n), as Metadata,
    /// DescribeCluster and DescribeGroups carry authorized operations.
    public static func bitField(_ ops: [AclOperation]) -> Int32 {
        ops.reduce(Int32(0)) { $0 | (Int32(1) << Int32($1.rawValue)) }
    }
}
