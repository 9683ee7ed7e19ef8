/// Kafka's AclAuthorizer decision over an in-memory snapshot of every stored ACL (ZK mode).
/// Pure: the broker keeps it current from coordd and asks it per request.
public struct AclAuthorizer: Sendable {
    /// `super.users`: always allowed, whatever the ACLs say.
    public var superUsers: Set<String>
    /// `allow.everyone.if.no.acl.found`: allow when no ACL at all applies to the resource.
    public var allowEveryoneIfNoAclFound: Bool
    public private(set) var acls: [ResourcePattern: Set<AclEntry>] = [:]
    /// The PREFIXED patterns per resource type, so a check scans only those, not every ACL.
    private var prefixed: [AclResourceType: Set<ResourcePattern>] = [:]

    public init(superUsers: Set<String> = [], allowEveryoneIfNoAclFound: Bool = false) {
        self.superUsers = superUsers
        self.allowEveryoneIfNoAclFound = allowEveryoneIfNoAclFound
    }

    /// Replaces one resource's ACLs (a reload after a change notification); empty removes it.
    public mutating func set(_ pattern: ResourcePattern, _ entries: Set<AclEntry>) {
        acls[pattern] = entries.isEmpty ? nil : entries
        if pattern.patternType == .prefixed {
            if entries.isEmpty { prefixed[pattern.resourceType]?.remove(pattern) } else { prefixed[pattern.resourceType, default: []].insert(pattern) }
        }
    }

    public mutating func replaceAll(_ all: [ResourcePattern: Set<AclEntry>]) {
        acls = all.filter { !$0.value.isEmpty }
        prefixed = [:]
        for p in acls.keys where p.patternType == .prefixed { prefixed[p.resourceType, default: []].insert(p) }
    }

    public var bindingCount: Int { acls.values.reduce(0) { $0 + $1.count } }

    /// `super.users` as Kafka writes it: `User:a;User:b` (whitespace around entries ignored).
    public static func parseSuperUsers(_ s: String) -> Set<String> {
        Set(s.split(separator: ";").map { String($0).trimmingSpaces }.filter { !$0.isEmpty })
    }

    /// The ACLs that apply to a resource: its literal ACLs, the literal wildcard `*` of its type,
    /// and every prefixed pattern its name starts with.
    public func matchingAcls(_ type: AclResourceType, _ name: String) -> [AclEntry] {
        var out: [AclEntry] = []
        if let e = acls[ResourcePattern(type, name)] { out += e }
        if name != ResourcePattern.wildcard, let e = acls[ResourcePattern(type, ResourcePattern.wildcard)] { out += e }
        for p in prefixed[type] ?? [] where name.hasPrefix(p.name) { out += acls[p] ?? [] }
        return out
    }

    /// The decision for one action, as Kafka's AclAuthorizer.authorize.
    public func authorize(principal: String, host: String, operation: AclOperation, resource type: AclResourceType, name: String) -> Bool {
        if superUsers.contains(principal) { return true }
        let applicable = matchingAcls(type, name)
        if applicable.isEmpty { return allowEveryoneIfNoAclFound }
        func applies(_ e: AclEntry) -> Bool {
            (e.principal == principal || e.principal == AclEntry.wildcardPrincipal) && (e.host == host || e.host == AclEntry.wildcardHost)
        }
        // A matching DENY wins; deny is never implied (DENY READ does not deny DESCRIBE).
        if applicable.contains(where: { $0.permission == .deny && applies($0) && ($0.operation == operation || $0.operation == .all) }) {
            return false
        }
        let granting = Self.impliedBy(operation)
        return applicable.contains { $0.permission == .allow && applies($0) && ($0.operation == .all || granting.contains($0.operation)) }
    }

    /// The operations whose ALLOW also allows `op`: DESCRIBE by READ/WRITE/DELETE/ALTER,
    /// DESCRIBE_CONFIGS by ALTER_CONFIGS (ALL is checked by the caller).
    public static func impliedBy(_ op: AclOperation) -> Set<AclOperation> {
        switch op {
        case .describe: return [.describe, .read, .write, .delete, .alter]
        case .describeConfigs: return [.describeConfigs, .alterConfigs]
        default: return [op]
        }
    }

    /// Kafka's authorizeByResourceType: may the principal do `op` on at least one resource of the
    /// type? (InitProducerId without a transactional id: WRITE on any topic.) An ALLOW counts
    /// unless a DENY for the same principal covers it: a literal `*`, the same literal name, or a
    /// prefix of it.
    public func authorizeAny(principal: String, host: String, operation: AclOperation, resource type: AclResourceType) -> Bool {
        if superUsers.contains(principal) { return true }
        func applies(_ e: AclEntry) -> Bool {
            (e.principal == principal || e.principal == AclEntry.wildcardPrincipal) && (e.host == host || e.host == AclEntry.wildcardHost)
        }
        let ofType = acls.filter { $0.key.resourceType == type }
        if ofType.isEmpty { return allowEveryoneIfNoAclFound }
        var denied: [ResourcePattern] = []
        var allowed: [ResourcePattern] = []
        let granting = Self.impliedBy(operation)
        for (p, entries) in ofType {
            for e in entries where applies(e) {
                if e.permission == .deny && (e.operation == operation || e.operation == .all) { denied.append(p) }
                if e.permission == .allow && (e.operation == .all || granting.contains(e.operation)) { allowed.append(p) }
            }
        }
        if denied.contains(ResourcePattern(type, ResourcePattern.wildcard)) { return false }
        return allowed.contains { a in
            if a.patternType == .literal && a.name == ResourcePattern.wildcard { return true }
            return !denied.contains { d in
                switch d.patternType {
                case .literal: return a.patternType == .literal && d.name == a.name
                case .prefixed: return a.name.hasPrefix(d.name)
                default: return false
                }
            }
        }
    }

    /// Every stored binding a filter matches (DescribeAcls, DeleteAcls), in a stable order.
    public func bindings(matching f: AclBindingFilter) -> [AclBinding] {
        var out: [AclBinding] = []
        for (p, entries) in acls where f.matches(p) {
            for e in entries where f.matches(e) { out.append(AclBinding(p, e)) }
        }
        return out.sorted { Self.order($0, $1) }
    }

    static func order(_ a: AclBinding, _ b: AclBinding) -> Bool {
        let ka = [String(a.pattern.resourceType.rawValue), String(a.pattern.patternType.rawValue), a.pattern.name,
                  a.entry.principal, a.entry.host, String(a.entry.operation.rawValue), String(a.entry.permission.rawValue)]
        let kb = [String(b.pattern.resourceType.rawValue), String(b.pattern.patternType.rawValue), b.pattern.name,
                  b.entry.principal, b.entry.host, String(b.entry.operation.rawValue), String(b.entry.permission.rawValue)]
        return ka.lexicographicallyPrecedes(kb)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
